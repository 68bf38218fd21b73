//! Tests of theory::elhage: the closed forms (E9)–(E13) against direct numerical evaluation
//! of the ReLU-output model (E1)–(E3) at the explicit configurations, and the boundary
//! curves against direct comparison of the candidate losses.

use approx::assert_relative_eq;
use nalgebra::{DMatrix, DVector};
use polycap::theory::elhage::*;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

/// E Σᵢ Iᵢ (xᵢ − ReLU((WᵀW x)ᵢ + bᵢ))² by enumerating the active sets and a midpoint rule
/// with `m` nodes per active coordinate (x ~ U[0,1] when active, 0 otherwise).
fn relu_loss_quadrature(
    w: &DMatrix<f64>,
    b: &DVector<f64>,
    importance: &[f64],
    p: f64,
    m: usize,
) -> f64 {
    let n = importance.len();
    let g = w.transpose() * w;
    let mut total = 0.0;
    for mask in 0u32..(1 << n) {
        let active: Vec<usize> = (0..n).filter(|&i| mask & (1 << i) != 0).collect();
        let a = active.len();
        let prob = p.powi(a as i32) * (1.0 - p).powi((n - a) as i32);
        let cells = m.pow(a as u32);
        let mut sum = 0.0;
        let mut x = DVector::zeros(n);
        for cell in 0..cells {
            let mut c = cell;
            for &i in &active {
                x[i] = ((c % m) as f64 + 0.5) / m as f64;
                c /= m;
            }
            let y = &g * &x + b;
            for i in 0..n {
                let e = x[i] - y[i].max(0.0);
                sum += importance[i] * e * e;
            }
        }
        total += prob * sum / cells as f64;
    }
    total
}

#[test]
fn e10_antipodal_cost_equals_the_relu_model_of_an_antipodal_pair() {
    // W = [1, −1] (D = 1), b = 0: the ReLU model (E1)–(E3) evaluated by quadrature and by a
    // seeded Monte Carlo, against the closed form (I₁ + I₂)p²/6 of `antipodal_cost`.
    let w = DMatrix::from_row_slice(1, 2, &[1.0, -1.0]);
    let b = DVector::zeros(2);
    for &(i1, i2, p) in &[(1.0, 1.0, 1.0), (1.0, 0.3, 0.4), (2.0, 0.5, 0.05)] {
        let quad = relu_loss_quadrature(&w, &b, &[i1, i2], p, 1000);
        assert_relative_eq!(antipodal_cost(i1, i2, p), quad, max_relative = 1e-5);
    }
    let (i1, i2, p) = (1.0, 0.7, 0.5);
    let mut rng = Pcg64::seed_from_u64(7);
    let n = 400_000;
    let (mut m1, mut m2) = (0.0, 0.0);
    for _ in 0..n {
        let x: Vec<f64> = (0..2)
            .map(|_| {
                let active = rng.random::<f64>() < p;
                let u = rng.random::<f64>();
                if active { u } else { 0.0 }
            })
            .collect();
        // x′ = ReLU(WᵀW x): (x₁ − x₂)₊ and (x₂ − x₁)₊.
        let e1 = x[0] - (x[0] - x[1]).max(0.0);
        let e2 = x[1] - (x[1] - x[0]).max(0.0);
        let l = i1 * e1 * e1 + i2 * e2 * e2;
        m1 += l;
        m2 += l * l;
    }
    let mean = m1 / n as f64;
    let se = ((m2 / n as f64 - mean * mean) / n as f64).sqrt();
    let want = antipodal_cost(i1, i2, p);
    assert!(
        (mean - want).abs() < 5.0 * se,
        "mean {mean}, closed form {want}, se {se}"
    );
}

#[test]
fn e9_ignored_cost_is_the_variance() {
    for &p in &[0.01, 0.2, 0.5, 1.0] {
        // E x = p/2, E x² = p/3.
        assert_relative_eq!(
            ignored_cost(p),
            p / 3.0 - (p / 2.0) * (p / 2.0),
            max_relative = 1e-15
        );
    }
    assert_relative_eq!(ignored_cost(1.0), 1.0 / 12.0, max_relative = 1e-15);
}

