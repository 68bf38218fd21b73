//! Runs and sweeps: bit-identical across thread counts, dense TMS lands on the top-D
//! features, sampled quadratic training lands on the theoretical allocation (spec (T3), (T5)).

use polycap::base::{FeatureSet, Magnitude};
use polycap::theory::allocation::allocate;
use polycap::theory::capacity::capacities;
use polycap::theory::quadratic::ExpectedLoss;
use polycap::training::quadratic_lanes::Instance;
use polycap::training::run::{ACTIVE_MAX, ACTIVE_PER_FEATURE, BATCH_CAP};
use polycap::training::{Kernel, Model, Run, TrainConfig, Trainer, best_by};

fn sweep_in_pool(threads: usize, trainer: &Trainer, inst: &[FeatureSet]) -> Vec<Vec<Run>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(|| trainer.sweep(inst, 2, 7, &|| {}))
        .expect("sweep runs")
}

#[test]
fn sweeps_are_bit_identical_for_one_and_two_threads() {
    for model in [Model::TmsRelu, Model::Quadratic, Model::TmsGelu] {
        let inst: Vec<FeatureSet> = [1.0, 0.3, 0.02]
            .iter()
            .map(|&p| {
                FeatureSet::from_densities(
                    vec![1.0, 0.8, 0.6, 0.4, 0.2],
                    &[p; 5],
                    Magnitude::Uniform,
                )
                .expect("valid features")
            })
            .collect();
        let mut cfg = TrainConfig::defaults(model);
        cfg.steps = 60;
        cfg.batch = 100;
        cfg.eval_batch = 500;
        let t = Trainer::new(model, 2, cfg).expect("valid trainer");
        let a = sweep_in_pool(1, &t, &inst);
        let b = sweep_in_pool(2, &t, &inst);
        assert_eq!(a.len(), 3);
        for (ra, rb) in a.iter().flatten().zip(b.iter().flatten()) {
            assert_eq!(ra.loss.to_bits(), rb.loss.to_bits(), "{model:?}");
            let bits = |r: &Run| r.w.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(ra), bits(rb), "{model:?}");
            assert_eq!(ra.seed, rb.seed);
        }
        // Seeds differ, so the two runs of one instance differ.
        assert_ne!(a[0][0].w, a[0][1].w);
    }
}

/// At p = 1 the ReLU-output model keeps the D most important features on (nearly)
/// orthogonal unit directions and drops the rest (spec §9.5, (E13)).
#[test]
fn dense_tms_lands_on_the_top_d_features() {
    let imp: Vec<f64> = (0..5).map(|i| 0.7f64.powi(i)).collect();
    let f = FeatureSet::from_densities(imp.clone(), &[1.0; 5], Magnitude::Uniform)
        .expect("valid features");
    let mut cfg = TrainConfig::defaults(Model::TmsRelu);
    cfg.steps = 4000;
    cfg.batch = 256;
    cfg.lr = 1e-2;
    cfg.eval_batch = 50_000;
    for kernel in [Kernel::Dense, Kernel::Sparse] {
        cfg.kernel = kernel;
        let t = Trainer::new(Model::TmsRelu, 2, cfg.clone()).expect("valid trainer");
        let runs = t
            .sweep(std::slice::from_ref(&f), 3, 0, &|| {})
            .expect("runs");
        let best = best_by(&runs[0], |r| r.loss).expect("one run");
        let n = &best.sq_norm;
        assert!(n[0] > 0.8 && n[1] > 0.8, "{kernel:?}: {n:?}");
        assert!(n[2..].iter().all(|&v| v < 0.1), "{kernel:?}: {n:?}");
        // (E13): the ignored features cost Iᵢ/12 each, mean over 5 features.
        let want: f64 = imp[2..].iter().sum::<f64>() / 12.0 / 5.0;
        assert!(
            (best.loss - want).abs() < 0.05 * want,
            "{kernel:?}: {} vs {want}",
            best.loss
        );
    }
}

