//! `polycap train`: train the toy models over a sweep of instances, several seeds each,
//! keep the best seed, and report per-feature capacities (computed here with
//! `theory::capacity`, since capacity is a theory quantity). `--shard i/N` trains every
//! N-th instance and writes its results; `polycap train merge` prints the unsharded output
//! from all N shards (V7).

use std::path::PathBuf;

use anyhow::Context;
use nalgebra::DMatrix;
use polycap::base::{FeatureSet, Magnitude, Shard, ShardResults, merge_shards, resources};
use polycap::theory::capacity::capacities;
use polycap::theory::quadratic::ExpectedLoss;
use polycap::training::readout::{MONO_TAU, NeuronCounts, neurons};
use polycap::training::{
    ExactConfig, ExactTrainer, Hidden, Init, Model, Optimizer, Pairs, Run, Schedule, TrainConfig,
    Trainer, guard,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use polycap::io::run::TrainedInstance;
use polycap::verify::best_sampled;

use super::output::{Format, check_out, csv_text, emit, num, progress, table, usage};
use super::save;
use super::spec::{ValueSpec, feature_count, parse_logspace};

#[path = "train/zoo_b.rs"]
mod zoo_b;

/// Flags of `polycap train` (boxed in the command enum: it is large), or its `merge`
/// subcommand.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Absent only with the `merge` subcommand.
    #[command(flatten)]
    flags: Option<Flags>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Join the files of `--shard i/N` runs and print what the unsharded run prints.
    /// Errors if the shards' settings differ or a shard is missing or given twice.
    Merge {
        /// Shard files (written by `polycap train ... --shard i/N --out FILE`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format (table or json).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the output to this file (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn table_format() -> Format {
    Format::Table
}

/// The flags themselves; serialised (without format, output, threads and shard) as the
/// settings that shards must share.
#[derive(Debug, PartialEq, clap::Args, Serialize, Deserialize)]
struct Flags {
    /// Model: quadratic, quadratic-exact, quadratic-relu, quadratic-gelu, tms-relu, tms-gelu,
    /// tms-square, linear, tms-neuron, abs.
    #[arg(long)]
    model: String,
    /// Number of features N (or implied by a list SPEC).
    #[arg(long)]
    features: Option<usize>,
    /// Embedding dimension D.
    #[arg(long)]
    dims: usize,
    /// Importances: SPEC (`0.5,1,1`, `geom:R`, `const:X`, `first:V`).
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    importance: String,
    /// Densities p = 1 − S per feature: SPEC [default: 1]. Not with --instances-density.
    #[arg(long, allow_hyphen_values = true)]
    density: Option<String>,
    /// Magnitude of the quadratic models' inputs: uniform (default), gaussian, laplace,
    /// rademacher, student-t:NU. Not for the autoencoders, which always draw U[0, 1) (E2).
    #[arg(long)]
    input: Option<String>,
    /// Sweep: one instance per density `logspace:HI:LO:K` (all features share it; replaces
    /// --density).
    #[arg(long)]
    instances_density: Option<String>,
    /// Seeds per instance; the best (lowest loss) is reported.
    #[arg(long, default_value_t = 1)]
    seeds: usize,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Optimisation steps (default per model: T3 10 000, T4 20 000, T1 10 000); T3 trains
    /// more for a law heavier than the Gaussian, by its kurtosis and the density (Laplace 2×
    /// at p ≥ 0.016 with the default batch, up to 8× at p ≤ 0.0018; derivations/verify.md (V9)).
    #[arg(long)]
    steps: Option<usize>,
    /// Batch size (default: sized by density for the quadratic family, see --active; 1024
    /// autoencoders and abs, where it is the smallest batch with --active).
    #[arg(long)]
    batch: Option<usize>,
    /// Quadratic family: expected active entries per feature and step, m; the batch is
    /// B = min(max(⌈m / p_min⌉, m), 2¹⁸) (default 256; excludes --batch). abs: the batch is
    /// B = min(max(⌈m / p_min⌉, --batch), 2¹⁸) (default: none, a fixed batch).
    #[arg(long)]
    active: Option<usize>,
    /// Learning rate (default: 1e-2 quadratic, 1e-3 autoencoders).
    #[arg(long)]
    lr: Option<f64>,
    /// Optimiser: adam, adamw, sgd [default: adam; adamw with --dataset (Z17)].
    #[arg(long)]
    optimizer: Option<String>,
    /// Decoupled weight decay of adamw [default: 0.01]; only with --optimizer adamw.
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Schedule: constant, cosine, warmup:N (default: cosine quadratic, constant autoencoders).
    #[arg(long)]
    schedule: Option<String>,
    /// Initialisation: xavier, notebook, normal:STD (default: normal:0.3 quadratic, xavier).
    #[arg(long)]
    init: Option<String>,
    /// Fresh samples for the evaluation loss.
    #[arg(long, default_value_t = 65_536)]
    eval_batch: usize,
    /// Worker threads (0 = all cores; more than the cores are capped at the cores).
    #[arg(long, default_value_t = 0)]
    #[serde(skip)]
    threads: usize,
    /// Output format: table, json (everything, W included) or csv (one row per instance and
    /// feature, features numbered from 1).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    #[serde(skip, default = "table_format")]
    format: Format,
    /// Write the output to this file (atomically) instead of stdout.
    #[arg(long)]
    #[serde(skip)]
    out: Option<PathBuf>,
    /// Also save the trained weights to FILE (.safetensors or .npz): W as [instances,
    /// features, hidden], b_final, losses, and the settings as metadata.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    save: Option<PathBuf>,
    /// Also write the trained world as an SAE synthetic-model folder (synthetic_model_config.json
    /// + synthetic_model.safetensors); several instances go to DIR/instance-K (K from 1).
    #[arg(long, value_name = "DIR")]
    #[serde(skip)]
    export_synthetic: Option<PathBuf>,
    /// Train only shard i/N (0-based i < N) of the instances (i, i + N, …) and write their
    /// results as JSON (to --out); then `polycap train merge`.
    #[arg(long, value_name = "I/N")]
    #[serde(skip)]
    shard: Option<String>,
    // --- issue 14a: the neuron model and paired features ---
    /// Hidden activation of tms-neuron: relu (default), solu, solu_ln (needs --dims ≥ 4) (Z20).
    #[arg(long)]
    #[serde(default)]
    hidden: Option<String>,
    /// Feature pairs leading the list (autoencoders and tms-neuron): correlated:K,
    /// anticorrelated:K or both comma-separated; pairs (1, 2), (3, 4), …, correlated first;
    /// K ≤ N/2 in all; anticorrelated members need density ≤ 1/2 (Z4)–(Z6).
    #[arg(long)]
    #[serde(default)]
    pairs: Option<String>,
    // --- end issue 14a ---
    // ---- issue 14b: finite datasets (Z14)–(Z18); the abs model (Z10) uses the flags above ----
    /// Train the autoencoders on a fixed set of T points (Z14), full-batch, AdamW with warm-up
    /// and cosine (Z17), and report train and test loss and the feature and data-point
    /// dimensionalities (Z18).
    #[arg(long, value_name = "T")]
    dataset: Option<usize>,
    /// abs only: draw W₂ as |W₂| so that every output side y′ᵢ(±eᵢ) starts alive (ZB12);
    /// without it the init is ARENA's (Z11).
    #[arg(long)]
    #[serde(default)]
    positive_w2: bool,
    /// With --dataset: fresh points of the test loss [default: 10000].
    #[arg(long)]
    test_points: Option<usize>,
    /// With --dataset: data seeds per instance (one training set each, best of --seeds inits
    /// per set) [default: 1].
    #[arg(long)]
    data_seeds: Option<usize>,
    /// With --dataset: the first data seed [default: 0].
    #[arg(long)]
    data_seed: Option<u64>,
    // ---- end of issue 14b's flags ----
}

/// Weight decay of adamw when --weight-decay is not given.
const DEFAULT_DECAY: f64 = 0.01;

/// The --optimizer name, `adam` when not given.
fn optimizer_name(a: &Flags) -> &str {
    a.optimizer.as_deref().map_or("adam", str::trim)
}

/// One reported instance.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    densities: Vec<f64>,
    importance: Vec<f64>,
    seed: u64,
    loss: f64,
    exact_loss: Option<f64>,
    #[serde(with = "matrix")]
    w: DMatrix<f64>,
    bias: Vec<f64>,
    curve: Vec<(usize, f64)>,
    wall: f64,
    /// γ then β of a SoLU-LN hidden layer (Z20); empty otherwise.
    #[serde(default)]
    hidden_params: Vec<f64>,
}

