//! Pieces several figures share: black text, filled rectangles, legend entries, index rows
//! and CSV tables with a one-line header.

use std::fmt::Display;

use super::canvas::{Anchor, Canvas};
use super::colour::Rgb;
use super::csv_text;
use super::panel::LegendKey;

/// Shorthands on the page for the commonest calls.
pub(crate) trait Draw {
    /// Black, upright text with its baseline at `y`, anchored at `x`.
    fn say(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor);

    /// A rectangle filled with `fill`, without an outline.
    fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb);
}

impl Draw for Canvas {
    fn say(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor) {
        self.text(x, y, s, size, anchor, 0.0, Rgb::BLACK);
    }

    fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb) {
        self.rect(x, y, w, h, Some(fill), None);
    }
}

/// A legend entry.
pub(crate) fn key(k: LegendKey, label: impl Into<String>) -> (LegendKey, String) {
    (k, label.into())
}

/// A row (name, value) of a figure's parameter list.
pub(crate) fn row(name: &str, value: impl Display) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// CSV text from a header written as one comma-separated line and rows of formatted cells.
pub(crate) fn table(header: &str, rows: &[Vec<String>]) -> String {
    csv_text(&header.split(',').collect::<Vec<_>>(), rows)
}
