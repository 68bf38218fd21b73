//! Tests of theory::capacity: the closed forms (C9) of Fig. 6, the bounds (C4)–(C5), the
//! invariances of §2.1, efficiency (C6)–(C7), the correlation form (C3) and leverage (C8).

use approx::assert_relative_eq;
use nalgebra::DMatrix;
use polycap::theory::capacity::{
    ZERO_COLUMN_THRESHOLD, analyze, capacities, capacities_with_threshold, capacity,
    leverage_capacities, rank, sq_norms,
};
use polycap::theory::realization::{feasible, random_orthogonal};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Column-wise construction: `cols` lists the features of a 2-D matrix.
fn from_cols(cols: &[[f64; 2]]) -> DMatrix<f64> {
    DMatrix::from_fn(2, cols.len(), |r, c| cols[c][r])
}

fn assert_caps(w: &DMatrix<f64>, want: &[f64], total: f64, efficient: bool) {
    let c = capacities(w);
    assert_eq!(c.len(), want.len());
    for (i, (&got, &exp)) in c.iter().zip(want).enumerate() {
        assert_relative_eq!(got, exp, max_relative = 1e-14, epsilon = 1e-15);
        // The single-feature form agrees with the batch form.
        assert_relative_eq!(capacity(w, i), exp, max_relative = 1e-14, epsilon = 1e-15);
    }
    let r = analyze(w).expect("finite matrix");
    assert_relative_eq!(r.total_capacity, total, max_relative = 1e-14);
    assert_eq!(r.efficient, efficient);
}

#[test]
fn fig6_three_vectors_120_degrees() {
    let s = 3f64.sqrt() / 2.0;
    let w = from_cols(&[[1.0, 0.0], [-0.5, s], [-0.5, -s]]);
    assert_caps(&w, &[2.0 / 3.0; 3], 2.0, true);
}

#[test]
fn fig6_orthogonal_to_antipodal_pair() {
    let w = from_cols(&[[1.0, 0.0], [0.0, 2.0], [0.0, -2.0]]);
    assert_caps(&w, &[1.0, 0.5, 0.5], 2.0, true);
}

#[test]
fn fig6_orthogonal_to_antiparallel_1_to_9() {
    // Squared lengths 1 and 9: C = a²/(a² + b²) (C9, collinear).
    let w = from_cols(&[[0.7, 0.0], [0.0, 1.0], [0.0, -3.0]]);
    assert_caps(&w, &[1.0, 0.1, 0.9], 2.0, true);
}

#[test]
fn fig6_two_vectors_at_30_degrees() {
    let t = std::f64::consts::PI / 6.0;
    let w = from_cols(&[[1.0, 0.0], [t.cos(), t.sin()]]);
    assert_caps(&w, &[4.0 / 7.0, 4.0 / 7.0], 8.0 / 7.0, false);
    assert_eq!(rank(&w).expect("finite"), 2);
}

#[test]
fn two_equal_vectors_at_any_angle() {
    for k in 0..=40 {
        let t = k as f64 * std::f64::consts::PI / 40.0;
        let w = from_cols(&[[2.0, 0.0], [2.0 * t.cos(), 2.0 * t.sin()]]);
        let want = 1.0 / (1.0 + t.cos().powi(2));
        for c in capacities(&w) {
            assert_relative_eq!(c, want, max_relative = 1e-13);
        }
    }
}

#[test]
fn zero_column_has_zero_capacity() {
    let mut w = from_cols(&[[1.0, 0.0], [0.0, 0.0], [0.6, 0.8]]);
    assert_relative_eq!(capacities(&w)[1], 0.0);
    assert_relative_eq!(capacity(&w, 1), 0.0);
    // Below the threshold τ counts as zero, just above it does not.
    w[(0, 1)] = (0.5 * ZERO_COLUMN_THRESHOLD).sqrt();
    assert_relative_eq!(capacities(&w)[1], 0.0);
    w[(0, 1)] = 0.0;
    w[(1, 1)] = (4.0 * ZERO_COLUMN_THRESHOLD).sqrt();
    assert!(capacities(&w)[1] > 0.0);
    // A configurable threshold: τ = 0 keeps the tiny column, τ = 1e-8 drops it.
    let g = w.tr_mul(&w.column(1));
    let direct = g[1] * g[1] / g.norm_squared();
    assert_relative_eq!(
        capacities_with_threshold(&w, 0.0)[1],
        direct,
        max_relative = 1e-12
    );
    assert_relative_eq!(capacities_with_threshold(&w, 1e-8)[1], 0.0);
    // The all-zero matrix: everything 0, rank 0, not efficient.
    let z = DMatrix::<f64>::zeros(3, 4);
    let r = analyze(&z).expect("finite");
    assert_eq!(r.rank, 0);
    assert!(r.capacity.iter().all(|&c| c == 0.0));
    assert!(!r.efficient);
}

