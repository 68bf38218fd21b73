//! Axes and panels: linear and log scales, tick placement with Unicode labels
//! (10⁻³, −0.5), frames, axis labels, clipping, legends and colour bars.

use super::colormap::Colormap;
use super::style::Style;
use super::svg::{Anchor, Marker, Rgb, Stroke, Svg, text_width};

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
    /// Axis label (Unicode math).
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

const SUPERSCRIPT: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
const SUBSCRIPT: [char; 10] = ['₀', '₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'];

/// Integer as Unicode superscript: −3 → "⁻³".
pub fn superscript(n: i64) -> String {
    let mut s = String::new();
    if n < 0 {
        s.push('⁻');
    }
    for c in n.unsigned_abs().to_string().chars() {
        s.push(SUPERSCRIPT[c.to_digit(10).map_or(0, |d| d as usize)]);
    }
    s
}

/// Non-negative integer as Unicode subscript: 12 → "₁₂".
pub fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| SUBSCRIPT[c.to_digit(10).map_or(0, |d| d as usize)])
        .collect()
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
    let mut out = Vec::new();
    let minor = per_decade >= 20.0;
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
        if minor {
            for m in 2..=9 {
                let v = base * f64::from(m);
                if v >= lo * (1.0 - 1e-12) && v <= hi * (1.0 + 1e-12) {
                    out.push(Tick {
                        value: v,
                        label: None,
                        major: false,
                    });
                }
            }
        }
    }
    // Fewer than three labels (a range of about two decades or less): label 2× and 5× the
    // decades too, and failing that, the ends.
    if out.iter().filter(|t| t.label.is_some()).count() < 3 && ehi - elo <= 2.0 + 1e-9 {
        for t in out.iter_mut().filter(|t| t.label.is_some()) {
            t.label = Some(fmt_value(t.value));
        }
        for e in (first - 1)..=last {
            for m in [2.0, 5.0] {
                let v = 10f64.powi(e as i32) * m;
                if v >= lo * (1.0 - 1e-12) && v <= hi * (1.0 + 1e-12) {
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
        for v in [lo, hi] {
            out.push(Tick {
                value: v,
                label: Some(fmt_value(v)),
                major: true,
            });
        }
    }
    out
}

fn linear_ticks(axis: &Axis, length: f64, min_gap: f64) -> Vec<Tick> {
    let (lo, hi) = (axis.lo.min(axis.hi), axis.lo.max(axis.hi));
    let span = (hi - lo).max(1e-300);
    let max_ticks = (length / min_gap).floor().max(1.0);
    let raw = span / max_ticks;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    let decimals = (-(step.log10().floor()) as i64).max(0) as usize
        + usize::from(((step / mag) - 2.5).abs() < 1e-9);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|j| {
            let v = j as f64 * step;
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

/// Space (points) that tick labels and the axis label need left of and below a panel.
pub fn margins(style: &Style, y_tick_labels: &[&str]) -> (f64, f64) {
    let ts = style.tick_size();
    let widest = y_tick_labels
        .iter()
        .map(|s| text_width(s, ts))
        .fold(0.0, f64::max);
    let left = 3.0 + 2.0 + widest + 3.0 + style.label_size() * 1.1;
    let bottom = 3.0 + 2.0 + ts * 1.1 + 2.0 + style.label_size() * 1.1;
    (left, bottom)
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

    /// Ticks of the x axis.
    pub fn x_ticks(&self, style: &Style) -> Vec<Tick> {
        let ts = style.tick_size();
        // Labels must not touch: the widest label plus a gap.
        let probe = ticks(&self.x, self.frame.w, ts * 2.5);
        let widest = probe
            .iter()
            .filter_map(|t| t.label.as_deref())
            .map(|s| text_width(s, ts))
            .fold(0.0, f64::max);
        ticks(&self.x, self.frame.w, (widest + ts).max(ts * 2.5))
    }

    /// Starts a group clipped to the frame (close with [`Svg::end_group`]).
    pub fn clip(&self, svg: &mut Svg) {
        let f = self.frame;
        svg.begin_clip(f.x, f.y, f.w, f.h);
    }

    /// Draws frame, ticks, tick labels and both axis labels.
    pub fn draw_axes(&self, svg: &mut Svg, style: &Style) {
        self.draw_axes_with(svg, style, true, true);
    }

    /// Like [`Panel::draw_axes`], optionally leaving out the tick labels and axis label of
    /// an axis (for panels sharing an axis with a neighbour).
    pub fn draw_axes_with(&self, svg: &mut Svg, style: &Style, x_labels: bool, y_labels: bool) {
        let f = self.frame;
        let (ts, ls) = (style.tick_size(), style.label_size());
        let axis_stroke = Stroke::solid(Rgb::BLACK, 0.6);
        let major = 3.0;
        let minor = 1.6;
        for t in self.x_ticks(style) {
            let x = self.px(t.value);
            if !(f.x - 0.01..=f.x + f.w + 0.01).contains(&x) {
                continue;
            }
            let len = if t.major { major } else { minor };
            svg.line((x, f.y + f.h), (x, f.y + f.h + len), &axis_stroke);
            if x_labels && let Some(l) = &t.label {
                svg.text(
                    x,
                    f.y + f.h + major + 2.0 + ts * 0.8,
                    l,
                    ts,
                    Anchor::Middle,
                    0.0,
                    Rgb::BLACK,
                );
            }
        }
        let mut widest: f64 = 0.0;
        for t in self.y_ticks(style) {
            let y = self.py(t.value);
            if !(f.y - 0.01..=f.y + f.h + 0.01).contains(&y) {
                continue;
            }
            let len = if t.major { major } else { minor };
            svg.line((f.x - len, y), (f.x, y), &axis_stroke);
            if y_labels && let Some(l) = &t.label {
                widest = widest.max(text_width(l, ts));
                svg.text_mid(f.x - major - 2.0, y, l, ts, Anchor::End);
            }
        }
        svg.rect(f.x, f.y, f.w, f.h, None, Some(&axis_stroke));
        if x_labels && !self.x.label.is_empty() {
            svg.text(
                f.x + f.w / 2.0,
                f.y + f.h + major + 2.0 + ts * 1.1 + 2.0 + ls * 0.8,
                &self.x.label,
                ls,
                Anchor::Middle,
                0.0,
                Rgb::BLACK,
            );
        }
        if y_labels && !self.y.label.is_empty() {
            let x = f.x - major - 2.0 - widest - 3.0 - ls * 0.25;
            svg.text(
                x,
                f.y + f.h / 2.0,
                &self.y.label,
                ls,
                Anchor::Middle,
                -90.0,
                Rgb::BLACK,
            );
        }
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

/// Size (width, height) in points that [`legend`] will take for these entries.
pub fn legend_size(style: &Style, entries: &[(LegendKey, String)]) -> (f64, f64) {
    let size = style.tick_size();
    let w = 3.0 * 2.0
        + 14.0
        + 3.0
        + entries
            .iter()
            .map(|(_, s)| text_width(s, size))
            .fold(0.0, f64::max);
    (w, 3.0 * 2.0 + size * 1.35 * entries.len() as f64)
}

/// Draws a legend box with its top-left corner at `(x, y)`; returns its (width, height).
pub fn legend(
    svg: &mut Svg,
    style: &Style,
    x: f64,
    y: f64,
    entries: &[(LegendKey, String)],
) -> (f64, f64) {
    let size = style.tick_size();
    let row = size * 1.35;
    let key_w = 14.0;
    let pad = 3.0;
    let w = pad * 2.0
        + key_w
        + 3.0
        + entries
            .iter()
            .map(|(_, s)| text_width(s, size))
            .fold(0.0, f64::max);
    let h = pad * 2.0 + row * entries.len() as f64;
    svg.rect(
        x,
        y,
        w,
        h,
        Some(Rgb::WHITE),
        Some(&Stroke::solid(Rgb::hex(0x999999), 0.4)),
    );
    for (j, (key, label)) in entries.iter().enumerate() {
        let cy = y + pad + row * (j as f64 + 0.5);
        let kx = x + pad;
        match key {
            LegendKey::Line(s) => svg.line((kx, cy), (kx + key_w, cy), s),
            LegendKey::Marker(m, c) => svg.marker(
                *m,
                (kx + key_w / 2.0, cy),
                size * 0.8,
                *c,
                Some(&Stroke::solid(Rgb::BLACK, 0.6)),
            ),
            LegendKey::Swatch(c) => svg.rect(
                kx + 2.0,
                cy - size * 0.4,
                key_w - 4.0,
                size * 0.8,
                Some(*c),
                Some(&Stroke::solid(Rgb::hex(0x666666), 0.3)),
            ),
        }
        svg.text_mid(kx + key_w + 3.0, cy, label, size, Anchor::Start);
    }
    (w, h)
}

/// A vertical colour bar over [lo, hi] made of `segments` (value from, value to, colour),
/// with linear ticks and a label on its right; returns the width taken right of the bar.
///
/// Segments are drawn from the bottom up, each overlapping the next by half a point, so the
/// bar shows no seams.
#[allow(clippy::too_many_arguments)]
pub fn colorbar(
    svg: &mut Svg,
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
        let (ya, yb) = (y_of(*a), y_of(*b));
        let top = yb.max(frame.y) - 0.25;
        let bottom = (ya + 0.25).min(frame.y + frame.h);
        svg.rect(
            frame.x,
            top.max(frame.y),
            frame.w,
            bottom - top.max(frame.y),
            Some(*c),
            None,
        );
    }
    let stroke = Stroke::solid(Rgb::BLACK, 0.5);
    svg.rect(frame.x, frame.y, frame.w, frame.h, None, Some(&stroke));
    let ts = style.tick_size();
    let mut widest: f64 = 0.0;
    for t in ticks(&axis, frame.h, ts * 2.2) {
        let y = y_of(t.value);
        svg.line(
            (frame.x + frame.w, y),
            (frame.x + frame.w + 2.5, y),
            &stroke,
        );
        if let Some(l) = &t.label {
            widest = widest.max(text_width(l, ts));
            svg.text_mid(frame.x + frame.w + 4.0, y, l, ts, Anchor::Start);
        }
    }
    let ls = style.label_size();
    let x = frame.x + frame.w + 4.0 + widest + 3.0 + ls * 0.8;
    svg.text(
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

/// Segments of a continuous colour map for [`colorbar`]: `n` equal steps over [lo, hi].
pub fn colormap_segments(map: Colormap, lo: f64, hi: f64, n: usize) -> Vec<(f64, f64, Rgb)> {
    (0..n)
        .map(|j| {
            let (a, b) = (j as f64 / n as f64, (j + 1) as f64 / n as f64);
            (
                lo + a * (hi - lo),
                lo + b * (hi - lo),
                map.at((a + b) / 2.0),
            )
        })
        .collect()
}
