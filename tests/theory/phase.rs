//! Tests of theory::phase.

use polycap::theory::phase::*;

#[test]
fn scratch_print() {
    let s = PhaseSetting::default();
    let levels: Vec<Fraction> = (0..=10).map(|i| Fraction::new(i, 10).expect("ok")).collect();
    let sp = symbolic_phase(&s, &levels).expect("derives");
    println!("{}", sp.to_text());
    println!("{}", sp.to_latex());
}
