//! \[S\] Fig. 4, top left: the analytic phase diagram — capacity C₁ of the varied feature over
//! relative importance V and density p = 1 − S (spec §7, §11 S4).
//!
//! Grey where C₁ = 0 (ignored), a red → magenta ramp in bands of 0.05 for 0 < C₁ < 1
//! (polysemantic), dark blue where C₁ = 1 (monosemantic); black contours at 0.1 … 0.9; the
//! closed-form boundaries V_ign (P4) and V_full (P3), the first-order line V = 1 for k ≤ 3,
//! and the critical point. All numbers come from `theory::phase`.

use crate::base::{Magnitude, Result};
use crate::theory::phase::{
    self, CONTOUR_LEVELS, DEFAULT_DENSITY_RANGE, DEFAULT_IMPORTANCE_RANGE, PhaseGrid, PhaseSetting,
    VerticalAxis,
};

use super::canvas::{Anchor, Canvas, Marker, Stroke, text_width};
use super::colour::Rgb;
use super::colour::{Colormap, IGNORED, MONOSEMANTIC};
use super::isolines::Grid;
use super::panel::{Panel, colorbar, fmt_value, legend, legend_size};
use super::parts::{Draw, area, canvas, line_key, log_span, marker_key, page, row, swatch, table};
use super::style::{Style, Width};
use super::{Figure, Invocation, Parameters};
use super::{cell, span};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// N, D and the magnitude law.
    pub setting: PhaseSetting,
    /// Range of V (log axis).
    pub importance_range: (f64, f64),
    /// Range of p (log axis).
    pub density_range: (f64, f64),
    /// Grid columns (values of V).
    pub columns: usize,
    /// Grid rows (values of p).
    pub rows: usize,
    /// Mark the points A–F of spec §7.4 (only meaningful for the default setting).
    pub mark_cases: bool,
}

impl Parameters for Params {
    /// \[S\] Fig. 4: N = 6, D = 3, sparse uniform, V ∈ [10⁻², 10²], p ∈ [10⁻³, 1], 400 × 400.
    fn paper() -> Self {
        Params {
            setting: PhaseSetting::default(),
            importance_range: DEFAULT_IMPORTANCE_RANGE,
            density_range: DEFAULT_DENSITY_RANGE,
            columns: 400,
            rows: 400,
            mark_cases: true,
        }
    }

    /// The same on a 100 × 100 grid.
    fn quick() -> Self {
        Params {
            columns: 100,
            rows: 100,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![
            row("features N", self.setting.features()),
            row("dimensions D", self.setting.dims()),
            row("inputs", inputs_name(self.setting.magnitude())),
            span("importance V (log)", self.importance_range),
            span("density p = 1 − S (log)", self.density_range),
            row("grid (V × p)", format!("{} × {}", self.columns, self.rows)),
            row("contours", CONTOUR_LEVELS.map(fmt_value).join(", ")),
        ]
    }
}

/// Label of the importance axis.
const V_LABEL: &str = "relative importance V = v₁ (vᵢ = 1 for i ≥ 2)";

/// "sparse uniform inputs" etc.
pub fn inputs_name(m: Magnitude) -> String {
    format!("sparse {} inputs", m.name())
}

/// "N = 6 features in D = 3 dims, sparse uniform inputs".
pub fn setting_text(s: &PhaseSetting) -> String {
    let (n, d) = (s.features(), s.dims());
    format!(
        "N = {n} features in D = {d} dims, {}",
        inputs_name(s.magnitude())
    )
}

/// A marked point of the diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedPoint {
    /// Label drawn next to it.
    pub label: String,
    /// Importance V.
    pub importance: f64,
    /// Density p (or kurtosis k when the grid's vertical axis is k).
    pub vertical: f64,
}

