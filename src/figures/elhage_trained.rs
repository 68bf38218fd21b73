//! \[E\] trained phase diagrams of the ReLU-output model against its own theory (spec §9.4):
//! for 2 features in 1 dimension and 3 in 2, three panels each: the closed-form winner
//! (E11)/(E12), the trained phase map (hue = the best seed's configuration, saturation = the
//! extra feature's norm ‖W_extra‖, as the public replication colours it) with the analytic
//! boundaries (black) and the empirical boundary fitted to the best seeds' classes (dashed), and
//! the disagreement (agree, disagree, within the band of a boundary, outside the closed form).
//!
//! The numbers come from `verify::elhage` (the same run as `polycap verify --model tms-relu`).

use crate::base::Result;
use crate::theory::elhage::{DEFAULT_DENSITY_RANGE, DEFAULT_RATIO_RANGE, ToyModel};
use crate::verify::elhage::{
    Classified, ClosedForm, ElhageReport, ElhageTheory, ElhageVerdict, ElhageVerifier,
};

use super::canvas::{Anchor, Stroke, text_width};
use super::colour::Rgb;
use super::elhage_phase::{code, model_name, region_colour};
use super::panel::heatmap;
use super::panel::{Axis, LegendKey, Panel, legend, legend_size};
use super::parts::{Draw, area, canvas, line_key, page, row, swatch, table};
use super::style::Style;
use super::{Figure, Invocation, Parameters};
use super::{cell, span};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// The models, one row each.
    pub models: Vec<ToyModel>,
    /// Range of r (log axis).
    pub ratio_range: (f64, f64),
    /// Range of p (log axis).
    pub density_range: (f64, f64),
    /// Grid: r values × p values.
    pub grid: (usize, usize),
    /// Seeds per point.
    pub seeds: usize,
    /// Optimisation steps.
    pub steps: usize,
    /// Base seed.
    pub base_seed: u64,
    /// Band half-width around the analytic boundaries, decades.
    pub band: f64,
}

impl Parameters for Params {
    /// The default of `polycap verify --model tms-relu` for both models: 25 × 25 points × 5
    /// seeds × 5000 steps (AdamW 1e-3, batch 1024), 6250 models; the replication's
    /// 50 × 50 × 10 (50 000 models) does not fit the reproduce budget: it is
    /// `Params::paper_resolution`.
    fn paper() -> Self {
        Params {
            models: vec![ToyModel::TwoInOne, ToyModel::ThreeInTwo],
            ratio_range: DEFAULT_RATIO_RANGE,
            density_range: DEFAULT_DENSITY_RANGE,
            grid: (25, 25),
            seeds: 5,
            steps: 5000,
            base_seed: 0,
            band: 0.1,
        }
    }

    /// The replication's resolution (`reproduce --resolution paper`): 50 × 50 points × 10
    /// seeds × 5000 steps per model, 50 000 models.
    fn paper_resolution() -> Self {
        Params {
            grid: (50, 50),
            seeds: 10,
            ..Params::paper()
        }
    }

    /// 12 × 12 × 3 seeds × 1500 steps.
    fn quick() -> Self {
        Params {
            grid: (12, 12),
            seeds: 3,
            steps: 1500,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        let models: Vec<String> = self.models.iter().map(|m| model_name(*m)).collect();
        vec![
            row("models", models.join("; ")),
            span("relative importance r (log)", self.ratio_range),
            span("density p = 1 − S (log)", self.density_range),
            row("grid", format!("{} r × {} p", self.grid.0, self.grid.1)),
            row(
                "training",
                format!(
                    "{} seeds × {} steps per point, AdamW lr 1e-3 (weight decay 0.01), batch 1024, lane engine",
                    self.seeds, self.steps
                ),
            ),
            row(
                "band around the boundaries",
                format!("{} decades", self.band),
            ),
        ]
    }
}

/// Computed data: one verification report per model.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// One report per model.
    pub reports: Vec<(ToyModel, ElhageReport)>,
    /// Analytic boundaries per model, (r, p) polylines.
    pub boundaries: Vec<Vec<Vec<(f64, f64)>>>,
}

/// Colour of a trained class (the theory's region colours; purple for a shared direction,
/// yellow for other shapes).
pub fn class_colour(model: ToyModel, c: Classified) -> Rgb {
    match c.region(model) {
        Some(r) => region_colour(r),
        None => match c {
            Classified::SharedDirection => Rgb::hex(0x8073ac),
            _ => Rgb::hex(0xfdb863),
        },
    }
}

fn verdict_colour(v: ElhageVerdict) -> Rgb {
    match v {
        ElhageVerdict::Agree => Rgb::hex(0xf0f0f0),
        ElhageVerdict::Disagree => Rgb::hex(0xb2182b),
        ElhageVerdict::Boundary => Rgb::hex(0xbdbdbd),
        ElhageVerdict::Outside => Rgb::hex(0x8073ac),
    }
}

