//! The quadratic lane engine (quadratic-lanes.md (QL1)–(QL5)): an instance's run depends only
//! on its seed, stream and configuration (not on its lane, neighbours, block order, thread
//! count or instruction set); it follows the same law as the per-instance trainer; and the
//! trained square model lands on the closed-form allocation at sparse points.

use polycap::base::{FeatureSet, Magnitude, SparseInput};
use polycap::theory::capacity::capacities;
use polycap::theory::quadratic::ExpectedLoss;
use polycap::training::quadratic_lanes::{Instance, train};
use polycap::training::{Model, Run, Simd, TrainConfig, Trainer};

use super::bits;
use polycap::verify::{QuadraticTheory, Theory};

fn features(v: f64, p: f64, m: Magnitude) -> FeatureSet {
    let mut imp = vec![1.0; 6];
    imp[0] = v;
    FeatureSet::from_densities(imp, &[p; 6], m).expect("valid")
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(f)
}

/// (QL3): lane, neighbours, block order, thread count and instruction set do not change a
/// run. 11 instances (two blocks, one partial) with densities on both sides of every
/// sampler branch, uniform, Rademacher and Gaussian (scalar-drawn) magnitudes, a mixed
/// density set, and different step counts (Laplace: (V9) scales them).
#[test]
fn lane_runs_depend_only_on_their_instance() {
    let mixed = FeatureSet::from_inputs(
        vec![2.0, 1.0, 1.0, 0.5, 1.0, 1.0],
        [0.9, 0.02, 0.3, 1.0, 0.005, 0.1]
            .iter()
            .map(|&p| SparseInput::new(p, Magnitude::Uniform).expect("valid"))
            .collect(),
    )
    .expect("valid");
    let sets = [
        features(2.0, 1.0, Magnitude::Uniform),
        features(3.0, 0.3, Magnitude::Rademacher),
        features(1.5, 0.02, Magnitude::Gaussian),
        features(4.0, 0.004, Magnitude::Uniform),
        features(2.0, 0.05, Magnitude::Laplace),
        mixed,
    ];
    for model in [Model::Quadratic, Model::QuadraticRelu, Model::QuadraticGelu] {
        let mut cfg = TrainConfig::defaults(model);
        cfg.steps = 25;
        cfg.eval_batch = 512;
        cfg.active_per_feature = Some(16);
        let jobs: Vec<Instance> = (0..11u64)
            .map(|k| Instance {
                features: &sets[k as usize % sets.len()],
                seed: 7 + k,
                init: 7 + k,
                index: k % 3,
            })
            .collect();
        let a = in_pool(2, || train(model, 3, &cfg, &jobs)).expect("trains");
        let mut rev = jobs.clone();
        rev.reverse();
        let b = in_pool(1, || train(model, 3, &cfg, &rev)).expect("trains");
        cfg.simd = Simd::Portable;
        let c = in_pool(2, || train(model, 3, &cfg, &jobs)).expect("trains");
        for (k, job) in jobs.iter().enumerate() {
            let alone = train(model, 3, &cfg, std::slice::from_ref(job)).expect("trains");
            let want = bits(&a[k]);
            assert_eq!(
                want,
                bits(&b[jobs.len() - 1 - k]),
                "{model:?} job {k}: order"
            );
            assert_eq!(want, bits(&c[k]), "{model:?} job {k}: portable vs auto");
            assert_eq!(want, bits(&alone[0]), "{model:?} job {k}: alone");
            assert!(a[k].loss.is_finite() && a[k].w.iter().all(|x| x.is_finite()));
        }
        // Laplace at p = 0.05 trains more steps (V9), visible in its curve.
        assert_eq!(
            a[4].loss_curve.last().map(|c| c.0 + 1),
            Some(cfg.steps_for(&sets[4]))
        );
        assert!(cfg.steps_for(&sets[4]) > cfg.steps);
    }
}