/// (T3) on the worked example of spec §6.6, shortened: C within 0.05 of 7/33 and 92/165.
#[test]
fn sampled_quadratic_training_reproduces_the_worked_example() {
    let f = FeatureSet::from_densities(
        vec![0.5, 1.0, 1.0, 1.0, 1.0, 1.0],
        &[0.1; 6],
        Magnitude::Uniform,
    )
    .expect("valid features");
    let mut cfg = TrainConfig::defaults(Model::Quadratic);
    cfg.steps = 4000;
    cfg.eval_batch = 4096;
    let t = Trainer::new(Model::Quadratic, 3, cfg).expect("valid trainer");
    let runs = t
        .sweep(std::slice::from_ref(&f), 2, 0, &|| {})
        .expect("runs");
    let obj = ExpectedLoss::new(&f, 3).expect("objective");
    let best = best_by(&runs[0], |r| obj.loss(&r.w)).expect("one run");
    let c = capacities(&best.w);
    assert!((c[0] - 7.0 / 33.0).abs() < 0.05, "{c:?}");
    assert!(
        c[1..].iter().all(|ci| (ci - 92.0 / 165.0).abs() < 0.05),
        "{c:?}"
    );
    assert_eq!(best.bias.len(), 1);
}

/// Issue 9: at p = 0.001 (k = 1800) a batch of 2048 holds ≈ 12 active entries and training
/// misses the theory by up to 0.33; with the batch sized by density (RN7) it lands on the
/// allocation (A7) within the (T3) tolerance 0.02 (default protocol, best of 2 seeds; 1 for
/// the heavy-tailed laws, whose 8 × 10⁴ steps cost ≈ 3 CPU-s a seed). Two points of the 6-in-3
/// diagram: V = 4.64 (C = 1, 0.4 × 5) and V = 0.5 (C₁ between 0 and 1). The heavy-tailed
/// laws need the step count of (V9) at this density, 8 × 10⁴ (the cap) for Laplace (Kurt = 6)
/// and Student-t ν = 5 (Kurt = 9). (Laplace at V = 0.5 stays outside: 0.033 with seed 0; the
/// sparsest row of the full grid still misses about one point in six, verify.md (V9).)
#[test]
fn sampled_training_at_density_0001_hits_the_theory() {
    let t5 = Magnitude::StudentT { nu: 5.0 };
    for (law, v1, steps, seeds) in [
        (Magnitude::Uniform, 4.641_59, 10_000, 2),
        (Magnitude::Uniform, 0.5, 10_000, 2),
        (Magnitude::Laplace, 4.641_59, 80_000, 1),
        (t5, 4.641_59, 80_000, 1),
    ] {
        let mut v = vec![1.0; 6];
        v[0] = v1;
        let f = FeatureSet::from_densities(v, &[1e-3; 6], law).expect("valid features");
        // The default protocol: 10 000 steps (the directions' effective rate is η√(mp)/K,
        // run.md (RN7): 3000 steps are too few at p = 0.001), scaled by the law (V9).
        let mut cfg = TrainConfig::defaults(Model::Quadratic);
        cfg.eval_batch = 4096;
        assert_eq!(cfg.steps_for(&f), steps, "{law:?}");
        let t = Trainer::new(Model::Quadratic, 3, cfg).expect("valid trainer");
        let runs = t
            .sweep(std::slice::from_ref(&f), seeds, 0, &|| {})
            .expect("runs");
        assert_eq!(runs[0][0].batch, 256_000);
        let obj = ExpectedLoss::new(&f, 3).expect("objective");
        let best = best_by(&runs[0], |r| obj.loss(&r.w)).expect("one run");
        let c = capacities(&best.w);
        let want = allocate(&f, 3).expect("allocation").capacity;
        let worst = c
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= 0.02,
            "{law:?} V = {v1}: C = {c:?}, theory {want:?}"
        );
    }
}

