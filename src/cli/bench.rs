//! `polycap bench`: timings of the hot kernels, for people (never asserted in tests).
//!
//! `polycap bench tms` runs the TMS reference run of /work/shared/bench (8 instances,
//! 20 → 5, batch 1024, Adam η = 1e-3, importance 0.9ⁱ, density log-spaced 1 … 10⁻³) and prints
//! wall time, instance-steps/s and per-instance evaluation losses in the JAX reference's
//! normalisation (mean over batch and features; spec pitfall 10).

use std::time::Instant;

use anyhow::Context;
use polycap::base::{FeatureSet, Magnitude, resources};
use polycap::training::quadratic_lanes::{self, Instance};
use polycap::training::run::QUAD_DENSE_FROM;
use polycap::training::simd::LANES;
use polycap::training::{Activation, Kernel, Model, Run, Simd, TrainConfig, Trainer, guard};

use super::output::{Format, check_out, csv_text, emit, num, table, usage};

/// Flags of `polycap bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BenchCommand,
}

/// The benchmarks. Adding one: a variant here and an arm in [`run`].
#[derive(Debug, clap::Subcommand)]
enum BenchCommand {
    /// The TMS reference run (ReLU-output model, 8 instances, 20 → 5), as the JAX reference.
    Tms(TmsArgs),
    /// Many tiny models: the 25 000-model 2 → 1 sweep (50 r × 50 p × 10 seeds) on the lane engine.
    Tiny(super::bench_tiny::TinyArgs),
    /// The quadratic family: both per-instance kernels (dense lanes, active entries), the
    /// multi-instance lane engine (8 seeds at once, time per instance) and a group of 8
    /// members sharing one data stream (dense and group kernels, time per member) at
    /// densities log-spaced from 1 to 10⁻³, timed one after the other in one run.
    Quadratic(QuadArgs),
    /// GeLU: the f64 activation against libm's tanh form (old/new ratio in one run), and a
    /// 6-in-3 `tms-gelu` run against the same `tms-relu` run (the lane tanh, simd.md (SD4)).
    Gelu(GeluArgs),
    /// The analytic 6-in-3 phase diagram on a W × H grid (target: 1000 × 1000 in < 0.5 s).
    Phase(PhaseArgs),
    /// Finite datasets (Z14)–(Z17): the blocked full-batch kernel against the per-entry
    /// reference (old/new ratio in one run, one after the other, one thread).
    Finite(FiniteArgs),
    /// The training jobs of one trained figure of `polycap reproduce`: every K-th job timed
    /// (shard 0/K), the whole figure extrapolated.
    Figure(FigureArgs),
}

/// Flags of `polycap bench figure`.
#[derive(Debug, clap::Args)]
struct FigureArgs {
    /// Figure id (a trained figure, e.g. fig7-empirical-phase-diagrams).
    id: String,
    /// Resolution.
    #[arg(long, value_enum, default_value_t = super::reproduce::Resolution::Paper)]
    resolution: super::reproduce::Resolution,
    /// Time every K-th job only (shard 0/K) and extrapolate; pick K coprime with the grid
    /// width so that every column and row is sampled (1 = every job).
    #[arg(long, default_value_t = 1)]
    sample: usize,
}

/// Flags of `polycap bench phase`.
#[derive(Debug, clap::Args)]
struct PhaseArgs {
    /// Grid size W×H.
    #[arg(long, default_value = "1000x1000")]
    grid: String,
}

/// Runs `polycap bench`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Tms(a) => tms(a),
        BenchCommand::Tiny(a) => super::bench_tiny::run(a),
        BenchCommand::Quadratic(a) => quadratic(a),
        BenchCommand::Phase(a) => {
            let (w, h) = super::phase::parse_grid(&a.grid)?;
            super::phase::run_bench(w, h)
        }
        BenchCommand::Figure(a) => figure(&a),
        BenchCommand::Gelu(a) => gelu(&a),
        BenchCommand::Finite(a) => finite(&a),
    }
}

