//! \[E\] computation in superposition (spec §14.4): the |x| model (Z10) with N features and D
//! neurons, importance Iᵢ = rⁱ, one model per density p = 1 − S. Per model: W₁ as a heat map
//! (neurons as rows, each rescaled to max |W₁\[r,i\]| = 1, ordered by dominant feature), with the
//! monosemantic fraction (Z3), the computed features and their ± neuron pairs (Z12); and the
//! motif count (Z13) of a separate N = D = 10, p = 0.35 run (ARENA's motif run).
//!
//! Computation (jobs, data, CSV) is separate from drawing; `render` only draws [`Data`].

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::base::{Error, Result};
use crate::training::abs::{self, AbsConfig, AbsRun};
use crate::training::readout::{MONO_TAU, NeuronCounts, neurons};

use super::canvas::{Anchor, text_width, wrap};
use super::matrix_map::{diverging, draw_matrix};
use super::panel::fmt_value;
use super::parts::Draw;
use super::parts::{area, canvas, page, table, uniform_features};
use super::style::Style;
use super::{Figure, Parameters, cell};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Features N of the density sweep.
    pub features: usize,
    /// Neurons D of the density sweep.
    pub dims: usize,
    /// Importance ratio r: Iᵢ = rⁱ (i = 0, 1, …).
    pub importance_ratio: f64,
    /// Densities p, left to right.
    pub densities: Vec<f64>,
    /// Adam steps per model.
    pub steps: usize,
    /// Batch size; with `active` the smallest batch.
    pub batch: usize,
    /// Expected active entries m per feature and step: batch max(`batch`, ⌈m/p⌉) (ZB13).
    pub active: Option<usize>,
    /// Seeds per model (best by loss, (Z2)).
    pub seeds: usize,
    /// Seeds of the motif run (N = D = 10, p = 0.35); each is counted.
    pub motif_seeds: usize,
    /// W₂ drawn as |W₂| so that every output side starts alive (ZB12); false is ARENA's init.
    pub positive_w2: bool,
    /// Which resolution this is.
    pub label: &'static str,
}

impl Parameters for Params {
    /// The default of `reproduce`: the same models and training at four densities
    /// {1, 0.1, 0.01, 0.001}, one seed each.
    fn paper() -> Self {
        Params {
            densities: vec![1.0, 0.1, 0.01, 0.001],
            label: "default",
            ..Params::paper_resolution()
        }
    }

    /// ARENA's published settings (spec §14.4): N = 100, D = 40, Iᵢ = 0.8ⁱ,
    /// p ∈ {1, .3, .1, .03, .01, .003, .001}, batch 1024, 5 000 steps, one seed; motif run
    /// K = 6. polycap's choices: W₂ starts positive (ZB12), which removes the dead-side lottery
    /// of ARENA's init, and the batch grows to ⌈8/p⌉ where that exceeds 1024 (ZB13), so the
    /// rare features' gradients hold 8 samples, not 1 (derivations/zoo-b.md).
    fn paper_resolution() -> Self {
        Params {
            features: 100,
            dims: 40,
            importance_ratio: 0.8,
            densities: vec![1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001],
            steps: 5_000,
            batch: 1024,
            active: Some(8),
            seeds: 1,
            motif_seeds: 6,
            positive_w2: true,
            label: "paper",
        }
    }