/// (V9): the step count scales with the largest magnitude kurtosis and, below e* = 4
/// co-active events of the sparsest pair per step, with their rarity; off for the
/// autoencoders' defaults and when switched off.
#[test]
fn steps_scale_with_the_magnitude_kurtosis_and_density() {
    let cfg = TrainConfig::defaults(Model::Quadratic);
    let set_at = |p: f64, laws: &[Magnitude]| {
        let v = vec![1.0; laws.len()];
        let inputs = laws
            .iter()
            .map(|&m| polycap::base::SparseInput::new(p, m).expect("valid"))
            .collect();
        FeatureSet::from_inputs(v, inputs).expect("valid")
    };
    let set = |laws: &[Magnitude]| set_at(0.1, laws);
    // p = 0.1: B = 2560, 25.6 pair events per step ≥ 4, so the factor is Kurt/3 (clamped at 1).
    assert_eq!(cfg.steps_for(&set(&[Magnitude::Uniform; 3])), 10_000);
    assert_eq!(cfg.steps_for(&set(&[Magnitude::Gaussian; 3])), 10_000);
    assert_eq!(cfg.steps_for(&set(&[Magnitude::Laplace; 3])), 20_000);
    // Student-t ν = 5: Kurt = 3·3/1 = 9; mixed laws take the largest; ν = 4.5: Kurt = 15, 5×.
    let t5 = Magnitude::StudentT { nu: 5.0 };
    assert_eq!(cfg.steps_for(&set(&[Magnitude::Uniform, t5])), 30_000);
    assert_eq!(
        cfg.steps_for(&set(&[Magnitude::StudentT { nu: 4.5 }])),
        50_000
    );
    // p = 0.001: B = 256 000, 0.256 pair events, rarity 4/0.256 = 15.6. Laplace:
    // 1 + 15.6 = 16.6, Student-t ν = 5: 1 + 2·15.6 = 32, both capped at 8×; the light laws
    // keep T₀ at any density. p = 0.0042 (B = 60 708, 1.08 events): Laplace 4.705×.
    assert_eq!(
        cfg.steps_for(&set_at(1e-3, &[Magnitude::Laplace; 2])),
        80_000
    );
    assert_eq!(
        cfg.steps_for(&set_at(0.004_216_965, &[Magnitude::Laplace; 2])),
        47_053
    );
    assert_eq!(cfg.steps_for(&set_at(1e-3, &[t5; 2])), 80_000);
    for law in [Magnitude::Uniform, Magnitude::Gaussian] {
        assert_eq!(cfg.steps_for(&set_at(1e-3, &[law; 2])), 10_000);
        assert_eq!(cfg.steps_for(&set_at(1e-6, &[law; 2])), 10_000);
    }
    // The smallest density counts: p = (1, 0.001) is the p = 0.001 case.
    let mixed = FeatureSet::from_inputs(
        vec![1.0; 2],
        vec![
            polycap::base::SparseInput::new(1.0, Magnitude::Laplace).expect("valid"),
            polycap::base::SparseInput::new(1e-3, Magnitude::Laplace).expect("valid"),
        ],
    )
    .expect("valid");
    assert_eq!(cfg.steps_for(&mixed), 80_000);
    // At p = 0.02 (B = 12 800, 5.12 events) nothing changes: Laplace 2×.
    assert_eq!(
        cfg.steps_for(&set_at(0.02, &[Magnitude::Laplace; 2])),
        20_000
    );
    // A smaller m has fewer events at the same p: m = 64 at p = 0.01 has 0.64, rarity 6.25.
    let mut small = cfg.clone();
    small.active_per_feature = Some(64);
    assert_eq!(
        small.steps_for(&set_at(0.01, &[Magnitude::Laplace; 2])),
        72_500
    );
    let mut off = cfg.clone();
    off.steps_by_kurtosis = false;
    assert_eq!(off.steps_for(&set(&[Magnitude::Laplace])), 10_000);
    assert!(!TrainConfig::defaults(Model::TmsRelu).steps_by_kurtosis);
    let kurt_only = FeatureSet::from_kurtosis(vec![1.0], vec![30.0]).expect("valid");
    assert_eq!(cfg.steps_for(&kurt_only), 10_000);
}

#[test]
fn batch_is_sized_by_the_smallest_density() {
    let cfg = TrainConfig::defaults(Model::Quadratic);
    assert_eq!(cfg.active_per_feature, Some(ACTIVE_PER_FEATURE));
    let m = ACTIVE_PER_FEATURE;
    assert_eq!(cfg.batch_for(1.0), m);
    assert_eq!(cfg.batch_for(0.5), 2 * m);
    assert_eq!(cfg.batch_for(0.3), (m as f64 / 0.3).ceil() as usize);
    assert_eq!(cfg.batch_for(1e-9), BATCH_CAP);
    let mut fixed = cfg.clone();
    fixed.active_per_feature = None;
    assert_eq!(fixed.batch_for(1e-3), fixed.batch);
    for bad in [0, ACTIVE_MAX + 1] {
        let mut c = cfg.clone();
        c.active_per_feature = Some(bad);
        assert!(Trainer::new(Model::Quadratic, 3, c).is_err(), "m = {bad}");
    }
}

