//! The page of a figure, drawn through plotters' SVG backend.
//!
//! A [`Canvas`] records what a figure draws in points (1 in = 72 pt, floats) and
//! [`Canvas::finish`] replays it on a plotters `SVGBackend` at [`UNIT`] backend units per
//! point, so plotters' integer coordinates round to 0.01 pt. The root element's width and
//! height are then rewritten to inches (the viewBox keeps the units) and a `<title>` added.
//!
//! Text is measured with the glyph advances and kerning of DejaVu Serif/Sans (the `dejavu`
//! crate, read by ab_glyph), the fonts the SVG names first; plotters is given the same fonts
//! under the family names the SVG carries. plotters has no clip paths: [`Canvas::clip`]
//! clips lines and fills geometrically before they reach the backend. Nothing depends on
//! time or the environment, so the same data always gives the same bytes.

use std::sync::Once;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform, RGBAColor};

use super::colour::Rgb;
use super::style::{FontChoice, Style};

/// Backend units per point.
pub const UNIT: f64 = 100.0;

/// plotters writes `font-size` = size / 1.24 and measures with ab_glyph at size pixels of
/// ascent-to-descent height; sizes given to it are scaled by this.
const PLOTTERS_FONT: f64 = 1.24;

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (font, bytes) in [
            (FontChoice::Serif, dejavu::serif::regular()),
            (FontChoice::Sans, dejavu::sans::regular()),
        ] {
            plotters::style::register_font(font.family(), FontStyle::Normal, bytes)
                .unwrap_or_else(|_| panic!("invariant: the bundled DejaVu font parses"));
        }
    });
}

fn face(font: FontChoice) -> FontRef<'static> {
    let bytes = match font {
        FontChoice::Serif => dejavu::serif::regular(),
        FontChoice::Sans => dejavu::sans::regular(),
    };
    FontRef::try_from_slice(bytes).expect("invariant: the bundled DejaVu font parses")
}

/// Advance width of `s` (Unicode math, see [`unicode`]) at font size `size` pt in `font`,
/// with kerning.
pub fn text_width_in(font: FontChoice, s: &str, size: f64) -> f64 {
    runs(s)
        .iter()
        .map(|(t, shift)| {
            let size = if *shift == 0 { size } else { size * SCRIPT };
            advance(font, t, size)
        })
        .sum()
}

fn advance(font: FontChoice, s: &str, size: f64) -> f64 {
    let f = face(font);
    let upem = f64::from(f.units_per_em().unwrap_or(2048.0));
    // ab_glyph scales so that ascent − descent = scale; one em is `size`.
    let scale = size * f64::from(f.height_unscaled()) / upem;
    let sf = f.as_scaled(PxScale::from(scale as f32));
    let mut w = 0.0f64;
    let mut prev = None;
    for c in s.chars() {
        let g = sf.glyph_id(c);
        w += f64::from(sf.h_advance(g));
        if let Some(p) = prev {
            w += f64::from(sf.kern(p, g));
        }
        prev = Some(g);
    }
    w
}

/// Advance width of `s` at size `size` pt: the wider of DejaVu Serif and Sans, so a layout
/// computed with it fits either font.
pub fn text_width(s: &str, size: f64) -> f64 {
    text_width_in(FontChoice::Serif, s, size).max(text_width_in(FontChoice::Sans, s, size))
}

/// Characters with Unicode subscript forms, and those forms in the same order.
const SUB: (&str, &str) = (
    "0123456789+-−=()aehijklmnoprstuvx",
    "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ",
);
/// Characters with Unicode superscript forms, and those forms in the same order.
const SUP: (&str, &str) = ("0123456789+-−=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁱⁿ");

/// The script form of `c` in a table ([`SUB`] or [`SUP`]).
fn script((from, to): (&str, &str), c: char) -> Option<char> {
    from.chars()
        .position(|f| f == c)
        .and_then(|k| to.chars().nth(k))
}

/// Size of a sub- or superscript drawn as its own text, relative to the text.
const SCRIPT: f64 = 0.7;

