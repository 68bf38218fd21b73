//! Panels: a frame on the page with a linear or log axis on each side, their ticks and
//! labels drawn by plotters' chart mesh, plus the pieces plotters does not have: minor log
//! ticks, legends outside the data, colour bars and seam-free heat maps.
//!
//! An [`Axis`] becomes a plotters coordinate ([`AxisCoord`], one type for linear and log
//! scales) whose key points are the labelled ticks: decades on log axes (every decade, or
//! every 2nd, 3rd, … when they crowd; with 2× and 5× when a range spans two decades or
//! less), plotters' own numeric key points on linear ones.

use std::collections::BTreeMap;
use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::prelude::*;

use super::canvas::{Anchor, Canvas, Marker, Stroke, text_style, text_width, unicode, units};
use super::colour::Rgb;
use super::style::Style;

/// Scale of an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Linear.
    Linear,
    /// Base-10 logarithmic (limits must be positive).
    Log,
}

/// One axis: data range, scale and label.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Lower limit (data units).
    pub lo: f64,
    /// Upper limit (data units).
    pub hi: f64,
    /// Scale.
    pub scale: Scale,
    /// Axis label (Unicode math; `_{…}`/`^{…}` become scripts).
    pub label: String,
}

impl Axis {
    /// A linear axis.
    pub fn linear(lo: f64, hi: f64, label: impl Into<String>) -> Self {
        Axis {
            lo,
            hi,
            scale: Scale::Linear,
            label: label.into(),
        }
    }

    /// A log axis.
    pub fn log(lo: f64, hi: f64, label: impl Into<String>) -> Self {
        Axis {
            lo,
            hi,
            scale: Scale::Log,
            label: label.into(),
        }
    }

    /// Position of `v` as a fraction of the axis (0 at `lo`, 1 at `hi`); not clamped.
    pub fn frac(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => (v - self.lo) / (self.hi - self.lo),
            Scale::Log => (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10()),
        }
    }
}

/// A tick mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Data value.
    pub value: f64,
    /// Label, if this tick is labelled.
    pub label: Option<String>,
    /// Major (long) or minor (short) tick.
    pub major: bool,
}

/// Integer as Unicode superscript: −3 → "⁻³".
pub fn superscript(n: i64) -> String {
    unicode(&format!("^{{{n}}}"))
}

/// Non-negative integer as Unicode subscript: 12 → "₁₂".
pub fn subscript(n: usize) -> String {
    unicode(&format!("_{{{n}}}"))
}

/// "10ⁿ" label of a decade.
pub fn pow10(n: i64) -> String {
    format!("10{}", superscript(n))
}

