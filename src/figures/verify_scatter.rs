//! Theory against training, feature by feature: trained Cᵢ against the theory's Cᵢ for
//! every feature of every point of the V × p grid (spec (T5)), with the identity line and
//! the tolerance band; one panel for (T4) (exact loss) and one for (T3) (sampled SGD).
//! Points are coloured by the verdict of their grid point (`verify::Verdict`).
//!
//! Default: 13 × 13, (T4) 5 seeds × 20 000 steps, (T3) with the library's defaults × 3 seeds;
//! paper resolution: the same protocols on 25 × 25. `polycap bench figure verify-scatter`
//! measures either.

use crate::base::Result;
use crate::theory::phase::PhaseSetting;
use crate::training::Model;
use crate::verify::{
    GridReport, GridSpec, PointReport, Protocol, QuadraticTheory, Verdict, Verifier, grid_report,
    verify_point,
};

use super::canvas::{Anchor, Marker, Stroke, wrap};
use super::cell;
use super::colour::CATEGORICAL;
use super::colour::Rgb;
use super::empirical::protocol_caption;
use super::panel::{Axis, Panel, legend, legend_size};
use super::parts::{Draw, area, canvas, marker_key, page, resolution_tag, row, swatch, table};
use super::phase_diagram::{inputs_name, setting_text};
use super::style::Style;
use super::{Figure, Invocation, Parameters};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// N, D, magnitude law (the Fig. 4 setting).
    pub setting: PhaseSetting,
    /// Grid columns (V) and rows (p), over V ∈ [10⁻², 10²], p ∈ [10⁻³, 1].
    pub grid: (usize, usize),
    /// (T4) protocol and seeds.
    pub exact: (Protocol, usize),
    /// (T3) protocol and seeds.
    pub sampled: (Protocol, usize),
    /// Base seed.
    pub base_seed: u64,
    /// True for the reduced quick run.
    pub quick: bool,
    /// True for the paper's resolution (stated in the title).
    pub paper: bool,
}

impl Parameters for Params {
    /// 13 × 13; (T4) 20 000 steps × 5 seeds; (T3) with the library's defaults
    /// (`TrainConfig::defaults`: batch sized by density (RN7), 10 000 steps) × 3 seeds.
    fn paper() -> Self {
        let mut sampled = Protocol::sampled(Model::Quadratic);
        if let Protocol::Sampled { config, .. } = &mut sampled {
            config.eval_batch = 8192;
        }
        Params {
            setting: PhaseSetting::default(),
            grid: (13, 13),
            exact: (Protocol::exact(), 5),
            sampled: (sampled, 3),
            base_seed: 0,
            quick: false,
            paper: false,
        }
    }

    /// The paper's resolution: the 25 × 25 grid of Fig. 4 (spec §10.4); (T4) as by
    /// default, (T3) with the library's defaults (`TrainConfig::defaults`) and 3 seeds.
    fn paper_resolution() -> Self {
        Params {
            grid: (25, 25),
            paper: true,
            ..Params::paper()
        }
    }

    /// Quick: 4 × 4; (T4) 3000 steps, (T3) 300 steps, 1 seed each.
    fn quick() -> Self {
        let mut p = Params::paper();
        p.grid = (4, 4);
        p.exact.0.set_steps(3000);
        p.exact.1 = 1;
        p.sampled.0.set_steps(300);
        p.sampled.1 = 1;
        p.quick = true;
        p
    }

    fn describe(&self) -> Vec<(String, String)> {
        let (w, h) = self.grid;
        vec![
            row("features N", self.setting.features()),
            row("dimensions D", self.setting.dims()),
            row("inputs", inputs_name(self.setting.magnitude())),
            row(
                "grid (V × p), log",
                format!(
                    "{w} × {h} over V ∈ [0.01, 100], p = 1 − S ∈ [0.001, 1]{}",
                    resolution_tag(self.quick, self.paper)
                ),
            ),
            row("left", protocol_caption(&self.exact.0, self.exact.1)),
            row("right", protocol_caption(&self.sampled.0, self.sampled.1)),
        ]
    }
}

/// Computed data: the two verification reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// (caption, report) for (T4) and (T3).
    pub reports: Vec<(String, GridReport)>,
    /// The grid.
    pub grid: GridSpec,
}

fn grid_of(params: &Params) -> Result<GridSpec> {
    let grid = GridSpec::fig4(params.grid.0, params.grid.1)?;
    Ok(GridSpec {
        setting: params.setting,
        ..grid
    })
}

fn verifiers(params: &Params) -> Result<[Verifier; 2]> {
    let v = |(protocol, seeds): &(Protocol, usize)| {
        Verifier::new(
            Box::new(QuadraticTheory),
            protocol.clone(),
            *seeds,
            params.base_seed,
        )
    };
    Ok([v(&params.exact)?, v(&params.sampled)?])
}

