//! \[S\] Fig. 4, bottom row: the six marginal-benefit cases A–F (spec §7.4), computed from
//! the closed form (Q16) and the optimal allocation (A7) — not copied from the paper's
//! sketches (spec §13, pitfall 14).
//!
//! Each panel shows m(C) = −∂L/∂C of the varied feature (v = V, blue) and of a reference
//! feature (v = 1, black) on a log axis, the dots of the optimum (every feature's
//! (Cᵢ, mᵢ(Cᵢ))), and the threshold: a dashed line at μ = 2λ² (A4) when μ is unique, a grey
//! band of the admissible μ of (K3) when it is not (k ≤ 3).

use crate::base::Result;
use crate::theory::allocation::Phase;
use crate::theory::phase::{self, MarginalCurves, PanelPoint, PhaseSetting};

use super::canvas::{Anchor, Marker, Stroke, wrap};
use super::cell;
use super::colour::CATEGORICAL;
use super::colour::Rgb;
use super::loss_allocation::{curvature_sign, shape};
use super::panel::{Axis, Panel, fmt_value, legend, legend_size};
use super::parts::{Draw, area, canvas, line_key, marker_key, page, row, swatch, table};
use super::phase_diagram::{inputs_name, setting_text};
use super::style::Style;
use super::{Figure, Invocation, Parameters};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// N, D and the magnitude law (the points' densities follow from it).
    pub setting: PhaseSetting,
    /// Points per curve.
    pub samples: usize,
}

impl Parameters for Params {
    /// \[S\] Fig. 4: N = 6, D = 3, sparse uniform; 401 points per curve.
    fn paper() -> Self {
        Params {
            setting: PhaseSetting::default(),
            samples: 401,
        }
    }

    /// The same with 41 points per curve.
    fn quick() -> Self {
        Params {
            samples: 41,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        let pts: Vec<String> = phase::points_a_to_f(&self.setting)
            .iter()
            .map(|p| {
                format!(
                    "{}: V = {}, k = {}",
                    p.label,
                    fmt_value(p.importance),
                    fmt_value(p.kurtosis)
                )
            })
            .collect();
        vec![
            row("features N", self.setting.features()),
            row("dimensions D", self.setting.dims()),
            row("inputs", inputs_name(self.setting.magnitude())),
            row("points (spec §7.4)", pts.join("; ")),
            row("points per curve", self.samples),
        ]
    }
}

/// One panel: its point and curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The point (label, V, k, p).
    pub point: PanelPoint,
    /// Curves, allocation and threshold at that point (feature 0 varied, 1.. reference).
    pub curves: MarginalCurves,
}

/// Computed data of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// The six cases A–F.
    pub cases: Vec<Case>,
}

fn header(c: &Case) -> Vec<String> {
    let p = &c.point;
    let mut first = format!("{}: V = {}", p.label, fmt_value(p.importance));
    if let Some(d) = p.density {
        first.push_str(&format!(", p = {}", fmt_value(d)));
    }
    first.push_str(&format!(", k = {}", fmt_value(p.kurtosis)));
    let returns = shape(curvature_sign(p.kurtosis))
        .split(": ")
        .nth(1)
        .unwrap_or("");
    let blue = c.curves.allocation.phase.first().map_or("", Phase::name);
    let mut lines = vec![
        first,
        returns.to_string(),
        format!("varied feature: {blue}"),
    ];
    // Spec §13, pitfall 15: say when ties were broken.
    if c.curves.allocation.ties {
        lines.push("tied optimum: lower index first".to_string());
    }
    lines
}

const BLUE: Rgb = CATEGORICAL[4];