/// A number for labels and titles: integers plainly, powers of ten as 10ⁿ when |n| ≥ 3,
/// otherwise up to four significant digits, with a true minus sign.
pub fn fmt_value(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let a = x.abs();
    let sign = if x < 0.0 { "−" } else { "" };
    let e = a.log10().round();
    if (a.log10() - e).abs() < 1e-12 && e.abs() >= 3.0 {
        return format!("{sign}{}", pow10(e as i64));
    }
    if (a - a.round()).abs() < 1e-9 * a.max(1.0) && a < 1e6 {
        return format!("{sign}{}", a.round() as i64);
    }
    if (1e-3..1e6).contains(&a) {
        let digits = (3 - a.log10().floor() as i64).max(0) as usize;
        let s = format!("{a:.digits$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        return format!("{sign}{s}");
    }
    let e = a.log10().floor();
    let m = a / 10f64.powf(e);
    format!("{sign}{}×{}", fmt_value(m), pow10(e as i64))
}

/// Ticks of `axis` drawn over `length` points, with labels at least `min_gap` points apart
/// (centre to centre).
pub fn ticks(axis: &Axis, length: f64, min_gap: f64) -> Vec<Tick> {
    match axis.scale {
        Scale::Log => log_ticks(axis, length, min_gap),
        Scale::Linear => linear_ticks(axis, length, min_gap),
    }
}

fn log_ticks(axis: &Axis, length: f64, min_gap: f64) -> Vec<Tick> {
    let (lo, hi) = (axis.lo.min(axis.hi), axis.lo.max(axis.hi));
    let (elo, ehi) = (lo.log10(), hi.log10());
    let per_decade = length / (ehi - elo).max(1e-12);
    let step = [1i64, 2, 3, 5, 10, 20]
        .into_iter()
        .find(|s| per_decade * *s as f64 >= min_gap)
        .unwrap_or(50);
    let first = (elo - 1e-9).ceil() as i64;
    let last = (ehi + 1e-9).floor() as i64;
    let within = |v: f64| v >= lo * (1.0 - 1e-12) && v <= hi * (1.0 + 1e-12);
    let mut out = Vec::new();
    for e in (first - 1)..=last {
        let base = 10f64.powi(e as i32);
        if e >= first {
            let labelled = e.rem_euclid(step) == 0;
            out.push(Tick {
                value: base,
                label: labelled.then(|| pow10(e)),
                major: labelled || step > 1,
            });
        }
        if per_decade >= 20.0 {
            out.extend(
                (2..=9)
                    .map(|m| base * f64::from(m))
                    .filter(|v| within(*v))
                    .map(|value| Tick {
                        value,
                        label: None,
                        major: false,
                    }),
            );
        }
    }
    if out.iter().filter(|t| t.label.is_some()).count() < 3 && ehi - elo <= 2.0 + 1e-9 {
        for t in out.iter_mut().filter(|t| t.label.is_some()) {
            t.label = Some(fmt_value(t.value));
        }
        for e in (first - 1)..=last {
            for v in [2.0, 5.0].map(|m| 10f64.powi(e as i32) * m) {
                if within(v) {
                    out.retain(|t| (t.value / v - 1.0).abs() > 1e-9);
                    out.push(Tick {
                        value: v,
                        label: Some(fmt_value(v)),
                        major: true,
                    });
                }
            }
        }
    }
    if out.iter().filter(|t| t.label.is_some()).count() < 2 {
        out.extend([lo, hi].map(|v| Tick {
            value: v,
            label: Some(fmt_value(v)),
            major: true,
        }));
    }
    out
}

/// plotters' key points of a linear range (steps of 1, 2 or 5 × 10ⁿ) with labels to the
/// precision of the step.
fn linear_ticks(axis: &Axis, length: f64, min_gap: f64) -> Vec<Tick> {
    let (lo, hi) = (axis.lo.min(axis.hi), axis.lo.max(axis.hi));
    let max = ((length / min_gap).floor() as usize).max(2);
    let range: plotters::coord::types::RangedCoordf64 = (lo..hi).into();
    let keys = range.key_points(max);
    let step = keys
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let decimals = if step.is_finite() && step > 0.0 {
        // Key points are sums of float steps (0.1 comes out as 0.09999…): round the
        // step's exponent with a tolerance so that 0.1 gets one decimal, not two.
        let d = -(step.log10() + 1e-6).floor();
        // 2.5-like steps need one more digit.
        let extra = usize::from(((step / 10f64.powf(-d)) - 2.5).abs() < 1e-9);
        (d.max(0.0) as usize) + extra
    } else {
        0
    };
    keys.into_iter()
        .map(|v| {
            let s = format!("{:.*}", decimals, v.abs());
            let neg = v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
            Tick {
                value: v,
                label: Some(format!("{}{s}", if neg { "−" } else { "" })),
                major: true,
            }
        })
        .collect()
}

/// A rectangle on the page in points (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// An axis as a plotters coordinate: linear or log mapping, its ticks, the labelled ones as
/// key points.
#[derive(Debug, Clone)]
pub struct AxisCoord {
    axis: Axis,
    ticks: Vec<Tick>,
}

impl Ranged for AxisCoord {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = self.axis.frac(*value);
        let p = f64::from(limit.0) + f * f64::from(limit.1 - limit.0);
        if p.is_finite() {
            p.round().clamp(-1e9, 1e9) as i32
        } else {
            limit.0
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        let labelled = self.ticks.iter().filter(|t| t.label.is_some());
        labelled.map(|t| t.value).collect()
    }

    fn range(&self) -> Range<f64> {
        self.axis.lo..self.axis.hi
    }
}

impl ValueFormatter<f64> for AxisCoord {
    fn format(value: &f64) -> String {
        fmt_value(*value)
    }

    fn format_ext(&self, value: &f64) -> String {
        let tick = self
            .ticks
            .iter()
            .find(|t| t.value.to_bits() == value.to_bits());
        tick.and_then(|t| t.label.clone())
            .unwrap_or_else(|| fmt_value(*value))
    }
}

/// A panel's axes as plotters draws them: frame, ticks, tick labels, axis labels.
#[derive(Debug, Clone)]
pub struct Mesh {
    frame: Frame,
    x: AxisCoord,
    y: AxisCoord,
    x_labels: bool,
    y_labels: bool,
    style: Style,
}

/// Major tick length in points (plotters puts labels at twice this from the axis).
const MAJOR: f64 = 2.5;
/// Minor tick length in points.
const MINOR: f64 = 1.5;
/// Axis and frame line width in points.
const AXIS_LINE: f64 = 0.6;

/// Room (left, bottom) in points that [`Panel::draw_axes`] takes outside the frame: y tick
/// labels `y_labels` points wide, x tick labels, and the axis labels.
pub fn margins(style: &Style, y_labels: f64) -> (f64, f64) {
    let (ts, ls) = (style.tick_size(), style.label_size());
    let left = 2.0 * MAJOR + y_labels + 3.0 + ls * 1.1;
    (left, 2.0 * MAJOR + ts * 1.1 + 2.0 + ls * 1.1)
}

/// Width in points of the widest tick label at font size `size`.
fn widest(ticks: &[Tick], size: f64) -> f64 {
    let labels = ticks.iter().filter_map(|t| t.label.as_deref());
    labels.map(|s| text_width(s, size)).fold(0.0, f64::max)
}

impl Mesh {
    fn room(&self) -> (f64, f64) {
        margins(&self.style, widest(&self.y.ticks, self.style.tick_size()))
    }

    pub(crate) fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, Shift>,
        family: &'static str,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        let f = self.frame;
        let (left, bottom) = self.room();
        let left = if self.y_labels { left } else { 0.0 };
        let bottom = if self.x_labels { bottom } else { 0.0 };
        let (x0, y0) = (units(f.x) - units(left), units(f.y));
        let area = root.clone().shrink(
            (x0, y0),
            (
                (units(f.x + f.w) - x0).max(1) as u32,
                (units(f.y + f.h) + units(bottom) - y0).max(1) as u32,
            ),
        );
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(units(bottom))
            .y_label_area_size(units(left))
            .build_cartesian_2d(self.x.clone(), self.y.clone())?;
        let axis = ShapeStyle::from(BLACK).stroke_width(units(AXIS_LINE) as u32);
        let (xd, yd) = (unicode(&self.x.axis.label), unicode(&self.y.axis.label));
        let mut mesh = chart.configure_mesh();
        mesh.disable_mesh()
            .axis_style(axis)
            .set_all_tick_mark_size(units(MAJOR))
            .x_label_style(text_style(family, self.style.tick_size(), Rgb::BLACK))
            .y_label_style(text_style(family, self.style.tick_size(), Rgb::BLACK))
            .axis_desc_style(text_style(family, self.style.label_size(), Rgb::BLACK));
        if !xd.is_empty() {
            mesh.x_desc(xd);
        }
        if !yd.is_empty() {
            mesh.y_desc(yd);
        }
        mesh.draw()?;
        // Ticks plotters does not draw: minor ones, unlabelled majors, and every tick of an
        // axis without labels.
        let line = |a: (f64, f64), b: (f64, f64)| {
            PathElement::new(
                vec![(units(a.0), units(a.1)), (units(b.0), units(b.1))],
                axis,
            )
        };
        for t in &self.x.ticks {
            let x = f.x + self.x.axis.frac(t.value) * f.w;
            if (t.label.is_none() || !self.x_labels) && (f.x - 0.01..=f.x + f.w + 0.01).contains(&x)
            {
                let len = if t.major { MAJOR } else { MINOR };
                root.draw(&line((x, f.y + f.h), (x, f.y + f.h + len)))?;
            }
        }
        for t in &self.y.ticks {
            let y = f.y + (1.0 - self.y.axis.frac(t.value)) * f.h;
            if (t.label.is_none() || !self.y_labels) && (f.y - 0.01..=f.y + f.h + 0.01).contains(&y)
            {
                let len = if t.major { MAJOR } else { MINOR };
                root.draw(&line((f.x - len, y), (f.x, y)))?;
            }
        }
        let corners = [
            (f.x, f.y),
            (f.x + f.w, f.y),
            (f.x + f.w, f.y + f.h),
            (f.x, f.y + f.h),
            (f.x, f.y),
        ];
        root.draw(&PathElement::new(
            corners.map(|(x, y)| (units(x), units(y))).to_vec(),
            axis,
        ))?;
        Ok(())
    }
}

