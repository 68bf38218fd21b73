//! \[S\] Fig. 2: marginal benefit m(C) = −∂L/∂Cᵢ (Q16) of many features against their
//! capacity, with the prescribed-λ optimum (A8) and the threshold μ = 2λ² (A4).
//!
//! Features below the threshold at C = 0 are ignored, those above it at C = 1 are
//! monosemantic, the others sit on the μ line (equal marginal returns). The total capacity
//! Σ Cᵢ of this allocation is in general not an integer (spec §13, pitfall 13).

use crate::base::{FeatureSet, Result};
use crate::theory::allocation::Allocation;
use crate::theory::phase::{Budget, marginal_curves};

use super::canvas::{Anchor, Marker, Stroke, text_width};
use super::colour::Colormap;
use super::colour::Rgb;
use super::panel::{Axis, Panel, fmt_value, legend, legend_size, superscript};
use super::parts::{Draw, area, canvas, line_key, marker_key, page, row, table};
use super::style::{Style, Width};
use super::{Figure, Invocation, Parameters};
use super::{cell, span};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Number of features.
    pub count: usize,
    /// Importances vᵢ = baseⁱ, i = 1..count.
    pub base: f64,
    /// Kurtosis k shared by all features.
    pub kurtosis: f64,
    /// Prescribed λ (A8).
    pub lambda: f64,
    /// Range of the log y axis.
    pub y_range: (f64, f64),
    /// Points per curve.
    pub samples: usize,
}

impl Parameters for Params {
    /// The setting of spec §11 S2: 20 features, vᵢ = 2ⁱ, k = 100, λ = 10⁴, y ∈ [10¹, 10¹⁶].
    fn paper() -> Self {
        Params {
            count: 20,
            base: 2.0,
            kurtosis: 100.0,
            lambda: 1e4,
            y_range: (1e1, 1e16),
            samples: 401,
        }
    }

    /// The same with fewer points per curve.
    fn quick() -> Self {
        Params {
            samples: 41,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![
            row("features", self.count),
            row(
                "importance",
                format!("vᵢ = {}ⁱ, i = 1…{}", fmt_value(self.base), self.count),
            ),
            row("kurtosis k", fmt_value(self.kurtosis)),
            row("prescribed λ (A8)", fmt_value(self.lambda)),
            span("y range", self.y_range),
            row("points per curve", self.samples),
        ]
    }
}

impl Params {
    /// Importances vᵢ = baseⁱ.
    pub fn importance(&self) -> Vec<f64> {
        (1..=self.count).map(|i| self.base.powi(i as i32)).collect()
    }
}

/// Computed data of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// Capacities at which the curves are sampled.
    pub capacity: Vec<f64>,
    /// m_i(C) for each feature (outer) at each sampled capacity (inner).
    pub curves: Vec<Vec<f64>>,
    /// The prescribed-λ allocation (A8).
    pub allocation: Allocation,
    /// m_i(C_i) at the optimum.
    pub optimum_benefit: Vec<f64>,
}

