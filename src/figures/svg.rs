//! A small deterministic SVG writer in points (1 in = 72 pt) with float coordinates.
//!
//! plotters' SVG backend (without its `ttf` font feature) rounds every coordinate to integer
//! pixels, estimates text widths from the byte length of the UTF-8 string (so "10⁻³" counts
//! as 9 characters) and has no clip paths, minor log ticks or colour bars. The figures need
//! all of these, so they are drawn with this writer: every element is written with two
//! decimals, ids are numbered in drawing order, and nothing depends on time or the
//! environment, so the same figure data always gives the same bytes.

use std::fmt::Write;

use super::style::Style;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// White.
    pub const WHITE: Rgb = Rgb(255, 255, 255);

    /// Parses `#rrggbb`.
    pub const fn hex(code: u32) -> Rgb {
        Rgb((code >> 16) as u8, (code >> 8) as u8, code as u8)
    }

    /// `#rrggbb` text.
    pub fn css(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Relative luminance Y (WCAG / Rec. 709 on linearised sRGB), in [0, 1].
    pub fn luminance(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(self.0) + 0.7152 * lin(self.1) + 0.0722 * lin(self.2)
    }

    /// Linear interpolation in sRGB: `self` at t = 0, `other` at t = 1.
    pub fn mix(self, other: Rgb, t: f64) -> Rgb {
        let f = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Rgb(f(self.0, other.0), f(self.1, other.1), f(self.2, other.2))
    }
}

/// How a line is stroked.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    /// Colour.
    pub color: Rgb,
    /// Width in points.
    pub width: f64,
    /// Dash pattern in points (on, off, …); empty for a solid line.
    pub dash: Vec<f64>,
}

impl Stroke {
    /// A solid line.
    pub fn solid(color: Rgb, width: f64) -> Self {
        Stroke {
            color,
            width,
            dash: Vec::new(),
        }
    }

    /// A dashed line with dashes and gaps of the given lengths.
    pub fn dashed(color: Rgb, width: f64, on: f64, off: f64) -> Self {
        Stroke {
            color,
            width,
            dash: vec![on, off],
        }
    }

    fn attrs(&self) -> String {
        let mut s = format!(
            r#" stroke="{}" stroke-width="{}""#,
            self.color.css(),
            num(self.width)
        );
        if !self.dash.is_empty() {
            let d: Vec<String> = self.dash.iter().map(|x| num(*x)).collect();
            let _ = write!(s, r#" stroke-dasharray="{}""#, d.join(" "));
        }
        s
    }
}

/// Horizontal anchor of a text element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The text starts at x.
    Start,
    /// The text is centred on x.
    Middle,
    /// The text ends at x.
    End,
}

/// Marker shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Filled circle.
    Circle,
    /// Filled square.
    Square,
    /// Five-pointed star.
    Star,
    /// Diamond.
    Diamond,
}