/// A label's small markup as runs of text at baseline shift −1 (subscript), 0 or 1
/// (superscript): `_{…}` and `^{…}` become Unicode script characters where Unicode has them
/// all, else a run of their own (drawn smaller at a lowered or raised baseline).
pub fn runs(s: &str) -> Vec<(String, i8)> {
    let mut out: Vec<(String, i8)> = vec![(String::new(), 0)];
    let mut rest = s;
    while let Some(pos) = rest.find(['_', '^']) {
        let (head, tail) = rest.split_at(pos);
        let (table, shift) = if tail.starts_with('_') {
            (SUB, -1)
        } else {
            (SUP, 1)
        };
        let last = out.len() - 1;
        match tail[1..]
            .strip_prefix('{')
            .and_then(|t| t.find('}').map(|e| (&t[..e], &t[e + 1..])))
        {
            Some((inner, after)) => {
                out[last].0.push_str(head);
                match inner
                    .chars()
                    .map(|c| script(table, c))
                    .collect::<Option<String>>()
                {
                    Some(scripted) => out[last].0.push_str(&scripted),
                    None => out.extend([(inner.to_string(), shift), (String::new(), 0)]),
                }
                rest = after;
            }
            None => {
                out[last].0.push_str(&rest[..pos + 1]);
                rest = &rest[pos + 1..];
            }
        }
    }
    let last = out.len() - 1;
    out[last].0.push_str(rest);
    out.retain(|(t, _)| !t.is_empty());
    out
}

/// A label's markup on one baseline (for rotated text): Unicode scripts where they exist,
/// else `_…` / `^…` in plain characters.
pub fn unicode(s: &str) -> String {
    runs(s)
        .into_iter()
        .map(|(t, shift)| match shift {
            0 => t,
            -1 => format!("_{t}"),
            _ => format!("^{t}"),
        })
        .collect()
}

/// How a line is stroked.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    /// Colour.
    pub color: Rgb,
    /// Width in points.
    pub width: f64,
    /// Dash (on, off) in points; `None` for a solid line.
    pub dash: Option<(f64, f64)>,
}

impl Stroke {
    /// A solid line.
    pub fn solid(color: Rgb, width: f64) -> Self {
        Stroke {
            color,
            width,
            dash: None,
        }
    }

    /// A dashed line with dashes and gaps of the given lengths.
    pub fn dashed(color: Rgb, width: f64, on: f64, off: f64) -> Self {
        Stroke {
            color,
            width,
            dash: Some((on, off)),
        }
    }