#[test]
fn non_finite_matrix_is_rejected() {
    let mut w = DMatrix::<f64>::identity(2, 3);
    w[(1, 2)] = f64::NAN;
    let err = analyze(&w).expect_err("NaN entry");
    assert!(err.to_string().contains("row 2, column 3"), "{err}");
}

#[test]
fn batch_forms_agree_with_the_single_feature_form() {
    // N = 600 > D = 5: the blocked Gram route of `capacities` (several blocks of rows), against
    // the per-feature O(ND) form.
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    let w = DMatrix::from_fn(5, 600, |_, _| rng.random::<f64>() - 0.5);
    let c = capacities(&w);
    for (i, &ci) in c.iter().enumerate() {
        assert_relative_eq!(ci, capacity(&w, i), max_relative = 1e-12);
    }
    // N = 25 000, D = 2: N²D > 2³⁰ switches to the O(ND²) outer form (C1′); spot-check 50.
    let w = DMatrix::from_fn(2, 25_000, |_, _| rng.random::<f64>() - 0.5);
    let c = capacities(&w);
    for i in (0..25_000).step_by(500) {
        assert_relative_eq!(c[i], capacity(&w, i), max_relative = 1e-10);
    }
    assert!(c.iter().all(|&x| (0.0..=1.0).contains(&x)));
}

#[test]
fn semi_orthogonal_matrices_are_efficient() {
    // Random semi-orthogonal W (rows of a random orthogonal matrix), scaled: ΣC = D, C = n/λ.
    for (d, n, seed) in [(1, 4, 1), (3, 7, 2), (5, 5, 3), (4, 20, 4)] {
        let q = random_orthogonal(n, seed);
        let lam: f64 = 2.5;
        let w = q.rows(0, d).into_owned() * lam.sqrt();
        let r = analyze(&w).expect("finite");
        assert_relative_eq!(r.total_capacity, d as f64, max_relative = 1e-12);
        assert_eq!(r.rank, d);
        assert!(r.efficient);
        for (c, s) in r.capacity.iter().zip(&r.sq_norm) {
            assert_relative_eq!(*c, s / lam, max_relative = 1e-12, epsilon = 1e-14); // (C7)
        }
        // (C8): leverage scores equal C for an efficient W.
        let lev = leverage_capacities(&w).expect("finite");
        for (a, b) in lev.iter().zip(&r.capacity) {
            assert_relative_eq!(*a, *b, max_relative = 1e-10, epsilon = 1e-12);
        }
    }
}

#[test]
fn feasible_rows_have_the_requested_capacity() {
    let c = [0.1, 0.9, 0.5, 0.5, 1.0, 0.0];
    let w = feasible(&c, 3).expect("Σ c = 3").rows(0, 3).into_owned();
    for (got, want) in capacities(&w).iter().zip(&c) {
        assert!((got - want).abs() <= 1e-12, "{got} vs {want}");
    }
}

#[test]
fn leverage_scores_sum_to_rank() {
    // A rank-2 matrix in D = 3: Σ C̃ = 2 and Σ C ≤ 2 (C5), C̃ ≠ C in general.
    let w = DMatrix::from_row_slice(
        3,
        4,
        &[1.0, 2.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 3.0, 1.0, 2.0],
    );
    let lev = leverage_capacities(&w).expect("finite");
    assert_relative_eq!(lev.iter().sum::<f64>(), 2.0, max_relative = 1e-12);
    let r = analyze(&w).expect("finite");
    assert_eq!(r.rank, 2);
    assert!(r.total_capacity <= 2.0 + 1e-12 && r.total_capacity >= 1.0);
    assert!(!r.efficient);
}