impl Report {
    fn to_trained(&self) -> TrainedInstance {
        TrainedInstance {
            w: self.w.clone(),
            bias: self.bias.clone(),
            loss: self.loss,
            loss_curve: self.curve.clone(),
            seed: self.seed,
            importance: self.importance.clone(),
            density: self.densities.clone(),
        }
    }
}

/// W as (rows, cols, column-major entries): exact through JSON.
mod matrix {
    use nalgebra::DMatrix;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(w: &DMatrix<f64>, s: S) -> Result<S::Ok, S::Error> {
        (w.nrows(), w.ncols(), w.as_slice()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DMatrix<f64>, D::Error> {
        let (rows, cols, v): (usize, usize, Vec<f64>) = Deserialize::deserialize(d)?;
        if v.len() != rows.saturating_mul(cols) {
            return Err(D::Error::custom(format!(
                "a {rows}×{cols} W needs {} entries, got {}",
                rows.saturating_mul(cols),
                v.len()
            )));
        }
        Ok(DMatrix::from_vec(rows, cols, v))
    }
}

/// Runs `polycap train`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match (args.command, args.flags) {
        (Some(Sub::Merge { files, format, out }), _) => merge(&files, format, out),
        (None, Some(flags)) => run_flags(flags),
        (None, None) => Err(usage(
            "train needs --model and --dims (or the merge subcommand)",
        )),
    }
}

