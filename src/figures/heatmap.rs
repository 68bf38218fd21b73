//! Heat maps without seams between cells.
//!
//! Abutting rectangles leave faint light lines in anti-aliased renderers (each edge pixel is
//! half covered twice). Here every colour is one path of row runs, and each run is widened
//! by [`OVERLAP`] points to the right and downwards, so a later colour always covers the
//! border of an earlier one; the whole map is clipped to the panel frame.

use std::collections::BTreeMap;

use super::axis::Panel;
use super::svg::{Rgb, Svg, num};

/// Overlap of neighbouring cells in points.
pub const OVERLAP: f64 = 0.4;

/// Draws node-centred cells: cell (i, j) has colour `colors[j * xs.len() + i]` and extends
/// half-way (on the page) to its neighbours, and to the frame at the ends.
pub fn heatmap(svg: &mut Svg, panel: &Panel, xs: &[f64], ys: &[f64], colors: &[Rgb]) {
    let nx = xs.len();
    if nx == 0 || ys.is_empty() || colors.len() != nx * ys.len() {
        return;
    }
    let f = panel.frame;
    let bounds = |page: Vec<f64>, lo: f64, hi: f64| -> Vec<f64> {
        let mut b = Vec::with_capacity(page.len() + 1);
        b.push(lo);
        for w in page.windows(2) {
            b.push((w[0] + w[1]) / 2.0);
        }
        b.push(hi);
        b
    };
    let xb = bounds(xs.iter().map(|v| panel.px(*v)).collect(), f.x, f.x + f.w);
    // Page y decreases with data y: bottom edge of row 0 is the frame bottom.
    let yb = bounds(ys.iter().map(|v| panel.py(*v)).collect(), f.y + f.h, f.y);
    let mut paths: BTreeMap<(u8, u8, u8), String> = BTreeMap::new();
    for (j, row) in colors.chunks(nx).enumerate() {
        let (y_bottom, y_top) = (yb[j], yb[j + 1]);
        let mut i = 0;
        while i < nx {
            let c = row[i];
            let mut k = i;
            while k + 1 < nx && row[k + 1] == c {
                k += 1;
            }
            let (x0, x1) = (xb[i], xb[k + 1]);
            let d = paths.entry((c.0, c.1, c.2)).or_default();
            d.push_str(&format!(
                "M{} {}h{}v{}h{}Z",
                num(x0),
                num(y_top),
                num(x1 - x0 + OVERLAP),
                num(y_bottom - y_top + OVERLAP),
                num(-(x1 - x0 + OVERLAP))
            ));
            i = k + 1;
        }
    }
    panel.clip(svg);
    for ((r, g, b), d) in &paths {
        svg.fill_path(d, Rgb(*r, *g, *b));
    }
    svg.end_group();
}