    fn shape(&self) -> ShapeStyle {
        ShapeStyle::from(self.color.plotters()).stroke_width(units(self.width).max(1) as u32)
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
    pub fn draw(&self, canvas: &mut Canvas) {
        canvas.title = Some(self.text.clone());
        for (j, l) in self.lines.iter().enumerate() {
            let y = self.size * (1.1 + 1.25 * j as f64);
            canvas.text(
                self.width / 2.0,
                y,
                l,
                self.size,
                Anchor::Middle,
                0.0,
                Rgb::BLACK,
            );
        }
    }
}

/// Splits `s` at spaces into lines no wider than `max_width` points; a single word wider
/// than the limit gets a line of its own. "N = 6" stays on one line.
pub fn wrap(s: &str, size: f64, max_width: f64) -> Vec<String> {
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

/// Points to backend units (non-finite values to 0: never NaN in a document).
pub(crate) fn units(x: f64) -> i32 {
    if x.is_finite() {
        (x * UNIT).round().clamp(-1e9, 1e9) as i32
    } else {
        0
    }
}

fn at(p: (f64, f64)) -> (i32, i32) {
    (units(p.0), units(p.1))
}

/// One recorded drawing operation, in points.
#[derive(Debug, Clone)]
enum Op {
    Path(Vec<(f64, f64)>, Stroke),
    Fill(Vec<(f64, f64)>, Rgb, f64),
    Circle((f64, f64), f64, Rgb, Option<Stroke>),
    Text {
        pos: (f64, f64),
        text: String,
        size: f64,
        anchor: Anchor,
        vertical: bool,
        color: Rgb,
    },
    /// Axes drawn by plotters' chart mesh, see [`super::panel`].
    Mesh(Box<super::panel::Mesh>),
}

/// A page under construction; units are points, y grows downwards.
#[derive(Debug, Clone)]
pub struct Canvas {
    width: f64,
    height: f64,
    font: FontChoice,
    ops: Vec<Op>,
    clip: Option<(f64, f64, f64, f64)>,
    title: Option<String>,
}

impl Canvas {
    /// An empty page `width × height` points in the style's font.
    pub fn new(width: f64, height: f64, style: &Style) -> Self {
        Canvas {
            width,
            height,
            font: style.font,
            ops: Vec::new(),
            clip: None,
            title: None,
        }
    }

    /// Clips lines, fills and markers drawn from now on to the rectangle (until
    /// [`Canvas::unclip`]); text is never clipped.
    pub fn clip(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.clip = Some((x, y, x + w, y + h));
    }

    /// Ends clipping.
    pub fn unclip(&mut self) {
        self.clip = None;
    }

    /// A straight line.
    pub fn line(&mut self, a: (f64, f64), b: (f64, f64), stroke: &Stroke) {
        self.polyline(&[a, b], stroke);
    }

    /// An open polyline (nothing for fewer than two points).
    pub fn polyline(&mut self, pts: &[(f64, f64)], stroke: &Stroke) {
        let runs = match self.clip {
            Some(r) => clip_polyline(pts, r),
            None => vec![pts.to_vec()],
        };
        for run in runs.into_iter().filter(|r| r.len() >= 2) {
            self.ops.push(Op::Path(run, stroke.clone()));
        }
    }

    /// A filled region made of closed loops; a loop inside an odd number of others is a
    /// hole (even-odd rule).
    pub fn loops(&mut self, loops: &[Vec<(f64, f64)>], fill: Rgb) {
        let clipped: Vec<Vec<(f64, f64)>> = loops
            .iter()
            .map(|l| match self.clip {
                Some(r) => clip_polygon(l, r),
                None => l.clone(),
            })
            .filter(|l| l.len() >= 3)
            .collect();
        if let Some(p) = even_odd_polygon(&clipped) {
            self.ops.push(Op::Fill(p, fill, 1.0));
        }
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
        let corners = vec![(x, y), (x + w, y), (x + w, y + h), (x, y + h)];
        if let Some(c) = fill {
            self.fill_polygon(&corners, c, 1.0);
        }
        if let Some(s) = stroke {
            let mut closed = corners;
            closed.push((x, y));
            self.polyline(&closed, s);
        }
    }

    /// A filled polygon with opacity `alpha` ∈ [0, 1].
    pub fn fill_polygon(&mut self, pts: &[(f64, f64)], fill: Rgb, alpha: f64) {
        let p = match self.clip {
            Some(r) => clip_polygon(pts, r),
            None => pts.to_vec(),
        };
        if p.len() >= 3 {
            self.ops.push(Op::Fill(p, fill, alpha));
        }
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
        if let Some((x0, y0, x1, y1)) = self.clip
            && !(x0..=x1).contains(&c.0) | !(y0..=y1).contains(&c.1)
        {
            return;
        }
        let r = size / 2.0;
        let outline: Vec<(f64, f64)> = match shape {
            Marker::Circle => {
                self.ops.push(Op::Circle(c, r, fill, stroke.cloned()));
                return;
            }
            Marker::Square => vec![
                (c.0 - r, c.1 - r),
                (c.0 + r, c.1 - r),
                (c.0 + r, c.1 + r),
                (c.0 - r, c.1 + r),
            ],
            Marker::Star => (0..10)
                .map(|j| {
                    let a = std::f64::consts::PI * (f64::from(j) / 5.0 - 0.5);
                    let rr = if j % 2 == 0 { r * 1.25 } else { r * 0.5 };
                    (c.0 + rr * a.cos(), c.1 + rr * a.sin())
                })
                .collect(),
        };
        self.ops.push(Op::Fill(outline.clone(), fill, 1.0));
        if let Some(s) = stroke {
            let mut closed = outline;
            closed.push(closed[0]);
            self.ops.push(Op::Path(closed, s.clone()));
        }
    }

    /// Text with its baseline at `y`, anchored at `x`; `rotate` is 0 or −90 degrees (reading
    /// upwards). Labels use the markup of [`unicode`].
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
        let vertical = rotate.abs() > 45.0;
        // plotters centres text on its position by half an x-height (0.5ex); the baseline
        // sits 0.27 em below the centre for DejaVu.
        let centre = 0.27 * size;
        let parts = runs(s);
        if vertical || parts.len() < 2 {
            let pos = if vertical {
                (x - centre, y)
            } else {
                (x, y - centre)
            };
            let text = unicode(s);
            self.ops.push(Op::Text {
                pos,
                text,
                size,
                anchor,
                vertical,
                color,
            });
            return;
        }
        // Scripts without Unicode forms: each run its own text, placed by measured advances.
        let total = text_width_in(self.font, s, size);
        let mut at = match anchor {
            Anchor::Start => x,
            Anchor::Middle => x - total / 2.0,
            Anchor::End => x - total,
        };
        for (text, shift) in parts {
            let (size, dy) = match shift {
                0 => (size, 0.0),
                -1 => (size * SCRIPT, 0.22 * size),
                _ => (size * SCRIPT, -0.38 * size),
            };
            let w = advance(self.font, &text, size);
            // SVG drops a text element's leading white space: move past it instead.
            let body = text.trim_start();
            let lead = advance(self.font, &text[..text.len() - body.len()], size);
            self.ops.push(Op::Text {
                pos: (at + lead, y + dy - 0.27 * size),
                text: body.to_string(),
                size,
                anchor: Anchor::Start,
                vertical: false,
                color,
            });
            at += w;
        }
    }

    /// Lines of text centred on `x` (moved inwards where they would leave the page), the
    /// first baseline at `y`, the next ones 1.1 sizes lower.
    pub fn lines_below(&mut self, x: f64, y: f64, lines: &[(String, Rgb)], size: f64) {
        for (k, (s, color)) in lines.iter().enumerate() {
            let half = text_width(s, size) / 2.0;
            let x = x.clamp(half + 1.0, (self.width - half - 1.0).max(half + 1.0));
            let y = y + size * 1.1 * k as f64;
            self.text(x, y, s, size, Anchor::Middle, 0.0, *color);
        }
    }

    /// Text with a white outline (eight white copies around it), readable on top of colour
    /// fills and lines.
    pub fn text_halo(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor) {
        self.text_halo_rotated(x, y, s, size, anchor, 0.0);
    }

    /// [`Canvas::text_halo`] turned like [`Canvas::text`] (0 or −90 degrees).
    pub fn text_halo_rotated(
        &mut self,
        x: f64,
        y: f64,
        s: &str,
        size: f64,
        anchor: Anchor,
        rotate: f64,
    ) {
        let r = size * 0.11;
        for k in 0..8 {
            let (sin, cos) = (f64::from(k) * std::f64::consts::FRAC_PI_4).sin_cos();
            let (dx, dy) = (r * cos, r * sin);
            self.text(x + dx, y + dy, s, size, anchor, rotate, Rgb::WHITE);
        }
        self.text(x, y, s, size, anchor, rotate, Rgb::BLACK);
    }

    /// Text vertically centred on `y`.
    pub fn text_mid(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor) {
        self.text(x, y + 0.35 * size, s, size, anchor, 0.0, Rgb::BLACK);
    }

    pub(crate) fn mesh(&mut self, mesh: super::panel::Mesh) {
        self.ops.push(Op::Mesh(Box::new(mesh)));
    }

    /// The SVG document: every operation replayed through plotters' SVG backend, the root
    /// element sized in inches, with the title.
    pub fn finish(self) -> String {
        register_fonts();
        let family = self.font.family();
        let (w, h) = (units(self.width).max(1), units(self.height).max(1));
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, (w as u32, h as u32)).into_drawing_area();
            replay(&root, &self.ops, family)
                .expect("invariant: drawing into a string with registered fonts cannot fail");
            root.present()
                .expect("invariant: presenting a string backend cannot fail");
        }
        finish_document(&buf, self.width, self.height, family, self.title.as_deref())
    }
}