fn verdict_colour(v: Verdict) -> Rgb {
    match v {
        Verdict::Agree => CATEGORICAL[4],
        Verdict::Boundary => CATEGORICAL[1],
        Verdict::Disagree => CATEGORICAL[5],
    }
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "verify-scatter";
    const SOURCE: &'static str = "spec (T3)–(T5); polycap verify";
    type Params = Params;
    type Item = PointReport;
    type Data = Data;

    fn jobs(params: &Params) -> usize {
        2 * params.grid.0 * params.grid.1
    }

    // Job `j`: point j mod (W·H) under (T4) (j < W·H) or (T3).
    fn job(params: &Params, j: usize) -> Result<PointReport> {
        let points = params.grid.0 * params.grid.1;
        let grid = grid_of(params)?;
        let [exact, sampled] = verifiers(params)?;
        let v = if j < points { exact } else { sampled };
        verify_point(&v, &grid, j % points)
    }

    fn assemble(params: &Params, items: Vec<PointReport>) -> Result<Data> {
        let grid = grid_of(params)?;
        let points = grid.len();
        let mut it = items.into_iter();
        let reports = verifiers(params)?
            .iter()
            .zip([&params.exact, &params.sampled])
            .map(|(v, (protocol, seeds))| {
                (
                    protocol_caption(protocol, *seeds),
                    grid_report(v, &grid, None, it.by_ref().take(points).collect()),
                )
            })
            .collect();
        Ok(Data { reports, grid })
    }

    fn title(data: &Data) -> String {
        let (n, s) = (data.grid.len(), setting_text(&data.grid.setting));
        format!("Trained against theoretical capacity Cᵢ of every feature at {n} points, {s}")
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let left = 8.0 + ts * 2.4 + ls * 1.5;
        let gap = 14.0 + ts * 2.4;
        let panel_w = ((width - left - gap - 8.0) / 2.0).min(220.0);
        let head = ls * 2.6;
        let top = title_h + head;
        let mut entries_all = Vec::new();
        for (_, r) in &data.reports {
            let s = &r.summary;
            let t = r.settings.tolerance.capacity;
            entries_all.push(vec![
                marker_key(
                    Marker::Circle,
                    verdict_colour(Verdict::Agree),
                    format!("agree: {} of {} points", s.agree, s.checked),
                ),
                marker_key(
                    Marker::Circle,
                    verdict_colour(Verdict::Disagree),
                    format!("outside tolerance: {}", s.checked - s.agree),
                ),
                marker_key(
                    Marker::Circle,
                    verdict_colour(Verdict::Boundary),
                    format!("near a boundary: {}", s.boundary),
                ),
                swatch(Rgb::hex(0xdddddd), format!("|ΔCᵢ| ≤ {t} (T5)")),
            ]);
        }
        let leg_h = entries_all
            .iter()
            .map(|e| legend_size(style, e).1)
            .fold(0.0, f64::max);
        let legend_top = top + panel_w + ts * 2.0 + ls * 2.2 + 4.0;
        let height = legend_top + leg_h + 6.0;
        let mut svg = canvas(&heading, height, style);
        for (q, (caption, r)) in data.reports.iter().enumerate() {
            let x = left + q as f64 * (panel_w + gap);
            let frame = area(x, top, panel_w, panel_w);
            let panel = Panel {
                frame,
                x: Axis::linear(0.0, 1.0, "theory Cᵢ, allocation (A7)"),
                y: Axis::linear(0.0, 1.0, "trained Cᵢ (C1)"),
            };
            let t = r.settings.tolerance.capacity;
            panel.clip(&mut svg);
            let band = [
                panel.at(0.0, -t),
                panel.at(1.0, 1.0 - t),
                panel.at(1.0, 1.0 + t),
                panel.at(0.0, t),
            ];
            svg.fill_polygon(&band, Rgb::hex(0xdddddd), 1.0);
            let diagonal = Stroke::solid(Rgb::BLACK, 0.5);
            svg.line(panel.at(0.0, 0.0), panel.at(1.0, 1.0), &diagonal);
            // Boundary points first, then agreeing, then disagreeing on top.
            for verdict in [Verdict::Boundary, Verdict::Agree, Verdict::Disagree] {
                let colour = verdict_colour(verdict);
                for p in r.points.iter().filter(|p| p.verdict == verdict) {
                    for (a, b) in p.theory_capacity.iter().zip(&p.trained_capacity_matched) {
                        svg.dot(Marker::Circle, panel.at(*a, *b), ts * 0.42, colour, None);
                    }
                }
            }
            svg.unclip();
            panel.draw_axes_with(&mut svg, style, true, q == 0);
            let lines = wrap(caption, ls * 0.85, panel_w);
            for (j, l) in lines.iter().take(2).enumerate() {
                let y = top - 3.0 - ls * 1.05 * (lines.len().min(2) - 1 - j) as f64;
                svg.say(x + panel_w / 2.0, y, l, ls * 0.85, Anchor::Middle);
            }
            legend(&mut svg, style, x, legend_top, &entries_all[q]);
        }
        svg.finish()
    }

    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for (_, r) in &data.reports {
            for p in &r.points {
                let (v, d) = data.grid.coordinates(p.index);
                for i in 0..p.theory_capacity.len() {
                    rows.push(vec![
                        r.settings.model.clone(),
                        p.index.to_string(),
                        cell(v),
                        cell(d),
                        (i + 1).to_string(),
                        cell(p.theory_capacity[i]),
                        cell(p.trained_capacity_matched[i]),
                        format!("{:?}", p.verdict).to_lowercase(),
                    ]);
                }
            }
        }
        table(
            "model,point,importance_V,density_p,feature,C_theory,C_trained_matched,verdict",
            &rows,
        )
    }

    fn commands(params: &Params) -> Vec<Invocation> {
        [&params.exact, &params.sampled]
            .iter()
            .map(|(p, seeds)| {
                Invocation::new("verify")
                    .opt("model", p.name())
                    .opt("grid", format!("{}x{}", params.grid.0, params.grid.1))
                    .opt("seeds", seeds)
                    .opt("seed", params.base_seed)
                    .opt("steps", p.steps())
                    .opt("format", "json")
                    .switch("exit-zero")
            })
            .collect()
    }
}