/// A plotting panel: a frame with an x and a y axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Where the data area sits on the page.
    pub frame: Frame,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
}

impl Panel {
    /// Page x of data value `v`.
    pub fn px(&self, v: f64) -> f64 {
        self.frame.x + self.x.frac(v) * self.frame.w
    }

    /// Page y of data value `v`.
    pub fn py(&self, v: f64) -> f64 {
        self.frame.y + (1.0 - self.y.frac(v)) * self.frame.h
    }

    /// Page position of a data point.
    pub fn at(&self, x: f64, y: f64) -> (f64, f64) {
        (self.px(x), self.py(y))
    }

    /// Ticks of the y axis with their labels (for margin computations).
    pub fn y_ticks(&self, style: &Style) -> Vec<Tick> {
        ticks(&self.y, self.frame.h, style.tick_size() * 1.9)
    }

    /// Ticks of the x axis; labels do not touch.
    pub fn x_ticks(&self, style: &Style) -> Vec<Tick> {
        let ts = style.tick_size();
        let probe = widest(&ticks(&self.x, self.frame.w, ts * 2.5), ts);
        ticks(&self.x, self.frame.w, (probe + ts).max(ts * 2.5))
    }

    /// Room (left, bottom) in points that [`Panel::draw_axes`] takes outside the frame (the y
    /// ticks depend only on the frame's height).
    pub fn room(&self, style: &Style) -> (f64, f64) {
        margins(style, widest(&self.y_ticks(style), style.tick_size()))
    }

