//! Isolines and filled super-level regions of a grid of node values, from the `contour`
//! crate (marching squares with linear interpolation).
//!
//! The crate places sample i at grid coordinate i + ½ and pads the grid with a ring below
//! every level, so its rings are closed and run along the border. This adapter moves them
//! to *index space* (node (i, j) at (i, j)): a contour line is a ring with its border points
//! removed (split there), a super-level region is the ring clamped onto the border.
//! [`Grid::to_page`] maps index space to a panel, linearly between the page positions of
//! neighbouring nodes, so log axes need no special case.

use ::contour::ContourBuilder;

use super::panel::Panel;

/// Node values `z[j * nx + i]` at `x = xs[i]`, `y = ys[j]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Node x coordinates (increasing), length nx.
    pub xs: Vec<f64>,
    /// Node y coordinates (increasing), length ny.
    pub ys: Vec<f64>,
    /// Values, row-major by y: `z[j * nx + i]`.
    pub z: Vec<f64>,
}

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

    /// The crate's rings around {z ≥ level} in its own coordinates (empty for a grid
    /// smaller than 2 × 2 or values that do not fit it).
    fn rings(&self, level: f64) -> Vec<Vec<(f64, f64)>> {
        let (nx, ny) = (self.nx(), self.ny());
        if nx < 2 || ny < 2 || self.z.len() != nx * ny {
            return Vec::new();
        }
        // NaN is below every level.
        let z: Vec<f64> = self
            .z
            .iter()
            .map(|v| if v.is_nan() { f64::NEG_INFINITY } else { *v })
            .collect();
        ContourBuilder::new(nx, ny, true)
            .lines(&z, &[level])
            .map(|lines| {
                lines
                    .into_iter()
                    .flat_map(|l| l.into_inner().0.0)
                    .map(|ring| ring.0.into_iter().map(|c| (c.x, c.y)).collect())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a point of a ring lies on the crate's padding border.
    fn on_border(&self, p: (f64, f64)) -> bool {
        let (nx, ny) = (self.nx() as f64, self.ny() as f64);
        p.0 < 0.25 || p.1 < 0.25 || p.0 > nx - 0.25 || p.1 > ny - 0.25
    }

    /// Contour lines z = level as polylines in index space (open where they meet the grid
    /// border, closed loops repeat their first point at the end).
    pub fn contour_lines(&self, level: f64) -> Vec<Vec<(f64, f64)>> {
        let mut out = Vec::new();
        for ring in self.rings(level) {
            let to_index = |p: (f64, f64)| (p.0 - 0.5, p.1 - 0.5);
            let Some(start) = ring.iter().position(|p| self.on_border(*p)) else {
                // A closed loop inside the grid.
                let mut l: Vec<(f64, f64)> = ring.into_iter().map(to_index).collect();
                if l.first() != l.last()
                    && let Some(first) = l.first().copied()
                {
                    l.push(first);
                }
                out.push(l);
                continue;
            };
            // Walk the ring once from a border point; interior runs are the lines.
            let n = ring.len();
            let mut cur: Vec<(f64, f64)> = Vec::new();
            for k in 1..=n {
                let p = ring[(start + k) % n];
                if self.on_border(p) {
                    if cur.len() >= 2 {
                        out.push(std::mem::take(&mut cur));
                    }
                    cur.clear();
                } else if cur.last() != Some(&to_index(p)) {
                    cur.push(to_index(p));
                }
            }
            if cur.len() >= 2 {
                out.push(cur);
            }
        }
        out
    }

    /// Closed loops bounding {z ≥ level} in index space, including the parts of the grid
    /// border inside the set; fill them with the even-odd rule. Drawing the loops of
    /// increasing levels on top of each other gives filled contours without seams.
    pub fn superlevel_loops(&self, level: f64) -> Vec<Vec<(f64, f64)>> {
        // rings() is empty unless nx, ny ≥ 2.
        let (mx, my) = (
            self.nx().saturating_sub(1) as f64,
            self.ny().saturating_sub(1) as f64,
        );
        self.rings(level)
            .into_iter()
            .map(|ring| {
                let mut l: Vec<(f64, f64)> = Vec::with_capacity(ring.len());
                for p in ring {
                    let q = ((p.0 - 0.5).clamp(0.0, mx), (p.1 - 0.5).clamp(0.0, my));
                    if l.last() != Some(&q) {
                        l.push(q);
                    }
                }
                if l.len() > 1 && l.first() == l.last() {
                    l.pop();
                }
                l
            })
            .filter(|l| l.len() >= 3)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(l: &[(f64, f64)]) -> f64 {
        crate::figures::canvas::twice_area(l) / 2.0
    }

    #[test]
    fn ramp_superlevel_is_a_rectangle_and_its_line_straight() {
        let (nx, ny) = (5, 4);
        let g = Grid {
            xs: (0..nx).map(|i| i as f64).collect(),
            ys: (0..ny).map(|j| j as f64).collect(),
            z: (0..ny).flat_map(|_| (0..nx).map(|i| i as f64)).collect(),
        };
        let loops = g.superlevel_loops(2.5);
        assert_eq!(loops.len(), 1);
        // {x ≥ 2.5} over [0, 4] × [0, 3]: 1.5 × 3.
        assert!((area(&loops[0]).abs() - 4.5).abs() < 1e-12, "{loops:?}");
        let lines = g.contour_lines(2.5);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].iter().all(|p| (p.0 - 2.5).abs() < 1e-12));
        let ys: Vec<f64> = lines[0].iter().map(|p| p.1).collect();
        assert!(ys.contains(&0.0) && ys.contains(&3.0), "{ys:?}");
    }
}
