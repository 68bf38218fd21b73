//! \[E\] feature geometry (spec §9.3, §11 E4 and E5): trained ReLU-output models
//! x′ = ReLU(WᵀWx + b) of n features in m dimensions with equal importance, one instance per
//! density p = 20^(−t). Left: dimensions per feature D* = m/‖W‖²_F (E7) against 1/p, with the
//! "sticky" guide lines at 1 and ½. Right: the dimensionality Dᵢ (E6) of every feature
//! against 1/p, with the polytope fractions of `theory::geometry::POLYTOPE_FRACTIONS` drawn as
//! labelled horizontal lines.

use nalgebra::DMatrix;

use crate::base::Result;
use crate::theory::geometry::{POLYTOPE_FRACTIONS, dimensions_per_feature, feature_dimensionality};
use crate::training::{Model, TrainConfig, Trainer};

use super::canvas::{Anchor, Marker, Stroke, text_width};
use super::cell;
use super::colour::CATEGORICAL;
use super::colour::Rgb;
use super::empirical::BestRun;
use super::panel::{Axis, Panel, fmt_value};
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
    /// Instances: densities p = base^(−t), t = linspace(0, 1, instances).
    pub instances: usize,
    /// Base of the density sweep (20 in the notebook).
    pub density_base: f64,
    /// Adam steps per instance.
    pub steps: usize,
    /// Seeds per instance (best by evaluation loss).
    pub seeds: usize,
    /// First seed.
    pub seed: u64,
    /// Whether this is the quick (coarse) variant.
    pub quick: bool,
}

impl Parameters for Params {
    /// Notebook "feature geometry" set-up scaled to this machine: n = 100, m = 10, equal
    /// importance, 16 densities p = 20^(−t), Adam η = 1e-3, batch 1024, 6000 steps, 1 seed
    /// (the notebook trains 200 → 20 for 10 000 steps).
    fn paper() -> Self {
        Params {
            features: 100,
            dims: 10,
            instances: 16,
            density_base: 20.0,
            steps: 6000,
            seeds: 1,
            seed: 0,
            quick: false,
        }
    }

    /// Quick: n = 40, m = 8, 6 densities, 1500 steps.
    fn quick() -> Self {
        Params {
            features: 40,
            dims: 8,
            instances: 6,
            steps: 1500,
            quick: true,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![
            row(
                "model",
                format!(
                    "ReLU output x′ = ReLU(WᵀWx + b), n = {} features in m = {} dimensions, importance 1",
                    self.features, self.dims
                ),
            ),
            row(
                "density p = 1 − S",
                format!(
                    "{}^(−t), t = linspace(0, 1, {})",
                    fmt_value(self.density_base),
                    self.instances
                ),
            ),
            adam_row(self.steps, self.seeds, self.quick),
        ]
    }
}

impl Params {
    /// The densities p = base^(−t), t = linspace(0, 1, instances).
    pub fn densities(&self) -> Vec<f64> {
        let k = self.instances.max(1);
        (0..k)
            .map(|j| {
                let t = if k == 1 {
                    0.0
                } else {
                    j as f64 / (k - 1) as f64
                };
                self.density_base.powf(-t)
            })
            .collect()
    }
}

/// One trained instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Density p shared by all features.
    pub density: f64,
    /// Trained W (m×n).
    pub w: DMatrix<f64>,
    /// D* = m/‖W‖²_F (E7).
    pub dims_per_feature: f64,
    /// Dᵢ (E6) per feature.
    pub dimensionality: Vec<f64>,
    /// Evaluation loss.
    pub loss: f64,
}

/// Computed data.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// One entry per density, in sweep order.
    pub instances: Vec<Instance>,
}

fn trainer(params: &Params) -> Result<Trainer> {
    let mut cfg = TrainConfig::defaults(Model::TmsRelu);
    cfg.steps = params.steps;
    cfg.eval_batch = 8192;
    Trainer::new(Model::TmsRelu, params.dims, cfg)
}