#[test]
fn configuration_losses_equal_the_relu_model_at_the_explicit_weights() {
    for model in [ToyModel::TwoInOne, ToyModel::ThreeInTwo] {
        for &(r, p) in &[(0.3, 0.2), (2.5, 0.6), (1.0, 0.05)] {
            let imp = model.importance(r);
            for &c in model.configurations() {
                let (w, b) = configuration_weights(model, c, p).expect("valid configuration");
                assert_eq!((w.nrows(), w.ncols()), (model.dims(), model.features()));
                let m = if model.features() == 3 { 120 } else { 600 };
                let direct = relu_loss_quadrature(&w, &b, &imp, p, m);
                let closed = configuration_loss(model, c, r, p).expect("valid point");
                assert_relative_eq!(direct, closed, max_relative = 2e-4);
            }
        }
    }
}

fn assert_switch(
    model: ToyModel,
    below: (f64, f64),
    above: (f64, f64),
    lo: Configuration,
    hi: Configuration,
) {
    assert_eq!(
        best_configuration(model, below.0, below.1).expect("valid"),
        lo,
        "at {below:?}"
    );
    assert_eq!(
        best_configuration(model, above.0, above.1).expect("valid"),
        hi,
        "at {above:?}"
    );
}

#[test]
fn e11_boundaries_equal_direct_comparison_two_in_one() {
    let m = ToyModel::TwoInOne;
    let eps = 1e-7;
    for &r in &[0.1, 0.25, 0.5, 0.9, 0.99] {
        let p = superposition_density_below(r);
        // Direct comparison: the two losses are equal on the curve.
        let a = configuration_loss(m, Configuration::ExtraAntipodal, r, p).expect("valid");
        let b = configuration_loss(m, Configuration::ExtraIgnored, r, p).expect("valid");
        assert_relative_eq!(a, b, max_relative = 1e-12);
        assert_switch(
            m,
            (r, p * (1.0 - eps)),
            (r, p * (1.0 + eps)),
            Configuration::ExtraAntipodal,
            Configuration::ExtraIgnored,
        );
    }
    for &r in &[1.01, 1.5, 3.0, 10.0] {
        let p = superposition_density_above(r);
        let a = configuration_loss(m, Configuration::ExtraAntipodal, r, p).expect("valid");
        let b = configuration_loss(m, Configuration::FirstIgnored, r, p).expect("valid");
        assert_relative_eq!(a, b, max_relative = 1e-12);
        assert_switch(
            m,
            (r, p * (1.0 - eps)),
            (r, p * (1.0 + eps)),
            Configuration::ExtraAntipodal,
            Configuration::FirstIgnored,
        );
    }
    // Vertical line r = 1 above 4/7: ignored feature switches.
    for &p in &[0.6, 0.8, 1.0] {
        assert_switch(
            m,
            (1.0 - eps, p),
            (1.0 + eps, p),
            Configuration::ExtraIgnored,
            Configuration::FirstIgnored,
        );
    }
}

