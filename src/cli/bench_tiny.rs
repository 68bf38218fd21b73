//! `polycap bench tiny`: the public replication's empirical 2-in-1 phase diagram as a
//! timing: 50 relative importances r ∈ [0.1, 10] × 50 densities p ∈ [0.01, 1] × 10 seeds =
//! 25 000 ReLU-output models, AdamW η = 1e-3, 5000 steps, batch 1024, on the lane engine
//! (one model per SIMD lane). `--per-instance K` also times K of the same models on the
//! per-instance trainer, one after the other, for a ratio measured in one run.

use std::time::Instant;

use anyhow::Context;
use polycap::base::{FeatureSet, Magnitude};
use polycap::theory::phase::log_axis;
use polycap::training::lanes::{TinyConfig, TinyInstance, train_tiny};
use polycap::training::{Model, Optimizer, Simd, TrainConfig, Trainer};

use super::output::{Format, emit, num, usage};

/// Flags of `polycap bench tiny`.
#[derive(Debug, clap::Args)]
pub struct TinyArgs {
    /// Features N (≤ 8).
    #[arg(long, default_value_t = 2)]
    features: usize,
    /// Dimensions D (≤ 4).
    #[arg(long, default_value_t = 1)]
    dims: usize,
    /// Grid W×H: W relative importances r of the last feature by H densities p.
    #[arg(long, default_value = "50x50")]
    grid: String,
    /// Seeds per grid point.
    #[arg(long, default_value_t = 10)]
    seeds: usize,
    /// Optimisation steps.
    #[arg(long, default_value_t = 5000)]
    steps: usize,
    /// Batch size.
    #[arg(long, default_value_t = 1024)]
    batch: usize,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Instruction set: auto (AVX2 when present) or portable; results are bit-identical.
    #[arg(long, default_value = "auto")]
    simd: String,
    /// Also train the first K models on the per-instance trainer and report the ratio of
    /// per-model times.
    #[arg(long, default_value_t = 0)]
    per_instance: usize,
    /// Output format: table or json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Runs `polycap bench tiny`.
pub fn run(a: TinyArgs) -> anyhow::Result<()> {
    let (w, h) = super::phase::parse_grid(&a.grid)?;
    if a.seeds == 0 || a.steps == 0 || a.batch == 0 {
        return Err(usage(format!(
            "need ≥ 1 seed, step and batch, got seeds = {}, steps = {}, batch = {}",
            a.seeds, a.steps, a.batch
        )));
    }
    if !matches!(a.format, Format::Table | Format::Json) {
        return Err(usage("--format: bench tiny writes table or json"));
    }
    let models = w
        .checked_mul(h)
        .and_then(|x| x.checked_mul(a.seeds))
        .filter(|&m| m <= 10_000_000)
        .ok_or_else(|| usage("bench tiny: at most 10⁷ models"))?;
    let mut cfg = TinyConfig::new(a.features, a.dims).map_err(|e| usage(e.to_string()))?;
    cfg.steps = a.steps;
    cfg.batch = a.batch;
    cfg.simd = Simd::parse(&a.simd).map_err(|e| usage(format!("--simd: {e}")))?;
    let r_axis = log_axis(0.1, 10.0, w)?;
    let p_axis = log_axis(0.01, 1.0, h)?;
    let mut instances = Vec::with_capacity(models);
    for &p in &p_axis {
        for &r in &r_axis {
            for s in 0..a.seeds as u64 {
                let mut importance = vec![1.0; a.features];
                importance[a.features - 1] = r;
                instances.push(TinyInstance {
                    importance,
                    density: vec![p; a.features],
                    seed: instances.len() as u64 ^ (s << 48),
                });
            }
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .context("cannot start the thread pool")?;
    let threads = pool.current_num_threads();
    let t0 = Instant::now();
    let runs = pool.install(|| train_tiny(&cfg, &instances, &|_| {}))?;
    let wall = t0.elapsed().as_secs_f64();
    let mean_loss = runs.iter().map(|r| r.loss).sum::<f64>() / runs.len() as f64;
    let k = a.per_instance.min(instances.len());
    let per_instance = if k > 0 {
        let mut tc = TrainConfig::defaults(Model::TmsRelu);
        tc.steps = a.steps;
        tc.batch = a.batch;
        tc.optimizer = Optimizer::AdamW { weight_decay: 0.01 };
        tc.eval_batch = cfg.eval_batch;
        tc.curve_points = 1;
        tc.simd = cfg.simd;
        let trainer = Trainer::new(Model::TmsRelu, a.dims, tc)?;
        let sets = instances[..k]
            .iter()
            .map(|i| {
                FeatureSet::from_densities(i.importance.clone(), &i.density, Magnitude::Uniform)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let t1 = Instant::now();
        pool.install(|| trainer.sweep(&sets, 1, 0, &|| {}))?;
        Some(t1.elapsed().as_secs_f64())
    } else {
        None
    };
    let per_model_lanes = wall / models as f64;
    let ratio = per_instance.map(|t| (t / k as f64) / per_model_lanes);
    let text = match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "benchmark": "tiny",
                "features": a.features, "dims": a.dims, "grid": [w, h], "seeds": a.seeds,
                "models": models, "steps": a.steps, "batch": a.batch, "threads": threads,
                "optimizer": "adamw", "lr": cfg.lr, "weight_decay": 0.01,
                "simd": cfg.simd.path(), "wall_seconds": wall,
                "model_steps_per_second": (models * a.steps) as f64 / wall,
                "mean_eval_loss": mean_loss,
                "per_instance_models": k, "per_instance_seconds": per_instance,
                "per_instance_over_lanes_per_model": ratio,
            });
            serde_json::to_string_pretty(&v)? + "\n"
        }
        _ => {
            let mut s = format!(
                "polycap bench tiny: {models} models ({w} r × {h} p × {} seeds), {} → {}, AdamW lr 1e-3, {} steps, batch {}, {threads} thread(s), simd {}\n\
                 lane engine: wall {wall:.2} s  ->  {} model-steps/s; mean eval loss {mean_loss:.6} (mean over batch and features)\n",
                a.seeds,
                a.features,
                a.dims,
                a.steps,
                a.batch,
                cfg.simd.path(),
                num((models * a.steps) as f64 / wall)
            );
            if let (Some(t), Some(q)) = (per_instance, ratio) {
                s += &format!(
                    "per-instance trainer: {k} of the models in {t:.2} s  ->  {:.1}× the lane engine's time per model\n",
                    q
                );
            }
            s
        }
    };
    emit(None, &text)
}