    /// Quick: N = 20, D = 10, densities 1 and 0.01, 300 steps of 64, 2 motif seeds.
    fn quick() -> Self {
        Params {
            features: 20,
            dims: 10,
            densities: vec![1.0, 0.01],
            steps: 300,
            batch: 64,
            motif_seeds: 2,
            label: "quick",
            ..Params::paper_resolution()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        let p: Vec<String> = self.densities.iter().map(|x| fmt_value(*x)).collect();
        vec![
            (
                "model".into(),
                format!(
                    "y′ = ReLU(W₂ ReLU(W₁x) + b) against |x| (Z10), N = {} features, D = {} neurons, importance {}^i",
                    self.features,
                    self.dims,
                    fmt_value(self.importance_ratio)
                ),
            ),
            ("density p = 1 − S".into(), p.join(", ")),
            (
                "training".into(),
                format!(
                    "Adam η = 1e-3, batch {}, {} steps, joint Kaiming-uniform init (Z11){}, best of {} seed(s) ({} resolution)",
                    match self.active {
                        Some(m) => format!("max({}, ⌈{m}/p⌉) (ZB13)", self.batch),
                        None => self.batch.to_string(),
                    },
                    self.steps,
                    if self.positive_w2 {
                        " with W₂ ≥ 0 (ZB12)"
                    } else {
                        ""
                    },
                    self.seeds,
                    self.label
                ),
            ),
            (
                "motif run".into(),
                format!(
                    "N = D = 10, p = 0.35, same training, {} seeds, motifs counted by (Z13)",
                    self.motif_seeds
                ),
            ),
        ]
    }
}

impl Params {
    fn config(&self) -> AbsConfig {
        AbsConfig {
            steps: self.steps,
            batch: self.batch,
            active_per_feature: self.active,
            eval_batch: 8192,
            positive_w2: self.positive_w2,
            ..AbsConfig::default()
        }
    }
}

/// One trained model's read-outs, as a job result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Density p.
    pub density: f64,
    /// Seed.
    pub seed: u64,
    /// Evaluation loss.
    pub loss: f64,
    /// W₁ rows (neurons), each N entries.
    pub w1: Vec<Vec<f64>>,
    /// Live neurons.
    pub live: usize,
    /// Monosemantic live neurons (Z3).
    pub monosemantic: usize,
    /// Computed features (Z12).
    pub computed: usize,
    /// Computed features with a ± neuron pair (Z12).
    pub paired: usize,
    /// Motifs (Z13).
    pub motifs: usize,
}

impl Item {
    fn of(density: f64, r: &AbsRun) -> Self {
        let nr = neurons(&r.w1, MONO_TAU);
        let counts = NeuronCounts::of(&nr);
        let computed = r.computed();
        Item {
            density,
            seed: r.seed,
            loss: r.loss,
            w1: r
                .w1
                .row_iter()
                .map(|row| row.iter().copied().collect())
                .collect(),
            live: counts.live,
            monosemantic: counts.monosemantic,
            computed: computed.iter().filter(|&&c| c).count(),
            paired: (0..computed.len())
                .filter(|&i| computed[i] && r.has_sign_pair(i, &nr))
                .count(),
            motifs: r.motifs().len(),
        }
    }

    /// Monosemantic fraction of the live neurons.
    pub fn mono_fraction(&self) -> f64 {
        if self.live == 0 {
            0.0
        } else {
            self.monosemantic as f64 / self.live as f64
        }
    }
}

/// Computed data.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// One model per density.
    pub sweep: Vec<Item>,
    /// The motif run, one item per seed.
    pub motif_runs: Vec<Item>,
}

/// W₁ with each live neuron scaled to max |W₁\[r,i\]| = 1, rows ordered by dominant feature
/// then by mono_r (descending).
fn normalised(w1: &[Vec<f64>]) -> DMatrix<f64> {
    let d = w1.len();
    let n = w1.first().map_or(0, Vec::len);
    let m = DMatrix::from_fn(d, n, |r, i| w1[r][i]);
    let nr = neurons(&m, MONO_TAU);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| {
        (nr[a].dead, nr[a].top)
            .cmp(&(nr[b].dead, nr[b].top))
            .then(nr[b].mono.total_cmp(&nr[a].mono))
    });
    DMatrix::from_fn(d, n, |r, i| {
        let row = &w1[order[r]];
        let top = row.iter().fold(0.0f64, |a, x| a.max(x.abs()));
        if top > 0.0 { row[i] / top } else { 0.0 }
    })
}