/// y range (log) shared by the panels with the same kurtosis.
fn y_range(data: &Data, k: f64) -> (f64, f64) {
    let (lo, hi) = data
        .cases
        .iter()
        .filter(|c| (c.point.kurtosis - k).abs() < 1e-12)
        .flat_map(|c| c.curves.benefit.iter().take(2).flatten())
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let (l, h) = (lo.log10(), hi.log10());
    if !(l.is_finite() && h.is_finite()) {
        return (0.1, 10.0);
    }
    if h - l < 0.7 {
        // Flat or nearly flat curves (k = 3): the surrounding decade(s).
        return (
            10f64.powf((l - 0.05).floor()),
            10f64.powf((h + 0.05).ceil()),
        );
    }
    let pad = ((h - l) * 0.08).max(0.3);
    (10f64.powf(l - pad), 10f64.powf(h + pad))
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "fig4-cases-a-f";
    const SOURCE: &'static str = "[S] Fig. 4 bottom row; spec §7.4, §11 S4, (Q16), (A7)";
    type Params = Params;
    type Item = ();
    type Data = Data;

    fn assemble(params: &Params, _: Vec<()>) -> Result<Data> {
        let cases = phase::points_a_to_f(&params.setting)
            .iter()
            .map(|pt| {
                Ok(Case {
                    point: *pt,
                    curves: phase::panel_curves(&params.setting, pt, params.samples)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Data {
            params: params.clone(),
            cases,
        })
    }

    fn title(data: &Data) -> String {
        let s = setting_text(&data.params.setting);
        format!("Marginal benefit at the points A–F, {s}")
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let cols = if width < 300.0 { 2 } else { 3 };
        let n = data.cases.len().max(1);
        let rows = n.div_ceil(cols);
        let left = 8.0 + ts * 2.6 + ls * 1.5;
        let gap = 8.0 + ts * 2.6 + 6.0;
        let panel_w = (width - left - ts * 1.8 - gap * (cols as f64 - 1.0)) / cols as f64;
        let panel_h = panel_w * 0.75;
        // Header lines wrapped to the panel width; all rows get the height of the longest.
        let headers: Vec<Vec<String>> = data
            .cases
            .iter()
            .map(|c| {
                header(c)
                    .iter()
                    .flat_map(|h| wrap(h, ts, panel_w))
                    .collect()
            })
            .collect();
        // Per row: header height from its longest header, then the panel and its x labels.
        let head_h: Vec<f64> = headers
            .chunks(cols)
            .map(|row| ts * 1.2 * row.iter().map(Vec::len).max().unwrap_or(3) as f64 + 3.0)
            .collect();
        // x tick labels and the x label only under panels with no panel below them.
        let labelled = |j: usize| j + cols >= n;
        let body_h: Vec<f64> = (0..rows)
            .map(|r| {
                if (r * cols..((r + 1) * cols).min(n)).any(labelled) {
                    panel_h + ts * 2.0 + ls * 2.2 + 4.0
                } else {
                    panel_h + 10.0
                }
            })
            .collect();
        let row_top: Vec<f64> = head_h
            .iter()
            .zip(&body_h)
            .scan(title_h, |y, (h, b)| {
                let top = *y;
                *y += h + b;
                Some(top)
            })
            .collect();
        let rows_end = title_h + head_h.iter().zip(&body_h).map(|(h, b)| h + b).sum::<f64>();
        let dash = Stroke::dashed(Rgb::BLACK, 0.8, 3.0, 2.0);
        let entries = vec![
            line_key(Stroke::solid(BLUE, 1.3), "varied feature, v = V"),
            line_key(Stroke::solid(Rgb::BLACK, 1.0), "reference features, v = 1"),
            marker_key(Marker::Circle, Rgb::WHITE, "optimum (A7)"),
            line_key(dash.clone(), "μ = 2λ^{2} (unique)"),
            swatch(Rgb::hex(0xdddddd), "admissible μ, (K3) (not unique)"),
        ];
        let (leg_w, leg_h) = legend_size(style, &entries);
        let height = rows_end + leg_h + 8.0;
        let mut svg = canvas(&heading, height, style);
        for (j, c) in data.cases.iter().enumerate() {
            let (r, q) = (j / cols, j % cols);
            let frame = area(
                left + q as f64 * (panel_w + gap),
                row_top[r] + head_h[r],
                panel_w,
                panel_h,
            );
            let (ylo, yhi) = y_range(data, c.point.kurtosis);
            let panel = Panel {
                frame,
                x: Axis::linear(0.0, 1.0, "capacity C"),
                y: Axis::log(ylo, yhi, if q == 0 { "m(C) = −∂L/∂C" } else { "" }),
            };
            let m = &c.curves;
            panel.clip(&mut svg);
            let (tlo, thi) = m.threshold;
            if (thi - tlo).abs() > 1e-12 * thi.abs().max(1.0) {
                let top = panel.py(thi.min(yhi * 10.0)).max(frame.y);
                let bottom = panel.py(tlo.max(ylo / 10.0)).min(frame.y + frame.h);
                svg.fill_rect(frame.x, top, frame.w, bottom - top, Rgb::hex(0xdddddd));
            }
            let line = |b: &Vec<f64>| -> Vec<(f64, f64)> {
                m.capacity
                    .iter()
                    .zip(b)
                    .map(|(x, y)| panel.at(*x, *y))
                    .collect()
            };
            if let Some(b) = m.benefit.get(1) {
                svg.polyline(&line(b), &Stroke::solid(Rgb::BLACK, 1.0));
            }
            if let Some(b) = m.benefit.first() {
                svg.polyline(&line(b), &Stroke::solid(BLUE, 1.3));
            }
            if let Some(mu) = m.mu() {
                svg.line(panel.at(0.0, mu), panel.at(1.0, mu), &dash);
            }
            svg.unclip();
            panel.draw_axes_with(&mut svg, style, labelled(j), true);
            // Dots: reference features first, the varied one on top.
            for (i, (cap, ben)) in m
                .allocation
                .capacity
                .iter()
                .zip(&m.optimum_benefit)
                .enumerate()
                .rev()
            {
                let colour = if i == 0 { BLUE } else { Rgb::BLACK };
                let edge = Some((Rgb::WHITE, 0.5));
                svg.dot(Marker::Circle, panel.at(*cap, *ben), ts * 0.7, colour, edge);
            }
            let lines = &headers[j];
            for (k, h) in lines.iter().enumerate() {
                let y = frame.y - 3.0 - ts * 1.2 * (lines.len() - 1 - k) as f64;
                svg.say(frame.x, y, h, ts, Anchor::Start);
            }
        }
        let lx = (width - leg_w) / 2.0;
        legend(&mut svg, style, lx, rows_end + 2.0, &entries);
        svg.finish()
    }

    // The data as CSV: curve rows (kind = curve) for the varied and one reference feature, the
    // optimum of every feature (kind = optimum) and the threshold ends (kind = threshold).
    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for c in &data.cases {
            let label = c.point.label.to_string();
            let base = |kind: &str, feature: String| {
                vec![
                    label.clone(),
                    cell(c.point.importance),
                    c.point.density.map_or_else(String::new, cell),
                    cell(c.point.kurtosis),
                    kind.to_string(),
                    feature,
                ]
            };
            let m = &c.curves;
            for (i, b) in m.benefit.iter().enumerate().take(2) {
                for (x, y) in m.capacity.iter().zip(b) {
                    let mut r = base("curve", (i + 1).to_string());
                    r.extend([cell(*x), cell(*y), String::new()]);
                    rows.push(r);
                }
            }
            for (i, (x, y)) in m
                .allocation
                .capacity
                .iter()
                .zip(&m.optimum_benefit)
                .enumerate()
            {
                let mut r = base("optimum", (i + 1).to_string());
                r.extend([cell(*x), cell(*y), m.allocation.phase[i].name().to_string()]);
                rows.push(r);
            }
            for (end, v) in [("low", m.threshold.0), ("high", m.threshold.1)] {
                let mut r = base("threshold", String::new());
                r.extend([String::new(), cell(v), end.to_string()]);
                rows.push(r);
            }
        }
        table(
            "point,importance_V,density_p,kurtosis_k,kind,feature,capacity_C,marginal_benefit,phase_or_end",
            &rows,
        )
    }

    fn commands(params: &Params) -> Vec<Invocation> {
        let s = &params.setting;
        phase::points_a_to_f(s)
            .iter()
            .map(|pt| {
                let mut v = vec![format!("{}", pt.importance)];
                v.extend(std::iter::repeat_n("1".to_string(), s.features() - 1));
                Invocation::new("marginal")
                    .opt("importance", v.join(","))
                    .opt("kurtosis", format!("const:{}", pt.kurtosis))
                    .opt("dims", s.dims())
                    .opt("points", params.samples)
                    .opt("format", "csv")
            })
            .collect()
    }
}