#[test]
fn invalid_configurations_are_rejected() {
    let mut cfg = TrainConfig::defaults(Model::TmsRelu);
    assert!(Trainer::new(Model::TmsRelu, 0, cfg.clone()).is_err());
    cfg.lr = f64::NAN;
    assert!(Trainer::new(Model::TmsRelu, 2, cfg.clone()).is_err());
    cfg.lr = 1e-3;
    cfg.batch = 0;
    assert!(Trainer::new(Model::TmsRelu, 2, cfg).is_err());
    let kurt_only = FeatureSet::from_kurtosis(vec![1.0], vec![3.0]).expect("valid");
    let t = Trainer::new(Model::Quadratic, 1, TrainConfig::defaults(Model::Quadratic))
        .expect("valid trainer");
    assert!(t.train(&kurt_only, 0, 0).is_err());
    assert_eq!(Model::parse("tms-gelu"), Ok(Model::TmsGelu));
    assert!(Model::parse("mlp").is_err());
}

/// (RN6) with heavy-tailed inputs: L_ref must estimate the initial loss from as many active
/// entries as a training batch. At V = 100, p = 10⁻³, Laplace inputs, an 8192-sample reference
/// (≈ 8 entries of feature 1) missed the loss v₁²·Kurt/p ≈ 6·10⁷ by 10³ and stopped these
/// seeds (those of `polycap verify --model quadratic --input laplace --grid 7x3 --p-range
/// 0.001:0.0075`, point 7) as "diverged" at step 16 although Adam moves W by ≤ 3η a step.
#[test]
fn heavy_tailed_inputs_do_not_trip_the_divergence_guard() {
    let mut v = vec![1.0; 6];
    v[0] = 100.0;
    let f = FeatureSet::from_densities(v, &[1e-3; 6], Magnitude::Laplace).expect("valid");
    let mut cfg = TrainConfig::defaults(Model::Quadratic);
    cfg.steps = 40;
    cfg.eval_batch = 1024;
    let trainer = Trainer::new(Model::Quadratic, 3, cfg).expect("valid");
    let seed = polycap::verify::point_seed(0, 6);
    for s in 0..3 {
        let run = trainer.train(&f, seed.wrapping_add(s), 0);
        assert!(run.is_ok(), "seed {s}: {:?}", run.err());
    }
}

/// Everything of a run that training determines, as bits ([`super::bits`]), and its kernel.
fn run_bits(r: &Run) -> (super::RunBits, bool) {
    (super::bits(r), r.sparse_kernel)
}

/// Five feature sets (not a multiple of the four lanes) that differ in the first importance.
fn members(p: f64, magnitude: Magnitude) -> Vec<FeatureSet> {
    [0.03, 0.7, 1.0, 4.6, 60.0]
        .iter()
        .map(|&v| {
            let mut imp = vec![1.0; 6];
            imp[0] = v;
            FeatureSet::from_densities(imp, &[p; 6], magnitude).expect("valid")
        })
        .collect()
}