const X_LABEL: &str = "1/p (p = 1 − S, feature density)";

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "e4-e5-feature-geometry";
    const SOURCE: &'static str = "[E] feature geometry; spec §9.3, §11 E4, E5, (E6), (E7)";
    type Params = Params;
    type Item = BestRun;
    type Data = Data;

    fn jobs(params: &Params) -> usize {
        params.densities().len()
    }

    // Job `k`: instance k (density k of the sweep), best of the seeds.
    fn job(params: &Params, k: usize) -> Result<BestRun> {
        let p = params.densities()[k];
        let set = uniform_features(vec![1.0; params.features], p)?;
        let trainer = trainer(params)?;
        BestRun::train(&trainer, &set, params.seeds, params.seed, k)
    }

    // The figure's data from the results of every job, in job order: (E6), (E7) measured.
    fn assemble(params: &Params, items: Vec<BestRun>) -> Result<Data> {
        let instances = items
            .iter()
            .zip(params.densities())
            .map(|(b, p)| {
                let w = b.matrix()?;
                Ok(Instance {
                    density: p,
                    dims_per_feature: dimensions_per_feature(&w),
                    dimensionality: feature_dimensionality(&w),
                    loss: b.loss,
                    w,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Data {
            params: params.clone(),
            instances,
        })
    }

    fn title(data: &Data) -> String {
        let p = &data.params;
        format!(
            "Feature geometry of the ReLU-output model: n = {} features in m = {} dimensions, {} densities{}",
            p.features,
            p.dims,
            p.instances,
            resolution_tag(p.quick, false)
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let inv: Vec<f64> = data.instances.iter().map(|i| 1.0 / i.density).collect();
        let x_hi = inv.iter().copied().fold(1.0, f64::max) * 1.15;
        let x_lo = 0.9;
        let left = 8.0 + ts * 2.6 + ls * 1.5;
        let label_w = POLYTOPE_FRACTIONS
            .iter()
            .map(|f| text_width(&format!("3/8 {}", f.name), ts * 0.9))
            .fold(0.0, f64::max)
            + 4.0;
        let gap = 14.0 + ts * 2.6 + ls * 1.5;
        // Side by side at two-column width, stacked at one-column width.
        let stacked = width < 400.0;
        let panel_w = if stacked {
            width - left - label_w - 6.0
        } else {
            (width - left - gap - label_w - 6.0) / 2.0
        };
        let panel_h = panel_w * 0.8;
        let row_h = ls * 1.6 + panel_h + ts * 2.0 + ls * 2.2;
        let height = title_h + row_h * if stacked { 2.0 } else { 1.0 } + 6.0;
        let mut svg = canvas(&heading, height, style);
        let top = title_h + ls * 1.6;
        let guide = Stroke::dashed(Rgb::hex(0x888888), 0.6, 3.0, 2.0);
        let point = CATEGORICAL[4];

        // E4: D* against 1/p.
        let d_hi = data
            .instances
            .iter()
            .map(|i| i.dims_per_feature)
            .filter(|v| v.is_finite())
            .fold(1.1, f64::max)
            * 1.05;
        let p4 = Panel {
            frame: area(left, top, panel_w, panel_h),
            x: Axis::log(x_lo, x_hi, X_LABEL),
            y: Axis::linear(0.0, d_hi, "D* = m/‖W‖²_{F}"),
        };
        p4.clip(&mut svg);
        for v in [1.0, 0.5] {
            svg.line(p4.at(x_lo, v), p4.at(x_hi, v), &guide);
        }
        let pts: Vec<(f64, f64)> = data
            .instances
            .iter()
            .filter(|i| i.dims_per_feature.is_finite())
            .map(|i| p4.at(1.0 / i.density, i.dims_per_feature))
            .collect();
        svg.polyline(&pts, &Stroke::solid(point, style.line_width()));
        for q in &pts {
            svg.dot(Marker::Circle, *q, ts * 0.55, point, None);
        }
        svg.unclip();
        p4.draw_axes(&mut svg, style);
        svg.head(p4.frame, "(E7) dimensions per feature", ls);
        for (v, l) in [(1.0, "1"), (0.5, "½")] {
            let (x, y) = p4.at(x_hi, v);
            svg.text_halo(x - 2.0, y - 2.0, l, ts, Anchor::End);
        }

        // E5: Dᵢ against 1/p.
        let (x5, top) = if stacked {
            (left, top + row_h)
        } else {
            (left + panel_w + gap, top)
        };
        let p5 = Panel {
            frame: area(x5, top, panel_w, panel_h),
            x: Axis::log(x_lo, x_hi, X_LABEL),
            y: Axis::linear(-0.03, 1.08, "feature dimensionality D_{i}"),
        };
        p5.clip(&mut svg);
        for f in &POLYTOPE_FRACTIONS {
            let v = f.value();
            svg.line(p5.at(x_lo, v), p5.at(x_hi, v), &guide);
        }
        let dot = point.mix(Rgb::WHITE, 0.15);
        for inst in &data.instances {
            let x = 1.0 / inst.density;
            for &d in &inst.dimensionality {
                svg.dot(Marker::Circle, p5.at(x, d), ts * 0.38, dot, None);
            }
        }
        svg.unclip();
        p5.draw_axes(&mut svg, style);
        svg.head(p5.frame, "(E6) dimensionality of every feature", ls);
        // Labels right of the panel, nudged apart where fractions are close (3/8 and 2/5).
        let mut last = f64::NEG_INFINITY;
        let mut labels: Vec<(f64, String)> = POLYTOPE_FRACTIONS
            .iter()
            .map(|f| {
                let frac = if f.denominator == 1 {
                    f.numerator.to_string()
                } else {
                    format!("{}/{}", f.numerator, f.denominator)
                };
                (p5.py(f.value()), format!("{frac} {}", f.name))
            })
            .collect();
        labels.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (y, l) in labels {
            let y = y.max(last + ts * 1.05);
            last = y;
            svg.text_mid(x5 + panel_w + 3.0, y, &l, ts * 0.9, Anchor::Start);
        }
        svg.finish()
    }

    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for (k, inst) in data.instances.iter().enumerate() {
            for (i, &d) in inst.dimensionality.iter().enumerate() {
                rows.push(vec![
                    k.to_string(),
                    cell(inst.density),
                    cell(1.0 / inst.density),
                    cell(inst.dims_per_feature),
                    i.to_string(),
                    cell(d),
                    cell(inst.w.column(i).norm_squared()),
                    cell(inst.loss),
                ]);
            }
        }
        table(
            "instance,density,inverse_density,dims_per_feature,feature,dimensionality,sq_norm,loss",
            &rows,
        )
    }
}
