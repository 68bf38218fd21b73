//! `polycap train --model abs` (computation in superposition (Z10)) and `polycap train
//! --dataset T` (finite data, memorisation and double descent (Z14)–(Z18)).
//!
//! The flags are those of `polycap train`; this module checks the ones that apply, trains,
//! and reports the read-outs of these models: neurons (Z3), computed features (Z12) and
//! motifs (Z13) for abs; train and test loss (Z16) and dimensionalities (Z18) for datasets.

use std::path::PathBuf;

use anyhow::Context;
use nalgebra::DMatrix;
use polycap::base::{FeatureSet, Magnitude, Shard, ShardResults, merge_shards, resources};
use polycap::theory::capacity::capacities;
use polycap::training::abs::{self, AbsConfig, AbsInit, AbsRun};
use polycap::training::finite::{self, FiniteConfig, FiniteRun};
use polycap::training::readout::{MONO_TAU, NeuronCounts, neurons};
use polycap::training::{Family, Hidden, Model, Optimizer, Schedule, best_by, guard};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::output::{Format, check_out, csv_text, emit, num, progress, table, usage};
use super::{DEFAULT_DECAY, Flags, Sizes, optimizer_name, parse_init};

/// Whether any --dataset flag is given.
pub(super) fn wants(a: &Flags) -> bool {
    a.dataset.is_some()
        || a.test_points.is_some()
        || a.data_seeds.is_some()
        || a.data_seed.is_some()
}