/// (RN8), (RN9): a group shares every batch, and each member's run is bit-identical to its
/// own `train` on the same stream — for the quadratic family on the four-lane group kernel
/// (square with sampled and expected singles, ReLU, GeLU; uniform and Laplace magnitudes),
/// the quadratic dense kernel, and the autoencoders' dense and Gram kernels.
#[test]
fn a_group_trains_each_member_bit_identically_to_train() {
    let cases: [(Model, f64, Magnitude, bool); 8] = [
        (Model::Quadratic, 0.02, Magnitude::Uniform, false),
        (Model::Quadratic, 0.005, Magnitude::Laplace, false),
        (Model::Quadratic, 0.02, Magnitude::Uniform, true),
        (Model::QuadraticRelu, 0.05, Magnitude::Uniform, false),
        (Model::QuadraticGelu, 0.05, Magnitude::Uniform, false),
        (Model::Quadratic, 1.0, Magnitude::Uniform, false),
        (Model::TmsRelu, 0.5, Magnitude::Uniform, false),
        (Model::TmsGelu, 0.01, Magnitude::Uniform, false),
    ];
    for (model, p, magnitude, expected) in cases {
        let mut cfg = TrainConfig::defaults(model);
        cfg.steps = 60;
        cfg.eval_batch = 512;
        cfg.expected_singles = expected;
        if !model.is_quadratic() {
            cfg.batch = 256;
        }
        let t = Trainer::new(model, 3, cfg).expect("valid");
        let sets = members(p, magnitude);
        let group: Vec<(&FeatureSet, u64)> = sets.iter().map(|f| (f, 11)).collect();
        let runs = t.train_group(&group, 11, 3).expect("trains");
        assert_eq!(runs.len(), sets.len());
        for (f, r) in sets.iter().zip(runs) {
            let alone = t.train(f, 11, 3).expect("trains");
            let r = r.expect("trains");
            assert_eq!(run_bits(&r), run_bits(&alone), "{model:?} p = {p}");
        }
        // Members with their own initial W: the same data, another start.
        let own: Vec<(&FeatureSet, u64)> = sets.iter().zip(20u64..).collect();
        let runs = t.train_group(&own, 11, 3).expect("trains");
        let alone = t.train(&sets[0], 11, 3).expect("trains");
        let first = runs[0].as_ref().expect("trains");
        assert_ne!(run_bits(first).0, run_bits(&alone).0, "{model:?}: own init");
        assert!(first.loss.is_finite());
        // … and a member's run does not depend on the other members: alone in its group,
        // member 3 gives the same bits.
        let single = t.train_group(&own[3..4], 11, 3).expect("trains");
        let (a, b) = (
            single[0].as_ref().expect("trains"),
            runs[3].as_ref().expect("trains"),
        );
        assert_eq!(run_bits(a), run_bits(b), "{model:?}: grouping");
    }
}

/// (RN8): members must differ in their importances only; an empty group trains nothing.
#[test]
fn a_group_refuses_members_with_other_densities() {
    let t =
        Trainer::new(Model::Quadratic, 3, TrainConfig::defaults(Model::Quadratic)).expect("valid");
    let a = members(0.02, Magnitude::Uniform);
    let b = members(0.03, Magnitude::Uniform);
    let e = t
        .train_group(&[(&a[0], 0), (&b[1], 0)], 0, 0)
        .expect_err("densities differ");
    assert!(e.to_string().contains("more than its importances"), "{e}");
    let c = members(0.02, Magnitude::Laplace);
    assert!(t.train_group(&[(&a[0], 0), (&c[1], 0)], 0, 0).is_err());
    assert!(t.train_group(&[], 0, 0).expect("empty").is_empty());
}

/// (RN8): `train_many` groups the jobs of one stream whose features differ in importance
/// only, keeps the others apart, and returns every run as `train` gives it, in job order.
#[test]
fn train_many_groups_jobs_by_stream_and_returns_each_run_as_train_does() {
    let mut cfg = TrainConfig::defaults(Model::QuadraticRelu);
    cfg.steps = 40;
    cfg.eval_batch = 512;
    let t = Trainer::new(Model::QuadraticRelu, 3, cfg).expect("valid");
    let sets = members(0.03, Magnitude::Uniform);
    let other = members(0.1, Magnitude::Uniform);
    let mut jobs: Vec<Instance<'_>> = sets
        .iter()
        .enumerate()
        .map(|(k, f)| Instance {
            features: f,
            seed: 5 + (k % 2) as u64,
            init: 5 + (k % 2) as u64,
            index: 0,
        })
        .collect();
    jobs.insert(
        2,
        Instance {
            features: &other[0],
            seed: 5,
            init: 5,
            index: 0,
        },
    );
    let runs = t.train_many(&jobs).expect("trains");
    assert_eq!(runs.len(), jobs.len());
    for (job, run) in jobs.iter().zip(&runs) {
        let alone = t.train(job.features, job.seed, job.index).expect("trains");
        assert_eq!(run_bits(run), run_bits(&alone));
    }
}
