//! \[E\] superposition across densities (spec §9.3, §11 E2): n features in m dimensions with
//! importance Iᵢ = rⁱ, one ReLU-output model x′ = ReLU(WᵀWx + b) per density p = 1 − S and
//! a linear model x′ = WᵀWx + b at p = 1. Per model: WᵀW as a diverging heat map (symmetric
//! range), and bars of ‖Wᵢ‖ coloured by the superposition score (E8) Σ_{j≠i}(Ŵᵢ·Wⱼ)², blue
//! at 0 and red at ≥ 1.

use nalgebra::DMatrix;

use crate::base::Result;
use crate::theory::geometry::{dimensions_per_feature, superposition};
use crate::training::{Model, TrainConfig, Trainer};

use super::canvas::{Anchor, Stroke, wrap};
use super::cell;
use super::colour::Rgb;
use super::empirical::BestRun;
use super::matrix_map::{abs_max, diverging, draw_matrix};
use super::panel::fmt_value;
use super::parts::{
    Draw, adam_row, area, canvas, page, resolution_tag, row, table, uniform_features,
};
use super::style::Style;
use super::{Figure, Parameters};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Features n.
    pub features: usize,
    /// Hidden dimensions m.
    pub dims: usize,
    /// Importance ratio r: Iᵢ = rⁱ (i = 0, 1, …).
    pub importance_ratio: f64,
    /// Densities p of the ReLU-output models, left to right.
    pub densities: Vec<f64>,
    /// Adam steps per model.
    pub steps: usize,
    /// Seeds per model (best by loss).
    pub seeds: usize,
    /// Whether this is the quick variant.
    pub quick: bool,
}

impl Parameters for Params {
    /// Spec §11 E2: n = 20, m = 5, Iᵢ = 0.7ⁱ, p ∈ {1, .3, .1, .03, .01, .003, .001} plus a
    /// linear model; Adam η = 1e-3, batch 1024, 10 000 steps, best of 2 seeds.
    fn paper() -> Self {
        Params {
            features: 20,
            dims: 5,
            importance_ratio: 0.7,
            densities: vec![1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001],
            steps: 10_000,
            seeds: 2,
            quick: false,
        }
    }

    /// Quick: four densities 1, 0.1, 0.01, 0.001, 2000 steps, 1 seed.
    fn quick() -> Self {
        Params {
            densities: vec![1.0, 0.1, 0.01, 0.001],
            steps: 2000,
            seeds: 1,
            quick: true,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        let p: Vec<String> = self.densities.iter().map(|x| fmt_value(*x)).collect();
        vec![
            row(
                "models",
                format!(
                    "n = {} features in m = {} dimensions, importance {}^i; linear x′ = WᵀWx + b at p = 1, ReLU output x′ = ReLU(WᵀWx + b)",
                    self.features,
                    self.dims,
                    fmt_value(self.importance_ratio)
                ),
            ),
            row("density p = 1 − S (ReLU)", p.join(", ")),
            adam_row(self.steps, self.seeds, self.quick),
        ]
    }
}

impl Params {
    fn importance(&self) -> Vec<f64> {
        (0..self.features)
            .map(|i| self.importance_ratio.powi(i as i32))
            .collect()
    }
}

/// One trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// "linear" or "ReLU".
    pub model: &'static str,
    /// Density p.
    pub density: f64,
    /// Trained W (m×n).
    pub w: DMatrix<f64>,
    /// ‖Wᵢ‖ per feature.
    pub norms: Vec<f64>,
    /// Superposition score (E8) per feature.
    pub superposition: Vec<f64>,
    /// D* (E7).
    pub dims_per_feature: f64,
}

/// Computed data.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// The linear model first, then one ReLU-output model per density.
    pub panels: Vec<Panel>,
}

/// Job k: (model, name, density, instance index within its sweep).
fn job_setup(params: &Params, k: usize) -> (Model, &'static str, f64, usize) {
    match k {
        0 => (Model::Linear, "linear", 1.0, 0),
        _ => (Model::TmsRelu, "ReLU", params.densities[k - 1], k - 1),
    }
}