#[test]
fn capacity_is_squared_correlation_of_reconstruction() {
    // (C3): with uncorrelated zero-mean unit-variance inputs (here ±1 Rademacher),
    // Cᵢ = ρ²(xᵢ, (WᵀWx)ᵢ). Monte Carlo with 200k samples; tolerance 5 standard errors of ρ²
    // (se ≈ 2ρ(1 − ρ²)/√n ≤ 1/√n).
    let w = DMatrix::from_row_slice(2, 3, &[1.0, 0.3, -0.5, 0.2, 1.0, 0.8]);
    let g = w.tr_mul(&w);
    let c = capacities(&w);
    let mut rng = Pcg64Mcg::seed_from_u64(11);
    let samples = 200_000;
    let mut sxy = [0.0; 3];
    let mut syy = [0.0; 3];
    let mut sy = [0.0; 3];
    for _ in 0..samples {
        let x: Vec<f64> = (0..3)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        for i in 0..3 {
            let y: f64 = (0..3).map(|j| g[(i, j)] * x[j]).sum();
            sxy[i] += x[i] * y;
            syy[i] += y * y;
            sy[i] += y;
        }
    }
    let m = samples as f64;
    for i in 0..3 {
        // E xᵢ = 0 and Var xᵢ = 1 exactly for Rademacher; ρ² = Cov²/(Var y).
        let cov = sxy[i] / m;
        let var_y = syy[i] / m - (sy[i] / m).powi(2);
        let rho2 = cov * cov / var_y;
        assert!(
            (rho2 - c[i]).abs() < 5.0 / m.sqrt(),
            "feature {i}: ρ² = {rho2}, C = {}",
            c[i]
        );
    }
}

fn matrix_strategy() -> impl Strategy<Value = DMatrix<f64>> {
    (1usize..=5, 1usize..=9).prop_flat_map(|(d, n)| {
        proptest::collection::vec(-2.0f64..2.0, d * n).prop_map(move |v| DMatrix::from_vec(d, n, v))
    })
}

proptest! {
    #![proptest_config(crate::prop_config(256))]

    /// (C4), (C5): 0 ≤ Cᵢ ≤ 1 and 1 ≤ ΣC ≤ rank W ≤ D for W ≠ 0.
    #[test]
    fn bounds_hold(w in matrix_strategy()) {
        let r = analyze(&w).expect("finite");
        for &c in &r.capacity {
            prop_assert!((0.0..=1.0).contains(&c));
        }
        if sq_norms(&w).iter().any(|&s| s > ZERO_COLUMN_THRESHOLD) {
            prop_assert!(r.total_capacity >= 1.0 - 1e-12, "ΣC = {}", r.total_capacity);
            prop_assert!(r.total_capacity <= r.rank as f64 + 1e-9, "ΣC = {} > rank {}", r.total_capacity, r.rank);
            prop_assert!(r.rank <= w.nrows());
        }
    }

    /// §2.1: C(αW) = C(W) and C(QW) = C(W).
    #[test]
    fn invariant_under_scaling_and_rotation(w in matrix_strategy(), alpha in 0.1f64..10.0, neg in any::<bool>(), seed in 0u64..1000) {
        let alpha = if neg { -alpha } else { alpha };
        let c = capacities(&w);
        let scaled = capacities(&(&w * alpha));
        let rotated = capacities(&(random_orthogonal(w.nrows(), seed) * &w));
        for i in 0..c.len() {
            // Columns near the zero threshold may flip under scaling; the strategy rarely
            // produces them, and their capacity is then compared only if clearly non-zero.
            if sq_norms(&w)[i] > 1e-6 {
                prop_assert!((c[i] - scaled[i]).abs() <= 1e-10, "{} vs {}", c[i], scaled[i]);
                prop_assert!((c[i] - rotated[i]).abs() <= 1e-10, "{} vs {}", c[i], rotated[i]);
            }
        }
    }
}
