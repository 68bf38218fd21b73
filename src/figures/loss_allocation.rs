//! Loss per feature and the capacity budget.
//!
//! Left: the per-feature loss L*(C) of (Q15) (length optimised) for inputs with k < 3, k = 3
//! and k > 3, normalised by L*(0) = (k−1)v², with the chord from (0, 1) to (1, 0): by (Q17)
//! the curve is concave (increasing returns) for k < 3, linear for k = 3 and convex
//! (diminishing returns) for k > 3. The shape word in each panel title comes from the sign
//! of `FeatureCurve::loss_curvature`, not from a typed string.
//!
//! Right: the budget. The optimal capacities Cᵢ of N features with decreasing importance as
//! the total capacity D grows: lines from the prescribed-λ mode (A8), swept over λ (each λ
//! gives D_eff = Σ Cᵢ), dots from `allocate` (A7) at every integer D. With k > 3 the most
//! important feature enters first, the others follow one by one, and each saturates at
//! C = 1 in the same order.

use crate::base::{FeatureSet, Magnitude, Result, SparseInput};
use crate::theory::allocation::{Allocation, allocate, allocate_prescribed_lambda};
use crate::theory::quadratic::FeatureCurve;

use super::canvas::{Anchor, Canvas, Marker, Stroke, wrap};
use super::cell;
use super::colour::Rgb;
use super::colour::{CATEGORICAL, Colormap};
use super::panel::{Axis, Frame, Panel, fmt_value, legend, legend_size};
use super::parts::{Draw, area, canvas, line_key, page, row, table};
use super::style::Style;
use super::{Figure, Parameters};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Input laws of the three loss panels (one with k < 3, one with k = 3, one with k > 3).
    pub inputs: Vec<SparseInput>,
    /// Points per loss curve.
    pub samples: usize,
    /// Budget panel: number of features N.
    pub budget_features: usize,
    /// Budget panel: importances vᵢ = ratio^(i−1).
    pub budget_ratio: f64,
    /// Budget panel: input law shared by all features.
    pub budget_input: SparseInput,
    /// Budget panel: values of λ swept (log-spaced over the range where D_eff goes 0 → N).
    pub budget_sweep: usize,
}

impl Parameters for Params {
    /// The published setting: dense uniform (k = 1.8), dense Gaussian (k = 3), sparse uniform
    /// with p = 0.1 (k = 18); 401 points per curve.
    fn paper() -> Self {
        Params {
            inputs: vec![
                input(1.0, Magnitude::Uniform),
                input(1.0, Magnitude::Gaussian),
                input(0.1, Magnitude::Uniform),
            ],
            samples: 401,
            budget_features: 8,
            budget_ratio: 0.7,
            budget_input: input(0.1, Magnitude::Uniform),
            budget_sweep: 600,
        }
    }

    /// Same setting, coarser sampling.
    fn quick() -> Self {
        Params {
            samples: 51,
            budget_sweep: 120,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        let inputs: Vec<String> = self.inputs.iter().map(input_name).collect();
        vec![
            row("inputs", inputs.join("; ")),
            row("points per curve", self.samples),
            row("budget: features N", self.budget_features),
            row(
                "budget: importance",
                format!("vᵢ = {}^(i−1)", fmt_value(self.budget_ratio)),
            ),
            row("budget: inputs", input_name(&self.budget_input)),
            row("budget: λ values swept (A8)", self.budget_sweep),
        ]
    }
}

/// An input law, checked when the figure is computed.
fn input(density: f64, magnitude: Magnitude) -> SparseInput {
    SparseInput { density, magnitude }
}

fn input_name(s: &SparseInput) -> String {
    format!(
        "{} magnitudes, density p = 1 − S = {}, k = {}",
        s.magnitude.name(),
        fmt_value(s.density),
        fmt_value(s.kurtosis())
    )
}

/// One loss curve.
#[derive(Debug, Clone, PartialEq)]
pub struct LossCurve {
    /// Input law behind the curve.
    pub input: SparseInput,
    /// Kurtosis k = E(x⁴) (Pearson).
    pub kurtosis: f64,
    /// Capacities C at which the curve is sampled.
    pub capacity: Vec<f64>,
    /// L*(C) of (Q15) with v = 1.
    pub loss: Vec<f64>,
    /// Sign of d²L*/dC² (Q17): −1 concave, 0 linear, +1 convex.
    pub curvature_sign: i8,
}

/// The budget panel: allocations as the total capacity grows.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Importances vᵢ.
    pub importance: Vec<f64>,
    /// Kurtosis k of every feature.
    pub kurtosis: f64,
    /// Prescribed-λ allocations (A8), in order of increasing D_eff.
    pub sweep: Vec<Allocation>,
    /// Optimal allocations (A7) at D = 1, …, N.
    pub integer: Vec<Allocation>,
}

