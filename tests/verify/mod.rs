//! Tests of verify (theory against training): agreement on a small exact-loss grid,
//! rejection of a deliberately wrong theory, boundary classification, shard + merge, and
//! reproducibility across thread counts.

mod elhage;
mod geometry;
mod qualitative;
mod zoo;

use polycap::base::{FeatureSet, Result};
use polycap::theory::allocation::allocate;
use polycap::theory::phase::{self, PhaseSetting};
use polycap::training::Model;
use polycap::verify::{
    BoundaryKind, GridReport, GridSpec, Prediction, Protocol, QuadraticTheory, Regime, Shard,
    Theory, Verdict, Verifier, boundary_of, point_seed, verify_grid,
};

/// (T4) with fewer steps than the default: enough on these grids (checked by the tests).
fn exact(steps: usize) -> Protocol {
    let mut p = Protocol::exact();
    p.set_steps(steps);
    p
}

fn verifier(seeds: usize) -> Verifier {
    Verifier::new(Box::new(QuadraticTheory), exact(8000), seeds, 7).expect("valid verifier")
}

/// The quadratic allocation with every kurtosis multiplied by a factor: a wrong theory.
struct WrongKurtosis(f64);

impl Theory for WrongKurtosis {
    fn name(&self) -> String {
        format!("allocation with k × {}", self.0)
    }
    fn predict(&self, features: &FeatureSet, dims: usize) -> Result<Prediction> {
        let k: Vec<f64> = features
            .kurtosis()
            .iter()
            .map(|k| (k * self.0).max(1.0))
            .collect();
        let wrong = FeatureSet::from_kurtosis(features.importance().to_vec(), k)?;
        QuadraticTheory.predict(&wrong, dims)
    }
}

#[test]
fn small_exact_grid_agrees_within_t5() {
    let grid = GridSpec::fig4(4, 4).expect("valid grid");
    let report = verify_grid(&verifier(3), &grid, None, &|| ()).expect("runs");
    let s = &report.summary;
    assert_eq!(s.points, 16);
    assert!(s.checked >= 12, "{s:?}");
    assert!(report.passed(), "{s:?}");
    assert!(s.max_capacity_diff <= 0.02);
    // Sparse points also match the lengths ‖Wᵢ‖² and the loss.
    for p in report.points.iter().filter(|p| p.regime == Regime::Sparse) {
        for (a, b) in p.theory_sq_norm.iter().zip(&p.trained_sq_norm) {
            assert!(
                (a - b).abs() <= 0.02 * a.max(1.0),
                "point {}: n {a} vs {b}",
                p.index
            );
        }
        assert!(p.loss_relative.abs() <= 0.01, "point {}", p.index);
    }
}

#[test]
fn worked_example_point_matches_theory_closely() {
    // Spec §6.6: C₁ = 7/33, C₂…₆ = 92/165 at V = ½, p = 0.1.
    let f = PhaseSetting::default()
        .feature_set(0.5, 0.1)
        .expect("valid features");
    let r = verifier(2).point(&f, 3, 0).expect("runs");
    assert_eq!(r.verdict, Verdict::Agree);
    assert!((r.trained_capacity[0] - 7.0 / 33.0).abs() < 1e-6);
    assert!((r.theory_capacity[1] - 92.0 / 165.0).abs() < 1e-9);
    assert!(r.total_diff < 1e-6);
}

#[test]
fn wrong_theory_is_rejected() {
    for factor in [0.5, 2.0] {
        let v = Verifier::new(Box::new(WrongKurtosis(factor)), exact(8000), 2, 7)
            .expect("valid verifier");
        let f = PhaseSetting::default()
            .feature_set(0.5, 0.1)
            .expect("valid features");
        let r = v.point(&f, 3, 0).expect("runs");
        assert_eq!(r.verdict, Verdict::Disagree, "k × {factor}: {r:?}");
        assert!(r.max_capacity_diff > 0.02);
        let grid = GridSpec::fig4(4, 4).expect("valid grid");
        let report = verify_grid(&v, &grid, None, &|| ()).expect("runs");
        assert!(!report.passed(), "k × {factor}: {:?}", report.summary);
        assert!(!report.summary.worst.is_empty());
    }
}

#[test]
fn untrained_model_is_rejected() {
    let v = Verifier::new(Box::new(QuadraticTheory), exact(1), 1, 0).expect("valid verifier");
    let f = PhaseSetting::default()
        .feature_set(2.0, 0.01)
        .expect("valid features");
    let r = v.point(&f, 3, 0).expect("runs");
    assert_eq!(r.verdict, Verdict::Disagree);
    assert!(!r.reasons.is_empty());
}