fn replay(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    ops: &[Op],
    family: &'static str,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    root.fill(&WHITE)?;
    for op in ops {
        match op {
            Op::Path(pts, s) => {
                let p: Vec<(i32, i32)> = pts.iter().map(|p| at(*p)).collect();
                match s.dash {
                    None => root.draw(&PathElement::new(p, s.shape()))?,
                    Some((on, off)) => {
                        let (on, off) = (units(on).max(1), units(off).max(1));
                        root.draw(&plotters::element::DashedPathElement::new(
                            p,
                            on,
                            off,
                            s.shape(),
                        ))?;
                    }
                }
            }
            Op::Fill(pts, c, alpha) => {
                let p: Vec<(i32, i32)> = pts.iter().map(|p| at(*p)).collect();
                let colour = RGBAColor(c.0, c.1, c.2, *alpha);
                root.draw(&Polygon::new(p, colour.filled()))?;
            }
            Op::Circle(c, r, fill, stroke) => {
                let radius = units(*r).max(1) as u32;
                root.draw(&Circle::new(at(*c), radius, fill.plotters().filled()))?;
                if let Some(s) = stroke {
                    root.draw(&Circle::new(at(*c), radius, s.shape()))?;
                }
            }
            Op::Text {
                pos,
                text,
                size,
                anchor,
                vertical,
                color,
            } => {
                let h = match anchor {
                    Anchor::Start => HPos::Left,
                    Anchor::Middle => HPos::Center,
                    Anchor::End => HPos::Right,
                };
                let mut style = text_style(family, *size, *color).pos(Pos::new(h, VPos::Center));
                if *vertical {
                    style = style.transform(FontTransform::Rotate270);
                }
                root.draw_text(text, &style, at(*pos))?;
            }
            Op::Mesh(m) => m.draw(root, family)?,
        }
    }
    Ok(())
}