/// Formats a coordinate with at most two decimals and no trailing zeros ("-0" is "0";
/// non-finite values are written as "0").
pub fn num(x: f64) -> String {
    // Never write NaN or inf into a document (invalid SVG): callers keep data finite, this
    // is the last guard.
    if !x.is_finite() {
        return "0".to_string();
    }
    let r = (x * 100.0).round() / 100.0;
    if r.abs() < 0.005 {
        return "0".to_string();
    }
    let s = format!("{r:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Escapes `& < > "` for XML text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// XML text of a label with a small markup: `_{ign}` is a subscript and `^{2}` a
/// superscript (as `<tspan>` with a baseline shift at 70 % size); everything else is escaped.
pub fn markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(pos) = rest.find(['_', '^']) {
        let (head, tail) = rest.split_at(pos);
        let is_sub = tail.starts_with('_');
        match tail[1..]
            .strip_prefix('{')
            .and_then(|t| t.find('}').map(|e| (&t[..e], &t[e + 1..])))
        {
            Some((inner, after)) => {
                out.push_str(&escape(head));
                let shift = if is_sub { "sub" } else { "super" };
                let _ = write!(
                    out,
                    r#"<tspan baseline-shift="{shift}" font-size="70%">{}</tspan>"#,
                    escape(inner)
                );
                rest = after;
            }
            None => {
                out.push_str(&escape(&rest[..pos + 1]));
                rest = &rest[pos + 1..];
            }
        }
    }
    out.push_str(&escape(rest));
    out
}

/// Estimated advance width of `s` at font size `size` (pt), erring wide.
///
/// Without a font backend nothing can be measured; these per-character widths (in em) are
/// those of DejaVu Serif/Sans rounded up, which are wider than Times and Helvetica, so
/// layouts computed with them leave room in every listed font.
pub fn text_width(s: &str, size: f64) -> f64 {
    // Marked-up sub/superscripts count at 70 %; their braces and markers not at all.
    let mut scripted = 0.0;
    let mut plain = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find(['_', '^']) {
        let (head, tail) = rest.split_at(pos);
        match tail[1..]
            .strip_prefix('{')
            .and_then(|t| t.find('}').map(|e| (&t[..e], &t[e + 1..])))
        {
            Some((inner, after)) => {
                plain.push_str(head);
                scripted += 0.7 * plain_width(inner, size);
                rest = after;
            }
            None => {
                plain.push_str(&rest[..pos + 1]);
                rest = &rest[pos + 1..];
            }
        }
    }
    plain.push_str(rest);
    plain_width(&plain, size) + scripted
}

fn plain_width(s: &str, size: f64) -> f64 {
    let em: f64 = s
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'ı' => 0.32,
            ' ' => 0.32,
            'f' | 't' | 'r' | '(' | ')' | '[' | ']' | 'I' | 'J' => 0.42,
            'm' | 'w' | 'M' | 'W' | '—' | '…' => 0.92,
            '⁰'..='⁹' | '¹' | '²' | '³' | '⁻' | '⁺' | 'ᵢ' | 'ⱼ' | '₀'..='₉' | 'ₙ' => {
                0.4
            }
            'A'..='Z' => 0.74,
            '0'..='9' => 0.64,
            '=' | '+' | '−' | '<' | '>' | '≤' | '≥' | '×' | '·' | '≈' => 0.84,
            _ => 0.6,
        })
        .sum();
    em * size
}

/// A figure's title: wrapped to the page width and drawn centred at the top of the page,
/// also set as the document's `<title>`. Every figure starts its layout with one.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleBlock {
    text: String,
    lines: Vec<String>,
    size: f64,
    width: f64,
}

impl TitleBlock {
    /// Wraps `text` at font size `size` to a page `width` points wide (5 pt margins).
    pub fn new(text: String, size: f64, width: f64) -> Self {
        let lines = wrap(&text, size, width - 10.0);
        TitleBlock {
            text,
            lines,
            size,
            width,
        }
    }

    /// Height the title takes at the top of the page, in points.
    pub fn height(&self) -> f64 {
        self.size * 1.25 * self.lines.len() as f64 + 4.0
    }

    /// Sets the document title and draws the lines centred.
    pub fn draw(&self, svg: &mut Svg) {
        svg.set_title(&self.text);
        for (j, l) in self.lines.iter().enumerate() {
            svg.text(
                self.width / 2.0,
                self.size * (1.1 + 1.25 * j as f64),
                l,
                self.size,
                Anchor::Middle,
                0.0,
                Rgb::BLACK,
            );
        }
    }
}

/// Splits `s` at spaces into lines no wider than `max_width` points (estimated); a single
/// word wider than the limit gets a line of its own.
pub fn wrap(s: &str, size: f64, max_width: f64) -> Vec<String> {
    // "N = 6" stays on one line: '=' glues to both neighbours.
    let mut words: Vec<String> = Vec::new();
    let mut glue = false;
    for w in s.split(' ') {
        match words.last_mut() {
            Some(last) if glue || w == "=" => {
                last.push(' ');
                last.push_str(w);
            }
            _ => words.push(w.to_string()),
        }
        glue = w == "=";
    }
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in words.iter().map(String::as_str) {
        let candidate = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if !cur.is_empty() && text_width(&candidate, size) > max_width {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        } else {
            cur = candidate;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// An SVG document under construction. Units are points.
#[derive(Debug, Clone)]
pub struct Svg {
    width: f64,
    height: f64,
    family: &'static str,
    defs: String,
    body: String,
    next_id: usize,
    open_groups: usize,
    title: Option<String>,
}

impl Svg {
    /// An empty document `width × height` points with the style's font family.
    pub fn new(width: f64, height: f64, style: &Style) -> Self {
        Svg {
            width,
            height,
            family: style.font.family(),
            defs: String::new(),
            body: String::new(),
            next_id: 0,
            open_groups: 0,
            title: None,
        }
    }

    /// Document width in points.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Document height in points.
    pub fn height(&self) -> f64 {
        self.height
    }

    /// Sets the document's `<title>` (shown by viewers, read by screen readers).
    pub fn set_title(&mut self, title: &str) {
        self.title = Some(title.to_string());
    }

    /// Adds a comment (e.g. the figure's parameters) to the document.
    pub fn comment(&mut self, text: &str) {
        let safe = text.replace("--", "- -");
        let _ = writeln!(self.body, "<!-- {safe} -->");
    }

    /// A straight line.
    pub fn line(&mut self, a: (f64, f64), b: (f64, f64), stroke: &Stroke) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}"{} stroke-linecap="butt"/>"#,
            num(a.0),
            num(a.1),
            num(b.0),
            num(b.1),
            stroke.attrs()
        );
    }

    /// An open polyline (skipped when it has fewer than two points).
    pub fn polyline(&mut self, pts: &[(f64, f64)], stroke: &Stroke) {
        if pts.len() < 2 {
            return;
        }
        let _ = writeln!(
            self.body,
            r#"<path d="{}" fill="none"{} stroke-linejoin="round" stroke-linecap="round"/>"#,
            path_data(pts, false),
            stroke.attrs()
        );
    }

    /// A filled region made of closed loops, holes by the even-odd rule.
    pub fn loops(&mut self, loops: &[Vec<(f64, f64)>], fill: Rgb) {
        let mut d = String::new();
        for l in loops.iter().filter(|l| l.len() >= 3) {
            if !d.is_empty() {
                d.push(' ');
            }
            d.push_str(&path_data(l, true));
        }
        if d.is_empty() {
            return;
        }
        let _ = writeln!(
            self.body,
            r#"<path d="{d}" fill="{}" fill-rule="evenodd" stroke="none"/>"#,
            fill.css()
        );
    }

    /// Raw path data filled with one colour (used for runs of heat-map cells).
    pub fn fill_path(&mut self, d: &str, fill: Rgb) {
        if d.is_empty() {
            return;
        }
        let _ = writeln!(
            self.body,
            r#"<path d="{d}" fill="{}" stroke="none"/>"#,
            fill.css()
        );
    }

    /// A rectangle with optional fill and stroke.
    pub fn rect(
        &mut self,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: Option<Rgb>,
        stroke: Option<&Stroke>,
    ) {
        let fill = fill.map_or_else(|| "none".to_string(), Rgb::css);
        let stroke = stroke.map_or_else(String::new, Stroke::attrs);
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"{stroke}/>"#,
            num(x),
            num(y),
            num(w),
            num(h)
        );
    }

    /// A marker of the given shape and size (diameter in points) centred on `c`.
    pub fn marker(
        &mut self,
        shape: Marker,
        c: (f64, f64),
        size: f64,
        fill: Rgb,
        stroke: Option<&Stroke>,
    ) {
        let stroke = stroke.map_or_else(String::new, Stroke::attrs);
        let r = size / 2.0;
        match shape {
            Marker::Circle => {
                let _ = writeln!(
                    self.body,
                    r#"<circle cx="{}" cy="{}" r="{}" fill="{}"{stroke}/>"#,
                    num(c.0),
                    num(c.1),
                    num(r),
                    fill.css()
                );
            }
            Marker::Square => {
                let _ = writeln!(
                    self.body,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"{stroke}/>"#,
                    num(c.0 - r),
                    num(c.1 - r),
                    num(size),
                    num(size),
                    fill.css()
                );
            }
            Marker::Star | Marker::Diamond => {
                let pts: Vec<(f64, f64)> = if shape == Marker::Star {
                    (0..10)
                        .map(|j| {
                            let a = std::f64::consts::PI * (f64::from(j) / 5.0 - 0.5);
                            let rr = if j % 2 == 0 { r * 1.25 } else { r * 0.5 };
                            (c.0 + rr * a.cos(), c.1 + rr * a.sin())
                        })
                        .collect()
                } else {
                    vec![
                        (c.0, c.1 - r * 1.2),
                        (c.0 + r, c.1),
                        (c.0, c.1 + r * 1.2),
                        (c.0 - r, c.1),
                    ]
                };
                let _ = writeln!(
                    self.body,
                    r#"<path d="{}" fill="{}"{stroke} stroke-linejoin="round"/>"#,
                    path_data(&pts, true),
                    fill.css()
                );
            }
        }
    }

    /// Text with its baseline at `y`, anchored at `x`; `rotate` in degrees (counter-clockwise
    /// is negative, as in SVG).
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        x: f64,
        y: f64,
        s: &str,
        size: f64,
        anchor: Anchor,
        rotate: f64,
        color: Rgb,
    ) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let mut attrs = format!(
            r#"x="{}" y="{}" font-size="{}" text-anchor="{anchor}""#,
            num(x),
            num(y),
            num(size)
        );
        if rotate.abs() > 1e-9 {
            let _ = write!(
                attrs,
                r#" transform="rotate({} {} {})""#,
                num(rotate),
                num(x),
                num(y)
            );
        }
        if color != Rgb::BLACK {
            let _ = write!(attrs, r#" fill="{}""#, color.css());
        }
        let _ = writeln!(self.body, "<text {attrs}>{}</text>", markup(s));
    }

    /// Text with a white halo (a wide white stroke painted under the glyphs), readable on
    /// top of colour fills and lines.
    pub fn text_halo(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor) {
        self.text_halo_rotated(x, y, s, size, anchor, 0.0);
    }

    /// [`Svg::text_halo`] rotated by `rotate` degrees about its anchor point.
    pub fn text_halo_rotated(
        &mut self,
        x: f64,
        y: f64,
        s: &str,
        size: f64,
        anchor: Anchor,
        rotate: f64,
    ) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let transform = if rotate.abs() > 1e-9 {
            format!(
                r#" transform="rotate({} {} {})""#,
                num(rotate),
                num(x),
                num(y)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{anchor}"{transform} stroke="white" stroke-width="{}" stroke-linejoin="round" paint-order="stroke">{}</text>"#,
            num(x),
            num(y),
            num(size),
            num(size * 0.3),
            markup(s)
        );
    }

    /// Text vertically centred on `y` (baseline shifted by 0.35 em).
    pub fn text_mid(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor) {
        self.text(x, y + 0.35 * size, s, size, anchor, 0.0, Rgb::BLACK);
    }

    /// Starts a group clipped to the rectangle; close it with [`Svg::end_group`].
    pub fn begin_clip(&mut self, x: f64, y: f64, w: f64, h: f64) {
        let id = format!("clip{}", self.next_id);
        self.next_id += 1;
        let _ = writeln!(
            self.defs,
            r#"<clipPath id="{id}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath>"#,
            num(x),
            num(y),
            num(w),
            num(h)
        );
        let _ = writeln!(self.body, r#"<g clip-path="url(#{id})">"#);
        self.open_groups += 1;
    }

    /// Closes the innermost group.
    pub fn end_group(&mut self) {
        if self.open_groups > 0 {
            self.body.push_str("</g>\n");
            self.open_groups -= 1;
        }
    }

    /// The finished document text (closes groups left open).
    pub fn finish(mut self) -> String {
        while self.open_groups > 0 {
            self.end_group();
        }
        let mut out = String::with_capacity(self.body.len() + self.defs.len() + 512);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{}in" height="{}in" viewBox="0 0 {} {}" font-family="{}">"#,
            num(self.width / 72.0),
            num(self.height / 72.0),
            num(self.width),
            num(self.height),
            self.family
        );
        if let Some(t) = &self.title {
            let _ = writeln!(out, "<title>{}</title>", escape(t));
        }
        if !self.defs.is_empty() {
            out.push_str("<defs>\n");
            out.push_str(&self.defs);
            out.push_str("</defs>\n");
        }
        let _ = writeln!(
            out,
            r#"<rect x="0" y="0" width="{}" height="{}" fill="white"/>"#,
            num(self.width),
            num(self.height)
        );
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }
}

/// SVG path data "M x y L x y …" (closed with Z when `close`).
pub fn path_data(pts: &[(f64, f64)], close: bool) -> String {
    let mut d = String::with_capacity(pts.len() * 12);
    for (j, p) in pts.iter().enumerate() {
        d.push_str(if j == 0 { "M" } else { "L" });
        d.push_str(&num(p.0));
        d.push(' ');
        d.push_str(&num(p.1));
    }
    if close {
        d.push('Z');
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_trims_and_rounds() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.234), "1.23");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(12.5), "12.5");
    }
}