/// The model and whether it is trained on the exact loss (quadratic-exact).
fn model_of(a: &Flags) -> anyhow::Result<(Model, bool)> {
    let exact = a.model.trim() == "quadratic-exact";
    let model = if exact {
        Model::Quadratic
    } else {
        Model::parse(&a.model).map_err(|_| {
            usage(format!(
                "--model: unknown model '{}' (expected quadratic, quadratic-exact, quadratic-relu, quadratic-gelu, tms-relu, tms-gelu, tms-square, linear or abs)",
                a.model
            ))
        })?
    };
    Ok((model, exact))
}

fn run_flags(a: Flags) -> anyhow::Result<()> {
    let (model, exact) = model_of(&a)?;
    if a.positive_w2 && model != Model::Abs {
        return Err(usage(format!(
            "--positive-w2 applies to abs only, not {}",
            a.model.trim()
        )));
    }
    // ---- issue 14b: the abs model and finite datasets (cli/train/zoo_b.rs) ----
    if model == Model::Abs || zoo_b::wants(&a) {
        return zoo_b::run(&a, model, exact);
    }
    let shard = a
        .shard
        .as_deref()
        .map(|s| {
            s.parse::<Shard>()
                .map_err(|_| usage(format!("--shard: expected i/N with 0 ≤ i < N, got '{s}'")))
        })
        .transpose()?;
    // A shard always writes JSON (for `polycap train merge`); otherwise --out must match.
    if shard.is_none() {
        check_out(a.out.as_deref(), a.format)?;
    }
    if a.dims == 0 {
        return Err(usage("--dims must be ≥ 1, got 0"));
    }
    if a.seeds == 0 {
        return Err(usage("--seeds must be ≥ 1, got 0"));
    }
    if a.input.is_some() && !model.is_quadratic() {
        return Err(usage(format!(
            "--input does not apply to {}: the autoencoders always draw U[0, 1) (E2)",
            a.model
        )));
    }
    if exact && a.batch.is_some() {
        return Err(usage(
            "--batch does not apply to quadratic-exact: it trains on the exact expected loss (Q8)",
        ));
    }
    if a.density.is_some() && a.instances_density.is_some() {
        return Err(usage(
            "--density and --instances-density both set the densities: give one of them",
        ));
    }
    if a.weight_decay.is_some() && optimizer_name(&a) != "adamw" {
        return Err(usage(format!(
            "--weight-decay only applies with --optimizer adamw, not {}",
            optimizer_name(&a)
        )));
    }
    let (hidden, pairs) = zoo_options(&a, model, exact)?;
    save::check_path(a.save.as_deref())?;
    if shard.is_some() && (a.save.is_some() || a.export_synthetic.is_some()) {
        return Err(usage(
            "--save and --export-synthetic write the whole run and cannot be combined with --shard",
        ));
    }
    // Sizes first, before any per-feature vector exists (RN6 guard, training/guard.rs).
    let sizes = Sizes::of(&a)?;
    let (n, instances_count) = (sizes.n, sizes.instances);
    let threads = resources::threads(a.threads)?;
    {
        let d = TrainConfig::defaults(model);
        guard::check_sweep(
            n,
            a.dims,
            a.steps.unwrap_or(d.steps),
            if exact { 0 } else { a.batch.unwrap_or(d.batch) },
            if exact { 0 } else { a.eval_batch },
            instances_count.saturating_mul(a.seeds),
            threads,
        )?;
    }
    let (importance, density_sets) = sizes.expand(&a)?;
    let magnitude = Magnitude::parse(a.input.as_deref().unwrap_or("uniform"))?;
    let instances = density_sets
        .iter()
        .map(|d| FeatureSet::from_densities(importance.clone(), d, magnitude))
        .collect::<polycap::base::Result<Vec<_>>>()?;
    for d in &density_sets {
        pairs
            .validate(d)
            .map_err(|e| usage(format!("--pairs: {e}")))?;
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the thread pool")?;
    let indices: Vec<usize> = match shard {
        Some(s) => s.jobs(instances.len()).collect(),
        None => (0..instances.len()).collect(),
    };
    let bar = progress((indices.len() * a.seeds) as u64, "training");
    let reports = if exact {
        pool.install(|| train_exact(&a, &instances, &indices, &bar))?
    } else {
        pool.install(|| train_sampled(&a, model, (hidden, pairs), &instances, shard, &bar))?
    };
    bar.finish_and_clear();
    if let Some(shard) = shard {
        let results = ShardResults::new(a, shard, instances.len(), reports);
        let text = serde_json::to_string(&results).context("serialising the shard")? + "\n";
        return emit(results.settings.out.as_deref(), &text);
    }
    let reports: Vec<Report> = reports.into_iter().map(|(_, r)| r).collect();
    if a.save.is_some() || a.export_synthetic.is_some() {
        let trained: Vec<TrainedInstance> = reports.iter().map(Report::to_trained).collect();
        let settings = json!({
            "model": a.model.trim(), "features": n, "dims": a.dims, "input": a.input.as_deref().unwrap_or("uniform").trim(),
            "seeds": a.seeds, "seed": a.seed, "steps": a.steps, "batch": a.batch, "active": a.active, "lr": a.lr,
            "optimizer": optimizer_name(&a), "weight_decay": a.weight_decay,
            "schedule": a.schedule, "init": a.init, "eval_batch": a.eval_batch,
            "hidden": a.hidden, "pairs": a.pairs,
            "defaults": "null values are the model's defaults (polycap train --help)",
        });
        save::write(&a.save, &a.export_synthetic, &trained, model, &settings)?;
    }
    output(&a, model, exact, n, &reports)
}

fn output(
    a: &Flags,
    model: Model,
    exact: bool,
    n: usize,
    reports: &[Report],
) -> anyhow::Result<()> {
    let text = match a.format {
        Format::Json => json_text(a, model, exact, n, reports)?,
        Format::Csv => csv(reports)?,
        Format::Table => table_text(a, exact, reports),
    };
    emit(a.out.as_deref(), &text)
}

fn merge(files: &[PathBuf], format: Format, out: Option<PathBuf>) -> anyhow::Result<()> {
    if format == Format::Csv {
        return Err(usage("--format: train writes table or json, not csv"));
    }
    let mut texts = Vec::with_capacity(files.len());
    for path in files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        texts.push((path, text));
    }
    // Shards of the abs model carry its own report (cli/train/zoo_b.rs).
    let abs = texts.first().is_some_and(|(_, t)| {
        serde_json::from_str::<Value>(t)
            .is_ok_and(|v| v["settings"]["model"].as_str().map(str::trim) == Some("abs"))
    });
    if abs {
        return zoo_b::merge_abs(&texts, format, out);
    }
    // So do --dataset shards.
    let dataset = texts.first().is_some_and(|(_, t)| {
        serde_json::from_str::<Value>(t).is_ok_and(|v| v["settings"]["dataset"].is_u64())
    });
    if dataset {
        return zoo_b::merge_dataset(&texts, format, out);
    }
    let mut shards = Vec::with_capacity(files.len());
    for (path, text) in &texts {
        let s: ShardResults<Flags, Report> = serde_json::from_str(text)
            .map_err(|e| usage(format!("{}: not a train shard: {e}", path.display())))?;
        shards.push(s);
    }
    let (mut a, reports) = merge_shards(shards)?;
    a.format = format;
    a.out = out;
    let (model, exact) = model_of(&a)?;
    let n = reports.first().map_or(0, |r| r.importance.len());
    output(&a, model, exact, n, &reports)
}