#[test]
fn boundary_points_are_classified_separately() {
    let s = PhaseSetting::default();
    let k = s.kurtosis_at(0.1);
    // Exactly on V_ign(k) and on V_full(k).
    for (v, kind) in [
        (
            phase::importance_ignored(&s, k).expect("closed form"),
            BoundaryKind::VIgn,
        ),
        (
            phase::importance_full(&s, k).expect("closed form"),
            BoundaryKind::VFull,
        ),
    ] {
        let f = s.feature_set(v, 0.1).expect("valid features");
        let b = boundary_of(&f, 3).expect("phase-diagram point");
        assert_eq!(b.kind, kind);
        assert!(b.distance < 1e-9);
        let r = verifier(1).point(&f, 3, 0).expect("runs");
        assert_eq!(r.verdict, Verdict::Boundary);
        assert!(r.near_boundary);
    }
    // Just outside the band: checked.
    let v = phase::importance_full(&s, k).expect("closed form") * 10f64.powf(0.06);
    let f = s.feature_set(v, 0.1).expect("valid features");
    let r = verifier(1).point(&f, 3, 0).expect("runs");
    assert_ne!(r.verdict, Verdict::Boundary);
    // The first-order line V = 1 at k < 3, and the critical kurtosis k = 3 (p = 0.6).
    let f = s.feature_set(1.05, 1.0).expect("valid features");
    let b = boundary_of(&f, 3).expect("phase-diagram point");
    assert_eq!(b.kind, BoundaryKind::FirstOrder);
    assert!((b.distance - 1.05f64.log10()).abs() < 1e-12);
    let f = s.feature_set(30.0, 0.6).expect("valid features");
    let b = boundary_of(&f, 3).expect("phase-diagram point");
    assert_eq!(b.kind, BoundaryKind::Critical);
    assert!(b.distance < 1e-12);
    // Not of the phase-diagram form: no V boundary.
    let f = FeatureSet::from_kurtosis(vec![1.0, 2.0, 3.0], vec![10.0; 3]).expect("valid");
    assert!(boundary_of(&f, 2).is_none());
}

#[test]
fn dense_points_compare_the_pattern_up_to_ties() {
    // p = 1 (k = 1.8): feature 1 at V = 5 is full, two of the five tied v = 1 features too.
    let f = PhaseSetting::default()
        .feature_set(5.0, 1.0)
        .expect("valid features");
    let r = verifier(5).point(&f, 3, 3).expect("runs");
    assert_eq!(r.regime, Regime::Dense);
    assert_eq!(r.pattern_ok, Some(true), "{r:?}");
    assert_eq!(r.verdict, Verdict::Agree);
    let th = allocate(&f, 3).expect("allocates");
    let full = th.capacity.iter().filter(|&&c| c > 0.5).count();
    assert_eq!(full, 3);
}

#[test]
fn shards_merge_to_the_unsharded_report_byte_for_byte() {
    let grid = GridSpec::fig4(3, 3).expect("valid grid");
    let v = verifier(1);
    let full = verify_grid(&v, &grid, None, &|| ()).expect("runs");
    let shards: Vec<GridReport> = (0..4)
        .map(|i| {
            let s = Shard::new(i, 4).expect("valid shard");
            let r = verify_grid(&v, &grid, Some(s), &|| ()).expect("runs");
            // Through JSON, as the CLI does.
            let text = serde_json::to_string(&r).expect("serialises");
            serde_json::from_str(&text).expect("parses")
        })
        .collect();
    assert_eq!(shards[1].points.len(), 2);
    assert!(shards[1].points.iter().all(|p| p.index % 4 == 1));
    let merged = GridReport::merge(shards.clone()).expect("merges");
    assert_eq!(
        serde_json::to_string_pretty(&merged).expect("serialises"),
        serde_json::to_string_pretty(&full).expect("serialises")
    );
    // Overlap, missing points and different settings are errors.
    let mut twice = shards.clone();
    twice.push(shards[0].clone());
    assert!(GridReport::merge(twice).is_err());
    assert!(GridReport::merge(shards[..3].to_vec()).is_err());
    let mut other = shards.clone();
    other[2].settings.steps += 1;
    assert!(GridReport::merge(other).is_err());
    assert!(GridReport::merge(Vec::new()).is_err());
    assert!(Shard::new(4, 4).is_err() && Shard::new(0, 0).is_err());
}

#[test]
fn thread_count_does_not_change_the_numbers() {
    let grid = GridSpec::fig4(3, 2).expect("valid grid");
    let v = Verifier::new(Box::new(QuadraticTheory), exact(500), 2, 11).expect("valid");
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| verify_grid(&v, &grid, None, &|| ()).expect("runs"))
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn point_seeds_differ_between_points_and_bases() {
    let seeds: std::collections::HashSet<u64> = (0..1000).map(|i| point_seed(0, i)).collect();
    assert_eq!(seeds.len(), 1000);
    assert_ne!(point_seed(0, 5), point_seed(1, 5));
}

