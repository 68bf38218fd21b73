//! Block structure of the two toy models at the same point (spec §8): the quadratic model
//! trained on its exact loss (T4) against the ReLU-output model trained by SGD (T1), same
//! features, importances, density and D. For each, WᵀW as a diverging heat map (symmetric
//! range) with the features permuted into the blocks found by
//! `verify::geometry::decompose_trained` and the blocks outlined; below, each block's size,
//! scale γ_b and capacities. The quadratic optimum is one block with γ = λ of (A7); the
//! ReLU-output model breaks into small blocks.

use nalgebra::DMatrix;

use serde::{Deserialize, Serialize};

use crate::base::{Error, FeatureSet, Result};
use crate::theory::geometry::BlockDecomposition;
use crate::theory::quadratic::ExpectedLoss;
use crate::training::{
    ExactConfig, ExactRun, ExactTrainer, Model, Run, TrainConfig, Trainer, best_by,
};
use crate::verify::geometry::{
    AutoencoderGeometry, QuadraticGeometry, TRAINED_TOLERANCE, autoencoder_geometry_of,
    quadratic_geometry_of,
};

use super::canvas::Anchor;
use super::capacity_examples::capacity_label;
use super::cell;
use super::matrix_map::{abs_max, diverging, draw_matrix, index_labels, outline};
use super::panel::{fmt_value, subscript};
use super::parts::{Draw, area, canvas, page, resolution_tag, row, table, uniform_features};
use super::style::Style;
use super::two_block::block_colour;
use super::{Figure, Invocation, Parameters};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Importances vᵢ = Iᵢ.
    pub importance: Vec<f64>,
    /// Density p shared by all features.
    pub density: f64,
    /// Embedding dimension D = m.
    pub dims: usize,
    /// Steps of exact-loss Adam (quadratic model).
    pub quadratic_steps: usize,
    /// Adam steps of the ReLU-output model.
    pub relu_steps: usize,
    /// Seeds per model (best by loss).
    pub seeds: usize,
    /// Tolerance of the decompositions.
    pub tolerance: f64,
    /// Whether this is the quick variant.
    pub quick: bool,
}

impl Parameters for Params {
    /// The worked example (spec §6.6): N = 6, D = 3, v = (0.5, 1, 1, 1, 1, 1), p = 0.1;
    /// 4000 exact-loss steps, 5000 SGD steps, best of 4 seeds, tolerance 1e-2.
    fn paper() -> Self {
        Params {
            importance: vec![0.5, 1.0, 1.0, 1.0, 1.0, 1.0],
            density: 0.1,
            dims: 3,
            quadratic_steps: 4000,
            relu_steps: 5000,
            seeds: 4,
            tolerance: TRAINED_TOLERANCE,
            quick: false,
        }
    }

    /// Quick: 3000 steps each, 3 seeds.
    fn quick() -> Self {
        Params {
            quadratic_steps: 3000,
            relu_steps: 3000,
            seeds: 3,
            quick: true,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![
            row(
                "features",
                format!(
                    "N = {} in D = {}, importance v = {}, density p = 1 − S = {} (x uniform on [0, 1] when active)",
                    self.importance.len(),
                    self.dims,
                    self.importance_text(),
                    fmt_value(self.density)
                ),
            ),
            row(
                "quadratic model",
                format!(
                    "exact expected loss (Q8), Adam η = 1e-2 cosine, {} steps",
                    self.quadratic_steps
                ),
            ),
            row(
                "ReLU-output model",
                format!("Adam η = 1e-3, batch 1024, {} steps", self.relu_steps),
            ),
            row(
                "selection",
                format!(
                    "best of {} seeds by loss; blocks at tolerance {}{}",
                    self.seeds,
                    fmt_value(self.tolerance),
                    resolution_tag(self.quick, false)
                ),
            ),
        ]
    }
}

impl Params {
    fn importance_text(&self) -> String {
        let v: Vec<String> = self.importance.iter().map(|x| fmt_value(*x)).collect();
        format!("({})", v.join(", "))
    }
}

/// Computed data.
#[derive(Debug, Clone)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// The quadratic model, decomposed, with its theory.
    pub quadratic: QuadraticGeometry,
    /// The ReLU-output model, decomposed.
    pub relu: AutoencoderGeometry,
}

impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        self.params == other.params
            && self.quadratic.run.w == other.quadratic.run.w
            && self.relu.run.w == other.relu.run.w
    }
}

/// W as (rows, cols, column-major entries): exact through JSON.
type Matrix = (usize, usize, Vec<f64>);

fn pack(w: &DMatrix<f64>) -> Matrix {
    (w.nrows(), w.ncols(), w.as_slice().to_vec())
}

fn unpack((rows, cols, data): Matrix) -> Result<DMatrix<f64>> {
    if data.len() != rows * cols {
        return Err(Error::Parameter(format!(
            "a {rows}×{cols} W needs {} entries, got {}",
            rows * cols,
            data.len()
        )));
    }
    Ok(DMatrix::from_column_slice(rows, cols, &data))
}

/// The result of one job: the best run of one model, every field kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Item {
    /// The quadratic model's best exact-loss run: W, loss, ‖Wᵢ‖², loss curve, wall time,
    /// seed.
    Quadratic(Matrix, f64, Vec<f64>, Vec<(usize, f64)>, f64, u64),
    /// The ReLU-output model's best run: W, bias, loss, ‖Wᵢ‖², loss curve, wall time, seed,
    /// Gram kernel used.
    Relu(
        Matrix,
        Vec<f64>,
        f64,
        Vec<f64>,
        Vec<(usize, f64)>,
        f64,
        u64,
        bool,
        usize,
    ),
}

fn features_of(params: &Params) -> Result<FeatureSet> {
    uniform_features(params.importance.clone(), params.density)
}

/// `polycap train` (JSON with every W) and `polycap geometry --from-train` runs that train
/// and decompose the same models: the quadratic model into `quadratic.json`, the ReLU-output
/// model into `relu.json`.
pub fn cli_equivalent(params: &Params) -> Vec<Invocation> {
    let v: Vec<String> = params.importance.iter().map(|x| fmt_value(*x)).collect();
    let train = |model: &str, steps: usize, out: &str| {
        Invocation::new("train")
            .opt("model", model)
            .opt("features", params.importance.len())
            .opt("dims", params.dims)
            .opt("importance", v.join(","))
            .opt("density", fmt_value(params.density))
            .opt("steps", steps)
            .opt("seeds", params.seeds)
            .opt("format", "json")
            .opt("out", out)
    };
    let geometry = |from: &str| Invocation::new("geometry").opt("from-train", from);
    vec![
        train("quadratic-exact", params.quadratic_steps, "quadratic.json"),
        geometry("quadratic.json"),
        train("tms-relu", params.relu_steps, "relu.json"),
        geometry("relu.json"),
    ]
}

/// Features in block order, then the ignored ones; and each block's range in that order.
pub fn block_order(d: &BlockDecomposition) -> (Vec<usize>, Vec<(usize, usize)>) {
    let mut order = Vec::with_capacity(d.feature_count);
    let mut ranges = Vec::with_capacity(d.blocks.len());
    for b in &d.blocks {
        let start = order.len();
        order.extend(&b.features);
        ranges.push((start, order.len()));
    }
    order.extend(&d.ignored);
    (order, ranges)
}

