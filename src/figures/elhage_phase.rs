//! \[E\] theory phase diagrams ("toy model of the toy model", spec §9.4, §11 E3): which
//! configuration of the ReLU-output model wins for n = 2 features in m = 1 dimension and
//! n = 3 in m = 2, over the extra feature's relative importance r and the density p.
//!
//! Colours: grey = extra not represented, red = extra in superposition, blue = extra
//! dedicated, dark blue = extra dedicated with feature 1 not represented (n = 3). The
//! regions come from `theory::elhage::elhage_grid` (argmin of (E9)–(E12)); the black lines are
//! the closed-form boundaries (E11)/(E12).

use crate::base::Result;
use crate::theory::elhage::{
    self, DEFAULT_DENSITY_RANGE, DEFAULT_RATIO_RANGE, ElhageGrid, Region, ToyModel,
};
use crate::theory::phase::log_axis;

use super::canvas::{Anchor, Stroke, text_width};
use super::colour::Rgb;
use super::colour::{IGNORED, MONOSEMANTIC};
use super::panel::heatmap;
use super::panel::{LegendKey, Panel, legend, legend_size};
use super::parts::{Draw, area, canvas, line_key, log_span, page, row, swatch, table};
use super::style::Style;
use super::{Figure, Parameters};
use super::{cell, span};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// The models, one panel each.
    pub models: Vec<ToyModel>,
    /// Range of r (log axis).
    pub ratio_range: (f64, f64),
    /// Range of p (log axis).
    pub density_range: (f64, f64),
    /// Grid points per axis.
    pub resolution: usize,
}

impl Parameters for Params {
    /// Spec §11 E3: 2-in-1 and 3-in-2, r ∈ [0.1, 10], p ∈ [0.01, 1], 200 × 200 (the
    /// boundaries are drawn from the closed forms, so the grid only colours the regions).
    fn paper() -> Self {
        Params {
            models: vec![ToyModel::TwoInOne, ToyModel::ThreeInTwo],
            ratio_range: DEFAULT_RATIO_RANGE,
            density_range: DEFAULT_DENSITY_RANGE,
            resolution: 200,
        }
    }

    /// The same on 80 × 80 grids.
    fn quick() -> Self {
        Params {
            resolution: 80,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        let models: Vec<String> = self.models.iter().map(|m| model_name(*m)).collect();
        vec![
            row("models", models.join("; ")),
            span("relative importance r (log)", self.ratio_range),
            span("density p = 1 − S (log)", self.density_range),
            row("grid", format!("{0} × {0}", self.resolution)),
            row("inputs", "x ~ U[0, 1] when active"),
        ]
    }
}

/// "n = 2 features in m = 1 dimension".
pub fn model_name(m: ToyModel) -> String {
    let (n, d) = (m.features(), m.dims());
    format!(
        "n = {n} features in m = {d} dimension{}",
        if d == 1 { "" } else { "s" }
    )
}

/// Computed data: one grid per model.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// Winning configurations and boundary curves, one per model.
    pub grids: Vec<ElhageGrid>,
}

/// Colour of a region (spec §11 E3).
pub fn region_colour(r: Region) -> Rgb {
    match r {
        Region::NotRepresented => IGNORED,
        Region::Superposition => Rgb::hex(0xd6604d),
        Region::Dedicated => Rgb::hex(0x4393c3),
        Region::DedicatedFirstIgnored => MONOSEMANTIC,
    }
}

const REGIONS: [Region; 4] = [
    Region::NotRepresented,
    Region::Superposition,
    Region::Dedicated,
    Region::DedicatedFirstIgnored,
];

fn short_name(r: Region) -> &'static str {
    match r {
        Region::NotRepresented => "not represented",
        Region::Superposition => "superposition",
        Region::Dedicated => "dedicated",
        Region::DedicatedFirstIgnored => "dedicated, 1 dropped",
    }
}

/// Index of the grid value whose page position is nearest to `page`.
fn nearest(values: &[f64], map: impl Fn(f64) -> f64, page: f64) -> usize {
    let off = |k: usize| (map(values[k]) - page).abs();
    (0..values.len())
        .min_by(|a, b| off(*a).total_cmp(&off(*b)))
        .unwrap_or(0)
}