/// Computed data of the figure. Points are (V, y) with y the grid's vertical variable:
/// density p, or kurtosis k for a grid made by `phase_grid_kurtosis`.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The grid of C₁ values.
    pub grid: PhaseGrid,
    /// Range of V drawn.
    pub importance_range: (f64, f64),
    /// Range of the vertical variable (p or k) drawn.
    pub vertical_range: (f64, f64),
    /// V_ign (P4) for k > 3, as (V, y) points.
    pub ignored_boundary: Vec<(f64, f64)>,
    /// V_full (P3) for k > 3, as (V, y) points.
    pub full_boundary: Vec<(f64, f64)>,
    /// The first-order line V = 1 where k ≤ 3, as (V, y) points.
    pub first_order: Vec<(f64, f64)>,
    /// The critical point (V, y) where k = 3, if inside the diagram.
    pub critical: Option<(f64, f64)>,
    /// Points marked on the diagram (A–F).
    pub points: Vec<MarkedPoint>,
}

/// The points A–F of spec §7.4 that lie at a density p ≤ 1 for this setting.
fn case_points(setting: &PhaseSetting) -> Vec<MarkedPoint> {
    phase::points_a_to_f(setting)
        .iter()
        .filter_map(|pt| {
            pt.density.map(|p| MarkedPoint {
                label: pt.label.to_string(),
                importance: pt.importance,
                vertical: p,
            })
        })
        .collect()
}

/// Wraps an already computed grid (e.g. from `polycap phase`) with its closed-form
/// boundaries, drawn over the given ranges of V and of the grid's vertical variable (density
/// p, or kurtosis k for a grid from `phase_grid_kurtosis`).
pub fn from_grid(
    grid: PhaseGrid,
    importance_range: (f64, f64),
    vertical_range: (f64, f64),
) -> Result<Data> {
    let setting = grid.setting;
    let axis = grid.axis;
    let kurtosis_of = |y: f64| match axis {
        VerticalAxis::Density => setting.kurtosis_at(y),
        VerticalAxis::Kurtosis => y,
    };
    let mut ignored_boundary = Vec::new();
    let mut full_boundary = Vec::new();
    let mut first_order = Vec::new();
    // The critical point k = 3 at V = 1, in the vertical variable.
    let critical_y = match axis {
        VerticalAxis::Density => phase::critical_point(&setting).map(|(_, p)| p),
        VerticalAxis::Kurtosis => setting.closed_form_applies().then_some(3.0),
    };
    let critical = critical_y
        .map(|y| (1.0, y))
        .filter(|(cv, cy)| in_range(*cv, importance_range) && in_range(*cy, vertical_range));
    if setting.closed_form_applies() {
        // Boundary curves sampled finely, with the critical point itself included.
        let mut ys = phase::log_axis(vertical_range.0, vertical_range.1, 600)?;
        if let Some((_, yc)) = critical {
            ys.push(yc);
            ys.sort_by(f64::total_cmp);
        }
        for &y in &ys {
            let k = kurtosis_of(y);
            if k > 3.0 {
                ignored_boundary.push((phase::importance_ignored(&setting, k)?, y));
                full_boundary.push((phase::importance_full(&setting, k)?, y));
            } else {
                first_order.push((1.0, y));
            }
        }
        // Order the first-order line and the boundaries so they meet at the critical point.
        if let Some(c) = critical {
            for curve in [&mut ignored_boundary, &mut full_boundary, &mut first_order] {
                if !curve.contains(&c) {
                    curve.push(c);
                }
                curve.sort_by(|a, b| a.1.total_cmp(&b.1));
            }
        }
        ignored_boundary.retain(|(v, _)| in_range(*v, importance_range));
        full_boundary.retain(|(v, _)| in_range(*v, importance_range));
        if !in_range(1.0, importance_range) {
            first_order.clear();
        }
    }
    Ok(Data {
        grid,
        importance_range,
        vertical_range,
        ignored_boundary,
        full_boundary,
        first_order,
        critical,
        points: Vec::new(),
    })
}

/// The grid's vertical coordinates: densities, or kurtoses for a kurtosis-axis grid.
fn vertical_values(g: &PhaseGrid) -> &[f64] {
    match g.axis {
        VerticalAxis::Density => &g.density,
        VerticalAxis::Kurtosis => &g.kurtosis,
    }
}