/// (T3) with the batch sized by density (RN7) meets the tightened tolerance 0.02, at p = 0.1
/// and at p = 0.001 (k = 1800, where a batch of 2048 missed by up to 0.33: issue 9).
#[test]
fn sampled_t3_points_agree_within_002_down_to_density_0001() {
    let p = Protocol::sampled(Model::Quadratic);
    let v = Verifier::new(Box::new(QuadraticTheory), p, 1, 0).expect("valid");
    assert!((v.tolerance().capacity - 0.02).abs() < 1e-15);
    for (big_v, density) in [(0.5, 0.1), (4.641_59, 0.001)] {
        let f = PhaseSetting::default()
            .feature_set(big_v, density)
            .expect("valid features");
        let r = v.point(&f, 3, 0).expect("runs");
        assert!(r.max_capacity_diff <= 0.02, "{r:?}");
        assert_eq!(r.verdict, Verdict::Agree);
    }
}

/// (V9) with the rarity e*/e of the spread regime: Laplace inputs at p = 0.001, the default
/// grid's point 9 (V = 0.316) with its grid seed (the first of three; ≈ 2.5 CPU-s). The step
/// count is 8 × 10⁴ (the cap); the earlier rarity √(e*/e) trained 4.95 × 10⁴ steps and missed
/// this point by 0.055 (measured with main's binary, `polycap verify --model quadratic --input
/// laplace --grid 25x1 --p-range 0.001:0.001 --seeds 1 --shard 9/25`); now 0.012.
#[test]
fn sampled_laplace_agrees_at_density_0001_with_the_spread_regime_steps() -> Result<()> {
    let setting = PhaseSetting::new(6, 3, polycap::base::Magnitude::Laplace)?;
    let grid = GridSpec::new(setting, (0.01, 100.0), (0.001, 1.0), 25, 25)?;
    assert_eq!(grid.coordinates(9), (10f64.powf(-0.5), 0.001));
    let v = Verifier::new(
        Box::new(QuadraticTheory),
        Protocol::sampled(Model::Quadratic),
        1,
        0,
    )?;
    let r = polycap::verify::verify_point(&v, &grid, 9)?;
    assert_eq!(r.steps, 80_000);
    assert!(r.max_capacity_diff <= 0.02, "{r:?}");
    assert_eq!(r.verdict, Verdict::Agree);
    Ok(())
}

#[test]
fn models_without_closed_form_are_refused() {
    assert!(
        Verifier::new(
            Box::new(QuadraticTheory),
            Protocol::sampled(Model::TmsRelu),
            1,
            0
        )
        .is_err()
    );
    assert!(Verifier::new(Box::new(QuadraticTheory), exact(10), 0, 0).is_err());
}

/// Hand-made runs: `loss` is a deliberately misleading evaluation loss.
fn fake_run(w: &[f64], loss: f64, seed: u64) -> polycap::training::Run {
    let w = nalgebra::DMatrix::from_row_slice(1, w.len(), w);
    polycap::training::Run {
        sq_norm: w.column_iter().map(|c| c.norm_squared()).collect(),
        w,
        bias: vec![0.0],
        hidden_params: Vec::new(),
        loss,
        loss_curve: Vec::new(),
        wall_seconds: 0.0,
        seed,
        sparse_kernel: false,
        batch: 1,
    }
}

#[test]
fn best_of_seeds_uses_the_exact_loss_only_where_it_exists() -> Result<()> {
    use polycap::theory::quadratic::ExpectedLoss;
    use polycap::verify::best_sampled;
    // N = 2 in D = 1, importances (1, ½), dense: storing feature 1 alone beats storing nothing.
    let f = FeatureSet::from_densities(
        vec![1.0, 0.5],
        &[1.0, 1.0],
        polycap::base::Magnitude::Uniform,
    )?;
    let runs = [
        fake_run(&[0.0, 0.0], 0.0, 7),
        fake_run(&[1.0, 0.0], 5.0, 8),
        fake_run(&[1.0, 0.0], 6.0, 9),
    ];
    let exact = ExpectedLoss::new(&f, 1)?;
    assert!(exact.loss(&runs[1].w) < exact.loss(&runs[0].w));
    let (best, loss) = best_sampled(Model::Quadratic, &f, 1, &runs)?;
    assert_eq!(
        best.seed, 8,
        "the quadratic model is chosen by (Q8), ties to the earliest"
    );
    assert_eq!(loss, Some(exact.loss(&runs[1].w)));
    let (best, loss) = best_sampled(Model::TmsRelu, &f, 1, &runs)?;
    assert_eq!(
        (best.seed, loss),
        (7, None),
        "others by the evaluation loss"
    );
    assert!(best_sampled(Model::TmsRelu, &f, 1, &[]).is_err());
    Ok(())
}