/// Colour of a superposition score: blue at 0, red at ≥ 1.
pub fn score_colour(s: f64) -> Rgb {
    Rgb::hex(0x2166ac).mix(Rgb::hex(0xb2182b), s.clamp(0.0, 1.0))
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "e2-superposition-sweep";
    const SOURCE: &'static str =
        "[E] superposition across densities; spec §9.3, §11 E2, (E7), (E8)";
    type Params = Params;
    type Item = BestRun;
    type Data = Data;

    fn jobs(params: &Params) -> usize {
        1 + params.densities.len()
    }

    // Job `k`: the linear model (k = 0) or the ReLU-output model at density k − 1, trained
    // exactly as in a sweep over the densities (seeds 0, 1, …), best of the seeds.
    fn job(params: &Params, k: usize) -> Result<BestRun> {
        let (model, _, p, index) = job_setup(params, k);
        let set = uniform_features(params.importance(), p)?;
        let mut cfg = TrainConfig::defaults(model);
        cfg.steps = params.steps;
        cfg.eval_batch = 8192;
        let trainer = Trainer::new(model, params.dims, cfg)?;
        BestRun::train(&trainer, &set, params.seeds, 0, index)
    }

    fn assemble(params: &Params, items: Vec<BestRun>) -> Result<Data> {
        let panels = items
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let (_, name, p, _) = job_setup(params, k);
                let w = b.matrix()?;
                Ok(Panel {
                    model: name,
                    density: p,
                    norms: w.column_iter().map(|c| c.norm()).collect(),
                    superposition: superposition(&w),
                    dims_per_feature: dimensions_per_feature(&w),
                    w,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Data {
            params: params.clone(),
            panels,
        })
    }

    fn title(data: &Data) -> String {
        let p = &data.params;
        format!(
            "Superposition as density falls: n = {} features in m = {} dimensions, importance {}^{{i}}{}",
            p.features,
            p.dims,
            fmt_value(p.importance_ratio),
            resolution_tag(p.quick, false)
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let k = data.panels.len().max(1);
        let gap = 6.0;
        let col_w = (width - 12.0 - gap * (k as f64 - 1.0)) / k as f64;
        let n = data.params.features;
        let bar_row = (col_w * 1.3 / n as f64).max(2.0);
        let bars_h = bar_row * n as f64;
        let top = title_h + ts * 2.6;
        let legend_h = ls * 0.6 + if width < 400.0 { ts * 1.1 } else { 0.0 };
        let height = top + col_w + ts * 2.0 + bars_h + ts * 2.2 + legend_h;
        let mut svg = canvas(&heading, height, style);
        let max_norm = data
            .panels
            .iter()
            .flat_map(|p| p.norms.iter().copied())
            .fold(1e-12, f64::max);
        for (c, p) in data.panels.iter().enumerate() {
            let x0 = 6.0 + c as f64 * (col_w + gap);
            let head = if p.model == "linear" {
                "linear".to_string()
            } else {
                format!("p = {}", fmt_value(p.density))
            };
            let (hs, cx) = (ts.min(col_w / 4.2), x0 + col_w / 2.0);
            let dims = format!("D* = {:.2}", p.dims_per_feature);
            svg.say(cx, top - ts * 1.4, &head, hs, Anchor::Middle);
            svg.say(cx, top - ts * 0.4, &dims, hs * 0.85, Anchor::Middle);
            let g = p.w.tr_mul(&p.w);
            let range = abs_max(&g, 1e-12);
            let frame = area(x0, top, col_w, col_w);
            draw_matrix(&mut svg, frame, &g, &|x| diverging(x, range));
            // Bars of ‖Wᵢ‖, feature 1 at the top.
            let by = top + col_w + ts * 1.2;
            for (i, (&norm, &s)) in p.norms.iter().zip(&p.superposition).enumerate() {
                let len = col_w * norm / max_norm;
                let y = by + i as f64 * bar_row + bar_row * 0.1;
                svg.fill_rect(x0, y, len, bar_row * 0.8, score_colour(s));
            }
            svg.line((x0, by), (x0, by + bars_h), &Stroke::solid(Rgb::BLACK, 0.4));
        }
        // Captions and the score legend.
        let y = top + col_w + ts * 1.2 + bars_h + ts * 1.3;
        let caption = format!(
            "above: WᵀW (each on its own symmetric range); below: ‖W_{{i}}‖, i = 1 … {n} top to bottom (full bar = {:.2})",
            max_norm
        );
        let lines = wrap(&caption, ts * 0.9, width - 12.0);
        for (j, l) in lines.iter().enumerate() {
            svg.say(6.0, y + ts * 1.1 * j as f64, l, ts * 0.9, Anchor::Start);
        }
        let ly = y + ts * 1.1 * (lines.len() as f64 - 1.0) + ls * 1.1;
        let score = "superposition score Σ_{j≠i}(Ŵ_{i}·W_{j})²:";
        svg.say(6.0, ly, score, ts * 0.9, Anchor::Start);
        let lx =
            6.0 + super::canvas::text_width("superposition score Σj≠i(Ŵi·Wj)²:", ts * 0.9) + 6.0;
        let steps = 20;
        let lw = 80.0;
        for j in 0..steps {
            let x = lx + lw * j as f64 / steps as f64;
            let colour = score_colour(j as f64 / (steps - 1) as f64);
            svg.fill_rect(x, ly - ts * 0.75, lw / steps as f64 + 0.3, ts * 0.9, colour);
        }
        svg.say(lx - 2.0, ly, "0", ts * 0.9, Anchor::End);
        svg.say(lx + lw + 2.0, ly, "≥ 1", ts * 0.9, Anchor::Start);
        svg.finish()
    }

    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for p in &data.panels {
            for (i, (&norm, &s)) in p.norms.iter().zip(&p.superposition).enumerate() {
                rows.push(vec![
                    p.model.to_string(),
                    cell(p.density),
                    i.to_string(),
                    cell(norm),
                    cell(s),
                    cell(p.dims_per_feature),
                ]);
            }
        }
        table(
            "model,density,feature,norm,superposition,dims_per_feature",
            &rows,
        )
    }
}