fn in_range(x: f64, r: (f64, f64)) -> bool {
    x >= r.0 * (1.0 - 1e-12) && x <= r.1 * (1.0 + 1e-12)
}

/// Band edges of the filled contours: C₁ > 0 starts the ramp, bands of 0.05, C₁ = 1 blue.
fn bands() -> Vec<(f64, Rgb)> {
    const EPS: f64 = 1e-9;
    let mut out = vec![(EPS, Colormap::RedMagenta.at(0.025))];
    for j in 1..20 {
        let lo = j as f64 * 0.05;
        out.push((lo, Colormap::RedMagenta.at(lo + 0.025)));
    }
    out.push((1.0 - EPS, MONOSEMANTIC));
    out
}

/// Draws the filled bands, contours, boundaries and markers into `panel`.
fn draw_map(svg: &mut Canvas, panel: &Panel, data: &Data, style: &Style) {
    let g = &data.grid;
    let grid = Grid {
        xs: g.importance.clone(),
        ys: vertical_values(g).to_vec(),
        z: g.capacity.clone(),
    };
    let grid = sorted(grid);
    let f = panel.frame;
    panel.clip(svg);
    svg.fill_rect(f.x, f.y, f.w, f.h, IGNORED);
    for (level, colour) in bands() {
        let loops: Vec<Vec<(f64, f64)>> = grid
            .superlevel_loops(level)
            .iter()
            .map(|l| grid.to_page(panel, l))
            .collect();
        svg.loops(&loops, colour);
    }
    let thin = Stroke::solid(Rgb::BLACK, 0.45);
    let mut labels = Vec::new();
    let label_y = f.y + f.h * 0.88;
    for level in CONTOUR_LEVELS {
        for line in grid.contour_lines(level) {
            let page = grid.to_page(panel, &line);
            svg.polyline(&page, &thin);
            if let Some(at) = crossing_at_y(&page, label_y) {
                labels.push((level, at));
            }
        }
    }
    contour_labels(svg, style, label_y, &mut labels);
    // Boundaries in black over a white casing: visible on grey, the ramp and dark blue.
    for (curve, width) in [
        (&data.ignored_boundary, 1.1),
        (&data.full_boundary, 1.1),
        (&data.first_order, 2.2),
    ] {
        let pts: Vec<(f64, f64)> = curve.iter().map(|(v, p)| panel.at(*v, *p)).collect();
        svg.polyline(&pts, &Stroke::solid(Rgb::WHITE, width + 1.0));
        svg.polyline(&pts, &Stroke::solid(Rgb::BLACK, width));
    }
    svg.unclip();
    let ts = style.tick_size();
    // Labels point away from the line V = 1 where the points crowd (A, B, C near the
    // critical point): left of it to the left, right of it to the right, on it below.
    let ring = Some((Rgb::BLACK, 0.6));
    for m in &data.points {
        let c = panel.at(m.importance, m.vertical);
        svg.dot(Marker::Circle, c, ts * 0.75, Rgb::WHITE, ring);
    }
    if let Some((v, p)) = data.critical {
        svg.dot(Marker::Star, panel.at(v, p), ts * 1.1, Rgb::WHITE, ring);
    }
    for m in &data.points {
        let c = panel.at(m.importance, m.vertical);
        let size = ts * 1.05;
        let (x, y, anchor) = if (m.importance - 1.0).abs() < 1e-9 {
            (c.0 + ts * 0.5, c.1 + ts * 0.6 + size * 0.7, Anchor::Start)
        } else if m.importance < 1.0 {
            (c.0 - ts * 0.6, c.1 + size * 0.35, Anchor::End)
        } else {
            (c.0 + ts * 0.6, c.1 + size * 0.35, Anchor::Start)
        };
        svg.text_halo(x, y, &m.label, size, anchor);
    }
}