/// Instances `indices` on the exact loss, (index, report) in order.
fn train_exact(
    a: &Flags,
    instances: &[FeatureSet],
    indices: &[usize],
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<(usize, Report)>> {
    let mut cfg = ExactConfig::default();
    if let Some(s) = a.steps {
        cfg.steps = s;
    }
    if let Some(lr) = a.lr {
        cfg.lr = lr;
    }
    cfg.optimizer = Optimizer::parse(optimizer_name(a), a.weight_decay.unwrap_or(DEFAULT_DECAY))?;
    if let Some(s) = &a.schedule {
        cfg.schedule = Schedule::parse(s)?;
    }
    if let Some(s) = &a.init {
        cfg.init_std = match parse_init(s)? {
            Init::Normal { std } => std,
            _ => return Err(usage("--init: quadratic-exact takes normal:STD")),
        };
    }
    let trainer = ExactTrainer::new(cfg)?;
    let mut out = Vec::new();
    for &k in indices {
        let f = &instances[k];
        let obj = ExpectedLoss::new(f, a.dims)?;
        let r = trainer.train_best(&obj, a.seeds, a.seed)?;
        bar.inc(a.seeds as u64);
        out.push((
            k,
            Report {
                densities: f.densities().unwrap_or_default(),
                importance: f.importance().to_vec(),
                seed: r.seed,
                loss: r.loss,
                exact_loss: Some(obj.loss(&r.w)),
                bias: vec![obj.optimal_bias(&r.w)],
                w: r.w,
                curve: r.loss_curve,
                wall: r.wall_seconds,
                hidden_params: Vec::new(),
            },
        ));
    }
    Ok(out)
}

/// The instances of `shard` (all for `None`) trained by SGD, (index, report) in order.
fn train_sampled(
    a: &Flags,
    model: Model,
    (hidden, pairs): (Hidden, Pairs),
    instances: &[FeatureSet],
    shard: Option<Shard>,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<(usize, Report)>> {
    let mut cfg = TrainConfig::defaults(model);
    if let Some(s) = a.steps {
        cfg.steps = s;
    }
    match (a.batch, a.active) {
        (Some(_), Some(_)) => {
            return Err(usage("--batch and --active exclude each other"));
        }
        (Some(b), None) => {
            cfg.batch = b;
            cfg.active_per_feature = None;
        }
        (None, Some(m)) if model.is_quadratic() => cfg.active_per_feature = Some(m),
        (None, Some(_)) => {
            return Err(usage(
                "--active applies to the quadratic family (quadratic, quadratic-relu, quadratic-gelu)",
            ));
        }
        (None, None) => {}
    }
    if let Some(lr) = a.lr {
        cfg.lr = lr;
    }
    cfg.optimizer = Optimizer::parse(optimizer_name(a), a.weight_decay.unwrap_or(DEFAULT_DECAY))?;
    if let Some(s) = &a.schedule {
        cfg.schedule = Schedule::parse(s)?;
    }
    if let Some(s) = &a.init {
        cfg.init = match parse_init(s)? {
            Init::Notebook { .. } => Init::Notebook {
                instances: instances.len(),
            },
            other => other,
        };
    }
    cfg.eval_batch = a.eval_batch;
    cfg.hidden = hidden;
    cfg.pairs = pairs;
    let trainer = Trainer::new(model, a.dims, cfg)?;
    let runs: Vec<(usize, Vec<Run>)> = match shard {
        None => trainer
            .sweep(instances, a.seeds, a.seed, &|| bar.inc(1))?
            .into_iter()
            .enumerate()
            .collect(),
        // The runs `Trainer::sweep` makes for these instances: seed base + s, stream index
        // = the instance's index in the whole sweep.
        Some(sh) => {
            let jobs: Vec<(usize, u64)> = sh
                .jobs(instances.len())
                .flat_map(|k| (0..a.seeds as u64).map(move |s| (k, a.seed.wrapping_add(s))))
                .collect();
            let runs: Vec<Run> = jobs
                .par_iter()
                .with_max_len(1)
                .map(|&(k, seed)| {
                    let r = trainer.train(&instances[k], seed, k as u64);
                    bar.inc(1);
                    r
                })
                .collect::<polycap::base::Result<_>>()?;
            let mut it = runs.into_iter();
            sh.jobs(instances.len())
                .map(|k| (k, it.by_ref().take(a.seeds).collect()))
                .collect()
        }
    };
    let mut out = Vec::new();
    for (k, seeds) in &runs {
        let f = &instances[*k];
        let (best, exact_loss) = best_sampled(model, f, a.dims, seeds)?;
        out.push((
            *k,
            Report {
                densities: f.densities().unwrap_or_default(),
                importance: f.importance().to_vec(),
                seed: best.seed,
                loss: best.loss,
                exact_loss,
                w: best.w.clone(),
                bias: best.bias.clone(),
                curve: best.loss_curve.clone(),
                wall: best.wall_seconds,
                hidden_params: best.hidden_params.clone(),
            },
        ));
    }
    Ok(out)
}

/// Issue 14a: `--hidden` and `--pairs`, parsed, and checked to apply to the model.
fn zoo_options(a: &Flags, model: Model, exact: bool) -> anyhow::Result<(Hidden, Pairs)> {
    let hidden = match &a.hidden {
        None => Hidden::Relu,
        Some(s) => {
            if model != Model::TmsNeuron {
                return Err(usage(format!(
                    "--hidden applies to tms-neuron only, not {}",
                    a.model.trim()
                )));
            }
            let h = Hidden::parse(s).map_err(|e| usage(format!("--hidden: {e}")))?;
            h.validate(a.dims)
                .map_err(|e| usage(format!("--hidden: {e}")))?;
            h
        }
    };
    let pairs = match &a.pairs {
        None => Pairs::default(),
        Some(s) => {
            if exact || model.is_quadratic() {
                return Err(usage(format!(
                    "--pairs applies to the autoencoders and tms-neuron, not {}",
                    a.model.trim()
                )));
            }
            Pairs::parse(s).map_err(|e| usage(format!("--pairs: {e}")))?
        }
    };
    Ok((hidden, pairs))
}

/// The sizes a train command asks for, parsed before anything per-feature is allocated:
/// N from `--features`/`--importance`/`--density`, and the number of instances.
struct Sizes {
    importance: ValueSpec,
    density: ValueSpec,
    n: usize,
    instances: usize,
}

impl Sizes {
    fn of(a: &Flags) -> anyhow::Result<Sizes> {
        let importance = ValueSpec::parse("--importance", &a.importance)?;
        let density = ValueSpec::parse("--density", a.density.as_deref().unwrap_or("1"))?;
        let n = feature_count(
            a.features,
            &[("--importance", &importance), ("--density", &density)],
        )?;
        let instances = match &a.instances_density {
            Some(s) => parse_logspace("--instances-density", s)?.len(),
            None => 1,
        };
        Ok(Sizes {
            importance,
            density,
            n,
            instances,
        })
    }

    /// The importances and one density vector per instance.
    fn expand(&self, a: &Flags) -> anyhow::Result<(Vec<f64>, Vec<Vec<f64>>)> {
        let n = self.n;
        let importance = self.importance.expand("--importance", n)?;
        let density_sets = match &a.instances_density {
            Some(s) => parse_logspace("--instances-density", s)?
                .into_iter()
                .map(|p| vec![p; n])
                .collect(),
            None => vec![self.density.expand("--density", n)?],
        };
        Ok((importance, density_sets))
    }
}

fn parse_init(s: &str) -> anyhow::Result<Init> {
    let s = s.trim();
    let init = match s {
        "xavier" => Init::Xavier,
        "notebook" => Init::Notebook { instances: 1 },
        _ => match s.strip_prefix("normal:").map(str::parse::<f64>) {
            Some(Ok(std)) => Init::Normal { std },
            _ => {
                return Err(usage(format!(
                    "--init: expected xavier, notebook or normal:STD, got '{s}'"
                )));
            }
        },
    };
    init.validate()?;
    Ok(init)
}

/// Features with ‖Wᵢ‖ > 0.5, and of those the ones with superposition score
/// Σ_{j≠i} (Ŵᵢ·Wⱼ)² > 0.1 (spec (E8); the reference script's counts).
fn represented_superposed(w: &DMatrix<f64>) -> (usize, usize) {
    let g = w.tr_mul(w);
    let n = w.ncols();
    let mut rep = 0;
    let mut sup = 0;
    for i in 0..n {
        let norm = g[(i, i)].sqrt();
        if norm > 0.5 {
            rep += 1;
            let score: f64 = (0..n)
                .filter(|&j| j != i)
                .map(|j| (g[(i, j)] / norm).powi(2))
                .sum();
            if score > 0.1 {
                sup += 1;
            }
        }
    }
    (rep, sup)
}

fn density_label(d: &[f64]) -> String {
    match d.first() {
        Some(&p0) if d.iter().all(|&p| (p - p0).abs() <= 1e-15 * p0) => num(p0),
        _ => "per-feature".into(),
    }
}

fn table_text(a: &Flags, exact: bool, reports: &[Report]) -> String {
    let neuron = a.model.trim() == Model::TmsNeuron.name();
    let loss_head = if exact {
        "loss (Q8)"
    } else if a.model.starts_with("quadratic") {
        "loss"
    } else {
        "loss (mean)"
    };
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let c = capacities(&r.w);
            let (rep, sup) = represented_superposed(&r.w);
            let mut row = vec![
                density_label(&r.densities),
                r.seed.to_string(),
                num(r.loss),
                format!("{:.4}", c.iter().sum::<f64>()),
                rep.to_string(),
                sup.to_string(),
            ];
            if neuron {
                let k = NeuronCounts::of(&neurons(&r.w, MONO_TAU));
                row.push(format!("{}/{}/{}", k.monosemantic, k.polysemantic, k.dead));
            }
            row.push(
                c.iter()
                    .map(|x| format!("{x:.3}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            row
        })
        .collect();
    let mut s = format!(
        "polycap train --model {}{} (density p = 1 − S; capacities Cᵢ by (C1))\n",
        a.model.trim(),
        zoo_label(a)
    );
    let mut head = vec![
        "density p",
        "seed",
        loss_head,
        "ΣC",
        "represented",
        "superposed",
    ];
    if neuron {
        head.push("neurons mono/poly/dead");
    }
    head.push("capacities C₁…C_N");
    s.push_str(&table(&head, &rows));
    s.push_str(
        "represented: features with ‖Wᵢ‖ > 0.5; superposed: represented with \
         Σ_{j≠i} (Ŵᵢ·Wⱼ)² > 0.1 (E8)\n",
    );
    if neuron {
        s.push_str(
            "neurons (rows of W): monosemantic if max_i |W_ri|/‖W_r‖ ≥ 0.9, dead if \
             ‖W_r‖ < 1e-3·max ‖W_r′‖ (Z3)\n",
        );
    }
    if a.pairs.is_some() {
        s.push_str(
            "pairs (Z4)–(Z6): p is the per-feature density; an anticorrelated pair is active \
             with probability 2p ([E]'s set density)\n",
        );
    }
    s
}

/// ` --hidden H --pairs P` as given (empty when neither is).
fn zoo_label(a: &Flags) -> String {
    let mut s = String::new();
    if let Some(h) = &a.hidden {
        s += &format!(" --hidden {}", h.trim());
    }
    if let Some(p) = &a.pairs {
        s += &format!(" --pairs {}", p.trim());
    }
    s
}

/// The neurons of W (Z3) as JSON, features numbered from 1.
fn neurons_json(w: &DMatrix<f64>) -> Value {
    let view = neurons(w, MONO_TAU);
    let k = NeuronCounts::of(&view);
    json!({
        "tau": MONO_TAU,
        "monosemantic": k.monosemantic,
        "polysemantic": k.polysemantic,
        "dead": k.dead,
        "per_neuron": view.iter().map(|v| json!({
            "mono": v.mono,
            "top_feature": v.top + 1,
            "features": v.features,
            "dead": v.dead,
            "monosemantic": v.monosemantic,
        })).collect::<Vec<_>>(),
    })
}

fn json_text(
    a: &Flags,
    model: Model,
    exact: bool,
    n: usize,
    reports: &[Report],
) -> anyhow::Result<String> {
    let instances: Vec<Value> = reports
        .iter()
        .map(|r| {
            let c = capacities(&r.w);
            let (rep, sup) = represented_superposed(&r.w);
            let sq: Vec<f64> = r.w.column_iter().map(|c| c.norm_squared()).collect();
            let rows: Vec<Vec<f64>> =
                r.w.row_iter()
                    .map(|row| row.iter().copied().collect())
                    .collect();
            json!({
                "density": r.densities.first().copied().unwrap_or(f64::NAN),
                "densities": r.densities,
                "importance": r.importance,
                "seed": r.seed,
                "loss": r.loss,
                "exact_loss": r.exact_loss,
                "capacity": c,
                "total_capacity": c.iter().sum::<f64>(),
                "sq_norm": sq,
                "represented": rep,
                "superposed": sup,
                "wall_seconds": r.wall,
                "w": rows,
                "bias": r.bias,
                "loss_curve": r.curve,
                "hidden_params": r.hidden_params,
                "neurons": (model == Model::TmsNeuron).then(|| neurons_json(&r.w)),
            })
        })
        .collect();
    let normalisation = if exact {
        "exact expected loss (Q8) at the optimal bias"
    } else if model.is_quadratic() {
        "mean over the evaluation batch of (ỹ − y)²"
    } else {
        "mean over the evaluation batch and features of I·(x − x′)²"
    };
    let v = json!({
        "model": a.model.trim(),
        "features": n,
        "dims": a.dims,
        "input": if model.is_quadratic() { a.input.as_deref().unwrap_or("uniform").trim().to_string() } else { "unit-uniform (E2)".to_string() },
        "seeds": a.seeds,
        "loss_normalisation": normalisation,
        "w_layout": "D×N row-major: w[r][i] is row r, feature i",
        "hidden": (model == Model::TmsNeuron).then(|| a.hidden.as_deref().unwrap_or("relu").trim().to_string()),
        "pairs": a.pairs.as_deref().map(str::trim),
        "index_base": 1,
        "instances": instances,
    });
    Ok(serde_json::to_string_pretty(&v)? + "\n")
}

/// One CSV row per instance and feature (instances and features numbered from 1).
fn csv(reports: &[Report]) -> anyhow::Result<String> {
    let mut rows = Vec::new();
    for (k, r) in reports.iter().enumerate() {
        let c = capacities(&r.w);
        for (i, (col, &ci)) in r.w.column_iter().zip(&c).enumerate() {
            rows.push(vec![
                (k + 1).to_string(),
                r.densities.get(i).map(f64::to_string).unwrap_or_default(),
                r.seed.to_string(),
                r.loss.to_string(),
                (i + 1).to_string(),
                r.importance[i].to_string(),
                ci.to_string(),
                col.norm_squared().to_string(),
            ]);
        }
    }
    csv_text(
        &[
            "instance",
            "density",
            "seed",
            "loss",
            "feature",
            "importance",
            "capacity",
            "sq_norm",
        ],
        &rows,
    )
}