/// Flags of `polycap bench finite`.
#[derive(Debug, clap::Args)]
struct FiniteArgs {
    /// Features N.
    #[arg(long, default_value_t = 1000)]
    features: usize,
    /// Dimensions D.
    #[arg(long, default_value_t = 2)]
    dims: usize,
    /// Density p of every feature.
    #[arg(long, default_value_t = 0.01)]
    density: f64,
    /// Training points T.
    #[arg(long, default_value_t = 2000)]
    points: usize,
    /// Full-batch loss-and-gradient evaluations per kernel.
    #[arg(long, default_value_t = 200)]
    evals: usize,
}

/// Times `evals` full-batch loss-and-gradient evaluations of the reference kernel, then of
/// the blocked one (ZB10), on one dataset and one θ, and reports the ratio and the largest
/// gradient difference relative to the largest gradient entry.
fn finite(a: &FiniteArgs) -> anyhow::Result<()> {
    use polycap::training::finite::{Dataset, FiniteModel, MAX_POINTS};
    use polycap::training::rng::Xoshiro;
    if a.features == 0 || a.dims == 0 || a.evals == 0 || a.evals > 1_000_000 {
        return Err(usage(format!(
            "need ≥ 1 feature and dimension and 1 ≤ evals ≤ 10^6, got features = {}, dims = {}, evals = {}",
            a.features, a.dims, a.evals
        )));
    }
    if a.points == 0 || a.points > MAX_POINTS {
        return Err(usage(format!(
            "--points must be in 1..={MAX_POINTS}, got {}",
            a.points
        )));
    }
    guard::check_sweep(a.features, a.dims, 1, a.points, 1, 1, 1)?;
    let f = FeatureSet::from_densities(
        vec![1.0; a.features],
        &vec![a.density; a.features],
        Magnitude::Uniform,
    )?;
    let data = Dataset::draw(&f, a.points, &mut Xoshiro::new(0, 1))?;
    let m = FiniteModel::new(Activation::Relu, &f, a.dims)?;
    let mut rng = Xoshiro::new(0, 0);
    let theta: Vec<f64> = (0..a.features * (a.dims + 1))
        .map(|_| 0.3 * rng.normal())
        .collect();
    let time = |fast: bool| {
        let mut g = vec![0.0; theta.len()];
        let t0 = Instant::now();
        let mut l = 0.0;
        for _ in 0..a.evals {
            l = if fast {
                m.loss_grad(&theta, &data, Some(&mut g))
            } else {
                m.loss_grad_reference(&theta, &data, Some(&mut g))
            };
        }
        (t0.elapsed().as_secs_f64(), l, g)
    };
    let (old_s, old_l, old_g) = time(false);
    let (new_s, new_l, new_g) = time(true);
    let top = old_g
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    let diff = old_g
        .iter()
        .zip(&new_g)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / top;
    let entries = (a.evals * a.points * a.features) as f64;
    let ns = |s: f64| format!("{:.2}", 1e9 * s / entries);
    let mut text = format!(
        "polycap bench finite: tms-relu, N = {}, D = {}, p = {}, T = {} points, {} loss+gradient evaluations per kernel, 1 thread\n\
         loss {old_l:.12e} (reference) vs {new_l:.12e} (blocked); max |Δ gradient| / max |gradient| = {diff:.2e}\n",
        a.features, a.dims, a.density, a.points, a.evals
    );
    text.push_str(&table(
        &[
            "kernel",
            "seconds",
            "ms per evaluation",
            "ns per point×feature",
            "ratio",
        ],
        &[
            vec![
                "per-entry reference (old)".into(),
                format!("{old_s:.3}"),
                format!("{:.3}", 1e3 * old_s / a.evals as f64),
                ns(old_s),
                "1".into(),
            ],
            vec![
                "blocked (ZB10)".into(),
                format!("{new_s:.3}"),
                format!("{:.3}", 1e3 * new_s / a.evals as f64),
                ns(new_s),
                format!("{:.2} faster", old_s / new_s),
            ],
        ],
    ));
    emit(None, &text)
}