/// Where the polyline first crosses the horizontal line `y`: (x, direction angle in degrees,
/// folded so that text along it reads upwards or rightwards).
fn crossing_at_y(pts: &[(f64, f64)], y: f64) -> Option<(f64, f64)> {
    pts.windows(2).find_map(|w| {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if (y0 - y) * (y1 - y) > 0.0 || (y1 - y0).abs() < 1e-12 {
            return None;
        }
        let t = (y - y0) / (y1 - y0);
        // Fold into (−135°, 45°]: text reads rightwards or upwards (page y grows down).
        let mut angle = (y1 - y0).atan2(x1 - x0).to_degrees();
        if angle > 45.0 {
            angle -= 180.0;
        } else if angle <= -135.0 {
            angle += 180.0;
        }
        Some((x0 + t * (x1 - x0), angle))
    })
}

/// Labels contour lines where they cross one horizontal line: along near-vertical lines
/// turned to read upwards (plotters turns text by quarter turns), otherwise upright, centred
/// on the line; a label closer than its extent to the previous one (left to right) is left
/// out.
fn contour_labels(svg: &mut Canvas, style: &Style, y: f64, labels: &mut [(f64, (f64, f64))]) {
    let size = style.tick_size() * 0.8;
    labels.sort_by(|a, b| a.1.0.total_cmp(&b.1.0));
    let mut last = f64::NEG_INFINITY;
    for (level, (x, angle)) in labels.iter() {
        let label = fmt_value(*level);
        let steep = angle.abs() > 60.0;
        let across = if steep {
            size * 1.3
        } else {
            text_width(&label, size) + size * 0.4
        };
        if x - last < across {
            continue;
        }
        last = *x;
        if steep {
            svg.text_halo_rotated(x + 0.35 * size, y, &label, size, Anchor::Middle, -90.0);
        } else {
            svg.text_halo(*x, y + 0.35 * size, &label, size, Anchor::Middle);
        }
    }
}

/// Sorts grid axes increasingly (the theory grid accepts any order).
fn sorted(g: Grid) -> Grid {
    let mut xi: Vec<usize> = (0..g.xs.len()).collect();
    let mut yi: Vec<usize> = (0..g.ys.len()).collect();
    xi.sort_by(|a, b| g.xs[*a].total_cmp(&g.xs[*b]));
    yi.sort_by(|a, b| g.ys[*a].total_cmp(&g.ys[*b]));
    let nx = g.xs.len();
    let z = yi
        .iter()
        .flat_map(|j| xi.iter().map(move |i| (*i, *j)))
        .map(|(i, j)| g.z[j * nx + i])
        .collect();
    Grid {
        xs: xi.iter().map(|i| g.xs[*i]).collect(),
        ys: yi.iter().map(|j| g.ys[*j]).collect(),
        z,
    }
}