/// Runs `train` for the abs model or a finite dataset.
pub(super) fn run(a: &Flags, model: Model, exact: bool) -> anyhow::Result<()> {
    let shard = match &a.shard {
        Some(s) => Some(
            s.parse::<Shard>()
                .map_err(|_| usage(format!("--shard: expected i/N with 0 ≤ i < N, got '{s}'")))?,
        ),
        None => None,
    };
    // A shard always writes JSON (for `polycap train merge`); otherwise --out must match.
    if shard.is_none() {
        check_out(a.out.as_deref(), a.format)?;
    }
    if exact {
        return Err(usage(
            "--dataset does not apply to quadratic-exact: it trains on the exact expected loss (Q8)",
        ));
    }
    let dataset = match (a.dataset, model.family()) {
        (None, _) if wants(a) => {
            return Err(usage(
                "--test-points, --data-seeds and --data-seed only apply with --dataset T",
            ));
        }
        (Some(_), Family::Quadratic(_) | Family::Abs(_)) => {
            return Err(usage(format!(
                "--dataset applies to the autoencoders (tms-relu, tms-gelu, tms-square, linear), not {}",
                a.model.trim()
            )));
        }
        (Some(0), _) => return Err(usage("--dataset: T must be ≥ 1, got 0")),
        (t, _) => t,
    };
    for (given, flag) in [
        (a.save.is_some(), "--save"),
        (a.export_synthetic.is_some(), "--export-synthetic"),
        (dataset.is_some() && a.active.is_some(), "--active"),
        (a.input.is_some(), "--input"),
        (a.pairs.is_some(), "--pairs"),
        (dataset.is_some() && a.hidden.is_some(), "--hidden"),
        (
            dataset.is_some() && a.batch.is_some(),
            "--batch (--dataset trains full-batch)",
        ),
    ] {
        if given {
            return Err(usage(format!(
                "{flag} does not apply to {}",
                if dataset.is_some() {
                    "--dataset"
                } else {
                    "abs"
                }
            )));
        }
    }
    if a.dims == 0 {
        return Err(usage("--dims must be ≥ 1, got 0"));
    }
    if a.seeds == 0 {
        return Err(usage("--seeds must be ≥ 1, got 0"));
    }
    if a.density.is_some() && a.instances_density.is_some() {
        return Err(usage(
            "--density and --instances-density both set the densities: give one of them",
        ));
    }
    let default_opt = if dataset.is_some() { "adamw" } else { "adam" };
    let opt_name = a
        .optimizer
        .as_deref()
        .map_or(default_opt, |_| optimizer_name(a));
    if a.weight_decay.is_some() && opt_name != "adamw" {
        return Err(usage(format!(
            "--weight-decay only applies with --optimizer adamw, not {opt_name}"
        )));
    }
    let sizes = Sizes::of(a)?;
    let (n, count) = (sizes.n, sizes.instances);
    let data_seeds = a.data_seeds.unwrap_or(1);
    if data_seeds == 0 {
        return Err(usage("--data-seeds must be ≥ 1, got 0"));
    }
    let threads = resources::threads(a.threads)?;
    let (steps, batch, eval) = match dataset {
        Some(t) => (
            a.steps.unwrap_or(FiniteConfig::defaults(t).steps),
            t,
            a.test_points.unwrap_or(10_000),
        ),
        None => {
            let d = AbsConfig::default();
            (
                a.steps.unwrap_or(d.steps),
                a.batch.unwrap_or(d.batch),
                a.eval_batch,
            )
        }
    };
    if steps == 0 {
        return Err(usage("--steps must be ≥ 1, got 0"));
    }
    // Sizes before any per-feature vector (RN6 guard).
    guard::check_sweep(
        n,
        a.dims,
        steps,
        batch,
        eval,
        count.saturating_mul(a.seeds).saturating_mul(data_seeds),
        threads,
    )?;
    let (importance, density_sets) = sizes.expand(a)?;
    let instances = density_sets
        .iter()
        .map(|d| FeatureSet::from_densities(importance.clone(), d, Magnitude::Uniform))
        .collect::<polycap::base::Result<Vec<_>>>()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the thread pool")?;
    match (dataset, model.family()) {
        (Some(t), Family::Autoencoder(act)) => {
            let cfg = finite_config(a, t, instances.len())?;
            let indices: Vec<usize> = match shard {
                Some(s) => s.jobs(instances.len()).collect(),
                None => (0..instances.len()).collect(),
            };
            let bar = progress((indices.len() * a.seeds * data_seeds) as u64, "training");
            let runs = pool.install(|| {
                finite::sweep_indices(
                    act,
                    &instances,
                    &indices,
                    a.dims,
                    &cfg,
                    (a.seeds, a.seed),
                    (data_seeds, a.data_seed.unwrap_or(0)),
                    &|| bar.inc(1),
                )
            })?;
            bar.finish_and_clear();
            // Per instance (in `indices` order), its best run per data seed.
            let mut best = runs.chunks(data_seeds).zip(&indices).map(|(groups, &k)| {
                groups
                    .iter()
                    .map(|seeds| {
                        let r = best_by(seeds, |r| r.train_loss)
                            .context("invariant: at least one seed")?;
                        Ok(DataReport::new(density_sets[k].clone(), r.clone()))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()
            });
            if let Some(shard) = shard {
                let items = indices
                    .iter()
                    .map(|&k| Ok((k, best.next().context("invariant: one per index")??)))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let results = ShardResults::new(a, shard, instances.len(), items);
                let text = serde_json::to_string(&results).context("serialising the shard")? + "\n";
                return emit(a.out.as_deref(), &text);
            }
            let rows = best
                .collect::<anyhow::Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .map(DataReport::into_row)
                .collect::<Vec<_>>();
            emit(a.out.as_deref(), &dataset_text(a, t, &cfg, &rows)?)
        }
        (None, Family::Abs(_)) => {
            let mut cfg = AbsConfig {
                steps,
                batch,
                active_per_feature: a.active,
                eval_batch: eval,
                optimizer: Optimizer::parse(opt_name, a.weight_decay.unwrap_or(DEFAULT_DECAY))?,
                ..AbsConfig::default()
            };
            if let Some(s) = &a.schedule {
                cfg.schedule = Schedule::parse(s)?;
            }
            if let Some(lr) = a.lr {
                cfg.lr = lr;
            }
            if let Some(s) = &a.init {
                cfg.init = AbsInit::parse(s, instances.len())?;
            }
            cfg.positive_w2 = a.positive_w2;
            if let Some(s) = &a.hidden {
                let h = Hidden::parse(s).map_err(|e| usage(format!("--hidden: {e}")))?;
                h.validate(a.dims)
                    .map_err(|e| usage(format!("--hidden: {e}")))?;
                cfg.hidden = h;
            }
            let indices: Vec<usize> = match shard {
                Some(s) => s.jobs(instances.len()).collect(),
                None => (0..instances.len()).collect(),
            };
            let bar = progress((indices.len() * a.seeds) as u64, "training");
            let runs = pool.install(|| {
                abs::sweep_indices(&instances, &indices, a.dims, &cfg, a.seeds, a.seed, &|| {
                    bar.inc(1)
                })
            })?;
            bar.finish_and_clear();
            let best: Vec<(Vec<f64>, AbsRun)> = runs
                .into_iter()
                .zip(&indices)
                .map(|(seeds, &k)| {
                    let best =
                        best_by(&seeds, |r| r.loss).context("invariant: at least one seed")?;
                    Ok((density_sets[k].clone(), best.clone()))
                })
                .collect::<anyhow::Result<_>>()?;
            if let Some(shard) = shard {
                let items = indices
                    .into_iter()
                    .zip(best)
                    .map(|(k, (p, r))| (k, AbsReport::new(p, r)))
                    .collect();
                let results = ShardResults::new(a, shard, instances.len(), items);
                let text = serde_json::to_string(&results).context("serialising the shard")? + "\n";
                return emit(a.out.as_deref(), &text);
            }
            emit(a.out.as_deref(), &abs_text(a, &best)?)
        }
        _ => Err(usage(format!(
            "--dataset applies to the autoencoders, not {}",
            a.model.trim()
        ))),
    }
}

/// One abs instance's best run as a shard stores it: exact through JSON.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct AbsReport {
    density: Vec<f64>,
    #[serde(with = "super::matrix")]
    w1: DMatrix<f64>,
    #[serde(with = "super::matrix")]
    w2: DMatrix<f64>,
    bias: Vec<f64>,
    hidden: String,
    hidden_params: Vec<f64>,
    loss: f64,
    loss_curve: Vec<(usize, f64)>,
    wall_seconds: f64,
    seed: u64,
}

impl AbsReport {
    fn new(density: Vec<f64>, r: AbsRun) -> Self {
        AbsReport {
            density,
            w1: r.w1,
            w2: r.w2,
            bias: r.bias,
            hidden: r.hidden.name().to_string(),
            hidden_params: r.hidden_params,
            loss: r.loss,
            loss_curve: r.loss_curve,
            wall_seconds: r.wall_seconds,
            seed: r.seed,
        }
    }

    fn into_run(self) -> anyhow::Result<(Vec<f64>, AbsRun)> {
        let hidden = Hidden::parse(&self.hidden)?;
        Ok((
            self.density,
            AbsRun {
                w1: self.w1,
                w2: self.w2,
                bias: self.bias,
                hidden,
                hidden_params: self.hidden_params,
                loss: self.loss,
                loss_curve: self.loss_curve,
                wall_seconds: self.wall_seconds,
                seed: self.seed,
            },
        ))
    }
}

/// The shard files of `train merge`, each parsed as `ShardResults<Flags, R>`; `what` names the
/// kind in the one-line usage error ("an abs", "a --dataset").
fn parse_shards<R: serde::de::DeserializeOwned>(
    texts: &[(&PathBuf, String)],
    what: &str,
) -> anyhow::Result<Vec<ShardResults<Flags, R>>> {
    texts
        .iter()
        .map(|(path, text)| {
            serde_json::from_str(text)
                .map_err(|e| usage(format!("{}: not {what} train shard: {e}", path.display())))
        })
        .collect()
}

/// `polycap train merge` of abs shards: the output of the unsharded run.
pub(super) fn merge_abs(
    texts: &[(&PathBuf, String)],
    format: Format,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let shards: Vec<ShardResults<Flags, AbsReport>> = parse_shards(texts, "an abs")?;
    let (mut a, reports) = merge_shards(shards)?;
    a.format = format;
    a.out = out;
    let runs = reports
        .into_iter()
        .map(AbsReport::into_run)
        .collect::<anyhow::Result<Vec<_>>>()?;
    emit(a.out.as_deref(), &abs_text(&a, &runs)?)
}

/// The finite-data training the flags ask for, on T points and `instances` instances (the
/// joint Xavier init of `--init notebook` depends on it). `train merge` rebuilds it from a
/// shard's flags.
fn finite_config(a: &Flags, t: usize, instances: usize) -> anyhow::Result<FiniteConfig> {
    let steps = a.steps.unwrap_or(FiniteConfig::defaults(t).steps);
    let mut cfg = FiniteConfig::with_steps(t, steps);
    cfg.test_points = a.test_points.unwrap_or(10_000);
    let opt_name = a
        .optimizer
        .as_deref()
        .map_or("adamw", |_| optimizer_name(a));
    cfg.optimizer = Optimizer::parse(opt_name, a.weight_decay.unwrap_or(DEFAULT_DECAY))?;
    if let Some(s) = &a.schedule {
        cfg.schedule = Schedule::parse(s)?;
    }
    if let Some(lr) = a.lr {
        cfg.lr = lr;
    }
    if let Some(s) = &a.init {
        cfg.init = match parse_init(s)? {
            polycap::training::Init::Notebook { .. } => {
                polycap::training::Init::Notebook { instances }
            }
            other => other,
        };
    }
    Ok(cfg)
}

/// One (instance, data seed)'s best finite-data run as a shard stores it: exact through JSON.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct DataReport {
    density: Vec<f64>,
    #[serde(with = "super::matrix")]
    w: DMatrix<f64>,
    bias: Vec<f64>,
    #[serde(with = "super::matrix")]
    hidden: DMatrix<f64>,
    train_loss: f64,
    test_loss: f64,
    loss_curve: Vec<(usize, f64)>,
    wall_seconds: f64,
    seed: u64,
    data_seed: u64,
}