/// Flags of `polycap bench gelu`.
#[derive(Debug, clap::Args)]
struct GeluArgs {
    /// f64 evaluations per variant (points evenly spaced in [−6, 6]).
    #[arg(long, default_value_t = 20_000_000)]
    evals: usize,
    /// Steps of the two 6-in-3 training runs (p = 1, batch 1024, one thread each).
    #[arg(long, default_value_t = 10_000)]
    steps: usize,
}

/// The GeLU of the f64 kernels before (M1)'s one-`exp` form: libm's `tanh`.
fn gelu_libm(z: f64) -> (f64, f64) {
    const C: f64 = 0.797_884_560_802_865_4;
    const A: f64 = 0.044_715;
    let t = (C * (z + A * z * z * z)).tanh();
    let dt = C * (1.0 + 3.0 * A * z * z);
    (
        0.5 * z * (1.0 + t),
        0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * dt,
    )
}

fn gelu(a: &GeluArgs) -> anyhow::Result<()> {
    if a.evals == 0 || a.evals > 1 << 32 || a.steps == 0 || a.steps > 1_000_000 {
        return Err(usage(format!(
            "need 1 ≤ evals ≤ 2^32 and 1 ≤ steps ≤ 10^6, got evals = {}, steps = {}",
            a.evals, a.steps
        )));
    }
    let z = |k: usize| -6.0 + 12.0 * k as f64 / a.evals as f64;
    let time_f64 = |f: &dyn Fn(f64) -> (f64, f64)| {
        let t0 = Instant::now();
        let mut acc = 0.0;
        for k in 0..a.evals {
            let (o, d) = f(std::hint::black_box(z(k)));
            acc += o + d;
        }
        (t0.elapsed().as_secs_f64(), std::hint::black_box(acc))
    };
    let (old_s, old_sum) = time_f64(&gelu_libm);
    let (new_s, new_sum) = time_f64(&|v| Activation::Gelu.eval(v));
    let max_diff = (0..a.evals.min(1 << 20))
        .map(|k| {
            let v = z(k * (a.evals / a.evals.min(1 << 20)));
            let (o1, d1) = gelu_libm(v);
            let (o2, d2) = Activation::Gelu.eval(v);
            (o1 - o2).abs().max((d1 - d2).abs())
        })
        .fold(0.0, f64::max);
    let features = FeatureSet::from_densities(vec![1.0; 6], &[1.0; 6], Magnitude::Uniform)?;
    let train = |model: Model| -> anyhow::Result<f64> {
        let mut cfg = TrainConfig::defaults(model);
        cfg.steps = a.steps;
        cfg.eval_batch = 8192;
        let t0 = Instant::now();
        Trainer::new(model, 3, cfg)?.train(&features, 0, 0)?;
        Ok(t0.elapsed().as_secs_f64())
    };
    let relu_s = train(Model::TmsRelu)?;
    let gelu_s = train(Model::TmsGelu)?;
    let ns = |s: f64| format!("{:.2}", 1e9 * s / a.evals as f64);
    let mut text = format!(
        "polycap bench gelu: {} f64 evaluations per variant in [−6, 6] (sums {old_sum:.6e}, {new_sum:.6e}); max |difference| {max_diff:.2e}\n",
        a.evals
    );
    text.push_str(&table(
        &["variant", "seconds", "ns per eval / s per run", "ratio"],
        &[
            vec![
                "f64 GeLU, libm tanh (old)".into(),
                format!("{old_s:.3}"),
                ns(old_s),
                "1".into(),
            ],
            vec![
                "f64 GeLU, one exp (M1)".into(),
                format!("{new_s:.3}"),
                ns(new_s),
                format!("{:.2} faster", old_s / new_s),
            ],
            vec![
                format!("tms-relu 6 in 3, {} steps", a.steps),
                format!("{relu_s:.3}"),
                format!("{relu_s:.3}"),
                "1".into(),
            ],
            vec![
                format!("tms-gelu 6 in 3, {} steps (SD4)", a.steps),
                format!("{gelu_s:.3}"),
                format!("{gelu_s:.3}"),
                format!("{:.2} × relu", gelu_s / relu_s),
            ],
        ],
    ));
    emit(None, &text)
}

