//! Tests of theory::phase: the grouped sweep against an independent bisection allocator and
//! the general solver, the grid against the closed forms (P2)–(P5), the boundaries against
//! the capacity jumping to 0/1, and the symbolic derivation against both.

use approx::assert_relative_eq;
use polycap::base::Magnitude;
use polycap::theory::phase::*;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

/// Reference allocation for k > 3 by bisection on log λ (spec §6.2 alternative), expanded
/// per feature: Σ clip(a v/λ − β, 0, 1) = D.
fn bisection_capacities(v: &[f64], k: f64, d: usize) -> Vec<f64> {
    let a = (k - 1.0) / (k - 3.0);
    let beta = 2.0 / (k - 3.0);
    let caps = |lam: f64| -> Vec<f64> {
        v.iter()
            .map(|&x| (a * x / lam - beta).clamp(0.0, 1.0))
            .collect()
    };
    let vmax = v.iter().cloned().fold(0.0, f64::max);
    let vmin = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let (mut lo, mut hi) = ((vmin * 0.5).ln(), ((k - 1.0) / 2.0 * vmax * 2.0).ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let s: f64 = caps(mid.exp()).iter().sum();
        if s > d as f64 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    caps((0.5 * (lo + hi)).exp())
}

fn expand(groups: &[FeatureGroup], caps: &[GroupCapacity]) -> Vec<f64> {
    let mut out = Vec::new();
    for (g, c) in groups.iter().zip(caps) {
        for j in 0..g.count {
            out.push(if j < c.full { 1.0 } else { c.capacity });
        }
    }
    out
}

#[test]
fn grouped_sweep_reproduces_the_worked_example() {
    // §6.6: N = 6, D = 3, k = 18, v = (0.5, 1, …, 1): C₁ = 7/33, C₂..₆ = 92/165.
    let groups = [
        FeatureGroup {
            importance: 0.5,
            count: 1,
        },
        FeatureGroup {
            importance: 1.0,
            count: 5,
        },
    ];
    let c = allocate_grouped(&groups, 18.0, 3).expect("valid");
    assert_relative_eq!(c[0].capacity, 7.0 / 33.0, max_relative = 1e-14);
    assert_relative_eq!(c[1].capacity, 92.0 / 165.0, max_relative = 1e-14);
    // Also (P2) and the grid.
    let s = PhaseSetting::default();
    assert_relative_eq!(
        capacity_closed_form(&s, 0.5, 18.0).expect("valid"),
        7.0 / 33.0,
        max_relative = 1e-14
    );
    let g = phase_grid(&s, &[0.5], &[0.1]).expect("valid");
    assert_relative_eq!(g.capacity_at(0, 0), 7.0 / 33.0, max_relative = 1e-13);
    // (P1): λ = 187/114.
    let lam = lambda_closed_form(&s, 0.5, 18.0)
        .expect("valid")
        .expect("interior");
    assert_relative_eq!(lam, 187.0 / 114.0, max_relative = 1e-14);
}

#[test]
fn grouped_sweep_equals_bisection_on_random_groups() {
    let mut rng = Pcg64::seed_from_u64(11);
    for _ in 0..300 {
        let ng = rng.random_range(1..5usize);
        let groups: Vec<FeatureGroup> = (0..ng)
            .map(|_| FeatureGroup {
                importance: 10f64.powf(rng.random_range(-2.0..1.0)),
                count: rng.random_range(1..5usize),
            })
            .collect();
        let total: usize = groups.iter().map(|g| g.count).sum();
        let k = 3.0 + 10f64.powf(rng.random_range(-1.0..3.0));
        let d = rng.random_range(1..total + 1);
        let got = expand(&groups, &allocate_grouped(&groups, k, d).expect("valid"));
        let v: Vec<f64> = groups
            .iter()
            .flat_map(|g| std::iter::repeat_n(g.importance, g.count))
            .collect();
        let want = if d >= total {
            vec![1.0; total]
        } else {
            bisection_capacities(&v, k, d)
        };
        let sum: f64 = got.iter().sum();
        assert_relative_eq!(sum, d as f64, max_relative = 1e-12);
        for (a, b) in got.iter().zip(&want) {
            assert!(
                (a - b).abs() < 1e-9,
                "groups {groups:?}, k {k}, D {d}: {got:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn grouped_sweep_top_d_breaks_ties_by_index() {
    // k ≤ 3: the D most important features are full; ties go to the lower index.
    let groups = [
        FeatureGroup {
            importance: 1.0,
            count: 1,
        },
        FeatureGroup {
            importance: 1.0,
            count: 5,
        },
    ];
    let c = allocate_grouped(&groups, 2.0, 3).expect("valid");
    assert_relative_eq!(c[0].capacity, 1.0);
    assert_eq!(c[1].full, 2);
    assert_relative_eq!(c[1].capacity, 0.0);
    let c = allocate_grouped(&groups, 3.0, 3).expect("valid");
    assert_relative_eq!(c[0].capacity, 1.0);
    assert!(allocate_grouped(&[], 5.0, 1).is_err());
    assert!(allocate_grouped(&groups, 0.5, 1).is_err());
}

fn settings() -> Vec<PhaseSetting> {
    let mut out = vec![PhaseSetting::default()];
    for (n, d, m) in [
        (6, 1, Magnitude::Uniform),
        (6, 5, Magnitude::Uniform),
        (2, 1, Magnitude::Gaussian),
        (10, 4, Magnitude::Laplace),
        (7, 2, Magnitude::StudentT { nu: 9.0 }),
    ] {
        out.push(PhaseSetting::new(n, d, m).expect("valid"));
    }
    out
}

#[test]
fn grid_equals_closed_form_everywhere() {
    let v = log_axis(1e-2, 1e2, 61).expect("valid");
    let p = log_axis(1e-3, 1.0, 53).expect("valid");
    for s in settings() {
        let g = phase_grid(&s, &v, &p).expect("valid");
        for (r, &pp) in p.iter().enumerate() {
            for (c, &vv) in v.iter().enumerate() {
                let want = capacity_closed_form(&s, vv, s.kurtosis_at(pp)).expect("valid");
                let got = g.capacity_at(r, c);
                assert!(
                    (got - want).abs() < 1e-10,
                    "{s:?} V = {vv}, p = {pp}: {got} vs {want}"
                );
                // Same phase (0, fractional, 1) away from the boundaries themselves.
                let k = s.kurtosis_at(pp);
                let (vi, vf) = (
                    importance_ignored(&s, k).expect("applies"),
                    importance_full(&s, k).expect("applies"),
                );
                if (vv / vi - 1.0).abs() > 1e-9 && (vv / vf - 1.0).abs() > 1e-9 {
                    let class = |x: f64| {
                        if x <= 0.0 {
                            0
                        } else if x >= 1.0 {
                            2
                        } else {
                            1
                        }
                    };
                    assert_eq!(
                        class(got),
                        class(want),
                        "{s:?} V = {vv}, p = {pp}: {got} vs {want}"
                    );
                }
            }
        }
        // (P6): the reference features share the rest.
        let groups = [
            FeatureGroup {
                importance: 0.7,
                count: 1,
            },
            FeatureGroup {
                importance: 1.0,
                count: s.features() - 1,
            },
        ];
        let k = 40.0;
        let caps = allocate_grouped(&groups, k, s.dims()).expect("valid");
        assert_relative_eq!(
            caps[1].capacity,
            other_capacity(&s, caps[0].capacity),
            max_relative = 1e-12
        );
    }
}

#[test]
fn kurtosis_axis_matches_density_axis() {
    let s = PhaseSetting::default();
    let v = log_axis(0.05, 20.0, 17).expect("valid");
    let p = [0.002, 0.05, 0.3, 0.6, 0.9];
    let k: Vec<f64> = p.iter().map(|&x| s.kurtosis_at(x)).collect();
    let a = phase_grid(&s, &v, &p).expect("valid");
    let b = phase_grid_kurtosis(&s, &v, &k).expect("valid");
    for (x, y) in a.capacity.iter().zip(&b.capacity) {
        assert!((x - y).abs() < 1e-12);
    }
    assert!(phase_grid_kurtosis(&s, &v, &[0.5]).is_err());
    assert!(phase_grid(&s, &v, &[1.5]).is_err());
    assert!(phase_grid(&s, &[], &[0.5]).is_err());
}

/// Bisection along V of `cap(V)` for the last V with C₁ ≤ 0 (`full = false`) or the first V
/// with C₁ ≥ 1 (`full = true`).
fn jump(cap: &dyn Fn(f64) -> f64, full: bool) -> f64 {
    let (mut lo, mut hi) = (1e-6f64.ln(), 1e6f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let c = cap(mid.exp());
        let above = if full { c >= 1.0 } else { c > 0.0 };
        if above {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

#[test]
fn boundaries_are_where_the_grouped_solver_jumps_to_zero_and_one() {
    let mut rng = Pcg64::seed_from_u64(5);
    for s in settings() {
        for _ in 0..8 {
            let k = 3.0 + 10f64.powf(rng.random_range(-1.5..3.0));
            let groups = |v: f64| {
                [
                    FeatureGroup {
                        importance: v,
                        count: 1,
                    },
                    FeatureGroup {
                        importance: 1.0,
                        count: s.features() - 1,
                    },
                ]
            };
            let cap = |v: f64| -> f64 {
                allocate_grouped(&groups(v), k, s.dims()).expect("valid")[0].capacity
            };
            let v_ign = importance_ignored(&s, k).expect("applies");
            let v_full = importance_full(&s, k).expect("applies");
            assert_relative_eq!(jump(&cap, false), v_ign, max_relative = 1e-9);
            let jf = jump(&cap, true);
            assert!(
                (jf - v_full).abs() < 1e-9 * v_full,
                "{s:?} k {k}: jump {jf} vs V_full {v_full}"
            );
            assert!(v_ign < 1.0 && 1.0 < v_full);
        }
        // k ≤ 3: first-order line at V = 1.
        assert_relative_eq!(importance_ignored(&s, 2.0).expect("applies"), 1.0);
        assert_relative_eq!(importance_full(&s, 2.0).expect("applies"), 1.0);
        let g = phase_grid_kurtosis(&s, &[0.999, 1.0, 1.001], &[2.0]).expect("valid");
        assert_eq!(g.phase_counts(), [1, 0, 2]);
    }
}

#[test]
fn contour_levels_lie_where_the_grid_crosses_them() {
    let s = PhaseSetting::default();
    let v = log_axis(1e-2, 1e2, 400).expect("valid");
    let p = log_axis(1e-3, 0.55, 40).expect("valid");
    let g = phase_grid(&s, &v, &p).expect("valid");
    for &c in &CONTOUR_LEVELS {
        let curve = boundary_curve(&s, c, &p).expect("applies");
        for (r, &(vc, pp)) in curve.iter().enumerate() {
            assert_relative_eq!(pp, p[r]);
            // The grid crosses c between columns j and j+1 with v[j] ≤ V_c ≤ v[j+1].
            let j = (0..v.len() - 1)
                .find(|&j| g.capacity_at(r, j) < c && g.capacity_at(r, j + 1) >= c)
                .expect("the row crosses the level");
            assert!(
                v[j] <= vc * (1.0 + 1e-12) && vc <= v[j + 1] * (1.0 + 1e-12),
                "c {c}, p {pp}"
            );
            // And the solver at V_c gives exactly c.
            let at = phase_grid(&s, &[vc], &[pp]).expect("valid").capacity[0];
            assert_relative_eq!(at, c, max_relative = 1e-10);
        }
    }
}

#[test]
fn critical_point_and_applicability() {
    let s = PhaseSetting::default();
    let (v, p) = critical_point(&s).expect("uniform has one");
    assert_relative_eq!(v, 1.0);
    assert_relative_eq!(p, 0.6, max_relative = 1e-15);
    let lap = PhaseSetting::new(6, 3, Magnitude::Laplace).expect("valid");
    assert!(critical_point(&lap).is_none());
    let wide = PhaseSetting::new(6, 6, Magnitude::Uniform).expect("valid");
    assert!(!wide.closed_form_applies());
    assert!(importance_ignored(&wide, 10.0).is_err());
    assert!(boundary_curve(&wide, 0.5, &[0.1]).is_err());
    assert!(symbolic_phase(&wide, &[Fraction::ZERO]).is_err());
    let g = phase_grid(&wide, &[0.01, 1.0, 100.0], &[0.001, 1.0]).expect("valid");
    assert_eq!(g.phase_counts(), [0, 0, 6]);
    assert!(PhaseSetting::new(1, 1, Magnitude::Uniform).is_err());
    assert!(PhaseSetting::new(6, 0, Magnitude::Uniform).is_err());
    // The band closes at k = 3 from both sides continuously.
    let v_ign = importance_ignored(&s, 3.0 + 1e-9).expect("applies");
    let v_full = importance_full(&s, 3.0 + 1e-9).expect("applies");
    assert!((v_ign - 1.0).abs() < 1e-8 && (v_full - 1.0).abs() < 1e-8);
    // Limits as k → ∞: V_full → (N−1)/(D−1) = 5/2.
    assert_relative_eq!(
        importance_full(&s, 1e12).expect("applies"),
        2.5,
        max_relative = 1e-9
    );
}

#[test]
fn first_order_line_and_default_axes() {
    let s = PhaseSetting::default();
    let (v, p) = default_axes(5, 7).expect("valid");
    assert_eq!((v.len(), p.len()), (5, 7));
    assert_relative_eq!(v[0], 1e-2);
    assert_relative_eq!(p[6], 1.0);
    let line = first_order_line(&s, &[0.1, 0.5, 0.6, 0.7, 1.0]);
    assert_eq!(line.len(), 3);
    // Across the line the solver jumps from 0 to 1.
    for &(vl, pl) in &line {
        let g = phase_grid(&s, &[vl * 0.999, vl * 1.001], &[pl]).expect("valid");
        assert_eq!(g.phase_counts(), [1, 0, 1]);
    }
    assert!(
        first_order_line(
            &PhaseSetting::new(3, 3, Magnitude::Uniform).expect("valid"),
            &[1.0]
        )
        .is_empty()
    );
}

#[test]
fn log_axis_includes_both_ends() {
    let a = log_axis(1e-3, 1.0, 1000).expect("valid");
    assert_eq!(a.len(), 1000);
    assert_relative_eq!(a[0], 1e-3);
    assert_relative_eq!(a[999], 1.0);
    let b = log_axis(0.01, 100.0, 5).expect("valid");
    assert_relative_eq!(b[2], 1.0);
    assert!(log_axis(1.0, 0.5, 3).is_err());
    assert!(log_axis(0.0, 1.0, 3).is_err());
    assert!(log_axis(0.1, 1.0, 0).is_err());
}

fn all_levels() -> Vec<Fraction> {
    (0..=10)
        .map(|i| Fraction::new(i, 10).expect("valid"))
        .collect()
}

#[test]
fn symbolic_boundaries_equal_the_numeric_closed_forms() {
    let mut rng = Pcg64::seed_from_u64(3);
    let levels = all_levels();
    for n in 2..=12usize {
        for d in 1..n {
            let s = PhaseSetting::new(n, d, Magnitude::Uniform).expect("valid");
            let sp = symbolic_phase(&s, &levels).expect("derives");
            assert_eq!(
                sp.critical_kurtosis,
                vec![Fraction::integer(3)],
                "N {n} D {d}"
            );
            assert_eq!(
                sp.critical_density,
                Some(Fraction::new(3, 5).expect("valid"))
            );
            for b in &sp.boundaries {
                let c = b.level.to_f64();
                assert_eq!(
                    b.others,
                    Fraction::new(
                        d as i128 * b.level.denom() - b.level.numer(),
                        (n as i128 - 1) * b.level.denom()
                    )
                    .expect("valid")
                );
                for _ in 0..5 {
                    let k = 3.0 + 10f64.powf(rng.random_range(-1.0..3.0));
                    let want = importance_at_capacity(&s, c, k).expect("applies");
                    assert_relative_eq!(b.importance.eval(k), want, max_relative = 1e-12);
                    let p = s.density_at(k);
                    let vp = b.importance_density.as_ref().expect("uniform is rational");
                    assert_relative_eq!(vp.eval(p), want, max_relative = 1e-12);
                    // λ on the line agrees with (P1)/(A6) at V = V_c (interior levels).
                    if c > 0.0 && c < 1.0 {
                        let lam = lambda_closed_form(&s, want, k)
                            .expect("valid")
                            .expect("interior");
                        assert_relative_eq!(b.lambda.eval(k), lam, max_relative = 1e-10);
                    }
                }
            }
        }
    }
}

#[test]
fn symbolic_formulas_of_the_paper_diagram() {
    let s = PhaseSetting::default();
    let sp = symbolic_phase(&s, &[Fraction::ZERO, Fraction::ONE]).expect("derives");
    // V_ign = 10/(3k + 1) = 50p/(5p + 27);  V_full = (5k − 5)/(2k + 4) = (45 − 25p)/(20p + 18).
    assert_eq!(
        sp.boundaries[0].importance.format("k", false),
        "10/(3k + 1)"
    );
    assert_eq!(
        sp.boundaries[0]
            .importance_density
            .as_ref()
            .expect("rational")
            .format("p", false),
        "50p/(5p + 27)"
    );
    assert_eq!(
        sp.boundaries[1].importance.format("k", false),
        "(5k - 5)/(2k + 4)"
    );
    assert_eq!(
        sp.boundaries[1].importance.format("k", true),
        "\\frac{5k - 5}{2k + 4}"
    );
    // Exact evaluation at k = 18: V_ign = 2/11, V_full = 17/8.
    let k = Fraction::integer(18);
    assert_eq!(
        sp.boundaries[0].importance.eval_exact(k).expect("no pole"),
        Fraction::new(2, 11).expect("valid")
    );
    assert_eq!(
        sp.boundaries[1].importance.eval_exact(k).expect("no pole"),
        Fraction::new(17, 8).expect("valid")
    );
    // The c = D/N line is V = 1 exactly.
    let half = symbolic_phase(&s, &[Fraction::new(1, 2).expect("valid")]).expect("derives");
    assert_eq!(half.boundaries[0].importance.format("k", false), "1");
    let text = sp.to_text();
    assert!(text.contains("critical point: (V, p) = (1, 3/5)"));
    assert!(
        sp.to_latex()
            .contains("V_{\\mathrm{ign}}(k) &= \\frac{10}{3k + 1}")
    );
    // Laplace: k = 6/p never reaches 3.
    let lap = symbolic_phase(
        &PhaseSetting::new(6, 3, Magnitude::Laplace).expect("valid"),
        &[Fraction::ZERO],
    )
    .expect("derives");
    assert_eq!(lap.critical_density, None);
    assert!(symbolic_phase(&s, &[Fraction::new(3, 2).expect("valid")]).is_err());
}

#[test]
fn fractions_and_polynomials() {
    let f = Fraction::new(6, -4).expect("valid");
    assert_eq!((f.numer(), f.denom()), (-3, 2));
    assert!(Fraction::new(1, 0).is_err());
    assert_eq!(
        Fraction::from_f64_exact(0.375).expect("dyadic"),
        Fraction::new(3, 8).expect("valid")
    );
    assert_eq!(
        Fraction::from_f64_exact(-5.0).expect("integer"),
        Fraction::integer(-5)
    );
    // (x − 3)(2x + 1) = 2x² − 5x − 3: rational roots ≥ −1 are −1/2 and 3.
    let p = Polynomial::new(vec![
        Fraction::integer(-3),
        Fraction::integer(-5),
        Fraction::integer(2),
    ]);
    assert_eq!(
        p.rational_roots(Fraction::integer(-1)).expect("small"),
        vec![Fraction::new(-1, 2).expect("valid"), Fraction::integer(3)]
    );
    assert_eq!(p.format("x", false), "2x^2 - 5x - 3");
    assert_eq!(
        magnitude_kurtosis_exact(Magnitude::StudentT { nu: 6.0 }),
        Some(Fraction::integer(6))
    );
}

// ---------------------------------------------------------------------------------------
// Against the general allocation solver (theory::allocation).

use polycap::base::FeatureSet;
use polycap::theory::allocation::{Phase, allocate};

fn allocate_c1(s: &PhaseSetting, v: f64, k: f64) -> f64 {
    let f = s.feature_set_kurtosis(v, k).expect("valid");
    allocate(&f, s.dims()).expect("solves").capacity[0]
}

#[test]
fn grid_equals_the_allocation_solver_at_sampled_points() {
    let mut rng = Pcg64::seed_from_u64(17);
    let v = log_axis(1e-2, 1e2, 101).expect("valid");
    let p = log_axis(1e-3, 1.0, 97).expect("valid");
    let mut settings = settings();
    settings.push(PhaseSetting::new(5, 5, Magnitude::Uniform).expect("valid"));
    settings.push(PhaseSetting::new(3, 7, Magnitude::Rademacher).expect("valid"));
    for s in settings {
        let g = phase_grid(&s, &v, &p).expect("valid");
        for _ in 0..300 {
            let (r, c) = (rng.random_range(0..p.len()), rng.random_range(0..v.len()));
            let f = s.feature_set(v[c], p[r]).expect("valid");
            let a = allocate(&f, s.dims()).expect("solves");
            let got = g.capacity_at(r, c);
            assert!(
                (got - a.capacity[0]).abs() < 1e-10,
                "{s:?} V {} p {}: grid {got} vs allocate {}",
                v[c],
                p[r],
                a.capacity[0]
            );
            if (got - 0.5).abs() < 0.5 - 1e-9 || got <= 0.0 || got >= 1.0 {
                assert_eq!(
                    Phase::of_capacity(got),
                    a.phase[0],
                    "{s:?} V {} p {}",
                    v[c],
                    p[r]
                );
            }
        }
    }
}

#[test]
fn grouped_sweep_equals_the_allocation_solver_on_random_groups() {
    let mut rng = Pcg64::seed_from_u64(23);
    for _ in 0..400 {
        let ng = rng.random_range(1..5usize);
        let groups: Vec<FeatureGroup> = (0..ng)
            .map(|_| FeatureGroup {
                importance: if rng.random::<f64>() < 0.1 {
                    0.0
                } else {
                    10f64.powf(rng.random_range(-2.0..1.0))
                },
                count: rng.random_range(1..5usize),
            })
            .collect();
        let total: usize = groups.iter().map(|g| g.count).sum();
        let k = match rng.random_range(0..4) {
            0 => rng.random_range(1.0..3.0),
            _ => 3.0 + 10f64.powf(rng.random_range(-1.0..3.0)),
        };
        let d = rng.random_range(1..total + 2);
        let got = expand(&groups, &allocate_grouped(&groups, k, d).expect("valid"));
        let v: Vec<f64> = groups
            .iter()
            .flat_map(|g| std::iter::repeat_n(g.importance, g.count))
            .collect();
        let f = FeatureSet::from_kurtosis(v, vec![k; total]).expect("valid");
        let a = allocate(&f, d).expect("solves");
        for (x, y) in got.iter().zip(&a.capacity) {
            assert!(
                (x - y).abs() < 1e-9,
                "groups {groups:?} k {k} D {d}: {got:?} vs {:?}",
                a.capacity
            );
        }
    }
}

/// Bisection along V of `allocate`'s C₁: last V with C₁ = 0 or first with C₁ = 1 (to 1e-13).
fn allocate_jump(s: &PhaseSetting, k: f64, full: bool) -> f64 {
    let cap = |v: f64| allocate_c1(s, v, k);
    let (mut lo, mut hi) = (1e-6f64.ln(), 1e6f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let c = cap(mid.exp());
        let above = if full { c >= 1.0 - 1e-13 } else { c > 1e-13 };
        if above {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

#[test]
fn boundaries_are_where_the_allocation_solver_jumps_to_zero_and_one() {
    let mut rng = Pcg64::seed_from_u64(29);
    for s in settings() {
        for _ in 0..6 {
            let k = 3.0 + 10f64.powf(rng.random_range(-1.0..3.0));
            let v_ign = importance_ignored(&s, k).expect("applies");
            let v_full = importance_full(&s, k).expect("applies");
            let (a, b) = (allocate_jump(&s, k, false), allocate_jump(&s, k, true));
            assert!(
                (a - v_ign).abs() < 1e-9 * v_ign,
                "{s:?} k {k}: allocate {a} vs V_ign {v_ign}"
            );
            assert!(
                (b - v_full).abs() < 1e-9 * v_full,
                "{s:?} k {k}: allocate {b} vs V_full {v_full}"
            );
            // Iso-capacity lines: allocate gives C₁ = c on V_c.
            for &c in &CONTOUR_LEVELS {
                let vc = importance_at_capacity(&s, c, k).expect("applies");
                assert_relative_eq!(allocate_c1(&s, vc, k), c, max_relative = 1e-9);
            }
            // (P1): allocate's λ inside the band.
            let vm = (v_ign * v_full).sqrt();
            let f = s.feature_set_kurtosis(vm, k).expect("valid");
            let lam = allocate(&f, s.dims())
                .expect("solves")
                .lambda
                .expect("interior features");
            assert_relative_eq!(
                lam,
                lambda_closed_form(&s, vm, k)
                    .expect("valid")
                    .expect("interior"),
                max_relative = 1e-12
            );
        }
    }
}

#[test]
fn points_a_to_f_are_in_their_regimes() {
    let s = PhaseSetting::default();
    let pts = points_a_to_f(&s);
    let labels: String = pts.iter().map(|p| p.label).collect();
    assert_eq!(labels, "ABCDEF");
    let want_p = [0.8, 0.8, 0.6, 0.1, 0.1, 0.1];
    for (pt, &p) in pts.iter().zip(&want_p) {
        assert_relative_eq!(
            pt.density.expect("uniform reaches every k here"),
            p,
            max_relative = 1e-12
        );
        assert_relative_eq!(s.kurtosis_at(p), pt.kurtosis, max_relative = 1e-12);
    }
    let phase = |i: usize| {
        let c = panel_curves(&s, &pts[i], 11).expect("valid");
        c.allocation.phase[0]
    };
    assert_eq!(phase(0), Phase::Ignored);
    assert_eq!(phase(1), Phase::Monosemantic);
    assert_eq!(phase(3), Phase::Ignored);
    assert_eq!(phase(4), Phase::Polysemantic);
    assert_eq!(phase(5), Phase::Monosemantic);
    // A: three of the five reference features are full; μ ranges over [m(0), m(1)] of v = 1.
    let a = panel_curves(&s, &pts[0], 11).expect("valid");
    assert_eq!(
        a.allocation
            .phase
            .iter()
            .filter(|&&p| p == Phase::Monosemantic)
            .count(),
        3
    );
    assert_relative_eq!(a.threshold.0, 1.25f64.powi(2) / 2.0, max_relative = 1e-12);
    assert_relative_eq!(a.threshold.1, 2.0, max_relative = 1e-12);
    // E is the worked example: μ = 2λ², λ = 187/114.
    let e = panel_curves(&s, &pts[4], 11).expect("valid");
    assert_relative_eq!(
        e.mu().expect("unique"),
        2.0 * (187.0f64 / 114.0).powi(2),
        max_relative = 1e-12
    );
    assert_relative_eq!(e.threshold.0, e.threshold.1, max_relative = 1e-15);
    // Laplace never reaches k = 2.25.
    let lap = points_a_to_f(&PhaseSetting::new(6, 3, Magnitude::Laplace).expect("valid"));
    assert!(lap[0].density.is_none());
}

#[test]
fn marginal_curves_of_figure_2() {
    // 20 features, vᵢ = 2^i, k = 100, λ = 10⁴ (spec §11 S2).
    let v: Vec<f64> = (1..=20).map(|i| 2f64.powi(i)).collect();
    let f = FeatureSet::from_kurtosis(v, vec![100.0; 20]).expect("valid");
    let c = marginal_curves(&f, Budget::Lambda(1e4), 51).expect("valid");
    let mu = 2e8;
    assert_relative_eq!(c.mu().expect("prescribed"), mu, max_relative = 1e-12);
    let (mut nign, mut nfull, mut nint) = (0, 0, 0);
    for (i, fc) in c.features.iter().enumerate() {
        match c.allocation.phase[i] {
            Phase::Ignored => {
                nign += 1;
                assert!(fc.marginal_benefit(0.0) <= mu * (1.0 + 1e-12));
            }
            Phase::Monosemantic => {
                nfull += 1;
                assert!(fc.marginal_benefit(1.0) >= mu * (1.0 - 1e-12));
            }
            Phase::Polysemantic => {
                nint += 1;
                assert_relative_eq!(c.optimum_benefit[i], mu, max_relative = 1e-10);
            }
        }
        // m = −dL*/dC by central differences of (Q15), independent of (Q16).
        for (j, &cap) in c.capacity.iter().enumerate().skip(1).take(49) {
            let h = 1e-6;
            let fd = -(fc.loss(cap + h) - fc.loss(cap - h)) / (2.0 * h);
            assert_relative_eq!(c.benefit[i][j], fd, max_relative = 1e-6);
        }
    }
    assert!(nign > 0 && nfull > 0 && nint > 0, "{nign} {nfull} {nint}");
    let d_eff = c.allocation.total_capacity;
    assert!(
        (d_eff - d_eff.round()).abs() > 1e-3,
        "D_eff = {d_eff} is not an integer"
    );
    assert!(marginal_curves(&f, Budget::Dims(3), 1).is_err());
    assert!(marginal_curves(&f, Budget::Lambda(-1.0), 5).is_err());
}

// ---------------------------------------------------------------------------------------
// Exact cross-check (feature `exact`): the symbolic lines at rational points are exact.

#[cfg(feature = "exact")]
mod exact {
    use super::*;
    use polycap::theory::exact::allocate_exact;
    use rug::{Integer, Rational};

    fn q(f: Fraction) -> Rational {
        Rational::from((Integer::from(f.numer()), Integer::from(f.denom())))
    }

    #[test]
    fn symbolic_lines_are_exact_against_allocate_exact() {
        let mut rng = Pcg64::seed_from_u64(41);
        let levels = all_levels();
        for (n, d) in [(6usize, 3usize), (6, 1), (6, 5), (9, 4), (4, 2), (2, 1)] {
            let s = PhaseSetting::new(n, d, Magnitude::Uniform).expect("valid");
            let sp = symbolic_phase(&s, &levels).expect("derives");
            for _ in 0..4 {
                // A random rational k > 3, and a random rational density p < 3/5 (k = 9/(5p)).
                let k = Fraction::new(3 * 97 + rng.random_range(1..5000i128), 97).expect("valid");
                let p = Fraction::new(rng.random_range(1..599i128), 1000).expect("valid");
                let k_of_p = Fraction::new(9 * p.denom(), 5 * p.numer()).expect("valid");
                for b in &sp.boundaries {
                    for (kk, v) in [
                        (k, b.importance.eval_exact(k).expect("no pole")),
                        (
                            k_of_p,
                            b.importance_density
                                .as_ref()
                                .expect("uniform")
                                .eval_exact(p)
                                .expect("no pole"),
                        ),
                    ] {
                        let mut vs = vec![Rational::from(1); n];
                        vs[0] = q(v);
                        let ks = vec![q(kk); n];
                        let a = allocate_exact(&vs, &ks, d).expect("solves");
                        assert_eq!(
                            a.capacity[0],
                            q(b.level),
                            "N {n} D {d} k {kk:?} level {:?}",
                            b.level
                        );
                        assert_eq!(a.capacity[1], q(b.others));
                        if !b.level.is_zero() && b.level != Fraction::ONE {
                            let lam = a.lambda.clone().expect("interior features");
                            assert_eq!(lam, q(b.lambda.eval_exact(kk).expect("no pole")));
                        }
                    }
                }
            }
        }
    }
}

use proptest::prelude::*;

proptest! {
    // Regression seeds live beside this file: tests/theory/phase.regressions.
    #![proptest_config(crate::prop_config(300))]

    /// (PH3): C₁ is non-decreasing in V, within [0, 1], and the references take the rest (P6);
    /// the solver agrees with the closed form at every sampled point.
    #[test]
    fn capacity_is_monotone_in_importance(n in 2usize..12, dd in 0usize..11, lk in 0.0f64..3.0, lv in -2.0f64..2.0) {
        let d = 1 + dd % (n - 1);
        let s = PhaseSetting::new(n, d, Magnitude::Uniform).expect("valid");
        let k = 10f64.powf(lk);
        let v = 10f64.powf(lv);
        let c0 = capacity_closed_form(&s, v, k).expect("valid");
        let c1 = capacity_closed_form(&s, v * 1.01, k).expect("valid");
        prop_assert!((0.0..=1.0).contains(&c0));
        prop_assert!(c1 >= c0 - 1e-12);
        let f = s.feature_set_kurtosis(v, k).expect("valid");
        let a = allocate(&f, d).expect("solves");
        prop_assert!((a.capacity[0] - c0).abs() < 1e-9, "allocate {} vs closed form {}", a.capacity[0], c0);
        if k > 3.0 {
            prop_assert!((a.capacity[1] - other_capacity(&s, c0)).abs() < 1e-9);
        }
    }
}