impl DataReport {
    fn new(density: Vec<f64>, r: FiniteRun) -> Self {
        DataReport {
            density,
            w: r.w,
            bias: r.bias,
            hidden: r.hidden,
            train_loss: r.train_loss,
            test_loss: r.test_loss,
            loss_curve: r.loss_curve,
            wall_seconds: r.wall_seconds,
            seed: r.seed,
            data_seed: r.data_seed,
        }
    }

    fn into_row(self) -> DataRow {
        let run = FiniteRun {
            w: self.w,
            bias: self.bias,
            hidden: self.hidden,
            train_loss: self.train_loss,
            test_loss: self.test_loss,
            loss_curve: self.loss_curve,
            wall_seconds: self.wall_seconds,
            seed: self.seed,
            data_seed: self.data_seed,
        };
        DataRow::new(&self.density, run)
    }
}

/// `polycap train merge` of `--dataset` shards: the output of the unsharded run, with the
/// training configuration rebuilt from the shards' flags.
pub(super) fn merge_dataset(
    texts: &[(&PathBuf, String)],
    format: Format,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let shards: Vec<ShardResults<Flags, Vec<DataReport>>> = parse_shards(texts, "a --dataset")?;
    let total = shards.first().map_or(0, |s| s.total);
    let (mut a, reports) = merge_shards(shards)?;
    a.format = format;
    a.out = out;
    let t = a
        .dataset
        .ok_or_else(|| usage("the shards are not --dataset runs"))?;
    let cfg = finite_config(&a, t, total)?;
    let rows: Vec<DataRow> = reports
        .into_iter()
        .flatten()
        .map(DataReport::into_row)
        .collect();
    emit(a.out.as_deref(), &dataset_text(&a, t, &cfg, &rows)?)
}

