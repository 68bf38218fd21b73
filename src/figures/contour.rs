//! Marching squares on a grid of node values: contour lines at a level, and closed
//! super-level loops {z ≥ level} for seam-free filled contours.
//!
//! Points are returned in *index space*: (i + t, j) lies on the edge between nodes (i, j)
//! and (i + 1, j), at the fraction t where the linear interpolation of the two node values
//! equals the level. [`Grid::to_page`] maps index space to a panel, linearly between the
//! page positions of neighbouring nodes, so log axes need no special case. Saddle cells are
//! resolved by the mean of the four corners.

use std::collections::HashMap;

use super::axis::Panel;

/// Node values `z[j][i]` at `x = xs[i]`, `y = ys[j]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Node x coordinates (increasing), length nx.
    pub xs: Vec<f64>,
    /// Node y coordinates (increasing), length ny.
    pub ys: Vec<f64>,
    /// Values, row-major by y: `z[j * nx + i]`.
    pub z: Vec<f64>,
}

/// An edge of the grid: (i, j, horizontal). Horizontal edges join (i, j)–(i+1, j),
/// vertical ones (i, j)–(i, j+1).
type Edge = (usize, usize, bool);

impl Grid {
    /// Number of x nodes.
    pub fn nx(&self) -> usize {
        self.xs.len()
    }

    /// Number of y nodes.
    pub fn ny(&self) -> usize {
        self.ys.len()
    }

    /// Value at node (i, j).
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.z[j * self.nx() + i]
    }

    /// Linear interpolation of the grid in index space along a grid edge (or at a node);
    /// used to check that contour points sit at the level.
    pub fn edge_value(&self, p: (f64, f64)) -> f64 {
        let (i0, j0) = (p.0.floor() as usize, p.1.floor() as usize);
        let (ti, tj) = (p.0 - i0 as f64, p.1 - j0 as f64);
        let i1 = (i0 + 1).min(self.nx() - 1);
        let j1 = (j0 + 1).min(self.ny() - 1);
        if ti > 1e-12 {
            self.at(i0, j0) + ti * (self.at(i1, j0) - self.at(i0, j0))
        } else {
            self.at(i0, j0) + tj * (self.at(i0, j1) - self.at(i0, j0))
        }
    }

    /// Maps index-space points to page coordinates of `panel`, interpolating linearly
    /// between the page positions of the neighbouring nodes.
    pub fn to_page(&self, panel: &Panel, pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
        let lerp = |coords: &[f64], f: f64, map: &dyn Fn(f64) -> f64| {
            let i0 = (f.floor().max(0.0) as usize).min(coords.len() - 1);
            let i1 = (i0 + 1).min(coords.len() - 1);
            let t = f - i0 as f64;
            map(coords[i0]) + t * (map(coords[i1]) - map(coords[i0]))
        };
        pts.iter()
            .map(|p| {
                (
                    lerp(&self.xs, p.0, &|v| panel.px(v)),
                    lerp(&self.ys, p.1, &|v| panel.py(v)),
                )
            })
            .collect()
    }

    /// Contour lines z = level as polylines in index space (open where they meet the grid
    /// border, closed loops repeat their first point at the end).
    pub fn contour_lines(&self, level: f64) -> Vec<Vec<(f64, f64)>> {
        let (nx, ny) = (self.nx(), self.ny());
        if nx < 2 || ny < 2 {
            return Vec::new();
        }
        let z = |i: usize, j: usize| self.at(i, j);
        let segs = march(nx, ny, &z, level);
        let point = |e: Edge| crossing(&z, e, level, None);
        chain(&segs, &point)
    }

    /// Closed loops bounding {z ≥ level} in index space, including the parts of the grid
    /// border inside the set; fill them with the even-odd rule. Drawing the loops of
    /// increasing levels on top of each other gives filled contours without seams.
    pub fn superlevel_loops(&self, level: f64) -> Vec<Vec<(f64, f64)>> {
        let (nx, ny) = (self.nx(), self.ny());
        if nx < 2 || ny < 2 {
            return Vec::new();
        }
        // Pad with a ring of nodes below every level; a crossing between a real node and a
        // pad node is put on the real node, so the loops run along the border.
        let (px, py) = (nx + 2, ny + 2);
        let inside = |i: usize, j: usize| i >= 1 && j >= 1 && i <= nx && j <= ny;
        let z = |i: usize, j: usize| {
            if inside(i, j) {
                self.at(i - 1, j - 1)
            } else {
                f64::NEG_INFINITY
            }
        };
        let segs = march(px, py, &z, level);
        let point = |e: Edge| {
            let p = crossing(&z, e, level, Some(&inside));
            (p.0 - 1.0, p.1 - 1.0)
        };
        chain(&segs, &point)
            .into_iter()
            .map(|mut l| {
                if l.len() > 1 && l.first() == l.last() {
                    l.pop();
                }
                simplify(std::mem::take(&mut l))
            })
            .filter(|l| l.len() >= 3)
            .collect()
    }
}

