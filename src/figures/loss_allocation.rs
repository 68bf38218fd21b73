//! Loss per feature and the capacity budget.
//!
//! Left: the per-feature loss L*(C) of (Q15) (length optimised) for inputs with k < 3, k = 3
//! and k > 3, normalised by L*(0) = (k−1)v², with the chord from (0, 1) to (1, 0): by (Q17)
//! the curve is concave (increasing returns) for k < 3, linear for k = 3 and convex
//! (diminishing returns) for k > 3. The shape word in each panel title comes from the sign
//! of `FeatureCurve::loss_curvature`, not from a typed string.

use crate::base::{Magnitude, Result, SparseInput};
use crate::theory::quadratic::FeatureCurve;

use super::axis::{Axis, Frame, LegendKey, Panel, fmt_value, legend};
use super::style::Style;
use super::svg::{Anchor, Rgb, Stroke, Svg};
use super::{cell, csv_text};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Input laws of the three loss panels (one with k < 3, one with k = 3, one with k > 3).
    pub inputs: Vec<SparseInput>,
    /// Points per loss curve.
    pub samples: usize,
}

impl Params {
    /// The published setting: dense uniform (k = 1.8), dense Gaussian (k = 3), sparse uniform
    /// with p = 0.1 (k = 18); 401 points per curve.
    pub fn paper() -> Self {
        Params {
            inputs: vec![
                SparseInput {
                    density: 1.0,
                    magnitude: Magnitude::Uniform,
                },
                SparseInput {
                    density: 1.0,
                    magnitude: Magnitude::Gaussian,
                },
                SparseInput {
                    density: 0.1,
                    magnitude: Magnitude::Uniform,
                },
            ],
            samples: 401,
        }
    }

    /// Same setting, coarser sampling.
    pub fn quick() -> Self {
        Params {
            samples: 51,
            ..Params::paper()
        }
    }

    /// Parameter list for the index.
    pub fn describe(&self) -> Vec<(String, String)> {
        let inputs: Vec<String> = self.inputs.iter().map(input_name).collect();
        vec![
            ("inputs".into(), inputs.join("; ")),
            ("points per curve".into(), self.samples.to_string()),
        ]
    }
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
    /// Kurtosis k = E[x⁴] (Pearson).
    pub kurtosis: f64,
    /// Capacities C at which the curve is sampled.
    pub capacity: Vec<f64>,
    /// L*(C) of (Q15) with v = 1.
    pub loss: Vec<f64>,
    /// Sign of d²L*/dC² (Q17): −1 concave, 0 linear, +1 convex.
    pub curvature_sign: i8,
}

/// Computed data of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// One loss curve per input law.
    pub curves: Vec<LossCurve>,
}

/// Computes every curve.
pub fn data(params: &Params) -> Result<Data> {
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
        let f = FeatureCurve {
            importance: 1.0,
            kurtosis: k,
        };
        let capacity: Vec<f64> = (0..params.samples)
            .map(|j| j as f64 / (params.samples - 1) as f64)
            .collect();
        let loss = capacity.iter().map(|c| f.loss(*c)).collect();
        let curv = f.loss_curvature(0.5);
        let curvature_sign = if curv.abs() <= 1e-12 * f.marginal_benefit(0.5) {
            0
        } else if curv > 0.0 {
            1
        } else {
            -1
        };
        curves.push(LossCurve {
            input,
            kurtosis: k,
            capacity,
            loss,
            curvature_sign,
        });
    }
    Ok(Data {
        params: params.clone(),
        curves,
    })
}

/// Shape words for a curvature sign, per (Q17).
pub fn shape(sign: i8) -> &'static str {
    match sign {
        s if s < 0 => "concave: increasing returns",
        0 => "linear: constant returns",
        _ => "convex: diminishing returns",
    }
}

/// Title of the figure.
pub fn title(data: &Data) -> String {
    let ks: Vec<String> = data.curves.iter().map(|c| fmt_value(c.kurtosis)).collect();
    format!(
        "Per-feature loss L*(C) with optimal length, k = {} (v = 1)",
        ks.join(", ")
    )
}

/// The SVG.
pub fn render(data: &Data, style: &Style) -> String {
    let width = style.width_pt();
    let n = data.curves.len().max(1);
    let cols = if width < 300.0 { n.min(2) } else { n };
    let rows = n.div_ceil(cols);
    let ts = style.tick_size();
    let title_h = style.title_size() * 2.2;
    let left = 40.0;
    let gap = 14.0;
    let panel_w = (width - left - 8.0 - gap * (cols as f64 - 1.0)) / cols as f64;
    let panel_h = panel_w * 0.8;
    let row_h = panel_h + ts * 2.0 + style.label_size() * 2.0 + 14.0 + style.label_size() * 1.4;
    let height = title_h + rows as f64 * row_h;
    let mut svg = Svg::new(width, height, style);
    svg.text(width / 2.0, style.title_size() * 1.3, &title(data), style.title_size(), Anchor::Middle, 0.0, Rgb::BLACK);
    for (j, c) in data.curves.iter().enumerate() {
        let (r, q) = (j / cols, j % cols);
        let frame = Frame {
            x: left + q as f64 * (panel_w + gap),
            y: title_h + r as f64 * row_h + style.label_size() * 1.4,
            w: panel_w,
            h: panel_h,
        };
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
        svg.line(panel.at(0.0, 1.0), panel.at(1.0, 0.0), &Stroke::dashed(Rgb::hex(0x888888), 0.6, 2.0, 1.5));
        svg.polyline(&pts, &Stroke::solid(super::colormap::CATEGORICAL[4], style.line_width() * 1.3));
        svg.end_group();
        panel.draw_axes_with(&mut svg, style, true, q == 0);
        let head = format!("k = {}: {}", fmt_value(c.kurtosis), shape(c.curvature_sign));
        svg.text(frame.x + frame.w / 2.0, frame.y - 3.0, &head, style.label_size(), Anchor::Middle, 0.0, Rgb::BLACK);
        if j == 0 {
            let entries = vec![
                (LegendKey::Line(Stroke::solid(super::colormap::CATEGORICAL[4], 1.2)), "L*(C) (Q15)".to_string()),
                (LegendKey::Line(Stroke::dashed(Rgb::hex(0x888888), 0.6, 2.0, 1.5)), "chord".to_string()),
            ];
            legend(&mut svg, style, frame.x + frame.w * 0.52, frame.y + 4.0, &entries);
        }
    }
    svg.finish()
}

/// The data as CSV: one row per sampled point.
pub fn csv(data: &Data) -> String {
    let mut rows = Vec::new();
    for c in &data.curves {
        for (x, y) in c.capacity.iter().zip(&c.loss) {
            rows.push(vec![
                c.input.magnitude.name(),
                cell(c.input.density),
                cell(c.kurtosis),
                cell(*x),
                cell(*y),
            ]);
        }
    }
    csv_text(&["magnitude", "density_p", "kurtosis_k", "capacity_C", "loss_L"], &rows)
}
