//! `polycap train`: train the toy models over a sweep of instances, several seeds each,
//! keep the best seed, and report per-feature capacities (computed here with
//! `theory::capacity`, since capacity is a theory quantity).

use std::path::PathBuf;

use anyhow::Context;
use nalgebra::DMatrix;
use polycap::base::{FeatureSet, Magnitude};
use polycap::theory::capacity::capacities;
use polycap::theory::quadratic::ExpectedLoss;
use polycap::training::{
    ExactConfig, ExactTrainer, Init, Model, Optimizer, Run, Schedule, TrainConfig, Trainer, best_by,
};
use serde_json::{Value, json};

use polycap::io::run::TrainedInstance;

use super::output::{Format, emit, num, progress, table, usage};
use super::save;
use super::spec::{ValueSpec, feature_count, parse_logspace};

/// Flags of `polycap train` (boxed: the subcommand enum stays small).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    flags: Box<Flags>,
}

/// The flags themselves.
#[derive(Debug, clap::Args)]
struct Flags {
    /// Model: quadratic, quadratic-exact, quadratic-relu, quadratic-gelu, tms-relu, tms-gelu,
    /// tms-square, linear.
    #[arg(long)]
    model: String,
    /// Number of features N (or implied by a list SPEC).
    #[arg(long)]
    features: Option<usize>,
    /// Embedding dimension D.
    #[arg(long)]
    dims: usize,
    /// Importances: SPEC (`0.5,1,1`, `geom:R`, `const:X`, `first:V`).
    #[arg(long, default_value = "1")]
    importance: String,
    /// Densities p = 1 − S per feature: SPEC.
    #[arg(long, default_value = "1")]
    density: String,
    /// Magnitude of the quadratic models' inputs: uniform, gaussian, laplace, rademacher,
    /// student-t:NU (the autoencoders always draw U[0, 1), spec (E2)).
    #[arg(long, default_value = "uniform")]
    input: String,
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
    /// Optimisation steps (default per model: T3 10 000, T4 20 000, T1 10 000).
    #[arg(long)]
    steps: Option<usize>,
    /// Batch size (default: sized by density for the quadratic family, see --active; 1024
    /// autoencoders).
    #[arg(long)]
    batch: Option<usize>,
    /// Quadratic family: expected active entries per feature and step, m; the batch is
    /// B = min(max(⌈m / p_min⌉, m), 2¹⁸) (default 256; excludes --batch).
    #[arg(long)]
    active: Option<usize>,
    /// Learning rate (default: 1e-2 quadratic, 1e-3 autoencoders).
    #[arg(long)]
    lr: Option<f64>,
    /// Optimiser: adam, adamw, sgd.
    #[arg(long, default_value = "adam")]
    optimizer: String,
    /// Decoupled weight decay of adamw.
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Schedule: constant, cosine, warmup:N (default: cosine quadratic, constant autoencoders).
    #[arg(long)]
    schedule: Option<String>,
    /// Initialisation: xavier, notebook, normal:STD (default: normal:0.3 quadratic, xavier).
    #[arg(long)]
    init: Option<String>,
    /// Fresh samples for the evaluation loss.
    #[arg(long, default_value_t = 65_536)]
    eval_batch: usize,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Output format (table or json).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the output to this file (atomically) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also save the trained weights to FILE (.safetensors or .npz): W as [instances,
    /// features, hidden], b_final, losses, and the settings as metadata.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Also write the trained world as an SAE synthetic-model folder (synthetic_model_config.json
    /// + synthetic_model.safetensors); several instances go to DIR/instance-K (K from 0).
    #[arg(long, value_name = "DIR")]
    export_synthetic: Option<PathBuf>,
}

/// One reported instance.
struct Report {
    densities: Vec<f64>,
    importance: Vec<f64>,
    seed: u64,
    loss: f64,
    exact_loss: Option<f64>,
    w: DMatrix<f64>,
    bias: Vec<f64>,
    curve: Vec<(usize, f64)>,
    wall: f64,
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

/// Runs `polycap train`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let a = *args.flags;
    let exact = a.model.trim() == "quadratic-exact";
    let model = if exact {
        Model::Quadratic
    } else {
        Model::parse(&a.model).map_err(|_| {
            usage(format!(
                "--model: unknown model '{}' (expected quadratic, quadratic-exact, quadratic-relu, quadratic-gelu, tms-relu, tms-gelu, tms-square or linear)",
                a.model
            ))
        })?
    };
    if a.format == Format::Csv {
        return Err(usage("--format: train writes table or json, not csv"));
    }
    if a.dims == 0 {
        return Err(usage("--dims must be ≥ 1, got 0"));
    }
    if a.seeds == 0 {
        return Err(usage("--seeds must be ≥ 1, got 0"));
    }
    save::check_path(a.save.as_deref())?;
    let imp_spec = ValueSpec::parse("--importance", &a.importance)?;
    let den_spec = ValueSpec::parse("--density", &a.density)?;
    let n = feature_count(
        a.features,
        &[("--importance", &imp_spec), ("--density", &den_spec)],
    )?;
    let importance = imp_spec.expand("--importance", n)?;
    let magnitude = Magnitude::parse(&a.input)?;
    let density_sets: Vec<Vec<f64>> = match &a.instances_density {
        Some(s) => parse_logspace("--instances-density", s)?
            .into_iter()
            .map(|p| vec![p; n])
            .collect(),
        None => vec![den_spec.expand("--density", n)?],
    };
    let instances = density_sets
        .iter()
        .map(|d| FeatureSet::from_densities(importance.clone(), d, magnitude))
        .collect::<polycap::base::Result<Vec<_>>>()?;

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .context("cannot start the thread pool")?;
    let bar = progress((instances.len() * a.seeds) as u64, "training");
    let reports = if exact {
        pool.install(|| train_exact(&a, &instances, &bar))?
    } else {
        pool.install(|| train_sampled(&a, model, &instances, &bar))?
    };
    bar.finish_and_clear();