fn permuted_gram(w: &DMatrix<f64>, order: &[usize]) -> DMatrix<f64> {
    let g = w.tr_mul(w);
    DMatrix::from_fn(order.len(), order.len(), |a, b| g[(order[a], order[b])])
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "block-structure-quadratic-vs-relu";
    const SOURCE: &'static str = "spec §8, (C6), (C7), (A7), (E6); [S] §4";
    type Params = Params;
    type Item = Item;
    type Data = Data;

    fn jobs(_params: &Params) -> usize {
        2
    }

    // Job 0 trains the quadratic model (exact loss, best of the seeds), job 1 the ReLU-output
    // model (best of the seeds by evaluation loss).
    fn job(params: &Params, j: usize) -> Result<Item> {
        let features = features_of(params)?;
        match j {
            0 => {
                let qcfg = ExactConfig {
                    steps: params.quadratic_steps,
                    ..ExactConfig::default()
                };
                let objective = ExpectedLoss::new(&features, params.dims)?;
                let r = ExactTrainer::new(qcfg)?.train_best(&objective, params.seeds, 0)?;
                Ok(Item::Quadratic(
                    pack(&r.w),
                    r.loss,
                    r.sq_norm,
                    r.loss_curve,
                    r.wall_seconds,
                    r.seed,
                ))
            }
            _ => {
                let mut rcfg = TrainConfig::defaults(Model::TmsRelu);
                rcfg.steps = params.relu_steps;
                rcfg.eval_batch = 16_384;
                let runs = Trainer::new(Model::TmsRelu, params.dims, rcfg)?.sweep(
                    std::slice::from_ref(&features),
                    params.seeds,
                    0,
                    &|| {},
                )?;
                let r = runs
                    .first()
                    .and_then(|r| best_by(r, |r| r.loss))
                    .cloned()
                    .ok_or_else(|| Error::Parameter("no runs".into()))?;
                Ok(Item::Relu(
                    pack(&r.w),
                    r.bias,
                    r.loss,
                    r.sq_norm,
                    r.loss_curve,
                    r.wall_seconds,
                    r.seed,
                    r.sparse_kernel,
                    r.batch,
                ))
            }
        }
    }

    // Decomposes both trained models: the data from the results of both jobs.
    fn assemble(params: &Params, items: Vec<Item>) -> Result<Data> {
        let features = features_of(params)?;
        let mut it = items.into_iter();
        let (
            Some(Item::Quadratic(w, loss, sq_norm, loss_curve, wall_seconds, seed)),
            Some(Item::Relu(rw, bias, rloss, rsq, rcurve, rwall, rseed, sparse_kernel, batch)),
            None,
        ) = (it.next(), it.next(), it.next())
        else {
            return Err(Error::Parameter(
                "block structure needs the quadratic then the ReLU-output result".into(),
            ));
        };
        let quadratic = quadratic_geometry_of(
            ExactRun {
                w: unpack(w)?,
                loss,
                sq_norm,
                loss_curve,
                wall_seconds,
                seed,
            },
            &features,
            params.dims,
            params.tolerance,
        )?;
        let relu = autoencoder_geometry_of(
            Run {
                w: unpack(rw)?,
                bias,
                hidden_params: Vec::new(),
                loss: rloss,
                sq_norm: rsq,
                loss_curve: rcurve,
                wall_seconds: rwall,
                seed: rseed,
                sparse_kernel,
                batch,
            },
            params.tolerance,
        )?;
        Ok(Data {
            params: params.clone(),
            quadratic,
            relu,
        })
    }

    fn title(data: &Data) -> String {
        let p = &data.params;
        let count = |d: &BlockDecomposition| {
            let k = d.blocks.len();
            format!("{k} block{}", if k == 1 { "" } else { "s" })
        };
        format!(
            "Block structure at N = {}, D = {}, p = {}: quadratic model {}, ReLU-output model {}{}",
            p.importance.len(),
            p.dims,
            fmt_value(p.density),
            count(&data.quadratic.decomposition),
            count(&data.relu.decomposition),
            resolution_tag(p.quick, false)
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let models: [(&str, &BlockDecomposition, &DMatrix<f64>); 2] = [
            (
                "quadratic model (exact loss)",
                &data.quadratic.decomposition,
                &data.quadratic.run.w,
            ),
            (
                "ReLU-output model x′ = ReLU(WᵀWx + b)",
                &data.relu.decomposition,
                &data.relu.run.w,
            ),
        ];
        let max_blocks = models.iter().map(|m| m.1.blocks.len()).max().unwrap_or(1);
        // Side by side at two-column width, stacked at one-column width.
        let stacked = width < 400.0;
        let col_w = if stacked {
            width - 24.0
        } else {
            (width - 24.0) / 2.0
        };
        let side = (col_w * 0.55).min(180.0);
        let caption_h = ts * 1.2 * (2.0 * max_blocks as f64 + 2.0) + 4.0;
        let head = ls * 1.3 + ts * 1.6;
        let row_h = head + side + ts * 2.0 + caption_h;
        let height = title_h + row_h * if stacked { 2.0 } else { 1.0 };
        let mut svg = canvas(&heading, height, style);
        let lam = data.quadratic.theory.lambda;
        for (k, (name, dec, w)) in models.iter().enumerate() {
            let (x0, top) = if stacked {
                (12.0, title_h + head + k as f64 * row_h)
            } else {
                (12.0 + k as f64 * (col_w + 12.0), title_h + head)
            };
            let (order, ranges) = block_order(dec);
            let g = permuted_gram(w, &order);
            let range = abs_max(&g, 1e-12);
            let frame = area(x0 + (col_w - side) / 2.0, top, side, side);
            let cx = x0 + col_w / 2.0;
            let head = format!(
                "WᵀW, features in block order, colour range ±{}",
                fmt_value(range)
            );
            svg.say(cx, top - ts * 1.4 - 2.0, name, ls, Anchor::Middle);
            svg.say(cx, top - 3.0, &head, ts, Anchor::Middle);
            let nn = order.len();
            draw_matrix(&mut svg, frame, &g, &|x| diverging(x, range));
            for (b, &(s, e)) in ranges.iter().enumerate() {
                let colour = block_colour(b);
                outline(&mut svg, frame, nn, nn, (s, e), (s, e), colour, 1.8);
            }
            let labels: Vec<String> = order.iter().map(|&i| format!("{}", i + 1)).collect();
            index_labels(&mut svg, style, frame, &labels, &labels, true);
            // Captions: one line per block.
            let mut y = top + side + ts * 2.6;
            for (b, blk) in dec.blocks.iter().enumerate() {
                let caps: Vec<String> = blk.capacities.iter().map(|c| format!("{c:.3}")).collect();
                let feats: Vec<String> = blk
                    .features
                    .iter()
                    .map(|&i| format!("f{}", subscript(i + 1)))
                    .collect();
                svg.fill_rect(x0, y - ts * 0.75, ts * 0.9, ts * 0.9, block_colour(b));
                let lines = [
                    format!(
                        "block {}: {}×{} ({}), γ = {:.4}{}",
                        b + 1,
                        blk.dims,
                        blk.len(),
                        feats.join(" "),
                        blk.scale,
                        if blk.efficient { ", efficient" } else { "" }
                    ),
                    format!("C = {}", caps.join(", ")),
                ];
                for l in &lines {
                    svg.say(x0 + ts * 1.3, y, l, ts * 0.9, Anchor::Start);
                    y += ts * 1.2;
                }
            }
            let extra = if k == 0 {
                match lam {
                    Some(l) => format!(
                        "theory (A7): one block, γ = λ = {l:.4}, ΣC = {}",
                        capacity_label(data.quadratic.theory.total_capacity)
                    ),
                    None => "theory (A7): no interior features".to_string(),
                }
            } else {
                let fr: Vec<String> = data
                    .relu
                    .fractions
                    .iter()
                    .map(|f| f.map_or_else(|| "–".to_string(), |(p, q)| format!("{p}/{q}")))
                    .collect();
                format!("C as fractions: {}", fr.join(", "))
            };
            svg.say(x0, y, &extra, ts * 0.9, Anchor::Start);
        }
        svg.finish()
    }

    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for (name, dec) in [
            ("quadratic", &data.quadratic.decomposition),
            ("relu", &data.relu.decomposition),
        ] {
            let caps = dec.capacities();
            for (i, &ci) in caps.iter().enumerate() {
                let b = dec.block_of(i);
                rows.push(vec![
                    name.to_string(),
                    i.to_string(),
                    b.map_or_else(String::new, |b| b.to_string()),
                    b.map_or_else(String::new, |b| dec.blocks[b].dims.to_string()),
                    b.map_or_else(String::new, |b| cell(dec.blocks[b].scale)),
                    cell(ci),
                ]);
            }
        }
        table("model,feature,block,block_dims,block_scale,capacity", &rows)
    }
}