fn colour(i: usize, n: usize) -> Rgb {
    Colormap::Viridis.at(0.88 * i as f64 / (n.max(2) - 1) as f64)
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "fig2-marginal-benefit";
    const SOURCE: &'static str = "[S] Fig. 2; spec §11 S2, (Q16), (A8)";
    const WIDTH: Width = Width::OneColumn;
    type Params = Params;
    type Item = ();
    type Data = Data;

    fn assemble(params: &Params, _: Vec<()>) -> Result<Data> {
        if params.count == 0 {
            return Err(crate::base::Error::Parameter(
                "Fig. 2 needs at least one feature, got 0".into(),
            ));
        }
        let v = params.importance();
        let features = FeatureSet::from_kurtosis(v, vec![params.kurtosis; params.count])?;
        let m = marginal_curves(&features, Budget::Lambda(params.lambda), params.samples)?;
        Ok(Data {
            params: params.clone(),
            capacity: m.capacity,
            curves: m.benefit,
            allocation: m.allocation,
            optimum_benefit: m.optimum_benefit,
        })
    }

    fn title(data: &Data) -> String {
        let p = &data.params;
        format!(
            "Marginal benefit of {} features, vᵢ = {}ⁱ, k = {}, prescribed λ = {} (Σ Cᵢ = {})",
            p.count,
            fmt_value(p.base),
            fmt_value(p.kurtosis),
            fmt_value(p.lambda),
            fmt_value(data.allocation.total_capacity)
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let p = &data.params;
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let label_room = text_width(
            &format!("{}{}", fmt_value(p.base), superscript(p.count as i64)),
            ts * 0.9,
        ) + 6.0;
        let left = 8.0 + ts * 2.6 + ls * 1.5;
        let frame = area(
            left,
            title_h + ts * 1.4 + 4.0,
            width - left - label_room - 6.0,
            width * 0.95,
        );
        let height = frame.y + frame.h + ts * 2.0 + ls * 2.2 + 8.0;
        let mut svg = canvas(&heading, height, style);
        let panel = Panel {
            frame,
            x: Axis::linear(0.0, 1.0, "capacity C_{i}"),
            y: Axis::log(p.y_range.0, p.y_range.1, "marginal benefit −∂L/∂C_{i}"),
        };
        let n = data.curves.len();
        let lw = style.line_width() * 0.9;
        let dash = Stroke::dashed(Rgb::BLACK, 0.8, 3.0, 2.0);
        panel.clip(&mut svg);
        if let Some(mu) = data.allocation.mu {
            svg.line(panel.at(0.0, mu), panel.at(1.0, mu), &dash);
        }
        for (i, m) in data.curves.iter().enumerate() {
            let pts: Vec<(f64, f64)> = data
                .capacity
                .iter()
                .zip(m)
                .map(|(c, y)| panel.at(*c, *y))
                .collect();
            svg.polyline(&pts, &Stroke::solid(colour(i, n), lw));
        }
        svg.unclip();
        panel.draw_axes(&mut svg, style);
        // Optimum dots (drawn over the frame so the ones at C = 0 and C = 1 stay whole).
        for (i, (c, m)) in data
            .allocation
            .capacity
            .iter()
            .zip(&data.optimum_benefit)
            .enumerate()
        {
            let y = panel.py(*m);
            if y < frame.y - 0.1 || y > frame.y + frame.h + 0.1 {
                continue;
            }
            let (at, edge) = ((panel.px(*c), y), Some((Rgb::BLACK, 0.4)));
            svg.dot(Marker::Circle, at, ts * 0.62, colour(i, n), edge);
        }
        // Feature labels at the right end of each curve, thinned to avoid overlaps.
        let fs = ts * 0.9;
        let mut last_y = f64::INFINITY;
        let lx = frame.x + frame.w + 3.0;
        svg.say(lx, frame.y - 3.0, "v_{i}", fs, Anchor::Start);
        for (i, m) in data.curves.iter().enumerate().rev() {
            let Some(end) = m.last() else { continue };
            let y = panel.py(*end);
            if y < frame.y + fs * 0.3
                || y > frame.y + frame.h - fs * 0.3
                || (y - last_y).abs() < fs * 1.05
            {
                continue;
            }
            last_y = y;
            let label = format!("{}{}", fmt_value(p.base), superscript(i as i64 + 1));
            let tint = colour(i, n).mix(Rgb::BLACK, 0.25);
            svg.text(lx, y + 0.35 * fs, &label, fs, Anchor::Start, 0.0, tint);
        }
        // Legend of the μ line and the dots.
        if let Some(mu) = data.allocation.mu {
            let entries = vec![
                line_key(dash, format!("μ = 2λ^{{2}} = {}", fmt_value(mu))),
                marker_key(Marker::Circle, colour(n / 2, n), "optimum (A8)"),
            ];
            let (lw, _) = legend_size(style, &entries);
            let kx = frame.x + frame.w - lw - 4.0;
            legend(&mut svg, style, kx, frame.y + 4.0, &entries);
        }
        svg.finish()
    }

    // The data as CSV: the sampled curves (kind = curve), the optimum of every feature
    // (kind = optimum, with its phase) and the threshold (kind = threshold).
    fn csv(data: &Data) -> String {
        let v = data.params.importance();
        let mut rows = Vec::new();
        for (i, m) in data.curves.iter().enumerate() {
            for (c, y) in data.capacity.iter().zip(m) {
                rows.push(vec![
                    "curve".into(),
                    (i + 1).to_string(),
                    cell(v[i]),
                    cell(*c),
                    cell(*y),
                    String::new(),
                ]);
            }
        }
        for (i, (c, y)) in data
            .allocation
            .capacity
            .iter()
            .zip(&data.optimum_benefit)
            .enumerate()
        {
            rows.push(vec![
                "optimum".into(),
                (i + 1).to_string(),
                cell(v[i]),
                cell(*c),
                cell(*y),
                data.allocation.phase[i].name().to_string(),
            ]);
        }
        if let Some(mu) = data.allocation.mu {
            rows.push(vec![
                "threshold".into(),
                String::new(),
                String::new(),
                String::new(),
                cell(mu),
                String::new(),
            ]);
        }
        table(
            "kind,feature,importance_v,capacity_C,marginal_benefit,phase",
            &rows,
        )
    }

    fn commands(params: &Params) -> Vec<Invocation> {
        let v: Vec<String> = params.importance().iter().map(|x| format!("{x}")).collect();
        vec![
            Invocation::new("marginal")
                .opt("importance", v.join(","))
                .opt("kurtosis", format!("const:{}", params.kurtosis))
                .opt("lambda", params.lambda)
                .opt("points", params.samples)
                .opt("format", "csv"),
        ]
    }
}