/// The read-outs of one finite-data model.
struct DataRow {
    density: Vec<f64>,
    run: FiniteRun,
    /// D_f per feature: (C1) of the columns of W (Z18).
    d_feature: Vec<f64>,
    /// D_X per training point: (C1) of the columns of H = WX (Z18).
    d_point: Vec<f64>,
}

impl DataRow {
    fn new(density: &[f64], run: FiniteRun) -> Self {
        let d_feature = capacities(&run.w);
        let d_point = capacities(&run.hidden);
        DataRow {
            density: density.to_vec(),
            run,
            d_feature,
            d_point,
        }
    }
}

fn frobenius(w: &DMatrix<f64>) -> f64 {
    w.norm()
}

fn dataset_text(
    a: &Flags,
    t: usize,
    cfg: &FiniteConfig,
    rows: &[DataRow],
) -> anyhow::Result<String> {
    let data_seeds = a.data_seeds.unwrap_or(1);
    match a.format {
        Format::Table => {
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let mut top = r.d_feature.clone();
                    top.sort_by(|x, y| y.total_cmp(x));
                    let dx_max = r.d_point.iter().copied().fold(0.0, f64::max);
                    let dx_mean = r.d_point.iter().sum::<f64>() / r.d_point.len().max(1) as f64;
                    vec![
                        num(r.density.first().copied().unwrap_or(f64::NAN)),
                        r.run.data_seed.to_string(),
                        r.run.seed.to_string(),
                        num(r.run.train_loss),
                        num(r.run.test_loss),
                        format!("{:.3}", frobenius(&r.run.w)),
                        format!(
                            "{:.3}",
                            r.run.bias.iter().map(|b| b * b).sum::<f64>().sqrt()
                        ),
                        format!("{dx_mean:.3} / {dx_max:.3}"),
                        top.iter()
                            .take(6)
                            .map(|x| format!("{x:.3}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ]
                })
                .collect();
            let mut s = format!(
                "polycap train --model {} --dataset {t} (T = {t} fixed points (Z14), {} full-batch steps, {}, best of {} inits by L_train per data seed; density p = 1 − S)\n",
                a.model.trim(),
                cfg.steps,
                cfg.optimizer.name(),
                a.seeds
            );
            s.push_str(&table(
                &[
                    "density p",
                    "data seed",
                    "seed",
                    "L_train",
                    "L_test",
                    "‖W‖_F",
                    "‖b‖",
                    "D_X mean / max",
                    "largest D_f",
                ],
                &body,
            ));
            s.push_str(&format!(
                "L = (1/T) Σₜ Σᵢ Iᵢ(Xᵢₜ − x′ᵢₜ)² (Z16), L_test on {} fresh points; D_X, D_f: (C1) of the columns of WX and W (Z18); {data_seeds} data seed(s) per density\n",
                cfg.test_points
            ));
            Ok(s)
        }
        Format::Json => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    json!({
                        "densities": r.density,
                        "data_seed": r.run.data_seed,
                        "seed": r.run.seed,
                        "train_loss": r.run.train_loss,
                        "test_loss": r.run.test_loss,
                        "w_frobenius": frobenius(&r.run.w),
                        "feature_dimensionality": r.d_feature,
                        "point_dimensionality": r.d_point,
                        "w": r.run.w.row_iter().map(|row| row.iter().copied().collect::<Vec<_>>()).collect::<Vec<_>>(),
                        "bias": r.run.bias,
                        "hidden": r.run.hidden.row_iter().map(|row| row.iter().copied().collect::<Vec<_>>()).collect::<Vec<_>>(),
                        "loss_curve": r.run.loss_curve,
                        "wall_seconds": r.run.wall_seconds,
                    })
                })
                .collect();
            let v = json!({
                "model": a.model.trim(),
                "dims": a.dims,
                "points": t,
                "test_points": cfg.test_points,
                "steps": cfg.steps,
                "optimizer": cfg.optimizer.name(),
                "schedule": cfg.schedule.name(),
                "loss_normalisation": "(1/T) Σ_t Σ_i I_i (X_it − x′_it)² (Z16)",
                "w_layout": "D×N row-major: w[r][i] is row r, feature i; hidden[r][t] is row r, point t",
                "instances": items,
            });
            Ok(serde_json::to_string_pretty(&v)? + "\n")
        }
        Format::Csv => {
            let mut out = Vec::new();
            for (k, r) in rows.iter().enumerate() {
                let common = |kind: &str, i: usize, dim: f64, norm: f64| {
                    vec![
                        (k + 1).to_string(),
                        r.run.data_seed.to_string(),
                        r.run.train_loss.to_string(),
                        r.run.test_loss.to_string(),
                        kind.to_string(),
                        (i + 1).to_string(),
                        dim.to_string(),
                        norm.to_string(),
                    ]
                };
                for (i, (c, col)) in r.d_feature.iter().zip(r.run.w.column_iter()).enumerate() {
                    out.push(common("feature", i, *c, col.norm()));
                }
                for (i, (c, col)) in r.d_point.iter().zip(r.run.hidden.column_iter()).enumerate() {
                    out.push(common("point", i, *c, col.norm()));
                }
            }
            csv_text(
                &[
                    "instance",
                    "data_seed",
                    "train_loss",
                    "test_loss",
                    "kind",
                    "index",
                    "dimensionality",
                    "norm",
                ],
                &out,
            )
        }
    }
}