    /// Clips what is drawn next to the frame (until [`Canvas::unclip`]).
    pub fn clip(&self, canvas: &mut Canvas) {
        let f = self.frame;
        canvas.clip(f.x, f.y, f.w, f.h);
    }

    /// Draws frame, ticks, tick labels and both axis labels.
    pub fn draw_axes(&self, canvas: &mut Canvas, style: &Style) {
        self.draw_axes_with(canvas, style, true, true);
    }

    /// Like [`Panel::draw_axes`], optionally leaving out the tick labels and axis label of
    /// an axis (for panels sharing an axis with a neighbour).
    pub fn draw_axes_with(
        &self,
        canvas: &mut Canvas,
        style: &Style,
        x_labels: bool,
        y_labels: bool,
    ) {
        let coord = |axis: &Axis, ticks| AxisCoord {
            axis: axis.clone(),
            ticks,
        };
        canvas.mesh(Mesh {
            frame: self.frame,
            x: coord(&self.x, self.x_ticks(style)),
            y: coord(&self.y, self.y_ticks(style)),
            x_labels,
            y_labels,
            style: *style,
        });
    }
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub enum LegendKey {
    /// A line sample.
    Line(Stroke),
    /// A marker sample.
    Marker(Marker, Rgb),
    /// A filled swatch.
    Swatch(Rgb),
}

const KEY_W: f64 = 14.0;
const PAD: f64 = 3.0;

/// Size (width, height) in points that [`legend`] will take for these entries.
pub fn legend_size(style: &Style, entries: &[(LegendKey, String)]) -> (f64, f64) {
    let size = style.tick_size();
    let w = PAD * 2.0
        + KEY_W
        + 3.0
        + entries
            .iter()
            .map(|(_, s)| text_width(s, size))
            .fold(0.0, f64::max);
    (w, PAD * 2.0 + size * 1.35 * entries.len() as f64)
}

/// Draws a legend box with its top-left corner at `(x, y)`; returns its (width, height).
pub fn legend(
    canvas: &mut Canvas,
    style: &Style,
    x: f64,
    y: f64,
    entries: &[(LegendKey, String)],
) -> (f64, f64) {
    let size = style.tick_size();
    let row = size * 1.35;
    let (w, h) = legend_size(style, entries);
    canvas.rect(
        x,
        y,
        w,
        h,
        Some(Rgb::WHITE),
        Some(&Stroke::solid(Rgb::hex(0x999999), 0.4)),
    );
    for (j, (key, label)) in entries.iter().enumerate() {
        let cy = y + PAD + row * (j as f64 + 0.5);
        let kx = x + PAD;
        match key {
            LegendKey::Line(s) => canvas.line((kx, cy), (kx + KEY_W, cy), s),
            LegendKey::Marker(m, c) => canvas.marker(
                *m,
                (kx + KEY_W / 2.0, cy),
                size * 0.8,
                *c,
                Some(&Stroke::solid(Rgb::BLACK, 0.6)),
            ),
            LegendKey::Swatch(c) => canvas.rect(
                kx + 2.0,
                cy - size * 0.4,
                KEY_W - 4.0,
                size * 0.8,
                Some(*c),
                Some(&Stroke::solid(Rgb::hex(0x666666), 0.3)),
            ),
        }
        canvas.text_mid(kx + KEY_W + 3.0, cy, label, size, Anchor::Start);
    }
    (w, h)
}

/// A vertical colour bar over [lo, hi] made of `segments` (value from, value to, colour),
/// with linear ticks and a label on its right; returns the width taken right of the bar.
/// Segments overlap the next by half a point, so the bar shows no seams.
pub fn colorbar(
    canvas: &mut Canvas,
    style: &Style,
    frame: Frame,
    segments: &[(f64, f64, Rgb)],
    lo: f64,
    hi: f64,
    label: &str,
) -> f64 {
    let axis = Axis::linear(lo, hi, label);
    let y_of = |v: f64| frame.y + (1.0 - axis.frac(v)) * frame.h;
    for (a, b, c) in segments {
        let top = (y_of(*b).max(frame.y) - 0.25).max(frame.y);
        let bottom = (y_of(*a) + 0.25).min(frame.y + frame.h);
        canvas.rect(frame.x, top, frame.w, bottom - top, Some(*c), None);
    }
    let stroke = Stroke::solid(Rgb::BLACK, 0.5);
    canvas.rect(frame.x, frame.y, frame.w, frame.h, None, Some(&stroke));
    let ts = style.tick_size();
    let mut widest: f64 = 0.0;
    for t in ticks(&axis, frame.h, ts * 2.2) {
        let y = y_of(t.value);
        canvas.line(
            (frame.x + frame.w, y),
            (frame.x + frame.w + 2.5, y),
            &stroke,
        );
        if let Some(l) = &t.label {
            widest = widest.max(text_width(l, ts));
            canvas.text_mid(frame.x + frame.w + 4.0, y, l, ts, Anchor::Start);
        }
    }
    let ls = style.label_size();
    let x = frame.x + frame.w + 4.0 + widest + 3.0 + ls * 0.8;
    canvas.text(
        x,
        frame.y + frame.h / 2.0,
        label,
        ls,
        Anchor::Middle,
        -90.0,
        Rgb::BLACK,
    );
    x - (frame.x + frame.w) + ls * 0.3
}

/// Overlap of neighbouring heat-map cells in points: abutting cells leave faint light lines
/// in anti-aliased renderers, so each run of cells reaches this far under its right and
/// lower neighbours.
pub const OVERLAP: f64 = 0.4;

/// Draws node-centred cells: cell (i, j) has colour `colors[j * xs.len() + i]` and extends
/// half-way (on the page) to its neighbours, and to the frame at the ends. Runs of equal
/// colour in a row are one rectangle.
pub fn heatmap(canvas: &mut Canvas, panel: &Panel, xs: &[f64], ys: &[f64], colors: &[Rgb]) {
    let nx = xs.len();
    if nx == 0 || ys.is_empty() || colors.len() != nx * ys.len() {
        return;
    }
    let f = panel.frame;
    let bounds = |page: Vec<f64>, lo: f64, hi: f64| -> Vec<f64> {
        let mut b = Vec::with_capacity(page.len() + 1);
        b.push(lo);
        b.extend(page.windows(2).map(|w| (w[0] + w[1]) / 2.0));
        b.push(hi);
        b
    };
    let xb = bounds(xs.iter().map(|v| panel.px(*v)).collect(), f.x, f.x + f.w);
    let yb = bounds(ys.iter().map(|v| panel.py(*v)).collect(), f.y + f.h, f.y);
    let mut runs: BTreeMap<Rgb, Vec<[f64; 4]>> = BTreeMap::new();
    for (j, row) in colors.chunks(nx).enumerate() {
        let mut i = 0;
        while i < nx {
            let c = row[i];
            let mut k = i;
            while k + 1 < nx && row[k + 1] == c {
                k += 1;
            }
            runs.entry(c).or_default().push([
                xb[i],
                yb[j + 1],
                xb[k + 1] + OVERLAP,
                yb[j] + OVERLAP,
            ]);
            i = k + 1;
        }
    }
    panel.clip(canvas);
    for (c, rects) in &runs {
        for [x0, y0, x1, y1] in rects {
            canvas.rect(*x0, *y0, x1 - x0, y1 - y0, Some(*c), None);
        }
    }
    canvas.unclip();
}