/// The (Z12) checks of the density sweep, on the densest and the sparsest model: the
/// monosemantic fraction is ≥ [`DENSE_MONO`] at the densest p and higher than at the sparsest
/// p; more than D/2 features are computed at the sparsest p. `None` for an empty sweep.
pub fn checks(data: &Data) -> Option<Checks> {
    let dense = data
        .sweep
        .iter()
        .max_by(|a, b| a.density.total_cmp(&b.density))?;
    let sparse = data
        .sweep
        .iter()
        .min_by(|a, b| a.density.total_cmp(&b.density))?;
    Some(Checks {
        dense_density: dense.density,
        sparse_density: sparse.density,
        dense_mono: dense.mono_fraction() >= DENSE_MONO,
        mono_falls: dense.mono_fraction() > sparse.mono_fraction(),
        sparse_computed: 2 * sparse.computed > data.params.dims,
    })
}

/// (Z12): the monosemantic fraction the densest model must reach.
pub const DENSE_MONO: f64 = 0.8;

/// The verdicts of [`checks`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Checks {
    /// The densest p of the sweep.
    pub dense_density: f64,
    /// The sparsest p of the sweep.
    pub sparse_density: f64,
    /// Monosemantic fraction ≥ [`DENSE_MONO`] at the densest p.
    pub dense_mono: bool,
    /// Monosemantic fraction higher at the densest p than at the sparsest.
    pub mono_falls: bool,
    /// More than D/2 features computed at the sparsest p.
    pub sparse_computed: bool,
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "z12-abs-neurons";
    const SOURCE: &'static str =
        "[E] computation in superposition; spec §14.4, (Z10)–(Z13); polycap train --model abs";
    type Params = Params;
    type Item = Item;
    type Data = Data;

    fn jobs(params: &Params) -> usize {
        params.densities.len() + params.motif_seeds
    }

    // Job `k`: the model at density k (best of the seeds, stream index k), or motif seed
    // k − densities (stream index 0 of the motif run).
    fn job(params: &Params, k: usize) -> Result<Item> {
        let cfg = params.config();
        let nd = params.densities.len();
        if k < nd {
            let p = params.densities[k];
            let imp = (0..params.features)
                .map(|i| params.importance_ratio.powi(i as i32))
                .collect();
            let set = uniform_features(imp, p)?;
            let model = abs::AbsModel::new(&set, params.dims, cfg.hidden)?;
            let runs = (0..params.seeds as u64)
                .map(|s| model.train(&cfg, s, k as u64))
                .collect::<Result<Vec<_>>>()?;
            let best = crate::training::best_by(&runs, |r| r.loss)
                .ok_or_else(|| Error::Parameter("need at least 1 seed, got 0".into()))?;
            Ok(Item::of(p, best))
        } else {
            let imp = (0..10).map(|i| params.importance_ratio.powi(i)).collect();
            let set = uniform_features(imp, 0.35)?;
            let run = abs::AbsModel::new(&set, 10, cfg.hidden)?.train(&cfg, (k - nd) as u64, 0)?;
            Ok(Item::of(0.35, &run))
        }
    }

    fn assemble(params: &Params, mut items: Vec<Item>) -> Result<Data> {
        let motif_runs = items.split_off(params.densities.len());
        Ok(Data {
            params: params.clone(),
            sweep: items,
            motif_runs,
        })
    }

    // Title generated from the parameters, with the (Z12) verdicts.
    fn title(data: &Data) -> String {
        let p = &data.params;
        let checks = checks(data).map_or_else(String::new, |c| {
            format!(
                " (Z12): mono ≥ {} at p = {} {}, falling to p = {} {}; more than D/2 = {} computed at p = {} {}",
                DENSE_MONO,
                fmt_value(c.dense_density),
                verdict(c.dense_mono),
                fmt_value(c.sparse_density),
                verdict(c.mono_falls),
                p.dims / 2,
                fmt_value(c.sparse_density),
                verdict(c.sparse_computed)
            )
        });
        format!(
            "Computation in superposition: |x| with N = {} features on D = {} neurons, importance {}^{{i}} ({}){checks}",
            p.features,
            p.dims,
            fmt_value(p.importance_ratio),
            p.label
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, _, title_h, heading) = page(style, Self::title(data));
        let k = data.sweep.len().max(1);
        let gap = 8.0;
        let col_w = (width - 12.0 - gap * (k as f64 - 1.0)) / k as f64;
        let (n, d) = (data.params.features, data.params.dims);
        let map_h = col_w * d as f64 / n as f64 * 2.0;
        let top = title_h + ts * 3.8;
        let caption = format!(
            "Rows: the D neurons of W₁, each scaled to max |W₁[r,i]| = 1 and ordered by dominant feature; columns: features 1 … N (blue < 0 < red). mono: monosemantic live neurons (mono_r ≥ 0.9, (Z3)); computed: y′ᵢ(±eᵢ) ≥ ½, with a ± neuron pair (Z12). Motif run (N = D = 10, p = 0.35): motifs (Z13) per seed = {}.",
            data.motif_runs
                .iter()
                .map(|m| m.motifs.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let lines = wrap(&caption, ts * 0.9, width - 12.0);
        let height = top + map_h + ts * 1.4 + ts * 1.1 * lines.len() as f64 + 4.0;
        let mut svg = canvas(&heading, height, style);
        for (c, it) in data.sweep.iter().enumerate() {
            let x0 = 6.0 + c as f64 * (col_w + gap);
            let heads = [
                format!("p = {}", fmt_value(it.density)),
                format!(
                    "mono {}/{} = {:.2}",
                    it.monosemantic,
                    it.live,
                    it.mono_fraction()
                ),
                format!("computed {} (± pair {})", it.computed, it.paired),
            ];
            // The largest size at which every heading fits its column.
            let hs = heads
                .iter()
                .map(|h| ts * col_w / text_width(h, ts).max(1e-9))
                .fold(ts, f64::min);
            for (j, h) in heads.iter().enumerate() {
                svg.say(
                    x0 + col_w / 2.0,
                    top - ts * (2.6 - 1.1 * j as f64),
                    h,
                    hs,
                    Anchor::Middle,
                );
            }
            let frame = area(x0, top, col_w, map_h);
            draw_matrix(&mut svg, frame, &normalised(&it.w1), &|x| diverging(x, 1.0));
        }
        for (j, l) in lines.iter().enumerate() {
            svg.say(
                6.0,
                top + map_h + ts * 1.4 + ts * 1.1 * j as f64,
                l,
                ts * 0.9,
                Anchor::Start,
            );
        }
        svg.finish()
    }

    fn csv(data: &Data) -> String {
        let c = checks(data);
        // The (Z12) verdicts on the rows they judge (sweep rows at the densest and sparsest p).
        let check = |run: &str, i: &Item| -> String {
            let Some(c) = c.filter(|_| run == "sweep") else {
                return String::new();
            };
            let mut v = Vec::new();
            if i.density.total_cmp(&c.dense_density).is_eq() {
                v.push(format!("mono>={DENSE_MONO} {}", verdict(c.dense_mono)));
            }
            if i.density.total_cmp(&c.sparse_density).is_eq() {
                v.push(format!("mono below densest {}", verdict(c.mono_falls)));
                v.push(format!("computed>D/2 {}", verdict(c.sparse_computed)));
            }
            v.join("; ")
        };
        let mut rows = Vec::new();
        let sweep = data.sweep.iter().map(|i| ("sweep", i));
        for (run, i) in sweep.chain(data.motif_runs.iter().map(|i| ("motif", i))) {
            rows.push(vec![
                cell(run),
                cell(i.density),
                cell(i.seed),
                cell(i.loss),
                cell(i.live),
                cell(i.monosemantic),
                cell(i.mono_fraction()),
                cell(i.computed),
                cell(i.paired),
                cell(i.motifs),
                check(run, i),
            ]);
        }
        table(
            "run,density,seed,loss,live_neurons,monosemantic,mono_fraction,computed,computed_with_sign_pair,motifs,z12_check",
            &rows,
        )
    }
}
