//! Pieces several figures share: black text, filled rectangles, legend entries, index rows
//! and CSV tables with a one-line header.

use std::fmt::Display;

use crate::base::{FeatureSet, Magnitude, Result};

use super::canvas::{Anchor, Canvas, Marker, Stroke, TitleBlock};
use super::colour::Rgb;
use super::csv_text;
use super::panel::{Axis, Frame, LegendKey};
use super::style::Style;

/// The page of a figure: its width, tick and label sizes, the height of the title block on
/// top, and the title block.
pub(crate) fn page(style: &Style, title: String) -> (f64, f64, f64, f64, TitleBlock) {
    let width = style.width_pt();
    let heading = TitleBlock::new(title, style.title_size(), width);
    let title_h = heading.height();
    (
        width,
        style.tick_size(),
        style.label_size(),
        title_h,
        heading,
    )
}

/// A canvas of the page width and `height` with the title block drawn.
pub(crate) fn canvas(heading: &TitleBlock, height: f64, style: &Style) -> Canvas {
    let mut svg = Canvas::new(style.width_pt(), height, style);
    heading.draw(&mut svg);
    svg
}

/// A frame with its top-left corner at (x, y), `w` wide and `h` high (points).
pub(crate) fn area(x: f64, y: f64, w: f64, h: f64) -> Frame {
    Frame { x, y, w, h }
}

/// Shorthands on the page for the commonest calls.
pub(crate) trait Draw {
    /// Black, upright text with its baseline at `y`, anchored at `x`.
    fn say(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor);

    /// A rectangle filled with `fill`, without an outline.
    fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb);

    /// The outline of frame `f`: a solid line of `colour`, `width` points wide.
    fn border(&mut self, f: Frame, colour: Rgb, width: f64);

    /// Black text centred over frame `f`, its baseline 3 pt above the frame.
    fn head(&mut self, f: Frame, s: &str, size: f64) {
        self.say(f.x + f.w / 2.0, f.y - 3.0, s, size, Anchor::Middle);
    }

    /// A marker filled with `fill`, outlined by `edge` (colour, width) if given.
    fn dot(&mut self, shape: Marker, c: (f64, f64), size: f64, fill: Rgb, edge: Option<(Rgb, f64)>);
}

impl Draw for Canvas {
    fn say(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor) {
        self.text(x, y, s, size, anchor, 0.0, Rgb::BLACK);
    }

    fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb) {
        self.rect(x, y, w, h, Some(fill), None);
    }

    fn border(&mut self, f: Frame, colour: Rgb, width: f64) {
        self.rect(
            f.x,
            f.y,
            f.w,
            f.h,
            None,
            Some(&Stroke::solid(colour, width)),
        );
    }

    fn dot(
        &mut self,
        shape: Marker,
        c: (f64, f64),
        size: f64,
        fill: Rgb,
        edge: Option<(Rgb, f64)>,
    ) {
        let stroke = edge.map(|(colour, width)| Stroke::solid(colour, width));
        self.marker(shape, c, size, fill, stroke.as_ref());
    }
}

/// A legend entry with a filled swatch.
pub(crate) fn swatch(fill: Rgb, label: impl Into<String>) -> (LegendKey, String) {
    (LegendKey::Swatch(fill), label.into())
}

/// A legend entry with a line sample.
pub(crate) fn line_key(stroke: Stroke, label: impl Into<String>) -> (LegendKey, String) {
    (LegendKey::Line(stroke), label.into())
}

/// A legend entry with a marker filled with `fill`.
pub(crate) fn marker_key(
    shape: Marker,
    fill: Rgb,
    label: impl Into<String>,
) -> (LegendKey, String) {
    (LegendKey::Marker(shape, fill), label.into())
}

/// Features of importance `importance`, every one active with density `p`, magnitudes
/// U[0, 1] when active.
pub(crate) fn uniform_features(importance: Vec<f64>, p: f64) -> Result<FeatureSet> {
    let n = importance.len();
    FeatureSet::from_densities(importance, &vec![p; n], Magnitude::Uniform)
}

/// A row (name, value) of a figure's parameter list.
pub(crate) fn row(name: &str, value: impl Display) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// CSV text from a header written as one comma-separated line and rows of formatted cells.
pub(crate) fn table(header: &str, rows: &[Vec<String>]) -> String {
    csv_text(&header.split(',').collect::<Vec<_>>(), rows)
}

/// The resolution stated after a parameter or title: " (quick)", " (paper resolution)" or
/// nothing.
pub(crate) fn resolution_tag(quick: bool, paper: bool) -> &'static str {
    if quick {
        " (quick)"
    } else if paper {
        " (paper resolution)"
    } else {
        ""
    }
}

/// The index row of the autoencoder training shared by the trained Elhage figures.
pub(crate) fn adam_row(steps: usize, seeds: usize, quick: bool) -> (String, String) {
    row(
        "training",
        format!(
            "Adam η = 1e-3, batch 1024, {steps} steps, best of {seeds} seed(s){}",
            resolution_tag(quick, false)
        ),
    )
}

/// A log axis over `range` (lo, hi).
pub(crate) fn log_span(range: (f64, f64), label: &str) -> Axis {
    Axis::log(range.0, range.1, label)
}

/// The first and last of sorted grid values.
pub(crate) fn ends(values: &[f64]) -> (f64, f64) {
    (values[0], values[values.len() - 1])
}