fn figure(a: &FigureArgs) -> anyhow::Result<()> {
    let entry = polycap::figures::registry()
        .into_iter()
        .find(|e| e.id == a.id && e.trains)
        .ok_or_else(|| {
            usage(format!(
                "bench figure: {:?} is not a trained figure id",
                a.id
            ))
        })?;
    let shard = polycap::base::Shard::new(0, a.sample)
        .map_err(|_| usage(format!("--sample must be ≥ 1, got {}", a.sample)))?;
    let sweep = polycap::figures::Reproduction::new(
        vec![entry],
        a.resolution.quality(),
        polycap::figures::style::FontChoice::Serif,
    );
    let start = Instant::now();
    let done = sweep.run(Some(shard), &|| ())?.len();
    let wall = start.elapsed().as_secs_f64();
    let total = sweep.jobs();
    let text = table(
        &[
            "figure",
            "resolution",
            "jobs",
            "timed",
            "wall s",
            "s per job",
            "estimated total s",
        ],
        &[vec![
            a.id.clone(),
            a.resolution.quality().name().to_string(),
            total.to_string(),
            done.to_string(),
            format!("{wall:.1}"),
            format!("{:.3}", wall / done.max(1) as f64),
            format!("{:.0}", wall * total as f64 / done.max(1) as f64),
        ]],
    );
    emit(None, &text)
}

/// Kernel choice on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum KernelArg {
    /// Pick per instance by density.
    Auto,
    /// Dense lane-blocked kernel everywhere.
    Dense,
    /// Sparse Gram kernel everywhere.
    Sparse,
}

/// Instruction-set choice on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SimdArg {
    /// The widest copy this CPU supports (AVX2 or portable).
    Auto,
    /// The baseline copy.
    Portable,
}

/// Flags of `polycap bench tms`.
#[derive(Debug, clap::Args)]
struct TmsArgs {
    /// Optimisation steps.
    #[arg(long, default_value_t = 10_000)]
    steps: usize,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Number of instances (densities log-spaced from 1 to 10⁻³).
    #[arg(long, default_value_t = 8)]
    instances: usize,
    /// Features N.
    #[arg(long, default_value_t = 20)]
    features: usize,
    /// Dimensions D.
    #[arg(long, default_value_t = 5)]
    dims: usize,
    /// Batch size.
    #[arg(long, default_value_t = 1024)]
    batch: usize,
    /// Fresh samples for the evaluation loss.
    #[arg(long, default_value_t = 65_536)]
    eval_batch: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Kernel.
    #[arg(long, value_enum, default_value_t = KernelArg::Auto)]
    kernel: KernelArg,
    /// Instruction set of the kernels: `auto` (AVX2 when the CPU has it) or `portable`
    /// (baseline SSE2 on x86-64). Results are bit-identical.
    #[arg(long, value_enum, default_value_t = SimdArg::Auto)]
    simd: SimdArg,
    /// Output format (csv: one row per instance, numbered from 1).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<std::path::PathBuf>,
}