/// Crossing point on edge `e` (index space). With `inside`, a crossing between an inside
/// and an outside node is placed on the inside node.
fn crossing(
    z: &dyn Fn(usize, usize) -> f64,
    e: Edge,
    level: f64,
    inside: Option<&dyn Fn(usize, usize) -> bool>,
) -> (f64, f64) {
    let (i, j, horizontal) = e;
    let (i1, j1) = if horizontal { (i + 1, j) } else { (i, j + 1) };
    let t = match inside {
        Some(f) if !f(i, j) => 1.0,
        Some(f) if !f(i1, j1) => 0.0,
        _ => {
            let (a, b) = (z(i, j), z(i1, j1));
            ((level - a) / (b - a)).clamp(0.0, 1.0)
        }
    };
    if horizontal {
        (i as f64 + t, j as f64)
    } else {
        (i as f64, j as f64 + t)
    }
}

/// Segments (pairs of crossed edges) of every cell.
fn march(nx: usize, ny: usize, z: &dyn Fn(usize, usize) -> f64, level: f64) -> Vec<(Edge, Edge)> {
    let mut segs = Vec::new();
    for j in 0..ny - 1 {
        for i in 0..nx - 1 {
            let (bl, br, tr, tl) = (z(i, j), z(i + 1, j), z(i + 1, j + 1), z(i, j + 1));
            let above = |v: f64| v >= level;
            let case = usize::from(above(bl))
                | usize::from(above(br)) << 1
                | usize::from(above(tr)) << 2
                | usize::from(above(tl)) << 3;
            let b: Edge = (i, j, true);
            let t: Edge = (i, j + 1, true);
            let l: Edge = (i, j, false);
            let r: Edge = (i + 1, j, false);
            let centre_above = || {
                let finite: Vec<f64> = [bl, br, tr, tl]
                    .into_iter()
                    .filter(|v| v.is_finite())
                    .collect();
                !finite.is_empty() && finite.iter().sum::<f64>() / finite.len() as f64 >= level
            };
            match case {
                1 | 14 => segs.push((l, b)),
                2 | 13 => segs.push((b, r)),
                3 | 12 => segs.push((l, r)),
                4 | 11 => segs.push((r, t)),
                6 | 9 => segs.push((b, t)),
                7 | 8 => segs.push((l, t)),
                5 => {
                    if centre_above() {
                        segs.push((b, r));
                        segs.push((t, l));
                    } else {
                        segs.push((l, b));
                        segs.push((r, t));
                    }
                }
                10 => {
                    if centre_above() {
                        segs.push((l, b));
                        segs.push((r, t));
                    } else {
                        segs.push((b, r));
                        segs.push((t, l));
                    }
                }
                _ => {}
            }
        }
    }
    segs
}

/// Joins segments that share an edge into polylines (open chains first, then loops).
fn chain(segs: &[(Edge, Edge)], point: &dyn Fn(Edge) -> (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut at: HashMap<Edge, Vec<usize>> = HashMap::new();
    for (k, (a, b)) in segs.iter().enumerate() {
        at.entry(*a).or_default().push(k);
        at.entry(*b).or_default().push(k);
    }
    let mut used = vec![false; segs.len()];
    let mut out = Vec::new();
    let walk = |start_seg: usize, start_edge: Edge, used: &mut Vec<bool>| {
        let mut pts = vec![point(start_edge)];
        let mut seg = start_seg;
        let mut edge = start_edge;
        loop {
            used[seg] = true;
            let (a, b) = segs[seg];
            let next = if a == edge { b } else { a };
            pts.push(point(next));
            edge = next;
            match at[&edge].iter().find(|s| !used[**s]) {
                Some(s) => seg = *s,
                None => break,
            }
        }
        pts
    };
    // Deterministic order: segments in cell order.
    for k in 0..segs.len() {
        if used[k] {
            continue;
        }
        for e in [segs[k].0, segs[k].1] {
            if at[&e].len() == 1 {
                out.push(walk(k, e, &mut used));
                break;
            }
        }
    }
    for k in 0..segs.len() {
        if !used[k] {
            out.push(walk(k, segs[k].0, &mut used));
        }
    }
    out
}

/// Drops repeated points, then points that lie on the straight segment between their
/// neighbours (never the tip of a spike).
fn simplify(l: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let same =
        |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12;
    let mut l: Vec<(f64, f64)> = l;
    l.dedup_by(|b, a| same(*a, *b));
    while l.len() > 1 && same(l[0], l[l.len() - 1]) {
        l.pop();
    }
    let n = l.len();
    if n < 4 {
        return l;
    }
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let a = l[(k + n - 1) % n];
        let b = l[k];
        let c = l[(k + 1) % n];
        let cross = (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0);
        let forward = (b.0 - a.0) * (c.0 - b.0) + (b.1 - a.1) * (c.1 - b.1) > 0.0;
        if cross.abs() > 1e-12 || !forward {
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(l: &[(f64, f64)]) -> f64 {
        let n = l.len();
        (0..n)
            .map(|k| {
                let (a, b) = (l[k], l[(k + 1) % n]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f64>()
            / 2.0
    }

    #[test]
    fn ramp_superlevel_is_a_rectangle() {
        let (nx, ny) = (5, 4);
        let g = Grid {
            xs: (0..nx).map(|i| i as f64).collect(),
            ys: (0..ny).map(|j| j as f64).collect(),
            z: (0..ny).flat_map(|_| (0..nx).map(|i| i as f64)).collect(),
        };
        let loops = g.superlevel_loops(2.5);
        eprintln!("{loops:?}");
        assert_eq!(loops.len(), 1);
        assert!((area(&loops[0]).abs() - 4.5).abs() < 1e-12);
    }
}
