//! Tests of theory::allocation: the worked example (§6.6), the mixed-returns
//! counterexamples (B6.iv)/(B6.v), edge cases, and properties against independent
//! computations (bisection on log λ, brute-force grids, random feasible allocations).

use approx::assert_abs_diff_eq;
use polycap::base::{Error, FeatureSet, Magnitude};
use polycap::theory::allocation::{
    Allocation, Allocator, Method, Phase, allocate, allocate_prescribed_lambda,
};
use polycap::theory::quadratic::FeatureCurve;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

fn features(v: &[f64], k: &[f64]) -> FeatureSet {
    FeatureSet::from_kurtosis(v.to_vec(), k.to_vec()).expect("valid test features")
}

fn solve(v: &[f64], k: &[f64], d: usize) -> Allocation {
    allocate(&features(v, k), d).expect("allocation succeeds")
}

/// Σ Lᵢ*(Cᵢ) by (Q15), independently of the solver's own loss.
fn loss_at(v: &[f64], k: &[f64], c: &[f64]) -> f64 {
    (0..v.len())
        .map(|i| {
            FeatureCurve {
                importance: v[i],
                kurtosis: k[i],
            }
            .loss(c[i])
        })
        .sum()
}

fn worked_example() -> Allocation {
    let f = FeatureSet::from_densities(
        vec![0.5, 1.0, 1.0, 1.0, 1.0, 1.0],
        &[0.1; 6],
        Magnitude::Uniform,
    )
    .expect("valid");
    allocate(&f, 3).expect("allocation succeeds")
}

#[test]
fn worked_example_section_6_6() {
    let a = worked_example();
    assert_eq!(a.method, Method::Sweep);
    let lam = 187.0 / 114.0;
    assert_abs_diff_eq!(a.lambda.expect("λ defined"), lam, epsilon = 1e-12);
    assert_abs_diff_eq!(a.mu.expect("μ defined"), 2.0 * lam * lam, epsilon = 1e-12);
    assert_abs_diff_eq!(a.capacity[0], 7.0 / 33.0, epsilon = 1e-12);
    for i in 1..6 {
        assert_abs_diff_eq!(a.capacity[i], 92.0 / 165.0, epsilon = 1e-12);
        assert_abs_diff_eq!(a.sq_norm[i], 782.0 / 855.0, epsilon = 1e-12);
    }
    assert_abs_diff_eq!(a.sq_norm[0], 119.0 / 342.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.total_capacity, 3.0, epsilon = 1e-12);
    assert!(a.phase.iter().all(|&p| p == Phase::Polysemantic));
    // Every m_i(C_i) equals μ.
    let mu = a.mu.expect("μ defined");
    for i in 0..6 {
        let v = if i == 0 { 0.5 } else { 1.0 };
        let m = FeatureCurve {
            importance: v,
            kurtosis: 18.0,
        }
        .marginal_benefit(a.capacity[i]);
        assert_abs_diff_eq!(m / mu, 1.0, epsilon = 1e-12);
    }
    a.check_kkt(1e-10).expect("KKT holds");
}

/// (B6.iv): a (v 2, k 6/5), b (v 3/4, k 5/2), c (v 1/5, k 21), D = 2.
const B6IV_V: [f64; 3] = [2.0, 0.75, 0.2];
const B6IV_K: [f64; 3] = [1.2, 2.5, 21.0];

#[test]
fn mixed_counterexample_b6_iv() {
    let a = solve(&B6IV_V, &B6IV_K, 2);
    assert_eq!(a.method, Method::Mixed);
    assert_abs_diff_eq!(a.capacity[0], 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.capacity[1], 58.0 / 73.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.capacity[2], 15.0 / 73.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.lambda.expect("λ"), 73.0 / 104.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.loss, 457.0 / 1040.0, epsilon = 1e-12);
    assert_eq!(
        a.phase,
        vec![
            Phase::Monosemantic,
            Phase::Polysemantic,
            Phase::Polysemantic
        ]
    );
    a.check_kkt(1e-10).expect("KKT holds");
    // The naive rule "top q by (k−1)v² full, the next one fractional": b ranks first
    // (27/32 > 4/5), so b is full and a (next) fractional with c; the best it can do is
    // to give a all of the remaining capacity or share it with c. Either way ≥ 4/5.
    let naive_best = (0..=1000)
        .map(|j| {
            let ca = j as f64 / 1000.0;
            loss_at(&B6IV_V, &B6IV_K, &[ca, 1.0, 1.0 - ca])
        })
        .fold(f64::INFINITY, f64::min);
    assert!(naive_best >= 0.8 - 1e-12, "naive rule gave {naive_best}");
    assert!(naive_best > a.loss + 0.36);
}