    if a.save.is_some() || a.export_synthetic.is_some() {
        let trained: Vec<TrainedInstance> = reports.iter().map(Report::to_trained).collect();
        let settings = json!({
            "model": a.model.trim(), "features": n, "dims": a.dims, "input": a.input.trim(),
            "seeds": a.seeds, "seed": a.seed, "steps": a.steps, "batch": a.batch, "active": a.active, "lr": a.lr,
            "optimizer": a.optimizer.trim(), "weight_decay": a.weight_decay,
            "schedule": a.schedule, "init": a.init, "eval_batch": a.eval_batch,
            "defaults": "null values are the model's defaults (polycap train --help)",
        });
        save::write(&a.save, &a.export_synthetic, &trained, model, &settings)?;
    }

    let text = match a.format {
        Format::Json => json_text(&a, model, exact, n, &reports)?,
        _ => table_text(&a, exact, &reports),
    };
    emit(a.out.as_deref(), &text)
}

fn train_exact(
    a: &Flags,
    instances: &[FeatureSet],
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<Report>> {
    let mut cfg = ExactConfig::default();
    if let Some(s) = a.steps {
        cfg.steps = s;
    }
    if let Some(lr) = a.lr {
        cfg.lr = lr;
    }
    cfg.optimizer = Optimizer::parse(&a.optimizer, a.weight_decay)?;
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
    for f in instances {
        let obj = ExpectedLoss::new(f, a.dims)?;
        let r = trainer.train_best(&obj, a.seeds, a.seed)?;
        bar.inc(a.seeds as u64);
        out.push(Report {
            densities: f.densities().unwrap_or_default(),
            importance: f.importance().to_vec(),
            seed: r.seed,
            loss: r.loss,
            exact_loss: Some(obj.loss(&r.w)),
            bias: vec![obj.optimal_bias(&r.w)],
            w: r.w,
            curve: r.loss_curve,
            wall: r.wall_seconds,
        });
    }
    Ok(out)
}

fn train_sampled(
    a: &Flags,
    model: Model,
    instances: &[FeatureSet],
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<Report>> {
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
    cfg.optimizer = Optimizer::parse(&a.optimizer, a.weight_decay)?;
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
    let trainer = Trainer::new(model, a.dims, cfg)?;
    let runs = trainer.sweep(instances, a.seeds, a.seed, &|| bar.inc(1))?;
    let mut out = Vec::new();
    for (f, seeds) in instances.iter().zip(&runs) {
        // The Redwood model has an exact loss (Q8): select by it (spec (T3)); the others
        // by the evaluation loss.
        let obj = if model == Model::Quadratic {
            Some(ExpectedLoss::new(f, a.dims)?)
        } else {
            None
        };
        let best: &Run = match &obj {
            Some(o) => best_by(seeds, |r| o.loss(&r.w)),
            None => best_by(seeds, |r| r.loss),
        }
        .context("invariant: at least one seed")?;
        out.push(Report {
            densities: f.densities().unwrap_or_default(),
            importance: f.importance().to_vec(),
            seed: best.seed,
            loss: best.loss,
            exact_loss: obj.as_ref().map(|o| o.loss(&best.w)),
            w: best.w.clone(),
            bias: best.bias.clone(),
            curve: best.loss_curve.clone(),
            wall: best.wall_seconds,
        });
    }
    Ok(out)
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
            vec![
                density_label(&r.densities),
                r.seed.to_string(),
                num(r.loss),
                format!("{:.4}", c.iter().sum::<f64>()),
                rep.to_string(),
                sup.to_string(),
                c.iter()
                    .map(|x| format!("{x:.3}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    let mut s = format!(
        "polycap train --model {} (density p = 1 − S; capacities Cᵢ by (C1))\n",
        a.model
    );
    s.push_str(&table(
        &[
            "density p",
            "seed",
            loss_head,
            "ΣC",
            "represented",
            "superposed",
            "capacities C₁…C_N",
        ],
        &rows,
    ));
    s
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
        "input": if model.is_quadratic() { a.input.trim().to_string() } else { "unit-uniform (E2)".to_string() },
        "seeds": a.seeds,
        "loss_normalisation": normalisation,
        "w_layout": "D×N row-major: w[r][i] is row r, feature i",
        "instances": instances,
    });
    Ok(serde_json::to_string_pretty(&v)? + "\n")
}
