//! Tests of theory::equalize: agreement with the exact allocation on the quadratic model
//! (common and per-feature k > 3), other curves with a closed-form answer, and rejection of
//! increasing or flat returns.

use approx::assert_abs_diff_eq;
use polycap::base::{Error, FeatureSet};
use polycap::theory::allocation::allocate;
use polycap::theory::equalize::{MarginalCurve, equalize};
use polycap::theory::quadratic::FeatureCurve;
use proptest::prelude::*;

fn curves(v: &[f64], k: &[f64]) -> Vec<FeatureCurve> {
    v.iter()
        .zip(k)
        .map(|(&importance, &kurtosis)| FeatureCurve {
            importance,
            kurtosis,
        })
        .collect()
}

#[test]
fn worked_example_agrees_with_the_exact_values() {
    let v = [0.5, 1.0, 1.0, 1.0, 1.0, 1.0];
    let eq = equalize(&curves(&v, &[18.0; 6]), 3.0).expect("converges");
    assert_abs_diff_eq!(eq.capacity[0], 7.0 / 33.0, epsilon = 1e-10);
    for i in 1..6 {
        assert_abs_diff_eq!(eq.capacity[i], 92.0 / 165.0, epsilon = 1e-10);
    }
    let lam: f64 = 187.0 / 114.0;
    let mu = eq.mu.expect("μ defined");
    assert_abs_diff_eq!(mu / (2.0 * lam * lam), 1.0, epsilon = 1e-10);
    assert!(eq.report.sum_residual < 1e-10);
    assert!(eq.report.max_inner_residual < 1e-10);
    assert!(eq.report.outer_iterations > 0 && eq.report.inner_iterations > 0);
}

#[test]
fn d_at_least_n_and_zero_benefit_curves() {
    let eq = equalize(&curves(&[1.0, 2.0], &[10.0, 10.0]), 2.0).expect("ok");
    assert_eq!(eq.capacity, vec![1.0, 1.0]);
    assert!(eq.mu.is_none());
    // v = 0 has m ≡ 0: C = 0, and the others fill D.
    let eq = equalize(&curves(&[0.0, 1.0, 2.0], &[10.0; 3]), 1.5).expect("ok");
    assert_eq!(eq.capacity[0].to_bits(), 0f64.to_bits());
    assert_abs_diff_eq!(eq.capacity.iter().sum::<f64>(), 1.5, epsilon = 1e-10);
}

#[test]
fn rejects_increasing_and_flat_returns_and_bad_d() {
    let inc = equalize(&curves(&[1.0, 1.0], &[18.0, 1.8]), 1.0);
    assert!(matches!(inc, Err(Error::Parameter(ref m)) if m.contains("increasing returns")));
    let flat = equalize(&curves(&[1.0, 1.0], &[18.0, 3.0]), 1.0);
    assert!(matches!(flat, Err(Error::Parameter(ref m)) if m.contains("flat")));
    assert!(equalize(&curves(&[1.0], &[18.0]), 0.0).is_err());
    assert!(equalize(&curves(&[1.0], &[18.0]), f64::NAN).is_err());
    assert!(equalize::<FeatureCurve>(&[], 1.0).is_err());
}

/// m(C) = w/(1 + C): the optimum has w_i/(1 + C_i) = μ, so C_i = w_i/μ − 1 (clipped).
struct Harmonic(f64);

impl MarginalCurve for Harmonic {
    fn marginal_benefit(&self, c: f64) -> f64 {
        self.0 / (1.0 + c)
    }
}

#[test]
fn general_curve_with_closed_form() {
    // w = (1, 1.5, 4), D = 1.5: feature 3 full if 4/2 ≥ μ; try μ with C1 = 0 (μ ≥ 1):
    // C2 = 1.5/μ − 1, C3 = 1 ⇒ 1.5/μ − 1 + 1 = 1.5 ⇒ μ = 1, C2 = 0.5.
    let eq = equalize(&[Harmonic(1.0), Harmonic(1.5), Harmonic(4.0)], 1.5).expect("converges");
    assert_abs_diff_eq!(eq.mu.expect("μ"), 1.0, epsilon = 1e-10);
    assert_abs_diff_eq!(eq.capacity[0], 0.0, epsilon = 1e-10);
    assert_abs_diff_eq!(eq.capacity[1], 0.5, epsilon = 1e-10);
    assert_abs_diff_eq!(eq.capacity[2], 1.0, epsilon = 1e-15);
}

/// A discontinuous m (3 below C = ½, 2 above): Σ C(μ) jumps at μ = 3 from ½ to 0, and a
/// D inside the jump must be reported, not silently returned with Σ C ≠ D.
struct Step;

impl MarginalCurve for Step {
    fn marginal_benefit(&self, c: f64) -> f64 {
        if c < 0.5 { 3.0 } else { 2.0 }
    }
}

#[test]
fn jump_in_the_capacity_sum_is_not_convergence() {
    let res = equalize(&[Step], 0.3);
    assert!(matches!(res, Err(Error::NotConverged { .. })), "{res:?}");
    // Outside the jump the answer is exact: D = 0.5 lies on the plateau Σ C = ½.
    let eq = equalize(&[Step, Step], 1.0).expect("converges");
    assert_abs_diff_eq!(eq.capacity[0], 0.5, epsilon = 1e-12);
}

proptest! {
    // Regression seeds live beside this file: tests/theory/equalize.regressions.
    #![proptest_config(crate::prop_config(150))]

    /// The general solver reproduces the exact sweep (A7)/(B5) to 1e-9 on C (per-feature
    /// k > 3; k ≥ 3.5 keeps dC/dμ ∝ 1/(k − 3) moderate).
    #[test]
    fn agrees_with_the_exact_sweep(
        (v, k, d) in (2usize..=8).prop_flat_map(|n| (
            prop::collection::vec(0.05f64..5.0, n),
            prop::collection::vec(3.5f64..40.0, n),
            1..n,
        ))
    ) {
        let exact = allocate(
            &FeatureSet::from_kurtosis(v.clone(), k.clone()).expect("valid"),
            d,
        ).expect("allocates");
        let eq = equalize(&curves(&v, &k), d as f64).expect("converges");
        for i in 0..v.len() {
            prop_assert!(
                (eq.capacity[i] - exact.capacity[i]).abs() < 1e-9,
                "feature {i}: equalize {} vs sweep {}", eq.capacity[i], exact.capacity[i]
            );
        }
        // μ is unique only when some feature is fractional (else any μ in an interval).
        if exact.capacity.iter().any(|&c| c > 0.0 && c < 1.0) {
            let mu = exact.mu.expect("μ defined");
            let got = eq.mu.expect("μ defined");
            prop_assert!((got - mu).abs() < 1e-9 * mu);
        }
    }
}