fn verdict_name(v: ElhageVerdict) -> &'static str {
    match v {
        ElhageVerdict::Agree => "agree",
        ElhageVerdict::Disagree => "disagree",
        ElhageVerdict::Boundary => "within the band of a boundary",
        ElhageVerdict::Outside => "outside the closed form",
    }
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "e3-elhage-trained";
    const SOURCE: &'static str = "[E] phase diagrams, theory and trained; spec §9.4, (E11)–(E13); polycap verify --model tms-relu";
    type Params = Params;
    type Item = ElhageReport;
    type Data = Data;

    fn jobs(params: &Params) -> usize {
        params.models.len()
    }

    // Job `j`: model j trained over the grid and compared (the lane engine runs the models of
    // the grid in parallel inside the job).
    fn job(params: &Params, j: usize) -> Result<ElhageReport> {
        let m = params.models[j];
        let mut v = ElhageVerifier::new(m, params.seeds, params.base_seed)?;
        v.training.steps = params.steps;
        v.band = params.band;
        v.run(
            params.ratio_range,
            params.density_range,
            params.grid.0,
            params.grid.1,
            None,
            &|_| {},
        )
    }

    fn assemble(params: &Params, items: Vec<ElhageReport>) -> Result<Data> {
        let mut boundaries = Vec::new();
        for &m in &params.models {
            boundaries.push(ClosedForm.boundaries(m, params.ratio_range, params.density_range)?);
        }
        Ok(Data {
            params: params.clone(),
            reports: params.models.iter().copied().zip(items).collect(),
            boundaries,
        })
    }

    fn title(data: &Data) -> String {
        let parts: Vec<String> = data
            .reports
            .iter()
            .map(|(m, r)| {
                format!(
                    "{} in {}: {:.0} % of {} points off the boundaries agree",
                    m.features(),
                    m.dims(),
                    100.0 * r.summary.fraction,
                    r.summary.checked
                )
            })
            .collect();
        format!(
            "Trained ReLU-output models against the closed forms (E11), (E12): {}",
            parts.join("; ")
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let mut entries: Vec<(LegendKey, String)> = Vec::new();
        let mut seen = Vec::new();
        for (m, r) in &data.reports {
            for p in &r.points {
                for c in [p.theory, p.trained] {
                    let col = class_colour(*m, c);
                    if !seen.contains(&col) {
                        seen.push(col);
                        let name = match c.region(*m) {
                            Some(reg) => reg.name(),
                            None => c.name(),
                        };
                        entries.push(swatch(col, name));
                    }
                }
            }
        }
        entries.push(swatch(
            Rgb::WHITE.mix(Rgb::hex(0xd6604d), 0.25),
            "trained: saturation = ‖W_extra‖ (pale: extra near 0)",
        ));
        let boundary = Stroke::solid(Rgb::BLACK, 1.0);
        entries.push(line_key(
            boundary.clone(),
            "closed-form boundaries (E11), (E12)",
        ));
        entries.push(line_key(
            Stroke::dashed(Rgb::BLACK, 1.2, 3.0, 2.0),
            "trained boundary (step fit of the best seeds)",
        ));
        for v in [
            ElhageVerdict::Disagree,
            ElhageVerdict::Boundary,
            ElhageVerdict::Outside,
        ] {
            entries.push(swatch(verdict_colour(v), verdict_name(v)));
        }
        let (leg_w, leg_h) = legend_size(style, &entries);
        let left = 8.0 + ts * 2.4 + ls * 1.5;
        let gap = 8.0 + ts * 1.0;
        // The x label is centred under the rightmost panel: leave room for it where it is
        // wider than the panel (one column).
        let x_label = "relative importance r";
        let label_w = text_width(x_label, ls);
        let mut right = ts * 1.8;
        let mut panel_w = (width - left - right - 2.0 * gap) / 3.0;
        if label_w > panel_w + 2.0 * right {
            // label_w − panel_w ≤ 2·right with panel_w = (width − left − right − 2·gap) / 3.
            right = (3.0 * label_w - width + left + 2.0 * gap) / 5.0 + 2.0;
            panel_w = (width - left - right - 2.0 * gap) / 3.0;
        }
        let panel_h = panel_w * 0.85;
        let caption_h = ls * 1.6;
        let row_h = caption_h + ls * 1.5 + panel_h + ts * 2.0 + ls * 2.2 + 4.0;
        let wide = width > 400.0;
        let rows = data.reports.len();
        let height = title_h + rows as f64 * row_h + leg_h + 8.0;
        let mut svg = canvas(&heading, height, style);
        let (r0, r1) = data.params.ratio_range;
        let (p0, p1) = data.params.density_range;
        for (row, ((m, rep), lines)) in data.reports.iter().zip(&data.boundaries).enumerate() {
            let s = &rep.settings;
            let caption = if wide {
                format!(
                    "{}: {} of {} points off the boundaries agree",
                    model_name(*m),
                    rep.summary.agree,
                    rep.summary.checked
                )
            } else {
                format!(
                    "{} in {}: {} of {} agree",
                    m.features(),
                    m.dims(),
                    rep.summary.agree,
                    rep.summary.checked
                )
            };
            let y = title_h + row as f64 * row_h + ls * 1.1;
            svg.say(width / 2.0, y, &caption, ls, Anchor::Middle);
            let heads = ["theory", "trained", "agreement"];
            for (col, head) in heads.iter().enumerate() {
                let frame = area(
                    left + col as f64 * (panel_w + gap),
                    title_h + row as f64 * row_h + caption_h + ls * 1.5,
                    panel_w,
                    panel_h,
                );
                let panel = Panel {
                    frame,
                    x: Axis::log(r0, r1, x_label),
                    y: Axis::log(p0, p1, "density p = 1 − S"),
                };
                let colours: Vec<Rgb> = rep
                    .points
                    .iter()
                    .map(|p| match col {
                        0 => class_colour(*m, p.theory),
                        1 => {
                            let norm = p.extra_sq_norm.sqrt().clamp(0.0, 1.0);
                            Rgb::WHITE.mix(class_colour(*m, p.trained), 0.25 + 0.75 * norm)
                        }
                        _ => verdict_colour(p.verdict),
                    })
                    .collect();
                heatmap(&mut svg, &panel, &s.ratio, &s.density, &colours);
                panel.clip(&mut svg);
                for l in lines {
                    let pts: Vec<(f64, f64)> = l.iter().map(|(x, y)| panel.at(*x, *y)).collect();
                    svg.polyline(&pts, &boundary);
                }
                if col == 1 {
                    // The fitted boundary, one polyline per side of r = 1.
                    for below in [true, false] {
                        let pts: Vec<(f64, f64)> = rep
                            .summary
                            .offsets
                            .iter()
                            .filter(|o| (o.ratio < 1.0) == below)
                            .filter_map(|o| o.trained_density.map(|d| panel.at(o.ratio, d)))
                            .collect();
                        if pts.len() >= 2 {
                            svg.polyline(&pts, &Stroke::dashed(Rgb::BLACK, 1.2, 3.0, 2.0));
                        }
                    }
                }
                svg.unclip();
                panel.draw_axes_with(&mut svg, style, true, col == 0);
                svg.head(frame, head, ts);
            }
        }
        let ly = title_h + rows as f64 * row_h + 2.0;
        legend(&mut svg, style, (width - leg_w) / 2.0, ly, &entries);
        svg.finish()
    }

    // The data as CSV: one row per grid point and model (classes as codes, votes as
    // `class:count`); `trained_boundary_p` holds the fitted boundary of the point's r column in
    // the lowest-density row (empty elsewhere).
    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for (m, r) in &data.reports {
            let cols = r.settings.ratio.len();
            for p in &r.points {
                let fitted = (p.index / cols == 0)
                    .then(|| {
                        r.summary
                            .offsets
                            .iter()
                            .find(|o| (o.ratio / p.ratio - 1.0).abs() < 1e-12)
                            .and_then(|o| o.trained_density)
                    })
                    .flatten();
                rows.push(vec![
                    m.features().to_string(),
                    m.dims().to_string(),
                    cell(p.ratio),
                    cell(p.density),
                    code(p.theory.name()),
                    code(p.trained.name()),
                    Classified::ALL
                        .iter()
                        .zip(&p.votes)
                        .filter(|(_, k)| **k > 0)
                        .map(|(c, k)| format!("{}:{k}", code(c.name())))
                        .collect::<Vec<_>>()
                        .join(" "),
                    cell(p.extra_sq_norm),
                    cell(p.loss),
                    cell(p.boundary_distance),
                    code(verdict_name(p.verdict)),
                    fitted.map_or(String::new(), cell),
                ]);
            }
        }
        table(
            "features_n,dims_m,ratio_r,density_p,theory,trained,votes,extra_sq_norm,loss_e3_summed,boundary_distance_decades,verdict,trained_boundary_p",
            &rows,
        )
    }

    fn commands(params: &Params) -> Vec<Invocation> {
        let p = params;
        p.models
            .iter()
            .map(|m| {
                Invocation::new("verify")
                    .opt("model", "tms-relu")
                    .opt("features", m.features())
                    .opt("dims", m.dims())
                    .opt("grid", format!("{}x{}", p.grid.0, p.grid.1))
                    .opt("seeds", p.seeds)
                    .opt("seed", p.base_seed)
                    .opt("steps", p.steps)
                    .opt("band-v", p.band)
                    .opt("format", "json")
                    .switch("exit-zero")
            })
            .collect()
    }
}
