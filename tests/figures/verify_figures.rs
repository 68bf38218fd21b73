//! The verify figures: Fig. 4 top right (trained C₁), Fig. 7 (3 × 3 trained diagrams) and the
//! theory-versus-training scatter. Quick parameters only; CSVs round-trip to the data.

use polycap::figures::Figure;
use polycap::figures::Parameters;
use polycap::figures::{fig4_trained, fig7_empirical, verify_scatter};

use super::{col, read};

fn f(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

#[test]
fn fig4_trained_matches_its_report() {
    let p = fig4_trained::Params::quick();
    assert!(p.describe().iter().any(|(_, v)| v.contains("quick")));
    let d = fig4_trained::Fig::data(&p).expect("data");
    assert_eq!(d.report.points.len(), 16);
    assert!(fig4_trained::Fig::title(&d).contains("exact expected loss (T4)"));
    let (h, rows) = read(&fig4_trained::Fig::csv(&d));
    assert_eq!(rows.len(), 16);
    let (th, tr) = (col(&h, "C1_theory"), col(&h, "C1_trained"));
    for (r, pt) in rows.iter().zip(&d.report.points) {
        assert_eq!(f(&r[th]).to_bits(), pt.theory_capacity[0].to_bits());
        assert_eq!(f(&r[tr]).to_bits(), pt.trained_capacity[0].to_bits());
    }
    // The analytic boundaries are overlaid and the command reproduces the grid.
    assert!(!d.boundaries.ignored_boundary.is_empty());
    let cmd = &fig4_trained::Fig::commands(&p)[0];
    assert_eq!(cmd.command, "verify");
    for (name, value) in [("grid", "4x4"), ("steps", "4000")] {
        assert!(
            cmd.options.contains(&(name, Some(value.to_string()))),
            "{cmd:?}"
        );
    }
}

#[test]
fn fig7_has_nine_panels_with_departures() {
    let d = fig7_empirical::Fig::data(&fig7_empirical::Params::quick()).expect("data");
    assert_eq!(d.panels.len(), 9);
    assert_eq!(d.panels[0].model.name(), "quadratic");
    assert_eq!(d.panels[8].trained.grid.setting.dims(), 5);
    for p in &d.panels {
        assert_eq!(p.departure.points, 16);
        assert!((0.0..=1.0).contains(&p.departure.plateau_trained));
    }
    let (h, rows) = read(&fig7_empirical::Fig::csv(&d));
    assert_eq!(rows.len(), 9 * 16);
    let c = col(&h, "C1_trained");
    assert_eq!(
        f(&rows[17][c]).to_bits(),
        d.panels[1].trained.trained[1].to_bits()
    );
    assert_eq!(fig7_empirical::LEVELS.len(), 12);
}

#[test]
fn scatter_pairs_every_feature() {
    let d = verify_scatter::Fig::data(&verify_scatter::Params::quick()).expect("data");
    assert_eq!(d.reports.len(), 2);
    let (h, rows) = read(&verify_scatter::Fig::csv(&d));
    assert_eq!(rows.len(), 2 * 16 * 6);
    let (th, tr) = (col(&h, "C_theory"), col(&h, "C_trained_matched"));
    // Each point's six C_theory rows obey the constraint and (P6), checked on the CSV alone:
    // ΣC = D = 3, and the five importance-1 features share (D − C₁)/5 — or, where k ≤ 3
    // (TOP_D (A9), increasing returns), are each 0 or 1; the trained column holds
    // capacities, 0 ≤ C ≤ 1, summing to at most rank W ≤ 3 (C5).
    for (k, point) in rows.chunks(6).enumerate() {
        let c: Vec<f64> = point.iter().map(|r| f(&r[th])).collect();
        assert!(
            (c.iter().sum::<f64>() - 3.0).abs() <= 1e-9,
            "point {k}: {c:?}"
        );
        let shared = c[1..]
            .iter()
            .all(|&cj| (cj - (3.0 - c[0]) / 5.0).abs() <= 1e-9);
        let integral = c
            .iter()
            .all(|&cj| cj.abs() <= 1e-12 || (cj - 1.0).abs() <= 1e-12);
        assert!(shared || integral, "point {k}: {c:?}");
        let t: Vec<f64> = point.iter().map(|r| f(&r[tr])).collect();
        assert!(
            t.iter().all(|x| (0.0..=1.0).contains(x)),
            "point {k}: {t:?}"
        );
        assert!(t.iter().sum::<f64>() <= 3.0 + 1e-9, "point {k}: {t:?}");
    }
}
