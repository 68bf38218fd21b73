//! Tests of theory::exact (feature `exact`): the worked example and the (B6) counterexamples
//! as exact rationals, and certification (B8) of the f64 solver on random instances.

use polycap::base::{FeatureSet, Magnitude};
use polycap::theory::allocation::{Phase, allocate};
use polycap::theory::exact::{
    allocate_exact, certify, from_decimal, from_f64, rational, sparse_kurtosis,
};
use proptest::prelude::*;
use rug::Rational;

fn r(p: i64, q: i64) -> Rational {
    rational((p, q))
}

#[test]
fn worked_example_in_exact_arithmetic() {
    // k = 9/(5p) from the rational value of p = 1/10.
    let k = sparse_kurtosis(&r(1, 10), Magnitude::Uniform).expect("valid density");
    assert_eq!(k, r(18, 1));
    let v = vec![r(1, 2), r(1, 1), r(1, 1), r(1, 1), r(1, 1), r(1, 1)];
    let a = allocate_exact(&v, &vec![k; 6], 3).expect("allocates");
    assert_eq!(a.lambda, Some(r(187, 114)));
    assert_eq!(a.mu, Some(r(2 * 187 * 187, 114 * 114)));
    assert_eq!(a.capacity[0], r(7, 33));
    for i in 1..6 {
        assert_eq!(a.capacity[i], r(92, 165));
        assert_eq!(a.sq_norm[i], r(782, 855));
    }
    assert_eq!(a.sq_norm[0], r(119, 342));
    let total: Rational = a.capacity.iter().sum();
    assert_eq!(total, r(3, 1));
    assert!(a.phase.iter().all(|&p| p == Phase::Polysemantic));
}

#[test]
fn counterexamples_b6_iv_and_b6_v_exactly() {
    let a = allocate_exact(
        &[r(2, 1), r(3, 4), r(1, 5)],
        &[r(6, 5), r(5, 2), r(21, 1)],
        2,
    )
    .expect("allocates");
    assert_eq!(a.capacity, vec![r(1, 1), r(58, 73), r(15, 73)]);
    assert_eq!(a.lambda, Some(r(73, 104)));
    assert_eq!(a.loss, r(457, 1040));

    let a = allocate_exact(
        &[r(9, 20), r(9, 25), r(21, 100), r(29, 100)],
        &[r(49, 20), r(79, 10), r(23, 5), r(26, 5)],
        2,
    )
    .expect("allocates");
    assert_eq!(
        a.capacity,
        vec![r(53, 517), r(1, 1), r(37, 235), r(1913, 2585)]
    );
    assert_eq!(a.lambda, Some(r(47, 140)));
    assert_eq!(a.loss, r(84813, 192500));
}

#[test]
fn edge_cases_exactly() {
    // D ≥ N: all full, no multiplier.
    let a = allocate_exact(&[r(1, 2), r(1, 1)], &vec![r(18, 1); 2], 5).expect("ok");
    assert_eq!(a.capacity, vec![r(1, 1), r(1, 1)]);
    assert!(a.lambda.is_none() && a.loss == 0);
    // k = 3 tie at the cut: index order, ties flagged, μ = 2v² determined.
    let a = allocate_exact(&vec![r(1, 1); 3], &vec![r(3, 1); 3], 2).expect("ok");
    assert_eq!(a.capacity, vec![r(1, 1), r(1, 1), r(0, 1)]);
    assert!(a.ties);
    assert_eq!(a.lambda, Some(r(1, 1)));
    assert!(allocate_exact(&[r(1, 1)], &[r(3, 1)], 0).is_err());
    assert!(allocate_exact(&[r(-1, 1)], &[r(3, 1)], 1).is_err());
    assert!(allocate_exact(&[r(1, 1)], &[r(1, 2)], 1).is_err());
}

#[test]
fn decimal_and_dyadic_values() {
    assert_eq!(from_decimal(0.1).expect("finite"), r(1, 10));
    assert_eq!(from_decimal(187.5).expect("finite"), r(375, 2));
    assert_eq!(from_decimal(1e-7).expect("finite"), r(1, 10_000_000));
    assert_eq!(from_decimal(-2.5e3).expect("finite"), r(-2500, 1));
    assert_eq!(from_f64(0.375).expect("finite"), r(3, 8));
    assert_ne!(from_f64(0.1).expect("finite"), r(1, 10));
    assert!(from_f64(f64::NAN).is_err() && from_decimal(f64::INFINITY).is_err());
}

#[test]
fn certify_accepts_the_solver_and_rejects_a_perturbed_answer() {
    let v = [0.5, 1.0, 1.0, 1.0, 1.0, 1.0];
    let f = FeatureSet::from_kurtosis(v.to_vec(), vec![18.0; 6]).expect("valid");
    let float = allocate(&f, 3).expect("allocates");
    let ve: Vec<Rational> = v.iter().map(|&x| from_f64(x).expect("finite")).collect();
    let exact = allocate_exact(&ve, &vec![r(18, 1); 6], 3).expect("allocates");
    let d = certify(&float, &exact, 1e-12).expect("certified");
    assert!(d.capacity <= 1e-12 && d.loss <= 1e-12 && d.lambda <= 1e-12);
    let mut bad = float.clone();
    bad.capacity[0] += 1e-9;
    assert!(certify(&bad, &exact, 1e-12).is_err());
    let mut bad = float.clone();
    bad.loss *= 1.0 + 1e-9;
    assert!(certify(&bad, &exact, 1e-12).is_err());
}

fn arb_instance() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, usize)> {
    (2usize..=7).prop_flat_map(|n| {
        (
            prop::collection::vec(0.05f64..4.0, n),
            prop::collection::vec(
                prop_oneof![3.1f64..40.0, 3.1f64..40.0, 1.05f64..3.0, Just(3.0)],
                n,
            ),
            1..n,
        )
    })
}

proptest! {
    // Regression seeds live beside this file: tests/theory/exact.regressions.
    #![proptest_config(crate::prop_config(120))]

    /// (B8): the exact solution of the f64 inputs (taken exactly as dyadic rationals)
    /// certifies the f64 solver to 1e-12, for the sweep, TOP_D and mixed cases.
    #[test]
    fn exact_certifies_f64_on_random_instances((v, k, d) in arb_instance()) {
        let f = FeatureSet::from_kurtosis(v.clone(), k.clone()).expect("valid");
        let float = allocate(&f, d).expect("allocates");
        let ve: Vec<Rational> = v.iter().map(|&x| from_f64(x).expect("finite")).collect();
        let ke: Vec<Rational> = k.iter().map(|&x| from_f64(x).expect("finite")).collect();
        let exact = allocate_exact(&ve, &ke, d).expect("allocates");
        let total: Rational = exact.capacity.iter().sum();
        prop_assert_eq!(total, Rational::from(d));
        let res = certify(&float, &exact, 1e-12);
        prop_assert!(res.is_ok(), "{res:?}\nfloat {:?}\nexact {:?}", float.capacity, exact.capacity);
    }
}