/// Computed data of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// One loss curve per input law.
    pub curves: Vec<LossCurve>,
    /// The budget panel.
    pub budget: Budget,
}

fn budget(params: &Params) -> Result<Budget> {
    let n = params.budget_features;
    if n == 0 || params.budget_sweep < 2 {
        return Err(crate::base::Error::Parameter(format!(
            "budget panel needs ≥ 1 feature and ≥ 2 λ values, got {n} and {}",
            params.budget_sweep
        )));
    }
    let input = SparseInput::new(params.budget_input.density, params.budget_input.magnitude)?;
    let importance: Vec<f64> = (0..n).map(|i| params.budget_ratio.powi(i as i32)).collect();
    let features = FeatureSet::from_inputs(importance.clone(), vec![input; n])?;
    let k = input.kurtosis();
    // λ from where the first feature enters, (k−1)v_max/2 (A5), down to where the last one
    // saturates, v_min (A5); a margin on both sides shows the plateaus.
    let v_max = importance.iter().copied().fold(0.0, f64::max);
    let v_min = importance.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ((k - 1.0).max(2.0) / 2.0 * v_max * 1.05).ln();
    let lo = (v_min * 0.95).ln();
    let mut sweep = Vec::with_capacity(params.budget_sweep);
    for j in 0..params.budget_sweep {
        let t = j as f64 / (params.budget_sweep - 1) as f64;
        sweep.push(allocate_prescribed_lambda(
            &features,
            (hi + (lo - hi) * t).exp(),
        )?);
    }
    let integer = (1..=n)
        .map(|d| allocate(&features, d))
        .collect::<Result<Vec<_>>>()?;
    Ok(Budget {
        importance,
        kurtosis: k,
        sweep,
        integer,
    })
}

/// The loss curve of a feature of importance 1 and kurtosis `k`.
fn unit_curve(k: f64) -> FeatureCurve {
    FeatureCurve {
        importance: 1.0,
        kurtosis: k,
    }
}

/// Sign of d²L*/dC² (Q17) at kurtosis `k`: −1 concave, 0 linear, +1 convex.
pub fn curvature_sign(k: f64) -> i8 {
    let f = unit_curve(k);
    let curv = f.loss_curvature(0.5);
    if curv.abs() <= 1e-12 * f.marginal_benefit(0.5) {
        0
    } else if curv > 0.0 {
        1
    } else {
        -1
    }
}

/// Shape words for a curvature sign, per (Q17).
pub fn shape(sign: i8) -> &'static str {
    match sign {
        s if s < 0 => "concave: increasing returns",
        0 => "linear: constant returns",
        _ => "convex: diminishing returns",
    }
}

