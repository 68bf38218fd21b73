//! \[S\] Fig. 4, top right: the empirical phase diagram — C₁ of the trained model over V and
//! the density p = 1 − S (spec §10.4, §11 S4) — beside the analytic C₁ on the same grid and
//! colour scale, and the difference |C₁,trained − C₁,theory|, with the closed-form
//! boundaries overlaid. Numbers from `verify::verify_grid` (quadratic model, (T4) by default).

use crate::base::Result;
use crate::theory::phase::{DEFAULT_DENSITY_RANGE, DEFAULT_IMPORTANCE_RANGE, PhaseSetting};
use crate::verify::{
    GridReport, GridSpec, PointReport, Protocol, QuadraticTheory, Verdict, Verifier, grid_report,
    verify_point,
};

use super::canvas::{Marker, Stroke};
use super::cell;
use super::colour::Colormap;
use super::colour::Rgb;
use super::empirical::{
    boundaries, capacity_colour, capacity_segments, draw_boundaries, protocol_caption,
};
use super::panel::heatmap;
use super::panel::{Panel, colorbar, legend, legend_size};
use super::parts::{
    Draw, area, canvas, ends, line_key, log_span, marker_key, page, resolution_tag, row, table,
};
use super::phase_diagram::{self, inputs_name, setting_text};
use super::style::Style;
use super::{Figure, Invocation, Parameters};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// N, D, magnitude law.
    pub setting: PhaseSetting,
    /// Grid columns (V) and rows (p).
    pub grid: (usize, usize),
    /// Training protocol.
    pub protocol: Protocol,
    /// Seeds per point.
    pub seeds: usize,
    /// Base seed.
    pub base_seed: u64,
    /// True for the reduced quick run.
    pub quick: bool,
}

impl Parameters for Params {
    /// 25 × 25 (the spec's §10.4 default), (T4) with 20 000 steps, best of 5 seeds.
    fn paper() -> Self {
        Params {
            setting: PhaseSetting::default(),
            grid: (25, 25),
            protocol: Protocol::exact(),
            seeds: 5,
            base_seed: 0,
            quick: false,
        }
    }

    /// Quick: 4 × 4, (T4) with 4000 steps, 1 seed.
    fn quick() -> Self {
        let mut protocol = Protocol::exact();
        protocol.set_steps(4000);
        Params {
            grid: (4, 4),
            protocol,
            seeds: 1,
            quick: true,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        let (w, h) = self.grid;
        vec![
            row("features N", self.setting.features()),
            row("dimensions D", self.setting.dims()),
            row("inputs", inputs_name(self.setting.magnitude())),
            row("training", protocol_caption(&self.protocol, self.seeds)),
            row(
                "grid (V × p), log",
                format!("{w} × {h}{}", resolution_tag(self.quick, false)),
            ),
            row("importance V", "0.01 … 100"),
            row("density p = 1 − S", "0.001 … 1"),
        ]
    }
}

/// Computed data.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The verification report of every grid point.
    pub report: GridReport,
    /// The grid.
    pub grid: GridSpec,
    /// Closed-form boundaries.
    pub boundaries: phase_diagram::Data,
    /// Caption of the protocol.
    pub protocol: String,
}

fn grid_of(params: &Params) -> Result<GridSpec> {
    GridSpec::new(
        params.setting,
        DEFAULT_IMPORTANCE_RANGE,
        DEFAULT_DENSITY_RANGE,
        params.grid.0,
        params.grid.1,
    )
}

fn verifier(params: &Params) -> Result<Verifier> {
    Verifier::new(
        Box::new(QuadraticTheory),
        params.protocol.clone(),
        params.seeds,
        params.base_seed,
    )
}

const DIFF_LO: f64 = -16.0;