fn tms(a: TmsArgs) -> anyhow::Result<()> {
    check_out(a.out.as_deref(), a.format)?;
    if a.instances == 0 || a.features == 0 || a.steps == 0 {
        return Err(usage(format!(
            "need ≥ 1 instance, feature and step, got instances = {}, features = {}, steps = {}",
            a.instances, a.features, a.steps
        )));
    }
    let threads = resources::threads(a.threads)?;
    guard::check_sweep(
        a.features,
        a.dims,
        a.steps,
        a.batch,
        a.eval_batch,
        a.instances,
        threads,
    )?;
    let k = a.instances;
    let density: Vec<f64> = (0..k)
        .map(|i| {
            if k == 1 {
                1.0
            } else {
                (1e-3f64.ln() * i as f64 / (k - 1) as f64).exp()
            }
        })
        .collect();
    let importance: Vec<f64> = (0..a.features).map(|i| 0.9f64.powi(i as i32)).collect();
    let instances = density
        .iter()
        .map(|&p| {
            FeatureSet::from_densities(importance.clone(), &vec![p; a.features], Magnitude::Uniform)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut cfg = TrainConfig::defaults(Model::TmsRelu);
    cfg.steps = a.steps;
    cfg.batch = a.batch;
    cfg.eval_batch = a.eval_batch;
    cfg.kernel = match a.kernel {
        KernelArg::Auto => Kernel::Auto,
        KernelArg::Dense => Kernel::Dense,
        KernelArg::Sparse => Kernel::Sparse,
    };
    cfg.simd = match a.simd {
        SimdArg::Auto => Simd::Auto,
        SimdArg::Portable => Simd::Portable,
    };
    let simd = cfg.simd.path();
    let trainer = Trainer::new(Model::TmsRelu, a.dims, cfg)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the thread pool")?;
    let t0 = Instant::now();
    let runs = pool.install(|| trainer.sweep(&instances, 1, a.seed, &|| {}))?;
    let wall = t0.elapsed().as_secs_f64();
    let runs: Vec<&Run> = runs.iter().filter_map(|r| r.first()).collect();
    let threads = pool.current_num_threads();
    let isps = (k * a.steps) as f64 / wall;
    let text = match a.format {
        Format::Json => {
            let inst: Vec<serde_json::Value> = runs
                .iter()
                .zip(&density)
                .map(|(r, p)| {
                    serde_json::json!({
                        "density": p,
                        "loss": r.loss,
                        "represented": represented(r),
                        "sparse_kernel": r.sparse_kernel,
                        "wall_seconds": r.wall_seconds,
                    })
                })
                .collect();
            let v = serde_json::json!({
                "benchmark": "tms",
                "instances": k, "features": a.features, "dims": a.dims, "batch": a.batch,
                "steps": a.steps, "threads": threads, "eval_batch": a.eval_batch, "simd": simd,
                "wall_seconds": wall, "instance_steps_per_second": isps,
                "loss_normalisation": "mean over batch and features",
                "results": inst,
            });
            serde_json::to_string_pretty(&v)? + "\n"
        }
        Format::Csv => {
            let rows: Vec<Vec<String>> = runs
                .iter()
                .zip(&density)
                .enumerate()
                .map(|(i, (r, p))| {
                    vec![
                        (i + 1).to_string(),
                        p.to_string(),
                        r.loss.to_string(),
                        represented(r).to_string(),
                        if r.sparse_kernel { "gram" } else { "dense" }.to_string(),
                        r.wall_seconds.to_string(),
                    ]
                })
                .collect();
            csv_text(
                &[
                    "instance",
                    "density",
                    "loss",
                    "represented",
                    "kernel",
                    "wall_seconds",
                ],
                &rows,
            )?
        }
        Format::Table => {
            let mut s = format!(
                "polycap bench tms: {k} instances, {} → {}, batch {}, {} steps, Adam lr 1e-3, importance 0.9^i, {threads} thread(s), simd {simd}\n\
                 wall {wall:.3} s (training + evaluation)  ->  {} steps/s  ({} instance-steps/s)\n\
                 loss = mean over batch and features of I·(x − x′)² on {} fresh samples\n",
                a.features,
                a.dims,
                a.batch,
                a.steps,
                num(a.steps as f64 / wall),
                num(isps),
                a.eval_batch
            );
            let rows: Vec<Vec<String>> = runs
                .iter()
                .zip(&density)
                .enumerate()
                .map(|(i, (r, p))| {
                    vec![
                        (i + 1).to_string(),
                        format!("{p:.5}"),
                        format!("{:.6}", r.loss),
                        represented(r).to_string(),
                        if r.sparse_kernel { "gram" } else { "dense" }.to_string(),
                        format!("{:.3}", r.wall_seconds),
                    ]
                })
                .collect();
            s.push_str(&table(
                &[
                    "inst",
                    "density p",
                    "loss(eval)",
                    "repr",
                    "kernel",
                    "seconds",
                ],
                &rows,
            ));
            s.push_str("repr: features with ‖Wᵢ‖ > 0.5 (the reference script's count)\n");
            s
        }
    };
    emit(a.out.as_deref(), &text)
}

/// Features with ‖Wᵢ‖ > 0.5 (the reference script's "represented").
fn represented(r: &Run) -> usize {
    r.sq_norm.iter().filter(|&&n| n > 0.25).count()
}

/// Flags of `polycap bench quadratic`.
#[derive(Debug, clap::Args)]
struct QuadArgs {
    /// Model: quadratic, quadratic-relu or quadratic-gelu.
    #[arg(long, default_value = "quadratic")]
    model: String,
    /// Optimisation steps.
    #[arg(long, default_value_t = 2000)]
    steps: usize,
    /// Number of densities, log-spaced from 1 to 10⁻³.
    #[arg(long, default_value_t = 7)]
    instances: usize,
    /// Features N.
    #[arg(long, default_value_t = 6)]
    features: usize,
    /// Dimensions D.
    #[arg(long, default_value_t = 3)]
    dims: usize,
    /// Expected active entries per feature and step (batch ⌈m / p⌉).
    #[arg(long)]
    active: Option<usize>,
    /// Fixed batch instead of the density rule.
    #[arg(long)]
    batch: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Instruction set of the kernels: `auto` or `portable`.
    #[arg(long, value_enum, default_value_t = SimdArg::Auto)]
    simd: SimdArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Times the two quadratic kernels at every density, one run after the other on one thread,
/// and reports seconds, active entries per second and the dense/active ratio.
fn quadratic(a: QuadArgs) -> anyhow::Result<()> {
    let model = Model::parse(&a.model)?;
    if !model.is_quadratic() {
        return Err(usage(format!(
            "--model: expected quadratic, quadratic-relu or quadratic-gelu, got '{}'",
            a.model
        )));
    }
    if a.instances == 0 || a.features == 0 || a.steps == 0 {
        return Err(usage(format!(
            "need ≥ 1 instance, feature and step, got instances = {}, features = {}, steps = {}",
            a.instances, a.features, a.steps
        )));
    }
    let k = a.instances;
    let density: Vec<f64> = (0..k)
        .map(|i| {
            if k == 1 {
                1.0
            } else {
                (1e-3f64.ln() * i as f64 / (k - 1) as f64).exp()
            }
        })
        .collect();
    let mut importance = vec![1.0; a.features];
    importance[0] = 2.0;
    let mut cfg = TrainConfig::defaults(model);
    cfg.steps = a.steps;
    cfg.eval_batch = 1;
    match (a.batch, a.active) {
        (Some(_), Some(_)) => return Err(usage("--batch and --active exclude each other")),
        (Some(b), None) => {
            cfg.batch = b;
            cfg.active_per_feature = None;
        }
        (None, Some(m)) => cfg.active_per_feature = Some(m),
        (None, None) => {}
    }
    cfg.simd = match a.simd {
        SimdArg::Auto => Simd::Auto,
        SimdArg::Portable => Simd::Portable,
    };
    let simd = cfg.simd.path();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .context("cannot start the thread pool")?;
    let mut rows = Vec::new();
    let mut json_rows = Vec::new();
    for &p in &density {
        let f = FeatureSet::from_densities(
            importance.clone(),
            &vec![p; a.features],
            Magnitude::Uniform,
        )?;
        let mut secs = [0f64; 5];
        let mut batch = 0;
        for (slot, kernel) in [Kernel::Dense, Kernel::Sparse].into_iter().enumerate() {
            let mut c = cfg.clone();
            c.kernel = kernel;
            let t = Trainer::new(model, a.dims, c)?;
            let t0 = Instant::now();
            let r = pool.install(|| t.train(&f, a.seed, 0))?;
            secs[slot] = t0.elapsed().as_secs_f64();
            batch = r.batch;
        }
        // The lane engine (QL1)–(QL5): one block of 8 seeds, time per instance.
        let jobs: Vec<Instance> = (0..LANES as u64)
            .map(|s| Instance {
                features: &f,
                seed: a.seed.wrapping_add(s),
                init: a.seed.wrapping_add(s),
                index: 0,
            })
            .collect();
        let t0 = Instant::now();
        pool.install(|| quadratic_lanes::train(model, a.dims, &cfg, &jobs))?;
        secs[2] = t0.elapsed().as_secs_f64() / LANES as f64;
        // A group (RN8), (RN9): LANES members on one data stream, importances v₁ = 1, 2, …,
        // sharing every batch; time per member.
        let members: Vec<FeatureSet> = (0..LANES)
            .map(|m| {
                let mut imp = importance.clone();
                imp[0] = 1.0 + m as f64;
                FeatureSet::from_densities(imp, &vec![p; a.features], Magnitude::Uniform)
            })
            .collect::<polycap::base::Result<_>>()?;
        // Each member its own initial W, as the points of a Fig. 7 row (verify.md (V10)).
        let group: Vec<(&FeatureSet, u64)> = members
            .iter()
            .zip(0u64..)
            .map(|(f, m)| (f, a.seed.wrapping_add(m)))
            .collect();
        // Both kernels on the shared batches: the dense one per member (QT5), the group
        // kernel (RN9) on the active entries.
        for (slot, kernel) in [(3, Kernel::Dense), (4, Kernel::Sparse)] {
            let mut c = cfg.clone();
            c.kernel = kernel;
            let t = Trainer::new(model, a.dims, c)?;
            let t0 = Instant::now();
            for r in pool.install(|| t.train_group(&group, a.seed, 0))? {
                r?;
            }
            secs[slot] = t0.elapsed().as_secs_f64() / LANES as f64;
        }
        let entries = (a.steps * batch) as f64 * p * a.features as f64;
        let auto = if p >= QUAD_DENSE_FROM {
            "dense"
        } else {
            "active"
        };
        rows.push(vec![
            format!("{p:.5}"),
            batch.to_string(),
            format!("{:.3}", secs[0]),
            format!("{:.3}", secs[1]),
            format!("{:.2}", secs[0] / secs[1]),
            format!("{:.3}", secs[2]),
            format!("{:.2}", secs[0].min(secs[1]) / secs[2]),
            format!("{:.3}", secs[3]),
            format!("{:.3}", secs[4]),
            format!("{:.2}", secs[0].min(secs[1]) / secs[3].min(secs[4])),
            num(entries / secs[0]),
            num(entries / secs[1]),
            auto.to_string(),
        ]);
        json_rows.push(serde_json::json!({
            "density": p, "batch": batch, "dense_seconds": secs[0], "active_seconds": secs[1],
            "dense_over_active": secs[0] / secs[1], "auto": auto,
            "lanes_seconds_per_instance": secs[2],
            "best_per_instance_over_lanes": secs[0].min(secs[1]) / secs[2],
            "group_dense_seconds_per_member": secs[3],
            "group_active_seconds_per_member": secs[4],
            "best_per_instance_over_best_group": secs[0].min(secs[1]) / secs[3].min(secs[4]),
            "active_entries": entries,
        }));
    }
    let text = match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "benchmark": "quadratic", "model": model.name(), "features": a.features,
                "dims": a.dims, "steps": a.steps, "simd": simd, "threads": 1,
                "results": json_rows,
            });
            serde_json::to_string_pretty(&v)? + "\n"
        }
        Format::Table | Format::Csv => {
            let mut s = format!(
                "polycap bench quadratic: {}, {} → {}, {} steps, 1 thread, simd {simd}; both per-instance kernels, the lane engine (8 seeds, time per instance, (QL5)) and a group (8 members on one data stream, dense and active kernels, time per member, (RN8), (RN9)) timed one after the other at each density (training + one evaluation sample)\n",
                model.name(),
                a.features,
                a.dims,
                a.steps
            );
            s.push_str(&table(
                &[
                    "density p",
                    "batch",
                    "dense s",
                    "active s",
                    "dense/active",
                    "lanes s/instance",
                    "best/lanes",
                    "group dense s/member",
                    "group active s/member",
                    "best/best group",
                    "entries/s dense",
                    "entries/s active",
                    "auto",
                ],
                &rows,
            ));
            s
        }
    };
    emit(None, &text)
}
