//! Tests of theory::quadratic: the exact expected loss (Q6)–(Q9)/(B1) against Monte Carlo and
//! finite differences, its capacity form (Q11)–(Q12)/(B2), and the per-feature curves
//! (Q13)–(Q17)/(B3) against each other and against minimising (Q11) numerically.

use approx::assert_relative_eq;
use nalgebra::DMatrix;
use polycap::base::{FeatureSet, Magnitude, Objective, SparseInput};
use polycap::theory::capacity::{capacities, sq_norms};
use polycap::theory::quadratic::{
    ExpectedLoss, FeatureCurve, loss_in_capacity, loss_in_capacity_grad,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

fn random_w(d: usize, n: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    DMatrix::from_fn(d, n, |_, _| rng.random::<f64>() - 0.5)
}

/// Mixed per-feature kurtoses (B1): sparse uniform, Gaussian, Laplace and Rademacher inputs
/// at different densities p = 1 − S.
fn mixed_features() -> FeatureSet {
    let inputs = vec![
        SparseInput::new(0.5, Magnitude::Uniform).expect("valid"),
        SparseInput::new(1.0, Magnitude::Uniform).expect("valid"),
        SparseInput::new(0.7, Magnitude::Gaussian).expect("valid"),
        SparseInput::new(1.0, Magnitude::Rademacher).expect("valid"),
        SparseInput::new(0.8, Magnitude::Laplace).expect("valid"),
    ];
    FeatureSet::from_inputs(vec![1.0, 0.4, 0.7, 0.2, 1.3], inputs).expect("valid")
}

#[test]
fn dims_must_be_positive() {
    let f = FeatureSet::from_kurtosis(vec![1.0], vec![3.0]).expect("valid");
    assert!(ExpectedLoss::new(&f, 0).is_err());
    let el = ExpectedLoss::new(&f, 4).expect("D ≥ 1");
    assert_eq!(el.shape(), (4, 1));
}

#[test]
fn expected_loss_matches_monte_carlo() {
    // (Q6)/(B1) at a non-optimal bias, with per-feature kᵢ, against the sample mean of
    // (ỹ − y)² over 10⁶ inputs. Tolerance: 5 standard errors of the sample mean.
    let f = mixed_features();
    let inputs = f.inputs().expect("features given as inputs").to_vec();
    let w = random_w(3, 5, 1) * 1.5;
    let b = 0.3;
    let el = ExpectedLoss::new(&f, 3).expect("D ≥ 1");
    let exact = el.loss_with_bias(&w, b);
    let v = f.importance();
    let mut rng = Pcg64Mcg::seed_from_u64(2);
    let samples = 1_000_000;
    let (mut s, mut s2) = (0.0, 0.0);
    let mut x = vec![0.0; 5];
    for _ in 0..samples {
        for (xi, inp) in x.iter_mut().zip(&inputs) {
            *xi = inp.sample(&mut rng);
        }
        let hx = &w * nalgebra::DVector::from_column_slice(&x);
        let model = hx.norm_squared() + b;
        let target: f64 = v.iter().zip(&x).map(|(vi, xi)| vi * xi * xi).sum();
        let l = (model - target).powi(2);
        s += l;
        s2 += l * l;
    }
    let m = samples as f64;
    let mean = s / m;
    let se = ((s2 / m - mean * mean) / m).sqrt();
    assert!(
        (mean - exact).abs() < 5.0 * se,
        "Monte Carlo {mean} ± {se} vs exact {exact}"
    );
    eprintln!("(B1) Monte Carlo {mean:.5} ± {se:.5} (1 se) vs exact {exact:.5}");
    // The test has power: the common-k formula with the mean kurtosis fails the same check.
    let k_mean = f.kurtosis().iter().sum::<f64>() / 5.0;
    let common = FeatureSet::from_kurtosis(v.to_vec(), vec![k_mean; 5]).expect("valid");
    let wrong = ExpectedLoss::new(&common, 3)
        .expect("D ≥ 1")
        .loss_with_bias(&w, b);
    assert!((mean - wrong).abs() > 5.0 * se, "{mean} ± {se} vs {wrong}");
}

#[test]
fn loss_at_optimal_bias_is_the_minimum_over_b() {
    let f = mixed_features();
    let el = ExpectedLoss::new(&f, 2).expect("D ≥ 1");
    let w = random_w(2, 5, 3);
    let b = el.optimal_bias(&w);
    assert_relative_eq!(
        b,
        f.importance().iter().sum::<f64>() - sq_norms(&w).iter().sum::<f64>(),
        max_relative = 1e-14
    );
    // (Q8) = (Q6) at b*, and (Q6) − (Q8) = (b − b*)² elsewhere.
    assert_relative_eq!(el.loss(&w), el.loss_with_bias(&w, b), max_relative = 1e-14);
    for db in [-1.0, -0.1, 0.25, 2.0] {
        assert_relative_eq!(
            el.loss_with_bias(&w, b + db) - el.loss(&w),
            db * db,
            max_relative = 1e-10
        );
        assert_relative_eq!(el.bias_grad(&w, b + db), 2.0 * db, max_relative = 1e-12);
    }
    assert!(el.bias_grad(&w, b).abs() < 1e-12);
}

/// Central differences of f at w in every entry; step h.
fn numeric_grad(f: impl Fn(&DMatrix<f64>) -> f64, w: &DMatrix<f64>, h: f64) -> DMatrix<f64> {
    let mut g = DMatrix::zeros(w.nrows(), w.ncols());
    for idx in 0..w.len() {
        let mut wp = w.clone();
        let mut wm = w.clone();
        wp[idx] += h;
        wm[idx] -= h;
        g[idx] = (f(&wp) - f(&wm)) / (2.0 * h);
    }
    g
}

#[test]
fn gradient_matches_central_differences() {
    // Relative tolerance 1e-7 of the gradient's max norm (h = 1e-5: truncation O(h²) ≈ 1e-10,
    // round-off O(ε/h) ≈ 1e-11, both relative to the loss scale).
    let f = mixed_features();
    let el = ExpectedLoss::new(&f, 3).expect("D ≥ 1");
    for seed in 0..4 {
        let w = random_w(3, 5, 10 + seed);
        let analytic = el.grad(&w);
        let numeric = numeric_grad(|x| el.loss(x), &w, 1e-5);
        let scale = numeric.amax().max(1.0);
        assert!(
            (&analytic - &numeric).amax() <= 1e-7 * scale,
            "max error {} (scale {scale})",
            (&analytic - &numeric).amax()
        );
        // At a fixed, non-optimal bias (Q6).
        let b = 0.7;
        let analytic = el.grad_with_bias(&w, b);
        let numeric = numeric_grad(|x| el.loss_with_bias(x, b), &w, 1e-5);
        assert!((&analytic - &numeric).amax() <= 1e-7 * numeric.amax().max(1.0));
        // The Objective seam returns the same loss and gradient.
        let mut g = DMatrix::zeros(3, 5);
        let l = el.loss_grad(&w, &mut g);
        assert_relative_eq!(l, el.loss(&w), max_relative = 1e-14);
        assert!((&g - el.grad(&w)).amax() <= 1e-14 * scale);
        assert_relative_eq!(Objective::loss(&el, &w), l, max_relative = 1e-14);
    }
}

#[test]
fn loss_in_capacity_equals_loss_in_w() {
    // (Q11)/(B2) with nᵢ, Cᵢ read from W equals (Q8)/(B1), including a zero column.
    let f = mixed_features();
    let el = ExpectedLoss::new(&f, 3).expect("D ≥ 1");
    for seed in 0..5 {
        let mut w = random_w(3, 5, 20 + seed);
        if seed == 4 {
            w.column_mut(2).fill(0.0);
        }
        let c = capacities(&w);
        let n = sq_norms(&w);
        let lc = loss_in_capacity(&f, &c, &n).expect("lengths match");
        assert_relative_eq!(lc, el.loss(&w), max_relative = 1e-12);
    }
    assert!(loss_in_capacity(&f, &[0.5], &[1.0]).is_err());
}

#[test]
fn capacity_gradient_matches_finite_differences() {
    // (Q12): ∂L/∂Cᵢ = −2nᵢ²/Cᵢ² at fixed n.
    let f = mixed_features();
    let c = [0.3, 0.9, 0.5, 0.7, 0.2];
    let n = [0.8, 0.3, 0.5, 0.1, 1.1];
    let g = loss_in_capacity_grad(&f, &c, &n).expect("lengths match");
    let h = 1e-6;
    for i in 0..5 {
        let mut cp = c;
        let mut cm = c;
        cp[i] += h;
        cm[i] -= h;
        let fd = (loss_in_capacity(&f, &cp, &n).expect("ok")
            - loss_in_capacity(&f, &cm, &n).expect("ok"))
            / (2.0 * h);
        assert_relative_eq!(g[i], fd, max_relative = 1e-7);
    }
}

/// Per-feature (Q11)/(B2) term as a function of n at capacity C.
fn term(v: f64, k: f64, c: f64, n: f64) -> f64 {
    (k - 1.0) * (n - v).powi(2) - 2.0 * n * n + 2.0 * n * n / c
}

/// Minimises the convex per-feature term over n ∈ [0, 2(k−1)v] by golden-section search.
fn argmin_n(v: f64, k: f64, c: f64) -> f64 {
    let (mut a, mut b) = (0.0, 2.0 * (k - 1.0).max(1.0) * v + 1.0);
    let r = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..200 {
        let x1 = b - r * (b - a);
        let x2 = a + r * (b - a);
        if term(v, k, c, x1) < term(v, k, c, x2) {
            b = x2;
        } else {
            a = x1;
        }
    }
    0.5 * (a + b)
}

#[test]
fn curves_minimise_the_capacity_form() {
    // (QM7)/(QM8): n*(C) minimises (Q11) over n and L*(C) is the minimum value.
    for &(v, k) in &[
        (1.0, 18.0),
        (0.5, 18.0),
        (2.0, 1.8),
        (0.7, 3.0),
        (1.3, 6.0),
        (0.9, 1.0),
    ] {
        let f = FeatureCurve {
            importance: v,
            kurtosis: k,
        };
        for &c in &[0.05, 0.2, 0.5, 0.8, 1.0] {
            if k <= 1.0 && c >= 1.0 {
                continue; // k = 1, C = 1: the term is ≡ 0 in n, every n is a minimiser
            }
            let n_num = argmin_n(v, k, c);
            assert_relative_eq!(f.sq_norm(c), n_num, max_relative = 1e-6, epsilon = 1e-9);
            assert_relative_eq!(
                f.loss(c),
                term(v, k, c, f.sq_norm(c)),
                max_relative = 1e-12,
                epsilon = 1e-14
            );
            assert!(f.loss(c) <= term(v, k, c, n_num) + 1e-12);
        }
        // Endpoints: L*(0) = (k−1)v², L*(1) = 0 (k = 1 excluded: (k−3)C + 2 = 0 at C = 1).
        assert_relative_eq!(
            f.loss(0.0),
            (k - 1.0) * v * v,
            max_relative = 1e-14,
            epsilon = 1e-15
        );
        if k > 1.0 {
            assert!(f.loss(1.0).abs() < 1e-15);
        }
    }
}

#[test]
fn curves_are_derivatives_of_each_other() {
    // (QM9) m = −dL*/dC and (QM10) d²L*/dC² = −dm/dC, by central differences (h = 1e-5,
    // relative tolerance 1e-7); and the envelope identity m = 2(n*/C)² (Q16).
    let h = 1e-5;
    for &(v, k) in &[(1.0, 18.0), (0.5, 18.0), (2.0, 1.8), (0.7, 3.0), (1.3, 6.0)] {
        let f = FeatureCurve {
            importance: v,
            kurtosis: k,
        };
        for &c in &[0.1, 0.3, 0.5, 0.7, 0.9] {
            let dl = (f.loss(c + h) - f.loss(c - h)) / (2.0 * h);
            assert_relative_eq!(f.marginal_benefit(c), -dl, max_relative = 1e-7);
            let dm = (f.marginal_benefit(c + h) - f.marginal_benefit(c - h)) / (2.0 * h);
            assert_relative_eq!(
                f.loss_curvature(c),
                -dm,
                max_relative = 1e-6,
                epsilon = 1e-9
            );
            let ratio = f.sq_norm(c) / c;
            assert_relative_eq!(
                f.marginal_benefit(c),
                2.0 * ratio * ratio,
                max_relative = 1e-12
            );
            // −∂L/∂C of (Q12) at n = n*(C) equals m(C) (envelope theorem).
            let fs = FeatureSet::from_kurtosis(vec![v], vec![k]).expect("valid");
            let g = loss_in_capacity_grad(&fs, &[c], &[f.sq_norm(c)]).expect("ok");
            assert_relative_eq!(-g[0], f.marginal_benefit(c), max_relative = 1e-12);
        }
    }
}

proptest! {
    #![proptest_config(crate::prop_config(64))]

    /// (Q11) = (Q8) for arbitrary W, D and per-feature k.
    #[test]
    fn capacity_form_matches_for_any_w(
        d in 1usize..4,
        n in 1usize..6,
        seed in 0u64..10_000,
        ks in proptest::collection::vec(1.0f64..30.0, 6),
        vs in proptest::collection::vec(0.0f64..2.0, 6),
    ) {
        let f = FeatureSet::from_kurtosis(vs[..n].to_vec(), ks[..n].to_vec()).expect("valid");
        let el = ExpectedLoss::new(&f, d).expect("D ≥ 1");
        let w = random_w(d, n, seed) * 2.0;
        let lc = loss_in_capacity(&f, &capacities(&w), &sq_norms(&w)).expect("ok");
        let lw = el.loss(&w);
        prop_assert!((lc - lw).abs() <= 1e-11 * lw.abs().max(1.0), "{lc} vs {lw}");
    }
}