/// Renders the phase-diagram SVG of an already computed grid over the grid's own ranges,
/// without the A–F marks: the entry point for `polycap phase --out FILE.svg`.
pub fn svg_for_grid(grid: &PhaseGrid, style: &Style) -> Result<String> {
    let range = |a: &[f64]| {
        a.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            })
    };
    // A single row or column still gets a drawable (non-degenerate) log axis.
    let widen = |(lo, hi): (f64, f64)| {
        if hi > lo {
            (lo, hi)
        } else {
            (lo / 10f64.sqrt(), hi * 10f64.sqrt())
        }
    };
    let (vr, pr) = (
        widen(range(&grid.importance)),
        widen(range(vertical_values(grid))),
    );
    let data = from_grid(grid.clone(), vr, pr)?;
    Ok(Fig::render(&data, style))
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "fig4-phase-diagram";
    const SOURCE: &'static str = "[S] Fig. 4 top left; spec §7, §11 S4";
    const WIDTH: Width = Width::OneColumn;
    type Params = Params;
    type Item = ();
    type Data = Data;

    fn assemble(params: &Params, _: Vec<()>) -> Result<Data> {
        let v = phase::log_axis(
            params.importance_range.0,
            params.importance_range.1,
            params.columns,
        )?;
        let p = phase::log_axis(params.density_range.0, params.density_range.1, params.rows)?;
        let grid = phase::phase_grid(&params.setting, &v, &p)?;
        let mut d = from_grid(grid, params.importance_range, params.density_range)?;
        if params.mark_cases {
            d.points = case_points(&params.setting)
                .into_iter()
                .filter(|m| {
                    in_range(m.importance, params.importance_range)
                        && in_range(m.vertical, params.density_range)
                })
                .collect();
        }
        Ok(d)
    }

    fn title(data: &Data) -> String {
        format!(
            "C₁ of the varied feature, {}",
            setting_text(&data.grid.setting)
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let left = 10.0 + ts * 2.4 + ls * 1.5;
        let bar_room = 8.0 + ts * 2.2 + ls * 1.6 + 6.0;
        let side = (width - left - bar_room - 6.0).min(360.0);
        let frame = area(left, title_h + 6.0, side, side * 0.9);
        // Legend below the x label.
        let stroke_b = Stroke::solid(Rgb::BLACK, 1.1);
        let entries = vec![
            swatch(IGNORED, "C₁ = 0: ignored"),
            swatch(Colormap::RedMagenta.at(0.5), "0 < C₁ < 1: polysemantic"),
            swatch(MONOSEMANTIC, "C₁ = 1: monosemantic"),
        ];
        let mut right = vec![
            line_key(stroke_b, "V_{ign} (P4), V_{full} (P3)"),
            line_key(Stroke::solid(Rgb::BLACK, 2.2), "first order, V = 1 (k ≤ 3)"),
            line_key(
                Stroke::solid(Rgb::BLACK, 0.45),
                format!(
                    "C₁ = {} … {}",
                    fmt_value(CONTOUR_LEVELS[0]),
                    fmt_value(CONTOUR_LEVELS[CONTOUR_LEVELS.len() - 1])
                ),
            ),
        ];
        if data.critical.is_some() {
            right.push(marker_key(
                Marker::Star,
                Rgb::WHITE,
                "critical point, k = 3",
            ));
        }
        if !data.points.is_empty() {
            let labels: Vec<&str> = data.points.iter().map(|m| m.label.as_str()).collect();
            right.push(marker_key(
                Marker::Circle,
                Rgb::WHITE,
                format!(
                    "points {}–{} (spec §7.4)",
                    labels.first().copied().unwrap_or(""),
                    labels.last().copied().unwrap_or("")
                ),
            ));
        }
        let legend_top = frame.y + frame.h + ts * 2.0 + ls * 2.2 + 4.0;
        let (w1, h1) = legend_size(style, &entries);
        let (w2, h2) = legend_size(style, &right);
        // Side by side if they fit, else stacked.
        let side_by_side = 4.0 + w1 + 4.0 + w2 + 4.0 <= width;
        let legend_h = if side_by_side {
            h1.max(h2)
        } else {
            h1 + 4.0 + h2
        };
        let height = legend_top + legend_h + 6.0;
        let mut svg = canvas(&heading, height, style);
        let y_label = match data.grid.axis {
            VerticalAxis::Density => "feature density p = 1 − S",
            VerticalAxis::Kurtosis => "kurtosis k = E[x⁴]",
        };
        let panel = Panel {
            frame,
            x: log_span(data.importance_range, V_LABEL),
            y: log_span(data.vertical_range, y_label),
        };
        draw_map(&mut svg, &panel, data, style);
        panel.draw_axes(&mut svg, style);

        // Colour bar with the same bands as the map.
        let bar = area(frame.x + frame.w + 8.0, frame.y, 7.0, frame.h);
        let b = bands();
        let mut segments = vec![(0.0, b[0].0, IGNORED)];
        for w in b.windows(2) {
            segments.push((w[0].0, w[1].0, w[0].1));
        }
        segments.push((b[b.len() - 1].0, 1.0, MONOSEMANTIC));
        colorbar(&mut svg, style, bar, &segments, 0.0, 1.0, "capacity C₁");

        legend(&mut svg, style, 4.0, legend_top, &entries);
        if side_by_side {
            legend(&mut svg, style, 4.0 + w1 + 4.0, legend_top, &right);
        } else {
            legend(&mut svg, style, 4.0, legend_top + h1 + 4.0, &right);
        }
        svg.finish()
    }

    // The data as CSV in long form. `kind` is `grid` (one row per grid point, with C₁),
    // `v_ign` / `v_full` (points of the boundaries (P4)/(P3), C₁ = 0 / 1), `first_order` (the
    // line V = 1 for k ≤ 3), `critical` (the critical point) or `point` (A–F, with `label`).
    fn csv(data: &Data) -> String {
        let g = &data.grid;
        let setting = g.setting;
        let mut rows = Vec::with_capacity(g.capacity.len() + 2000);
        for (r, p) in g.density.iter().enumerate() {
            for (c, v) in g.importance.iter().enumerate() {
                rows.push(vec![
                    "grid".to_string(),
                    String::new(),
                    cell(*v),
                    cell(*p),
                    cell(g.kurtosis[r]),
                    cell(g.capacity_at(r, c)),
                ]);
            }
        }
        let axis = g.axis;
        let mut extra = |kind: &str, label: &str, v: f64, y: f64, c: Option<f64>| {
            let (p, k) = match axis {
                VerticalAxis::Density => (y, setting.kurtosis_at(y)),
                VerticalAxis::Kurtosis => (setting.density_at(y), y),
            };
            rows.push(vec![
                kind.to_string(),
                label.to_string(),
                cell(v),
                cell(p),
                cell(k),
                c.map_or_else(String::new, cell),
            ]);
        };
        for (v, p) in &data.ignored_boundary {
            extra("v_ign", "", *v, *p, Some(0.0));
        }
        for (v, p) in &data.full_boundary {
            extra("v_full", "", *v, *p, Some(1.0));
        }
        for (v, p) in &data.first_order {
            extra("first_order", "", *v, *p, None);
        }
        if let Some((v, p)) = data.critical {
            extra("critical", "", v, p, None);
        }
        for m in &data.points {
            extra("point", &m.label, m.importance, m.vertical, None);
        }
        table(
            "kind,label,importance_V,density_p,kurtosis_k,capacity_C1",
            &rows,
        )
    }

    fn commands(params: &Params) -> Vec<Invocation> {
        let (p, s) = (params, &params.setting);
        vec![
            Invocation::new("phase")
                .opt("features", s.features())
                .opt("dims", s.dims())
                .opt("input", s.magnitude().name())
                .opt("grid", format!("{}x{}", p.columns, p.rows))
                .opt(
                    "v-range",
                    format!("{}:{}", p.importance_range.0, p.importance_range.1),
                )
                .opt(
                    "p-range",
                    format!("{}:{}", p.density_range.0, p.density_range.1),
                )
                .opt("format", "csv"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::crossing_at_y;

    #[test]
    fn crossing_and_reading_direction() {
        // A line going down the page (y grows) is read upwards: angle −90°.
        let (x, a) = crossing_at_y(&[(10.0, 0.0), (10.0, 100.0)], 40.0).expect("crosses");
        assert!((x - 10.0).abs() < 1e-12 && (a + 90.0).abs() < 1e-9);
        // The same line drawn the other way gives the same reading direction.
        let (_, b) = crossing_at_y(&[(10.0, 100.0), (10.0, 0.0)], 40.0).expect("crosses");
        assert!((b + 90.0).abs() < 1e-9);
        // A rising diagonal is read rightwards-up, a falling one rightwards-down.
        let (x, c) = crossing_at_y(&[(0.0, 10.0), (10.0, 0.0)], 5.0).expect("crosses");
        assert!((x - 5.0).abs() < 1e-12 && (c + 45.0).abs() < 1e-9);
        let (_, d) = crossing_at_y(&[(10.0, 10.0), (0.0, 0.0)], 5.0).expect("crosses");
        assert!((d - 45.0).abs() < 1e-9);
        assert!(crossing_at_y(&[(0.0, 0.0), (1.0, 1.0)], 5.0).is_none());
    }
}