/// Header of the budget panel.
fn budget_header(b: &Budget, ratio: f64) -> String {
    format!(
        "optimal C_{{i}} as D grows|N = {} features, v_{{i}} = {}^{{i−1}}, k = {}|lines: λ swept (A8); dots: integer D (A7)",
        b.importance.len(),
        fmt_value(ratio),
        fmt_value(b.kurtosis)
    )
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "loss-allocation";
    const SOURCE: &'static str = "spec §5.5 (Q15)–(Q17), §6 (A7), (A8)";
    type Params = Params;
    type Item = ();
    type Data = Data;

    fn assemble(params: &Params, _: Vec<()>) -> Result<Data> {
        if params.samples < 2 {
            return Err(crate::base::Error::Parameter(format!(
                "loss curves need at least 2 points, got {}",
                params.samples
            )));
        }
        let mut curves = Vec::new();
        for input in &params.inputs {
            let input = SparseInput::new(input.density, input.magnitude)?;
            let k = input.kurtosis();
            let f = unit_curve(k);
            let capacity: Vec<f64> = (0..params.samples)
                .map(|j| j as f64 / (params.samples - 1) as f64)
                .collect();
            let loss = capacity.iter().map(|c| f.loss(*c)).collect();
            curves.push(LossCurve {
                input,
                kurtosis: k,
                capacity,
                loss,
                curvature_sign: curvature_sign(k),
            });
        }
        let budget = budget(params)?;
        Ok(Data {
            params: params.clone(),
            curves,
            budget,
        })
    }

    fn title(data: &Data) -> String {
        let ks: Vec<String> = data.curves.iter().map(|c| fmt_value(c.kurtosis)).collect();
        format!(
            "Per-feature loss L*(C) at k = {} (v = 1) and the optimal allocation as D grows",
            ks.join(", ")
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let n = data.curves.len() + 1;
        let cols = if width < 300.0 { 1 } else { 2 };
        let rows = n.div_ceil(cols);
        let left = 8.0 + ts * 2.4 + ls * 1.5;
        let gap = 10.0 + ts * 2.0 + ls * 1.5 + 8.0;
        let panel_w = (width - left - ts * 1.8 - gap * (cols as f64 - 1.0)) / cols as f64;
        let panel_h = panel_w * 0.62;
        let head_h = ls * 1.25 * 3.0 + 2.0;
        let row_h = head_h + panel_h + ts * 2.0 + ls * 2.2 + 6.0;
        let height = title_h + rows as f64 * row_h;
        let mut svg = canvas(&heading, height, style);
        let frame_at = |j: usize| {
            let (r, q) = (j / cols, j % cols);
            area(
                left + q as f64 * (panel_w + gap),
                title_h + r as f64 * row_h + head_h,
                panel_w,
                panel_h,
            )
        };
        let header = |svg: &mut Canvas, frame: Frame, text: &str| {
            let lines: Vec<String> = text
                .split('|')
                .flat_map(|part| wrap(part, ls, frame.w))
                .collect();
            let y0 = frame.y - 3.0 - ls * 1.25 * (lines.len() as f64 - 1.0);
            let cx = frame.x + frame.w / 2.0;
            for (k, l) in lines.iter().enumerate() {
                svg.say(cx, y0 + ls * 1.25 * k as f64, l, ls, Anchor::Middle);
            }
        };
        let chord = Stroke::dashed(Rgb::hex(0x888888), 0.6, 2.0, 1.5);
        let curve_stroke = Stroke::solid(CATEGORICAL[4], style.line_width() * 1.3);
        for (j, c) in data.curves.iter().enumerate() {
            let frame = frame_at(j);
            let panel = Panel {
                frame,
                x: Axis::linear(0.0, 1.0, "capacity C"),
                y: Axis::linear(0.0, 1.05, "L*(C) / L*(0)"),
            };
            let l0 = c.loss.first().copied().unwrap_or(1.0);
            let pts: Vec<(f64, f64)> = c
                .capacity
                .iter()
                .zip(&c.loss)
                .map(|(x, y)| panel.at(*x, y / l0))
                .collect();
            panel.clip(&mut svg);
            svg.line(panel.at(0.0, 1.0), panel.at(1.0, 0.0), &chord);
            svg.polyline(&pts, &curve_stroke);
            svg.unclip();
            panel.draw_axes(&mut svg, style);
            let head = format!(
                "k = {} ({}, p = {})|{}",
                fmt_value(c.kurtosis),
                c.input.magnitude.name(),
                fmt_value(c.input.density),
                shape(c.curvature_sign)
            );
            header(&mut svg, frame, &head);
            if j == 0 {
                let entries = vec![
                    line_key(curve_stroke.clone(), "L*(C), (Q15)"),
                    line_key(chord.clone(), "chord"),
                ];
                // Bottom left is empty for a concave curve, top right for a convex one.
                let (lw, lh) = legend_size(style, &entries);
                let (x, y) = if c.curvature_sign < 0 {
                    (frame.x + 4.0, frame.y + frame.h - lh - 4.0)
                } else {
                    (frame.x + frame.w - lw - 4.0, frame.y + 4.0)
                };
                legend(&mut svg, style, x, y, &entries);
            }
        }
        // Budget panel.
        let b = &data.budget;
        let nf = b.importance.len();
        let frame = frame_at(data.curves.len());
        let panel = Panel {
            frame,
            x: Axis::linear(0.0, nf as f64, "total capacity D = Σ C_{i}"),
            y: Axis::linear(0.0, 1.05, "capacity C_{i}"),
        };
        let colour = |i: usize| Colormap::Viridis.at(0.85 * i as f64 / (nf.max(2) - 1) as f64);
        panel.clip(&mut svg);
        for i in 0..nf {
            let mut pts = vec![panel.at(0.0, 0.0)];
            pts.extend(
                b.sweep
                    .iter()
                    .map(|a| panel.at(a.total_capacity, a.capacity[i])),
            );
            pts.push(panel.at(nf as f64, 1.0));
            svg.polyline(&pts, &Stroke::solid(colour(i), style.line_width() * 1.2));
        }
        svg.unclip();
        let edge = Some((Rgb::BLACK, 0.35));
        for a in &b.integer {
            for (i, c) in a.capacity.iter().enumerate() {
                let at = panel.at(a.total_capacity, *c);
                svg.dot(Marker::Circle, at, ts * 0.55, colour(i), edge);
            }
        }
        panel.draw_axes(&mut svg, style);
        // Feature index where each curve crosses C = 1/2.
        for i in 0..nf {
            let cross = b
                .sweep
                .windows(2)
                .find(|w| w[0].capacity[i] < 0.5 && w[1].capacity[i] >= 0.5);
            if let Some(w) = cross {
                let (x, y) = panel.at(w[1].total_capacity, 0.5);
                let label = (i + 1).to_string();
                svg.text_halo(x - 2.5, y + 0.35 * ts, &label, ts * 0.9, Anchor::End);
            }
        }
        header(&mut svg, frame, &budget_header(b, data.params.budget_ratio));
        svg.finish()
    }

    // The data as CSV, one table in long form: `panel` is `loss` (one row per sampled point of
    // a loss curve), `budget:prescribed-lambda` or `budget:integer-D` (one row per feature and
    // allocation); cells that do not apply are empty.
    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for c in &data.curves {
            for (x, y) in c.capacity.iter().zip(&c.loss) {
                rows.push(vec![
                    "loss".to_string(),
                    c.input.magnitude.name(),
                    cell(c.input.density),
                    cell(c.kurtosis),
                    String::new(),
                    cell(1.0),
                    String::new(),
                    String::new(),
                    cell(*x),
                    cell(*y),
                ]);
            }
        }
        let b = &data.budget;
        let input = &data.params.budget_input;
        for (kind, list) in [
            ("budget:prescribed-lambda", &b.sweep),
            ("budget:integer-D", &b.integer),
        ] {
            for a in list.iter() {
                for (i, c) in a.capacity.iter().enumerate() {
                    rows.push(vec![
                        kind.to_string(),
                        input.magnitude.name(),
                        cell(input.density),
                        cell(b.kurtosis),
                        (i + 1).to_string(),
                        cell(b.importance[i]),
                        a.lambda.map_or_else(String::new, cell),
                        cell(a.total_capacity),
                        cell(*c),
                        String::new(),
                    ]);
                }
            }
        }
        table(
            "panel,magnitude,density_p,kurtosis_k,feature,importance_v,lambda,total_capacity_D,capacity_C,loss_L",
            &rows,
        )
    }
}