/// (B6.v): f (v 9/20, k 49/20) and J = (9/25, 21/100, 29/100), k (79/10, 23/5, 26/5), D = 2.
const B6V_V: [f64; 4] = [0.45, 0.36, 0.21, 0.29];
const B6V_K: [f64; 4] = [2.45, 7.9, 4.6, 5.2];

/// R(s) of (B6.v): J's optimal loss at total s, by the sweep in prescribed-λ form
/// (bisection on λ so that Σ C_J(λ) = s), independent of the (B7) enumeration.
fn r_of(s: f64) -> f64 {
    let (v, k) = (&B6V_V[1..], &B6V_K[1..]);
    let f = features(v, k);
    let (mut lo, mut hi) = (1e-6_f64, 10.0_f64);
    for _ in 0..200 {
        let mid = (lo * hi).sqrt();
        let a = allocate_prescribed_lambda(&f, mid).expect("valid λ");
        if a.total_capacity > s {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let a = allocate_prescribed_lambda(&f, (lo * hi).sqrt()).expect("valid λ");
    a.loss
}

#[test]
fn mixed_counterexample_b6_v() {
    let a = solve(&B6V_V, &B6V_K, 2);
    assert_eq!(a.method, Method::Mixed);
    assert_abs_diff_eq!(a.capacity[0], 53.0 / 517.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.capacity[1], 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.capacity[2], 37.0 / 235.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.capacity[3], 1913.0 / 2585.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.lambda.expect("λ"), 47.0 / 140.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.loss, 84813.0 / 192500.0, epsilon = 1e-12);
    a.check_kkt(1e-10).expect("KKT holds");

    // h(c) = L_f*(c) + R(2 − c) is multimodal: a local minimiser started in the basin of
    // c ≈ 0.627 (λ = 339/860) stops there, at a higher loss.
    let lf = FeatureCurve {
        importance: B6V_V[0],
        kurtosis: B6V_K[0],
    };
    let h = |c: f64| lf.loss(c) + r_of(2.0 - c);
    let local = golden_section(&h, 0.4, 0.9);
    assert_abs_diff_eq!(local, 779.0 / 1243.0, epsilon = 1e-6);
    assert!(
        h(local) > a.loss + 1e-4,
        "local {} vs global {}",
        h(local),
        a.loss
    );
    // And it is a genuine local minimum: h is higher on both sides.
    assert!(h(local - 0.02) > h(local) && h(local + 0.02) > h(local));
    // The global one is the (B7) answer.
    assert_abs_diff_eq!(h(53.0 / 517.0), a.loss, epsilon = 1e-9);
}

/// A bounded local 1-D minimiser (golden section) on [a, b].
fn golden_section(h: &dyn Fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..80 {
        let (x1, x2) = (b - g * (b - a), a + g * (b - a));
        if h(x1) < h(x2) {
            b = x2;
        } else {
            a = x1;
        }
    }
    0.5 * (a + b)
}

#[test]
fn d_at_least_n_gives_all_full() {
    for d in [6, 7, 100] {
        let a = solve(&[0.5, 1.0, 1.0, 1.0, 1.0, 1.0], &[18.0; 6], d);
        assert_eq!(a.method, Method::AllFull);
        assert!(a.capacity.iter().all(|&c| (c - 1.0).abs() < 1e-15));
        assert_abs_diff_eq!(a.loss, 0.0, epsilon = 1e-15);
        assert!(a.lambda.is_none() && a.mu.is_none());
        a.check_kkt(1e-12).expect("KKT holds");
    }
}

#[test]
fn zero_importance_and_unit_kurtosis_are_ignored() {
    let a = solve(&[0.0, 1.0, 2.0, 3.0], &[18.0, 1.0, 18.0, 18.0], 2);
    assert_eq!(a.method, Method::AllFull);
    assert_eq!(a.capacity, vec![0.0, 0.0, 1.0, 1.0]);
    let a = solve(
        &[0.0, 1.0, 2.0, 3.0, 1.5],
        &[18.0, 1.0, 18.0, 18.0, 18.0],
        2,
    );
    assert_eq!(a.capacity[0].to_bits(), 0f64.to_bits());
    assert_eq!(a.capacity[1].to_bits(), 0f64.to_bits());
    assert_abs_diff_eq!(a.total_capacity, 2.0, epsilon = 1e-12);
    a.check_kkt(1e-10).expect("KKT holds");
}

#[test]
fn dims_zero_is_rejected() {
    let f = features(&[1.0], &[18.0]);
    assert_eq!(allocate(&f, 0).err(), Some(Error::Dims(0)));
}

#[test]
fn top_d_for_dense_inputs_and_ties_at_k_3() {
    // k = 1.8 (dense uniform): the two largest v are full.
    let a = solve(&[0.3, 2.0, 1.0, 0.5], &[1.8; 4], 2);
    assert_eq!(a.method, Method::TopD);
    assert_eq!(a.capacity, vec![0.0, 1.0, 1.0, 0.0]);
    assert!(!a.ties && a.mu.is_none());
    a.check_kkt(1e-12).expect("KKT holds");
    // Equal v at k < 3: tie broken by lower index, and said so.
    let a = solve(&[1.0, 1.0, 1.0], &[1.8; 3], 2);
    assert_eq!(a.capacity, vec![1.0, 1.0, 0.0]);
    assert!(a.ties);
    // k = 3, equal v: any split is optimal (point C); μ = 2v² is then determined.
    let a = solve(&[1.0, 1.0, 1.0], &[3.0; 3], 1);
    assert_eq!(a.capacity, vec![1.0, 0.0, 0.0]);
    assert!(a.ties);
    assert_abs_diff_eq!(a.mu.expect("unique μ"), 2.0, epsilon = 1e-15);
    // Same loss for any split: check one interior split against the vertex.
    let split = loss_at(&[1.0; 3], &[3.0; 3], &[0.2, 0.5, 0.3]);
    assert_abs_diff_eq!(split, a.loss, epsilon = 1e-12);
    // The TOP_D key is (k−1)v², not v.
    let a = solve(&[1.0, 0.9], &[1.1, 2.9], 1);
    assert_eq!(a.capacity, vec![0.0, 1.0]);
}

#[test]
fn prescribed_lambda_matches_a_solve_at_its_own_d() {
    let f = features(&[0.5, 1.0, 1.0, 1.0, 1.0, 1.0], &[18.0; 6]);
    let a = allocate_prescribed_lambda(&f, 187.0 / 114.0).expect("valid λ");
    assert_eq!(a.method, Method::PrescribedLambda);
    assert_abs_diff_eq!(a.total_capacity, 3.0, epsilon = 1e-12);
    assert_abs_diff_eq!(a.capacity[0], 7.0 / 33.0, epsilon = 1e-12);
    a.check_kkt(1e-10).expect("KKT holds");
    // A non-integer D_eff is fine.
    let a = allocate_prescribed_lambda(&f, 1.5).expect("valid λ");
    assert!(a.total_capacity > 3.0 && a.total_capacity < 6.0);
    assert!(allocate_prescribed_lambda(&f, 0.0).is_err());
    assert!(allocate_prescribed_lambda(&f, f64::NAN).is_err());
}

#[test]
fn workspace_matches_the_wrapper_and_validates_slices() {
    let mut ws = Allocator::new();
    let v = [0.5, 1.0, 1.0, 1.0, 1.0, 1.0];
    for d in 1..=6 {
        let a = ws
            .allocate_slices(&v, &[18.0; 6], d)
            .expect("valid")
            .clone();
        assert_eq!(a, solve(&v, &[18.0; 6], d));
    }
    assert!(ws.allocate_slices(&[1.0, -1.0], &[5.0, 5.0], 1).is_err());
    assert!(ws.allocate_slices(&[1.0, 1.0], &[5.0], 1).is_err());
    assert!(ws.allocate_slices(&[1.0], &[0.5], 1).is_err());
    assert!(ws.allocate_slices(&[], &[], 1).is_err());
}

/// λ by bisection on log λ (spec §6.2 alternative): S(λ) = Σ clip(...) is non-increasing.
fn bisect_lambda(v: &[f64], k: &[f64], d: f64) -> f64 {
    let s = |lam: f64| -> f64 {
        (0..v.len())
            .map(|i| (((k[i] - 1.0) * v[i] / lam - 2.0) / (k[i] - 3.0)).clamp(0.0, 1.0))
            .sum()
    };
    let vmin = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi0 = (0..v.len())
        .map(|i| (k[i] - 1.0) / 2.0 * v[i])
        .fold(0.0, f64::max);
    let (mut lo, mut hi) = (vmin.ln(), hi0.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if s(mid.exp()) > d {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

fn arb_sparse(max_n: usize) -> impl Strategy<Value = (Vec<f64>, Vec<f64>, usize)> {
    (2..=max_n).prop_flat_map(|n| {
        (
            prop::collection::vec(0.05f64..5.0, n),
            prop::collection::vec(3.2f64..40.0, n),
            1..n,
        )
    })
}

fn arb_mixed(max_n: usize) -> impl Strategy<Value = (Vec<f64>, Vec<f64>, usize)> {
    (2..=max_n).prop_flat_map(|n| {
        (
            prop::collection::vec(0.05f64..3.0, n),
            prop::collection::vec(prop_oneof![1.05f64..3.0, 3.2f64..30.0, Just(3.0)], n),
            1..n,
        )
    })
}

/// A random point of {0 ≤ C ≤ 1, Σ C = D}: uniform x in the cube, shifted by s so that
/// Σ clip(x + s, 0, 1) = D (bisection on s).
fn random_feasible(rng: &mut Pcg64Mcg, n: usize, d: usize) -> Vec<f64> {
    let x: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    let sum = |s: f64| x.iter().map(|&xi| (xi + s).clamp(0.0, 1.0)).sum::<f64>();
    let (mut lo, mut hi) = (-1.0, 1.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if sum(mid) < d as f64 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    x.iter().map(|&xi| (xi + hi).clamp(0.0, 1.0)).collect()
}

proptest! {
    // Regression seeds live beside this file: tests/theory/allocation.regressions.
    #![proptest_config(crate::prop_config(200))]

    #[test]
    fn sweep_is_feasible_kkt_and_matches_bisection((v, k, d) in arb_sparse(9)) {
        let a = solve(&v, &k, d);
        prop_assert_eq!(a.method, Method::Sweep);
        for &c in &a.capacity {
            prop_assert!((0.0..=1.0).contains(&c));
        }
        prop_assert!((a.total_capacity - d as f64).abs() < 1e-12);
        prop_assert!(a.kkt.max_residual < 1e-10, "{:?}", a.kkt);
        prop_assert!((loss_at(&v, &k, &a.capacity) - a.loss).abs() < 1e-12 * (1.0 + a.loss));
        // Compare capacities: when D falls on a flat stretch of S(λ) (every feature
        // integral) λ is not unique and the two methods may pick different ends.
        let lam = bisect_lambda(&v, &k, d as f64);
        for i in 0..v.len() {
            let c = (((k[i] - 1.0) * v[i] / lam - 2.0) / (k[i] - 3.0)).clamp(0.0, 1.0);
            prop_assert!((c - a.capacity[i]).abs() < 1e-9, "feature {i}: bisection {c} vs sweep {}", a.capacity[i]);
        }
        if a.phase.contains(&Phase::Polysemantic) {
            let got = a.lambda.expect("λ defined");
            prop_assert!((lam - got).abs() < 1e-9 * got, "bisection {lam} vs sweep {got}");
        }
    }

    #[test]
    fn beats_random_feasible_allocations((v, k, d) in arb_mixed(7), seed in 0u64..1000) {
        let a = solve(&v, &k, d);
        prop_assert!(a.kkt.max_residual < 1e-10, "{:?}", a.kkt);
        prop_assert!((a.total_capacity - d as f64).abs() < 1e-12);
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let tol = 1e-12 * (1.0 + a.loss);
        for _ in 0..1000 {
            let c = random_feasible(&mut rng, v.len(), d);
            let l = loss_at(&v, &k, &c);
            prop_assert!(a.loss <= l + tol, "random {c:?} has loss {l} < {}", a.loss);
        }
    }
}

/// Minimum of Σ Lᵢ* over the grid {C ∈ (h ℤ)^N : 0 ≤ C ≤ 1, Σ C = D}.
fn brute_force(v: &[f64], k: &[f64], d: usize, steps: usize) -> f64 {
    let n = v.len();
    let curves: Vec<FeatureCurve> = (0..n)
        .map(|i| FeatureCurve {
            importance: v[i],
            kurtosis: k[i],
        })
        .collect();
    let mut best = f64::INFINITY;
    let mut idx = vec![0usize; n - 1];
    loop {
        let used: usize = idx.iter().sum();
        if used <= d * steps && d * steps - used <= steps {
            let last = (d * steps - used) as f64 / steps as f64;
            let mut l = curves[n - 1].loss(last);
            for (i, &j) in idx.iter().enumerate() {
                l += curves[i].loss(j as f64 / steps as f64);
            }
            best = best.min(l);
        }
        // Odometer.
        let mut p = 0;
        loop {
            if p == n - 1 {
                return best;
            }
            idx[p] += 1;
            if idx[p] <= steps {
                break;
            }
            idx[p] = 0;
            p += 1;
        }
    }
}

#[test]
fn mixed_optimum_equals_brute_force_on_small_instances() {
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    let steps = 120;
    let h = 1.0 / steps as f64;
    for case in 0..40 {
        let n = 2 + case % 3; // 2..=4
        let d = 1 + case % 2; // 1..=2
        if d >= n {
            continue;
        }
        let v: Vec<f64> = (0..n).map(|_| 0.1 + 2.0 * rng.random::<f64>()).collect();
        let k: Vec<f64> = (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    1.1 + 1.9 * rng.random::<f64>()
                } else {
                    3.5 + 25.0 * rng.random::<f64>()
                }
            })
            .collect();
        let a = solve(&v, &k, d);
        let brute = brute_force(&v, &k, d, steps);
        // The optimum is no worse than any grid point…
        assert!(
            a.loss <= brute + 1e-12,
            "case {case}: {} > grid {brute}",
            a.loss
        );
        // …and the grid comes within a Lipschitz bound of it: moving the optimum to a grid
        // point changes each Cᵢ by ≤ (N−1)h and L by ≤ max mᵢ per unit capacity.
        let lip: f64 = (0..n)
            .map(|i| {
                let c = FeatureCurve {
                    importance: v[i],
                    kurtosis: k[i],
                };
                c.marginal_benefit(0.0).max(c.marginal_benefit(1.0))
            })
            .fold(0.0, f64::max);
        let bound = lip * 2.0 * (n - 1) as f64 * h;
        assert!(
            brute - a.loss <= bound,
            "case {case}: grid {brute} vs {} (bound {bound})",
            a.loss
        );
    }
}

#[test]
fn per_feature_kurtosis_sparser_feature_gets_more() {
    // Equal v, different k: same λ, C increases with k (spec §12.1).
    let a = solve(&[1.0, 1.0, 1.0, 1.0], &[5.0, 8.0, 12.0, 30.0], 2);
    for w in a.capacity.windows(2) {
        assert!(w[0] <= w[1] + 1e-15, "{:?}", a.capacity);
    }
    a.check_kkt(1e-10).expect("KKT holds");
}

#[test]
fn phases_and_methods_serialise_by_name() {
    let json = serde_json::to_string(&[Phase::Ignored, Phase::Polysemantic, Phase::Monosemantic])
        .expect("serialises");
    assert_eq!(json, r#"["ignored","polysemantic","monosemantic"]"#);
    assert_eq!(Phase::Polysemantic.name(), "polysemantic");
    let a = worked_example();
    let doc: serde_json::Value = serde_json::to_value(&a).expect("serialises");
    assert_eq!(doc["method"], "sweep");
    assert_eq!(doc["phase"][0], "polysemantic");
    assert_eq!(Method::Mixed.name(), "mixed");
}