/// Same law as the per-instance trainer: at each point, 4 seeds on both engines; the square
/// model's best runs (by the exact loss (Q8)) have the same capacities within 0.02 and exact
/// losses within 1 %; ReLU and GeLU have mean evaluation losses within 10 % (the spread of
/// single runs is ≈ 10 %, measured) and, at p = 0.3, best-run C₁ within 0.1. About 4 s
/// in release.
#[test]
fn lane_engine_and_per_instance_trainer_follow_the_same_law() {
    let points = [
        (Model::Quadratic, 4.64159, 0.01),
        (Model::Quadratic, 2.0, 0.3),
        (Model::QuadraticRelu, 2.0, 0.3),
        (Model::QuadraticGelu, 2.0, 0.3),
        (Model::QuadraticGelu, 2.0, 0.05),
    ];
    for (model, v, p) in points {
        let f = features(v, p, Magnitude::Uniform);
        let mut cfg = TrainConfig::defaults(model);
        cfg.steps = 2000;
        cfg.eval_batch = 8192;
        let jobs: Vec<Instance> = (0..4u64)
            .map(|s| Instance {
                features: &f,
                seed: 40 + s,
                init: 40 + s,
                index: 0,
            })
            .collect();
        let lanes = train(model, 3, &cfg, &jobs).expect("trains");
        let t = Trainer::new(model, 3, cfg).expect("valid");
        let single: Vec<Run> = jobs
            .iter()
            .map(|j| t.train(&f, j.seed, j.index).expect("trains"))
            .collect();
        if model == Model::Quadratic {
            let exact = ExpectedLoss::new(&f, 3).expect("valid");
            let best = |runs: &[Run]| {
                runs.iter()
                    .map(|r| (exact.loss(&r.w), capacities(&r.w)))
                    .fold(
                        (f64::INFINITY, Vec::new()),
                        |a, b| if b.0 < a.0 { b } else { a },
                    )
            };
            let (la, ca) = best(&lanes);
            let (lb, cb) = best(&single);
            assert!(
                (la - lb).abs() <= 0.01 * lb,
                "V = {v}, p = {p}: exact loss {la} vs {lb}"
            );
            for (x, y) in ca.iter().zip(&cb) {
                assert!(
                    (x - y).abs() <= 0.02,
                    "V = {v}, p = {p}: C {ca:?} vs {cb:?}"
                );
            }
        } else {
            let mean = |runs: &[Run]| runs.iter().map(|r| r.loss).sum::<f64>() / runs.len() as f64;
            let (ma, mb) = (mean(&lanes), mean(&single));
            assert!(
                (ma - mb).abs() <= 0.1 * mb,
                "{model:?}: mean loss {ma} vs {mb}"
            );
            let c1 = |runs: &[Run]| {
                let r = runs
                    .iter()
                    .fold(&runs[0], |a, b| if b.loss < a.loss { b } else { a });
                capacities(&r.w)[0]
            };
            // At p = 0.05 the GeLU model has no single configuration: its best seed's C₁
            // ranges over 0.5–0.8 on either engine (measured), so only the loss is compared.
            if p >= 0.3 {
                let (ca, cb) = (c1(&lanes), c1(&single));
                assert!((ca - cb).abs() <= 0.1, "{model:?}: C₁ {ca} vs {cb}");
            }
        }
    }
}