#[test]
fn e11_antipodal_region_peaks_at_four_sevenths() {
    let m = ToyModel::TwoInOne;
    assert_relative_eq!(
        superposition_density_below(1.0),
        4.0 / 7.0,
        max_relative = 1e-15
    );
    assert_relative_eq!(
        superposition_density_above(1.0),
        4.0 / 7.0,
        max_relative = 1e-15
    );
    // Highest antipodal density over a fine r grid, found by bisection in p at each r.
    let mut best = (0.0, 0.0);
    for i in 0..=400 {
        let r = 10f64.powf(-1.0 + 2.0 * i as f64 / 400.0);
        let (mut lo, mut hi) = (1e-6, 1.0);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if best_configuration(m, r, mid).expect("valid") == Configuration::ExtraAntipodal {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if lo > best.1 {
            best = (r, lo);
        }
    }
    assert_relative_eq!(best.0, 1.0, max_relative = 1e-12);
    assert_relative_eq!(best.1, ANTIPODAL_PEAK_DENSITY, max_relative = 1e-9);
}

#[test]
fn e12_boundaries_equal_direct_comparison_three_in_two() {
    let m = ToyModel::ThreeInTwo;
    let eps = 1e-7;
    for &r in &[0.1, 0.4, 0.8] {
        let p = superposition_density_below(r);
        assert_switch(
            m,
            (r, p * (1.0 - eps)),
            (r, p * (1.0 + eps)),
            Configuration::ExtraAntipodal,
            Configuration::ExtraIgnored,
        );
    }
    for &r in &[1.2, 3.0, 10.0] {
        let p = ANTIPODAL_PEAK_DENSITY;
        assert_switch(
            m,
            (r, p * (1.0 - eps)),
            (r, p * (1.0 + eps)),
            Configuration::PairAntipodal,
            Configuration::FirstIgnored,
        );
    }
    for &p in &[0.01, 0.3, 0.9] {
        let lo = best_configuration(m, 1.0 - eps, p).expect("valid");
        let hi = best_configuration(m, 1.0 + eps, p).expect("valid");
        assert_ne!(lo.region(m), hi.region(m), "r = 1 is a boundary at p = {p}");
    }
    assert_eq!(
        Configuration::FirstIgnored.region(m),
        Region::DedicatedFirstIgnored
    );
    assert_eq!(
        Configuration::FirstIgnored.region(ToyModel::TwoInOne),
        Region::Dedicated
    );
}

#[test]
fn grid_labels_and_polylines() {
    let r: Vec<f64> = (0..41)
        .map(|i| 10f64.powf(-1.0 + i as f64 / 20.0))
        .collect();
    let p: Vec<f64> = (0..31)
        .map(|i| 10f64.powf(-2.0 + i as f64 / 15.0))
        .collect();
    for model in [ToyModel::TwoInOne, ToyModel::ThreeInTwo] {
        let g = elhage_grid(model, &r, &p).expect("valid axes");
        for (row, &pp) in p.iter().enumerate() {
            for (col, &rr) in r.iter().enumerate() {
                let c = best_configuration(model, rr, pp).expect("valid");
                assert_eq!(g.region_at(row, col), c.region(model));
            }
        }
        // Every boundary point separates different regions: nudging across changes the label.
        for line in &g.boundaries {
            assert!(line.points.len() >= 2, "{}", line.formula);
            for &(rr, pp) in &line.points {
                assert!(
                    rr >= r[0] && rr <= r[40] && pp >= p[0] && pp <= p[30],
                    "({rr}, {pp})"
                );
            }
        }
        let formulas: Vec<&str> = g.boundaries.iter().map(|l| l.formula).collect();
        match model {
            ToyModel::TwoInOne => assert_eq!(formulas, ["p = 4r/(2+5r)", "p = 4/(5+2r)", "r = 1"]),
            ToyModel::ThreeInTwo => assert_eq!(formulas, ["p = 4r/(2+5r)", "p = 4/7", "r = 1"]),
        }
    }
    // n = 2: the vertical line starts at the antipodal peak.
    let g = elhage_grid(ToyModel::TwoInOne, &r, &p).expect("valid");
    let v = &g.boundaries[2].points;
    assert_relative_eq!(v[0].1, 4.0 / 7.0, max_relative = 1e-15);
    assert!(elhage_grid(ToyModel::TwoInOne, &[], &p).is_err());
    assert!(best_configuration(ToyModel::TwoInOne, 1.0, 1.5).is_err());
    assert!(best_configuration(ToyModel::TwoInOne, -1.0, 0.5).is_err());
}

#[test]
fn e13_dense_reference_loss() {
    let imp: Vec<f64> = (0..5).map(|i| 0.9f64.powi(i)).collect();
    let l = dense_reference_loss(&imp, 2, 1.0).expect("valid");
    assert_relative_eq!(l, (imp[2] + imp[3] + imp[4]) / 12.0, max_relative = 1e-15);
    // Agrees with the n = 2 configuration "extra ignored" (r < 1) at every density.
    for &p in &[0.1, 0.5, 1.0] {
        let a = dense_reference_loss(&[1.0, 0.4], 1, p).expect("valid");
        let b = configuration_loss(ToyModel::TwoInOne, Configuration::ExtraIgnored, 0.4, p)
            .expect("valid");
        assert_relative_eq!(a, b, max_relative = 1e-15);
    }
    // And with the ReLU model itself at the dense reference weights (n = 3, m = 2, p = 1).
    let (w, b) = configuration_weights(ToyModel::ThreeInTwo, Configuration::ExtraIgnored, 1.0)
        .expect("valid");
    let direct = relu_loss_quadrature(&w, &b, &[1.0, 1.0, 0.5], 1.0, 60);
    assert_relative_eq!(
        direct,
        dense_reference_loss(&[1.0, 1.0, 0.5], 2, 1.0).expect("valid"),
        max_relative = 1e-3
    );
    assert!(dense_reference_loss(&[1.0, f64::NAN], 1, 1.0).is_err());
}

use proptest::prelude::*;

/// The region predicted by the closed-form boundaries (E11)/(E12) alone.
fn region_by_formula(model: ToyModel, r: f64, p: f64) -> Region {
    match model {
        ToyModel::TwoInOne if r < 1.0 => {
            if p < superposition_density_below(r) {
                Region::Superposition
            } else {
                Region::NotRepresented
            }
        }
        ToyModel::TwoInOne => {
            if p < superposition_density_above(r) {
                Region::Superposition
            } else {
                Region::Dedicated
            }
        }
        ToyModel::ThreeInTwo if r < 1.0 => {
            if p < superposition_density_below(r) {
                Region::Superposition
            } else {
                Region::NotRepresented
            }
        }
        ToyModel::ThreeInTwo => {
            if p < ANTIPODAL_PEAK_DENSITY {
                Region::Dedicated
            } else {
                Region::DedicatedFirstIgnored
            }
        }
    }
}

proptest! {
    // Regression seeds live beside this file: tests/theory/elhage.regressions.
    #![proptest_config(crate::prop_config(400))]

    /// Direct comparison of the candidate losses agrees with the closed-form boundaries
    /// everywhere except within 1e-9 of a boundary.
    #[test]
    fn argmin_of_losses_equals_the_closed_form_regions(lr in -1.0f64..1.0, lp in -2.0f64..0.0, three in any::<bool>()) {
        let (r, p) = (10f64.powf(lr), 10f64.powf(lp));
        let model = if three { ToyModel::ThreeInTwo } else { ToyModel::TwoInOne };
        let near = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-9;
        prop_assume!(!near(r, 1.0));
        prop_assume!(!near(p, superposition_density_below(r)) && !near(p, superposition_density_above(r)) && !near(p, ANTIPODAL_PEAK_DENSITY));
        let got = best_configuration(model, r, p).expect("valid").region(model);
        prop_assert_eq!(got, region_by_formula(model, r, p));
    }
}

/// (EL10): the quadrature loss of any (W, b) reproduces the closed forms at the candidates'
/// weights, and converges like M⁻².
#[test]
fn model_loss_matches_the_configuration_losses() {
    use polycap::theory::elhage::model_loss;
    for model in [ToyModel::TwoInOne, ToyModel::ThreeInTwo] {
        let m = if model == ToyModel::TwoInOne { 400 } else { 80 };
        for &c in model.configurations() {
            for &(r, p) in &[(0.5, 0.3), (2.0, 1.0), (1.3, 0.05)] {
                let (w, b) = configuration_weights(model, c, p).expect("weights");
                let imp = model.importance(r);
                let want = configuration_loss(model, c, r, p).expect("closed form");
                let got = model_loss(&w, b.as_slice(), &imp, p, m).expect("quadrature");
                assert!(
                    (got - want).abs() <= 1e-3 * want.max(1e-6),
                    "{model:?} {c:?} r = {r}, p = {p}: {got} vs {want}"
                );
            }
        }
    }
    // Bad sizes are errors.
    let w = nalgebra::DMatrix::from_element(1, 2, 1.0);
    assert!(model_loss(&w, &[0.0], &[1.0, 1.0], 0.5, 10).is_err());
    assert!(model_loss(&w, &[0.0, 0.0], &[1.0, 1.0], 0.5, 0).is_err());
    assert!(model_loss(&w, &[0.0, 0.0], &[1.0, 1.0], 1.5, 10).is_err());
}
