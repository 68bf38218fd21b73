//! Drawing a matrix as a grid of cells: a diverging colour map with a symmetric range
//! (blue < 0 < red, white at 0), cell-index tick labels, and block outlines. Used by the
//! geometry figures (Fig. 5, E2, block structure).

use nalgebra::DMatrix;

use super::canvas::{Anchor, Canvas, Stroke};
use super::colour::{Colormap, Rgb};
use super::panel::heatmap;
use super::panel::{Axis, Frame, Panel};
use super::parts::Draw;
use super::style::Style;

/// Colour of `x` on the diverging map (ColorBrewer RdBu, blue < 0 < red) over
/// [−range, range] (clamped; white at 0).
pub fn diverging(x: f64, range: f64) -> Rgb {
    let t = if range > 0.0 && x.is_finite() {
        (x / range).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    Colormap::Diverging.at((t + 1.0) / 2.0)
}

/// Largest |mᵢⱼ| (the symmetric range of the map), at least `floor`.
pub fn abs_max(m: &DMatrix<f64>, floor: f64) -> f64 {
    m.iter().map(|x| x.abs()).fold(floor, f64::max)
}

/// Draws `m` (rows top to bottom, columns left to right) into `frame` with the colour of each
/// entry from `color`, and a thin frame. Returns the panel (x = column index, y = row index
/// increasing upwards in data units; [`outline`] marks blocks).
pub fn draw_matrix(
    svg: &mut Canvas,
    frame: Frame,
    m: &DMatrix<f64>,
    color: &dyn Fn(f64) -> Rgb,
) -> Panel {
    let (rows, cols) = m.shape();
    let panel = Panel {
        frame,
        x: Axis::linear(-0.5, cols as f64 - 0.5, ""),
        y: Axis::linear(-0.5, rows as f64 - 0.5, ""),
    };
    let xs: Vec<f64> = (0..cols).map(|c| c as f64).collect();
    let ys: Vec<f64> = (0..rows).map(|r| r as f64).collect();
    // Data row j (bottom up) is matrix row rows − 1 − j.
    let colors: Vec<Rgb> = (0..rows)
        .flat_map(|j| (0..cols).map(move |c| (rows - 1 - j, c)))
        .map(|(r, c)| color(m[(r, c)]))
        .collect();
    heatmap(svg, &panel, &xs, &ys, &colors);
    svg.border(frame, Rgb::hex(0x666666), 0.4);
    panel
}

/// Outlines rows `r0..r1` × columns `c0..c1` of a `rows × cols` matrix drawn by
/// [`draw_matrix`] into `frame`.
#[allow(clippy::too_many_arguments)]
pub fn outline(
    svg: &mut Canvas,
    frame: Frame,
    rows: usize,
    cols: usize,
    (r0, r1): (usize, usize),
    (c0, c1): (usize, usize),
    color: Rgb,
    width: f64,
) {
    let (cw, ch) = (frame.w / cols as f64, frame.h / rows as f64);
    let (x, y) = (frame.x + c0 as f64 * cw, frame.y + r0 as f64 * ch);
    let (w, h) = ((c1 - c0) as f64 * cw, (r1 - r0) as f64 * ch);
    svg.rect(x, y, w, h, None, Some(&Stroke::solid(color, width)));
}

/// Labels the columns (above or below) and rows (left) of a matrix drawn into `frame` with
/// the given texts; empty slices are skipped.
pub fn index_labels(
    svg: &mut Canvas,
    style: &Style,
    frame: Frame,
    col_labels: &[String],
    row_labels: &[String],
    below: bool,
) {
    let ts = style.tick_size() * 0.9;
    if !col_labels.is_empty() {
        let cw = frame.w / col_labels.len() as f64;
        for (c, l) in col_labels.iter().enumerate() {
            let y = if below {
                frame.y + frame.h + ts * 1.1
            } else {
                frame.y - ts * 0.4
            };
            svg.say(frame.x + (c as f64 + 0.5) * cw, y, l, ts, Anchor::Middle);
        }
    }
    if !row_labels.is_empty() {
        let ch = frame.h / row_labels.len() as f64;
        for (r, l) in row_labels.iter().enumerate() {
            svg.text_mid(
                frame.x - 2.0,
                frame.y + (r as f64 + 0.5) * ch,
                l,
                ts,
                Anchor::End,
            );
        }
    }
}