fn diff_colour(d: f64) -> Rgb {
    let l = d.max(1e-300).log10().clamp(DIFF_LO, 0.0);
    Colormap::Viridis.at((l - DIFF_LO) / -DIFF_LO)
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "fig4-trained-phase-diagram";
    const SOURCE: &'static str = "[S] Fig. 4 top right; spec §10.4, §11 S4, (T4), (T5)";
    type Params = Params;
    type Item = PointReport;
    type Data = Data;

    fn jobs(params: &Params) -> usize {
        params.grid.0 * params.grid.1
    }

    // Job `j`: grid point j verified.
    fn job(params: &Params, j: usize) -> Result<PointReport> {
        verify_point(&verifier(params)?, &grid_of(params)?, j)
    }

    fn assemble(params: &Params, items: Vec<PointReport>) -> Result<Data> {
        let grid = grid_of(params)?;
        let report = grid_report(&verifier(params)?, &grid, None, items);
        Ok(Data {
            boundaries: boundaries(
                params.setting,
                DEFAULT_IMPORTANCE_RANGE,
                DEFAULT_DENSITY_RANGE,
            )?,
            report,
            grid,
            protocol: protocol_caption(&params.protocol, params.seeds),
        })
    }

    fn title(data: &Data) -> String {
        let s = setting_text(&data.grid.setting);
        format!("Trained C₁ against theory, {s}; {}", data.protocol)
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let left = 8.0 + ts * 2.4 + ls * 1.5;
        let bar_room = 8.0 + 7.0 + ts * 2.2 + ls * 1.6;
        let gap = 10.0 + ts * 1.2;
        let panel_w = ((width - left - 2.0 * gap - 2.0 * bar_room - 4.0) / 3.0).min(200.0);
        let panel_h = panel_w * 0.9;
        let top = title_h + ls * 1.6;
        let points = &data.report.points;
        let theory: Vec<f64> = points.iter().map(|p| p.theory_capacity[0]).collect();
        let trained: Vec<f64> = points.iter().map(|p| p.trained_capacity[0]).collect();
        let diff: Vec<f64> = points.iter().map(|p| p.capacity_diff[0]).collect();
        let s = &data.report.summary;
        let entries = vec![
            line_key(
                Stroke::solid(Rgb::BLACK, 0.9),
                "V_{ign} (P4), V_{full} (P3); thick: first order V = 1 (k ≤ 3)",
            ),
            marker_key(Marker::Star, Rgb::WHITE, "critical point, k = 3"),
            marker_key(
                Marker::Circle,
                Rgb::WHITE,
                format!(
                    "outside tolerance ({} of {} checked); ✕ near a boundary ({})",
                    s.checked - s.agree,
                    s.checked,
                    s.boundary
                ),
            ),
        ];
        let (_, leg_h) = legend_size(style, &entries);
        let legend_top = top + panel_h + ts * 2.0 + ls * 2.2 + 4.0;
        let height = legend_top + leg_h + 6.0;
        let mut svg = canvas(&heading, height, style);
        let g = &data.grid;
        let xs = [
            left,
            left + panel_w + gap,
            left + 2.0 * (panel_w + gap) + bar_room,
        ];
        let names = [
            "theory, allocation (A7)".to_string(),
            "trained".to_string(),
            "|C₁,trained − C₁,theory|".to_string(),
        ];
        for (q, x) in xs.iter().enumerate() {
            let panel = Panel {
                frame: area(*x, top, panel_w, panel_h),
                x: log_span(ends(&g.importance), "importance V"),
                y: log_span(ends(&g.density), "feature density p = 1 − S"),
            };
            let colours: Vec<Rgb> = match q {
                0 => theory.iter().map(|c| capacity_colour(*c)).collect(),
                1 => trained.iter().map(|c| capacity_colour(*c)).collect(),
                _ => diff.iter().map(|d| diff_colour(*d)).collect(),
            };
            heatmap(&mut svg, &panel, &g.importance, &g.density, &colours);
            draw_boundaries(&mut svg, &panel, &data.boundaries, 1.0);
            if q > 0 {
                for p in points {
                    let (v, d) = g.coordinates(p.index);
                    let (cx, cy) = panel.at(v, d);
                    let ring = Some((Rgb::BLACK, 0.6));
                    match p.verdict {
                        Verdict::Disagree => {
                            svg.dot(Marker::Circle, (cx, cy), ts * 0.6, Rgb::WHITE, ring)
                        }
                        Verdict::Boundary if q == 2 => {
                            let r = ts * 0.22;
                            let st = Stroke::solid(Rgb::WHITE, 0.6);
                            svg.line((cx - r, cy - r), (cx + r, cy + r), &st);
                            svg.line((cx - r, cy + r), (cx + r, cy - r), &st);
                        }
                        _ => {}
                    }
                }
            }
            panel.draw_axes_with(&mut svg, style, true, q == 0);
            svg.head(panel.frame, &names[q], ls);
            if q == 1 {
                let bar = area(x + panel_w + 8.0, top, 7.0, panel_h);
                let segs = capacity_segments();
                colorbar(&mut svg, style, bar, &segs, 0.0, 1.0, "capacity C₁");
            }
            if q == 2 {
                let bar = area(x + panel_w + 8.0, top, 7.0, panel_h);
                let segs: Vec<(f64, f64, Rgb)> = (0..32)
                    .map(|j| {
                        let a = DIFF_LO + (-DIFF_LO) * j as f64 / 32.0;
                        let b = DIFF_LO + (-DIFF_LO) * (j + 1) as f64 / 32.0;
                        (a, b, Colormap::Viridis.at((a - DIFF_LO + 0.25) / -DIFF_LO))
                    })
                    .collect();
                colorbar(&mut svg, style, bar, &segs, DIFF_LO, 0.0, "log₁₀ |ΔC₁|");
            }
        }
        legend(&mut svg, style, 4.0, legend_top, &entries);
        svg.finish()
    }

    fn csv(data: &Data) -> String {
        let rows: Vec<Vec<String>> = data
            .report
            .points
            .iter()
            .map(|p| {
                let (v, d) = data.grid.coordinates(p.index);
                vec![
                    p.index.to_string(),
                    cell(v),
                    cell(d),
                    cell(p.kurtosis[0]),
                    cell(p.theory_capacity[0]),
                    cell(p.trained_capacity[0]),
                    cell(p.capacity_diff[0]),
                    cell(p.max_capacity_diff),
                    cell(p.total_diff),
                    cell(p.loss_relative),
                    format!("{:?}", p.verdict).to_lowercase(),
                    p.boundary.map_or(String::new(), |b| cell(b.distance)),
                ]
            })
            .collect();
        table(
            "point,importance_V,density_p,kurtosis_k,C1_theory,C1_trained,abs_diff_C1,max_abs_diff_Ci,abs_diff_total_C,rel_diff_loss,verdict,boundary_distance_decades",
            &rows,
        )
    }

    fn commands(params: &Params) -> Vec<Invocation> {
        let (p, s) = (params, &params.setting);
        vec![
            Invocation::new("verify")
                .opt("model", p.protocol.name())
                .opt("features", s.features())
                .opt("dims", s.dims())
                .opt("input", s.magnitude().name())
                .opt("grid", format!("{}x{}", p.grid.0, p.grid.1))
                .opt("seeds", p.seeds)
                .opt("seed", p.base_seed)
                .opt("steps", p.protocol.steps())
                .opt("format", "json")
                .switch("exit-zero"),
        ]
    }
}