fn abs_text(a: &Flags, runs: &[(Vec<f64>, AbsRun)]) -> anyhow::Result<String> {
    match a.format {
        Format::Table => {
            let body: Vec<Vec<String>> = runs
                .iter()
                .map(|(p, r)| {
                    let nr = neurons(&r.w1, MONO_TAU);
                    let counts = NeuronCounts::of(&nr);
                    let computed = r.computed();
                    let paired = (0..computed.len())
                        .filter(|&i| computed[i] && r.has_sign_pair(i, &nr))
                        .count();
                    vec![
                        num(p.first().copied().unwrap_or(f64::NAN)),
                        r.seed.to_string(),
                        num(r.loss),
                        counts.live.to_string(),
                        counts.monosemantic.to_string(),
                        format!("{:.3}", counts.mono_fraction()),
                        computed.iter().filter(|&&c| c).count().to_string(),
                        paired.to_string(),
                        r.motifs().len().to_string(),
                    ]
                })
                .collect();
            let mut s = format!(
                "polycap train --model abs --hidden {} (y′ = ReLU(W₂ σ(W₁x) + b) against |x| (Z10); density p = 1 − S)\n",
                runs.first().map_or("relu", |(_, r)| r.hidden.name())
            );
            s.push_str(&table(
                &[
                    "density p",
                    "seed",
                    "loss (mean)",
                    "live neurons",
                    "monosemantic",
                    "mono fraction",
                    "computed",
                    "with ± neurons",
                    "motifs",
                ],
                &body,
            ));
            s.push_str(&format!(
                "monosemantic: mono_r = max_i |W₁[r,i]|/‖W₁[r,:]‖ ≥ {} (Z3); computed: y′ᵢ(±eᵢ) ≥ {} (Z12); ± neurons: one neuron each side with dominant input i (Z12); motifs: (Z13)\n",
                MONO_TAU,
                abs::COMPUTED_AT
            ));
            Ok(s)
        }
        Format::Json => {
            let items: Vec<serde_json::Value> = runs
                .iter()
                .map(|(p, r)| {
                    let nr = neurons(&r.w1, MONO_TAU);
                    let counts = NeuronCounts::of(&nr);
                    let computed = r.computed();
                    json!({
                        "densities": p,
                        "seed": r.seed,
                        "loss": r.loss,
                        "mono": nr.iter().map(|q| q.mono).collect::<Vec<_>>(),
                        "dead": nr.iter().map(|q| q.dead).collect::<Vec<_>>(),
                        "dominant_feature": nr.iter().map(|q| q.top + 1).collect::<Vec<_>>(),
                        "monosemantic": counts.monosemantic,
                        "live": counts.live,
                        "responses": r.responses(),
                        "computed": computed,
                        "sign_pair": (0..computed.len()).map(|i| r.has_sign_pair(i, &nr)).collect::<Vec<_>>(),
                        "motifs": r.motifs().iter().map(|&(n, i, j)| [n + 1, i + 1, j + 1]).collect::<Vec<_>>(),
                        "w1": r.w1.row_iter().map(|row| row.iter().copied().collect::<Vec<_>>()).collect::<Vec<_>>(),
                        "w2": r.w2.row_iter().map(|row| row.iter().copied().collect::<Vec<_>>()).collect::<Vec<_>>(),
                        "bias": r.bias,
                        "loss_curve": r.loss_curve,
                        "wall_seconds": r.wall_seconds,
                    })
                })
                .collect();
            let v = json!({
                "model": "abs",
                "hidden": runs.first().map_or("relu", |(_, r)| r.hidden.name()),
                "positive_w2": a.positive_w2,
                "dims": a.dims,
                "index_base": 1,
                "loss_normalisation": "mean over the evaluation batch and features of I·(|x| − y′)²",
                "w_layout": "w1: D×N row-major (w1[r][i]: neuron r, feature i); w2: N×D (w2[i][r]); motifs: [neuron, strong feature i, weak feature j]",
                "instances": items,
            });
            Ok(serde_json::to_string_pretty(&v)? + "\n")
        }
        Format::Csv => {
            let mut out = Vec::new();
            for (k, (p, r)) in runs.iter().enumerate() {
                let nr = neurons(&r.w1, MONO_TAU);
                for (q, v) in nr.iter().enumerate() {
                    out.push(vec![
                        (k + 1).to_string(),
                        p.first().copied().unwrap_or(f64::NAN).to_string(),
                        r.loss.to_string(),
                        (q + 1).to_string(),
                        (v.top + 1).to_string(),
                        v.mono.to_string(),
                        v.dead.to_string(),
                    ]);
                }
            }
            csv_text(
                &[
                    "instance",
                    "density",
                    "loss",
                    "neuron",
                    "dominant_feature",
                    "mono",
                    "dead",
                ],
                &out,
            )
        }
    }
}