/// A name as a CSV code: lower case, words joined by '-' ("extra ignored" → "extra-ignored").
pub(crate) fn code(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "e3-elhage-theory";
    const SOURCE: &'static str = "[E] phase diagrams, theory panel; spec §9.4, §11 E3";
    type Params = Params;
    type Item = ();
    type Data = Data;

    fn assemble(params: &Params, _: Vec<()>) -> Result<Data> {
        let r = log_axis(
            params.ratio_range.0,
            params.ratio_range.1,
            params.resolution,
        )?;
        let p = log_axis(
            params.density_range.0,
            params.density_range.1,
            params.resolution,
        )?;
        let grids = params
            .models
            .iter()
            .map(|m| elhage::elhage_grid(*m, &r, &p))
            .collect::<Result<Vec<_>>>()?;
        Ok(Data {
            params: params.clone(),
            grids,
        })
    }

    fn title(data: &Data) -> String {
        let models: Vec<String> = data.params.models.iter().map(|m| model_name(*m)).collect();
        format!(
            "Theory phase diagrams of the ReLU-output model: {}",
            models.join(" and ")
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let present: Vec<Region> = REGIONS
            .into_iter()
            .filter(|r| {
                data.grids.iter().any(|g| {
                    (0..g.density.len())
                        .any(|i| (0..g.ratio.len()).any(|j| g.region_at(i, j) == *r))
                })
            })
            .collect();
        let mut entries: Vec<(LegendKey, String)> = present
            .iter()
            .map(|r| swatch(region_colour(*r), r.name()))
            .collect();
        let boundary = Stroke::solid(Rgb::BLACK, 1.0);
        entries.push(line_key(
            boundary.clone(),
            "closed-form boundaries (E11), (E12)",
        ));
        let (leg_w, leg_h) = legend_size(style, &entries);
        let n = data.grids.len().max(1);
        let one_row = width > 400.0;
        let cols = if one_row { n } else { 1 };
        let left = 8.0 + ts * 2.4 + ls * 1.5;
        let gap = if one_row { 10.0 + ts * 2.0 } else { 0.0 };
        let panel_w = if one_row {
            (width - left - ts * 1.8 - gap * (cols as f64 - 1.0)) / cols as f64
        } else {
            width - left - ts * 1.8
        };
        let panel_h = panel_w * 0.78;
        let row_h = ls * 1.5 + panel_h + ts * 2.0 + ls * 2.2 + 4.0;
        let rows = n.div_ceil(cols);
        let height = title_h + rows as f64 * row_h + leg_h + 8.0;
        let mut svg = canvas(&heading, height, style);
        for (k, g) in data.grids.iter().enumerate() {
            let (r, q) = (k / cols, k % cols);
            let frame = area(
                left + q as f64 * (panel_w + gap),
                title_h + r as f64 * row_h + ls * 1.5,
                panel_w,
                panel_h,
            );
            let panel = Panel {
                frame,
                x: log_span(
                    data.params.ratio_range,
                    "relative importance r of the extra feature",
                ),
                y: log_span(data.params.density_range, "feature density p = 1 − S"),
            };
            let colours: Vec<Rgb> = (0..g.density.len())
                .flat_map(|i| (0..g.ratio.len()).map(move |j| (i, j)))
                .map(|(i, j)| region_colour(g.region_at(i, j)))
                .collect();
            heatmap(&mut svg, &panel, &g.ratio, &g.density, &colours);
            panel.clip(&mut svg);
            for b in &g.boundaries {
                let pts: Vec<(f64, f64)> = b.points.iter().map(|(x, y)| panel.at(*x, *y)).collect();
                svg.polyline(&pts, &boundary);
            }
            svg.unclip();
            panel.draw_axes_with(&mut svg, style, true, q == 0);
            svg.head(frame, &model_name(g.model), ls);
            // Name each region at its centroid on the page (if the centroid lies inside it).
            for region in present.iter() {
                let mut sum = (0.0, 0.0, 0usize);
                for (i, p) in g.density.iter().enumerate() {
                    for (j, rr) in g.ratio.iter().enumerate() {
                        if g.region_at(i, j) == *region {
                            let (x, y) = panel.at(*rr, *p);
                            sum = (sum.0 + x, sum.1 + y, sum.2 + 1);
                        }
                    }
                }
                if sum.2 < g.ratio.len() * g.density.len() / 40 {
                    continue;
                }
                let c = (sum.0 / sum.2 as f64, sum.1 / sum.2 as f64);
                let inside = |x: f64, y: f64| {
                    let j = nearest(&g.ratio, |v| panel.px(v), x);
                    let i = nearest(&g.density, |v| panel.py(v), y);
                    g.region_at(i, j) == *region
                };
                let label = short_name(*region);
                let half = text_width(label, ts) / 2.0;
                if inside(c.0, c.1) && inside(c.0 - half, c.1) && inside(c.0 + half, c.1) {
                    let y = c.1 + 0.35 * ts;
                    if region_colour(*region).luminance() < 0.18 {
                        svg.text(c.0, y, label, ts, Anchor::Middle, 0.0, Rgb::WHITE);
                    } else {
                        svg.text_halo(c.0, y, label, ts, Anchor::Middle);
                    }
                }
            }
        }
        let ly = title_h + rows as f64 * row_h + 2.0;
        legend(&mut svg, style, (width - leg_w) / 2.0, ly, &entries);
        svg.finish()
    }

    // The data as CSV: one row per grid point and model; `configuration` and `region` are the
    // theory's names as codes (spaces and punctuation → '-').
    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for g in &data.grids {
            for (i, p) in g.density.iter().enumerate() {
                for (j, r) in g.ratio.iter().enumerate() {
                    let conf = g.configuration[i * g.ratio.len() + j];
                    rows.push(vec![
                        g.model.features().to_string(),
                        g.model.dims().to_string(),
                        cell(*r),
                        cell(*p),
                        code(conf.name()),
                        code(g.region_at(i, j).name()),
                    ]);
                }
            }
        }
        table(
            "features_n,dims_m,ratio_r,density_p,configuration,region",
            &rows,
        )
    }
}