/// Independent check: the lane engine's square model at two sparse points lands on the
/// closed-form allocation (A7) within |ΔCᵢ| ≤ 0.02 (the (T3) tolerance), best of 3 seeds
/// by the exact loss (Q8), the (T3) protocol at 5000 steps. Six instances in one block,
/// about 3 s in release.
#[test]
fn lane_engine_matches_the_closed_form_at_sparse_points() {
    let points = [
        features(4.64159, 0.001, Magnitude::Uniform),
        features(2.15443, 0.003, Magnitude::Uniform),
    ];
    let mut cfg = TrainConfig::defaults(Model::Quadratic);
    cfg.steps = 5000;
    cfg.eval_batch = 8192;
    let jobs: Vec<Instance> = (0..6u64)
        .map(|k| Instance {
            features: &points[k as usize / 3],
            seed: 11 + k,
            init: 11 + k,
            index: 0,
        })
        .collect();
    let runs = train(Model::Quadratic, 3, &cfg, &jobs).expect("trains");
    for (f, rs) in points.iter().zip(runs.chunks(3)) {
        let exact = ExpectedLoss::new(f, 3).expect("valid");
        let best = rs.iter().fold(&rs[0], |a, b| {
            if exact.loss(&b.w) < exact.loss(&a.w) {
                b
            } else {
                a
            }
        });
        let c = capacities(&best.w);
        let theory = QuadraticTheory.predict(f, 3).expect("theory").capacity;
        for (x, y) in c.iter().zip(&theory) {
            assert!(
                (x - y).abs() <= 0.02,
                "V = {}: C {c:?}, theory {theory:?}",
                f.importance()[0]
            );
        }
    }
}

/// Bad input is an error, not a panic: a model outside the family, D = 0, instances of
/// different sizes.
#[test]
fn lane_engine_refuses_bad_input() {
    let cfg = TrainConfig::defaults(Model::Quadratic);
    let f = features(2.0, 0.1, Magnitude::Uniform);
    let one = [Instance {
        features: &f,
        seed: 0,
        init: 0,
        index: 0,
    }];
    assert!(train(Model::TmsRelu, 3, &cfg, &one).is_err());
    assert!(train(Model::Quadratic, 0, &cfg, &one).is_err());
    let g = FeatureSet::from_densities(vec![1.0; 4], &[0.1; 4], Magnitude::Uniform).expect("valid");
    let two = [
        one[0],
        Instance {
            features: &g,
            seed: 0,
            init: 0,
            index: 0,
        },
    ];
    let e = train(Model::Quadratic, 3, &cfg, &two).expect_err("sizes differ");
    assert!(e.to_string().contains("features"), "{e}");
}

/// (QL5): `Trainer::train_many` sends quadratic-gelu below density ½ to the lane engine and
/// everything else to `Trainer::train`, in job order, for jobs of different sizes N; each run
/// is the one its engine gives the job alone.
#[test]
fn train_many_picks_the_engine_per_job() {
    let sparse6 = features(2.0, 0.05, Magnitude::Uniform);
    let sparse4 =
        FeatureSet::from_densities(vec![2.0, 1.0, 1.0, 1.0], &[0.02; 4], Magnitude::Uniform)
            .expect("valid");
    let dense = features(2.0, 1.0, Magnitude::Uniform);
    let mut cfg = TrainConfig::defaults(Model::QuadraticGelu);
    cfg.steps = 20;
    cfg.eval_batch = 256;
    let jobs = [
        Instance {
            features: &sparse6,
            seed: 1,
            init: 1,
            index: 0,
        },
        Instance {
            features: &dense,
            seed: 2,
            init: 2,
            index: 1,
        },
        Instance {
            features: &sparse4,
            seed: 3,
            init: 3,
            index: 0,
        },
        Instance {
            features: &sparse6,
            seed: 4,
            init: 4,
            index: 2,
        },
    ];
    let t = Trainer::new(Model::QuadraticGelu, 3, cfg.clone()).expect("valid");
    let runs = t.train_many(&jobs).expect("trains");
    for (job, run) in jobs.iter().zip(&runs) {
        let want = if t.uses_lanes(job.features) {
            train(Model::QuadraticGelu, 3, &cfg, std::slice::from_ref(job)).expect("trains")[0]
                .clone()
        } else {
            t.train(job.features, job.seed, job.index).expect("trains")
        };
        assert_eq!(bits(run), bits(&want));
    }
    assert!(t.uses_lanes(&sparse6) && t.uses_lanes(&sparse4) && !t.uses_lanes(&dense));
    let relu = Trainer::new(
        Model::QuadraticRelu,
        3,
        TrainConfig::defaults(Model::QuadraticRelu),
    )
    .expect("valid");
    assert!(!relu.uses_lanes(&sparse6));
}