/// A plotters text style of `size` pt.
pub(crate) fn text_style(family: &'static str, size: f64, color: Rgb) -> TextStyle<'static> {
    let mut style = TextStyle::from((family, size * UNIT * PLOTTERS_FONT));
    style.color = color.plotters().to_backend_color();
    style
}

/// The backend's document with the XML declaration, the size in inches, the title, and
/// font sizes rounded to the unit (plotters writes size / 1.24 with float noise).
fn finish_document(
    buf: &str,
    width: f64,
    height: f64,
    family: &str,
    title: Option<&str>,
) -> String {
    let mut out = String::with_capacity(buf.len() + 256);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (w, h) = (units(width).max(1), units(height).max(1));
    let head = format!("<svg width=\"{w}\" height=\"{h}\" ");
    let inches = |x: f64| {
        let s = format!("{:.4}", x / 72.0);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    let body = buf.strip_prefix(&head).unwrap_or(buf);
    out.push_str(&format!(
        "<svg width=\"{}in\" height=\"{}in\" font-family=\"{}\" ",
        inches(width),
        inches(height),
        escape(family)
    ));
    let mut rest = body;
    if let Some(end) = rest.find(">\n") {
        out.push_str(&rest[..end + 2]);
        rest = &rest[end + 2..];
    }
    if let Some(t) = title {
        out.push_str(&format!("<title>{}</title>\n", escape(t)));
    }
    // Round font sizes.
    let key = "font-size=\"";
    while let Some(k) = rest.find(key) {
        out.push_str(&rest[..k + key.len()]);
        rest = &rest[k + key.len()..];
        let end = rest.find('"').unwrap_or(0);
        match rest[..end].parse::<f64>() {
            Ok(v) => out.push_str(&format!("{}", v.round() as i64)),
            Err(_) => out.push_str(&rest[..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
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

/// The parts of a polyline inside the rectangle (x0, y0, x1, y1) (Liang–Barsky per segment).
pub fn clip_polyline(pts: &[(f64, f64)], r: (f64, f64, f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    // Whether the last run ends at the last segment's unclipped end.
    let mut open = false;
    for w in pts.windows(2) {
        let Some((a, b)) = clip_segment(w[0], w[1], r) else {
            open = false;
            continue;
        };
        match runs.last_mut() {
            Some(run) if open && run.last() == Some(&a) => run.push(b),
            _ => runs.push(vec![a, b]),
        }
        open = b == w[1];
    }
    runs
}

fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    (x0, y0, x1, y1): (f64, f64, f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
        return None;
    }
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    // Unclipped ends stay exactly as given (runs are joined by comparing them).
    let pt = |t: f64, end: (f64, f64), unclipped: bool| {
        if unclipped {
            end
        } else {
            (a.0 + t * dx, a.1 + t * dy)
        }
    };
    Some((pt(t0, a, t0 <= 0.0), pt(t1, b, t1 >= 1.0)))
}

/// A polygon clipped to the rectangle (Sutherland–Hodgman).
pub fn clip_polygon(pts: &[(f64, f64)], (x0, y0, x1, y1): (f64, f64, f64, f64)) -> Vec<(f64, f64)> {
    let mut poly: Vec<(f64, f64)> = pts
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    type Edge = (
        fn((f64, f64), f64) -> bool,
        fn((f64, f64), (f64, f64), f64) -> (f64, f64),
    );
    let xcut =
        |a: (f64, f64), b: (f64, f64), x: f64| (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0));
    let ycut =
        |a: (f64, f64), b: (f64, f64), y: f64| (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y);
    let edges: [(Edge, f64); 4] = [
        ((|p, v| p.0 >= v, xcut), x0),
        ((|p, v| p.0 <= v, xcut), x1),
        ((|p, v| p.1 >= v, ycut), y0),
        ((|p, v| p.1 <= v, ycut), y1),
    ];
    for ((inside, cut), v) in edges {
        if poly.is_empty() {
            break;
        }
        let mut out = Vec::with_capacity(poly.len() + 4);
        for k in 0..poly.len() {
            let (a, b) = (poly[(k + poly.len() - 1) % poly.len()], poly[k]);
            match (inside(a, v), inside(b, v)) {
                (true, true) => out.push(b),
                (true, false) => out.push(cut(a, b, v)),
                (false, true) => {
                    out.push(cut(a, b, v));
                    out.push(b);
                }
                (false, false) => {}
            }
        }
        poly = out;
    }
    poly
}

/// Twice the signed area of a closed loop (shoelace formula; > 0 counter-clockwise in y-up
/// coordinates).
pub(crate) fn twice_area(l: &[(f64, f64)]) -> f64 {
    let n = l.len();
    (0..n)
        .map(|k| {
            let (a, b) = (l[k], l[(k + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// One polygon whose nonzero fill is the even-odd fill of `loops` (loops that do not cross):
/// each loop is oriented by its nesting depth and joined to the first point by a
/// zero-area bridge.
fn even_odd_polygon(loops: &[Vec<(f64, f64)>]) -> Option<Vec<(f64, f64)>> {
    let first = loops.first()?.first().copied()?;
    let contains = |l: &[(f64, f64)], p: (f64, f64)| {
        let mut inside = false;
        let n = l.len();
        for k in 0..n {
            let (a, b) = (l[k], l[(k + n - 1) % n]);
            if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
                inside = !inside;
            }
        }
        inside
    };
    let mut out = vec![first];
    for (k, l) in loops.iter().enumerate() {
        let depth = loops
            .iter()
            .enumerate()
            .filter(|(j, other)| *j != k && contains(other, l[0]))
            .count();
        let positive = twice_area(l) > 0.0;
        let mut ring = l.clone();
        if positive != (depth % 2 == 0) {
            ring.reverse();
        }
        let start = ring[0];
        out.extend(ring);
        out.push(start);
        out.push(first);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_the_inside() {
        let r = (0.0, 0.0, 10.0, 10.0);
        let runs = clip_polyline(&[(-5.0, 5.0), (5.0, 5.0), (5.0, 20.0)], r);
        assert_eq!(runs, vec![vec![(0.0, 5.0), (5.0, 5.0), (5.0, 10.0)]]);
        let square = clip_polygon(&[(-5.0, -5.0), (5.0, -5.0), (5.0, 5.0), (-5.0, 5.0)], r);
        assert_eq!(square.len(), 4);
        assert!(square.iter().all(|p| p.0 >= 0.0 && p.1 >= 0.0));
    }

    #[test]
    fn scripts_become_unicode() {
        assert_eq!(unicode("C_{i} and λ^{2}"), "Cᵢ and λ²");
        assert_eq!(unicode("L_{full}"), "L_full");
        assert_eq!(
            runs("V_{ign} (P4)"),
            vec![("V".into(), 0), ("ign".into(), -1), (" (P4)".into(), 0)]
        );
        // The script is measured at its own, smaller size.
        let (plain, scripted) = (text_width("Vign", 10.0), text_width("V_{ign}", 10.0));
        assert!(scripted < plain && scripted > text_width("V", 10.0));
    }
}
