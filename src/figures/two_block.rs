//! \[S\] Fig. 5 (spec §2.3, §8, §11 S5): an efficient matrix made of two blocks, a 1×2
//! antipodal pair √γ₁[1/√2, −1/√2] (C = ½ each) and a 2×3 triangle √γ₂·√(2/3)·[cos θⱼ; sin θⱼ]
//! (C = ⅔ each), in D = 3. The blocks and capacities are FOUND by
//! `theory::geometry::decompose`, not typed: left the 3×5 matrix as a heat map with the blocks
//! outlined, centre the bipartite graph feature → neuron (an edge wherever |W_rj| > 1e-9,
//! width ∝ |W_rj|), right an oblique 3-D view of the five vectors (the antipodal line is
//! orthogonal to the plane of the three vectors).

use nalgebra::DMatrix;

use crate::base::{Error, Result};
use crate::theory::geometry::{BlockDecomposition, DEFAULT_TOLERANCE, decompose, tegum_product};

use super::canvas::{Anchor, Canvas, Marker, Stroke};
use super::capacity_examples::{arrow, capacity_label};
use super::cell;
use super::colour::CATEGORICAL;
use super::colour::Rgb;
use super::matrix_map::{abs_max, diverging, draw_matrix, index_labels, outline};
use super::panel::{fmt_value, subscript};
use super::parts::{Draw, area, canvas, page, row, table};
use super::style::Style;
use super::{Figure, Parameters};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Scale γ₁ of the antipodal block.
    pub gamma_pair: f64,
    /// Scale γ₂ of the triangle block.
    pub gamma_triangle: f64,
    /// Angles θⱼ (degrees) of the triangle's vectors in its plane.
    pub triangle_angles: [f64; 3],
    /// Azimuth of the 3-D view (degrees).
    pub azimuth: f64,
    /// Elevation of the 3-D view (degrees).
    pub elevation: f64,
}

impl Parameters for Params {
    /// Spec §11 S5: γ₁ = γ₂ = 1, θ = 90°, 210°, 330°; view from azimuth 20°, elevation 25°.
    fn paper() -> Self {
        Params {
            gamma_pair: 1.0,
            gamma_triangle: 1.0,
            triangle_angles: [90.0, 210.0, 330.0],
            azimuth: 20.0,
            elevation: 25.0,
        }
    }

    /// The same (nothing to compute).
    fn quick() -> Self {
        Params::paper()
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![
            row(
                "antipodal block",
                format!("√γ₁[1/√2, −1/√2], γ₁ = {}", fmt_value(self.gamma_pair)),
            ),
            row(
                "triangle block",
                format!(
                    "√γ₂·√(2/3)·[cos θ; sin θ], θ = {}°, {}°, {}°, γ₂ = {}",
                    fmt_value(self.triangle_angles[0]),
                    fmt_value(self.triangle_angles[1]),
                    fmt_value(self.triangle_angles[2]),
                    fmt_value(self.gamma_triangle)
                ),
            ),
            row(
                "3-D view",
                format!(
                    "azimuth {}°, elevation {}°",
                    fmt_value(self.azimuth),
                    fmt_value(self.elevation)
                ),
            ),
        ]
    }
}

impl Params {
    /// W = diag(√γ₁R₁, √γ₂R₂), 3×5.
    pub fn matrix(&self) -> Result<DMatrix<f64>> {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let r1 = DMatrix::from_row_slice(1, 2, &[s, -s]);
        let k = (2.0f64 / 3.0).sqrt();
        let r2 = DMatrix::from_fn(2, 3, |r, c| {
            let t = self.triangle_angles[c].to_radians();
            k * if r == 0 { t.cos() } else { t.sin() }
        });
        tegum_product(&[(self.gamma_pair, r1), (self.gamma_triangle, r2)])
    }
}

/// Computed data.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// W (3×5).
    pub w: DMatrix<f64>,
    /// Its block decomposition.
    pub decomposition: BlockDecomposition,
    /// Per block: the neurons (rows) its features use, ascending.
    pub block_rows: Vec<Vec<usize>>,
}

/// Colour of block `b`: orange-yellow, blue, then the rest of the palette.
pub fn block_colour(b: usize) -> Rgb {
    [
        CATEGORICAL[1],
        CATEGORICAL[4],
        CATEGORICAL[3],
        CATEGORICAL[6],
    ][b % 4]
}

fn feature_name(i: usize) -> String {
    format!("f{}", subscript(i + 1))
}

fn neuron_name(r: usize) -> String {
    format!("h{}", subscript(r + 1))
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "fig5-two-block-matrix";
    const SOURCE: &'static str = "[S] Fig. 5; spec §2.3, §8, §11 S5, (C6), (C7)";
    type Params = Params;
    type Item = ();
    type Data = Data;

    fn assemble(params: &Params, _: Vec<()>) -> Result<Data> {
        let w = params.matrix()?;
        let decomposition = decompose(&w, DEFAULT_TOLERANCE)?;
        let block_rows: Vec<Vec<usize>> = decomposition
            .blocks
            .iter()
            .map(|b| {
                (0..w.nrows())
                    .filter(|&r| b.features.iter().any(|&i| w[(r, i)].abs() > 1e-9))
                    .collect()
            })
            .collect();
        // The outlines are drawn as rectangles: each block's rows and columns must be contiguous
        // (true for a block-diagonal W; a rotated W would need permuting first).
        for (b, rows) in decomposition.blocks.iter().zip(&block_rows) {
            let contiguous = |v: &[usize]| v.windows(2).all(|p| p[1] == p[0] + 1);
            if !contiguous(rows) || !contiguous(&b.features) {
                return Err(Error::Matrix(format!(
                    "block {:?} is not contiguous in W (rows {rows:?})",
                    b.features
                )));
            }
        }
        Ok(Data {
            params: params.clone(),
            w,
            decomposition,
            block_rows,
        })
    }

    fn title(data: &Data) -> String {
        let d = &data.decomposition;
        let parts: Vec<String> = d
            .blocks
            .iter()
            .map(|b| format!("{}×{}", b.dims, b.len()))
            .collect();
        format!(
            "An efficient {}×{} matrix with {} blocks ({}), ΣC = {}",
            d.embedding_dims,
            d.feature_count,
            d.blocks.len(),
            parts.join(" ⊕ "),
            capacity_label(d.total_capacity)
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let w = &data.w;
        let dec = &data.decomposition;
        let (d, n) = w.shape();
        // Three panels in a row at two-column width, stacked at one-column width.
        let stacked = width < 400.0;
        let col_w = if stacked {
            width - 16.0
        } else {
            (width - 16.0) / 3.0
        };
        let panel_h = if stacked { col_w * 0.62 } else { col_w * 0.72 };
        let head = if stacked { ls * 3.0 } else { ls * 1.6 };
        let caption_h = ts * 1.3 * 2.0 * dec.blocks.len() as f64 + 4.0;
        let panels = if stacked { 3.0 } else { 1.0 };
        let height = title_h + panels * (head + panel_h) + caption_h + 8.0;
        let origin = |k: usize| -> (f64, f64) {
            if stacked {
                (8.0, title_h + head + k as f64 * (head + panel_h))
            } else {
                (8.0 + k as f64 * (col_w + 8.0), title_h + head)
            }
        };
        let mut svg = canvas(&heading, height, style);
        let (_, top) = origin(0);
        let block_of: Vec<Option<usize>> = (0..n).map(|i| dec.block_of(i)).collect();
        let heading = |svg: &mut Canvas, x: f64, top: f64, s: &str| {
            svg.say(x, top - ls * 0.6, s, ls, Anchor::Middle);
        };

        // Left: heat map of W with the blocks outlined.
        let range = abs_max(w, 1e-12);
        let cell = (col_w - ts * 3.0) / n as f64;
        let cell = cell.min(panel_h / d as f64);
        let frame = area(8.0 + ts * 2.0, top + ts, cell * n as f64, cell * d as f64);
        heading(
            &mut svg,
            frame.x + frame.w / 2.0,
            top,
            &format!("W ({d}×{n}) and its blocks"),
        );
        draw_matrix(&mut svg, frame, w, &|x| diverging(x, range));
        for (b, (blk, rows)) in dec.blocks.iter().zip(&data.block_rows).enumerate() {
            let (r0, r1) = (rows[0], rows[rows.len() - 1] + 1);
            let (c0, c1) = (blk.features[0], blk.features[blk.len() - 1] + 1);
            let colour = block_colour(b);
            outline(&mut svg, frame, d, n, (r0, r1), (c0, c1), colour, 2.0);
        }
        for r in 0..d {
            for i in 0..n {
                let v = w[(r, i)];
                if v.abs() > 1e-9 {
                    let x = frame.x + (i as f64 + 0.5) * cell;
                    let y = frame.y + (r as f64 + 0.5) * cell;
                    let c = if diverging(v, range).luminance() < 0.35 {
                        Rgb::WHITE
                    } else {
                        Rgb::BLACK
                    };
                    let label = format!("{v:.2}");
                    svg.text(x, y + ts * 0.3, &label, ts * 0.8, Anchor::Middle, 0.0, c);
                }
            }
        }
        let cols: Vec<String> = (0..n).map(feature_name).collect();
        let rows: Vec<String> = (0..d).map(neuron_name).collect();
        index_labels(&mut svg, style, frame, &cols, &rows, true);

        // Centre: bipartite graph feature → neuron.
        let (gx0, top) = origin(1);
        heading(
            &mut svg,
            gx0 + col_w / 2.0,
            top,
            "features → neurons (|W_{rj}| > 10⁻⁹)",
        );
        let fy = top + ts * 1.5;
        let ny = top + panel_h - ts * 1.0;
        let fx = |i: usize| gx0 + col_w * (i as f64 + 0.5) / n as f64;
        let nx = |r: usize| gx0 + col_w * (r as f64 + 1.0) / (d as f64 + 1.0);
        for i in 0..n {
            for r in 0..d {
                let v = w[(r, i)].abs();
                if v > 1e-9 {
                    let c = block_of[i].map_or(Rgb::BLACK, block_colour);
                    let edge = Stroke::solid(c, 0.4 + 2.6 * v / range);
                    svg.line((fx(i), fy), (nx(r), ny), &edge);
                }
            }
        }
        for (i, blk) in block_of.iter().enumerate() {
            let c = blk.map_or(Rgb::BLACK, block_colour);
            svg.dot(Marker::Circle, (fx(i), fy), ts * 0.9, c, None);
            svg.say(fx(i), fy - ts * 0.8, &feature_name(i), ts, Anchor::Middle);
        }
        let hub = Rgb::hex(0x555555);
        for r in 0..d {
            svg.dot(Marker::Square, (nx(r), ny), ts * 0.9, hub, None);
            svg.say(nx(r), ny + ts * 1.6, &neuron_name(r), ts, Anchor::Middle);
        }

        // Right: oblique 3-D view. Neuron 1 (the antipodal line) points up; neurons 2 and 3 span
        // the horizontal plane, seen from (azimuth, elevation).
        let (vx0, top) = origin(2);
        heading(
            &mut svg,
            vx0 + col_w / 2.0,
            top,
            "3-D view of the five vectors",
        );
        let (az, el) = (
            data.params.azimuth.to_radians(),
            data.params.elevation.to_radians(),
        );
        let longest = (0..n).map(|i| w.column(i).norm()).fold(0.0, f64::max);
        let sc = panel_h * 0.40 / longest.max(1e-12);
        let centre = (vx0 + col_w / 2.0, top + panel_h / 2.0 + ts * 0.5);
        let project = |v: [f64; 3]| -> (f64, f64) {
            // v = (h₁, h₂, h₃): up = h₁, plane = (h₂, h₃).
            let (x, y, z) = (v[1], v[2], v[0]);
            let xs = az.cos() * x - az.sin() * y;
            let ys = el.sin() * (az.sin() * x + az.cos() * y) + el.cos() * z;
            (centre.0 + sc * xs, centre.1 - sc * ys)
        };
        // The plane h₁ = 0 as a projected (dashed) circle, and the h₁ axis.
        let ring: Vec<(f64, f64)> = (0..=72)
            .map(|k| {
                let t = f64::from(k) * std::f64::consts::TAU / 72.0;
                let r = longest * 1.15;
                project([0.0, r * t.cos(), r * t.sin()])
            })
            .collect();
        let dashed = Stroke::dashed(Rgb::hex(0xaaaaaa), 0.5, 2.0, 1.5);
        svg.polyline(&ring, &dashed);
        let reach = longest * 1.25;
        svg.line(
            project([-reach, 0.0, 0.0]),
            project([reach, 0.0, 0.0]),
            &dashed,
        );
        let (x, y) = project([longest * 1.3, 0.0, 0.0]);
        svg.text_mid(x + 2.0, y, &neuron_name(0), ts * 0.85, Anchor::Start);
        for i in 0..n {
            let v = [w[(0, i)], w[(1, i)], w[(2, i)]];
            let tip = project(v);
            let c = block_of[i].map_or(Rgb::BLACK, block_colour);
            arrow(&mut svg, centre, tip, c, style.line_width() * 1.3);
            let (dx, dy) = (tip.0 - centre.0, tip.1 - centre.1);
            let len = (dx * dx + dy * dy).sqrt().max(1e-9);
            svg.text_halo(
                tip.0 + dx / len * ts * 1.1,
                tip.1 + dy / len * ts * 1.1 + ts * 0.35,
                &feature_name(i),
                ts,
                Anchor::Middle,
            );
        }

        // Caption: two lines per block, from the decomposition.
        for (b, blk) in dec.blocks.iter().enumerate() {
            let feats: Vec<String> = blk.features.iter().map(|&i| feature_name(i)).collect();
            let caps: Vec<String> = blk.capacities.iter().map(|&c| capacity_label(c)).collect();
            let y = top + panel_h + ts * 1.3 * (2.0 * b as f64 + 1.0) + 4.0;
            let x = 12.0;
            svg.fill_rect(x, y - ts * 0.75, ts * 0.9, ts * 0.9, block_colour(b));
            let lines = [
                format!(
                    "block {}: D_{{b}} = {}, N_{{b}} = {} ({}), γ = {}{}",
                    b + 1,
                    blk.dims,
                    blk.len(),
                    feats.join(", "),
                    fmt_value(blk.scale),
                    if blk.efficient { ", efficient" } else { "" }
                ),
                format!(
                    "C = {}, ΣC = {}",
                    caps.join(", "),
                    capacity_label(blk.capacity_sum)
                ),
            ];
            for (j, l) in lines.iter().enumerate() {
                svg.say(x + ts * 1.3, y + ts * 1.3 * j as f64, l, ts, Anchor::Start);
            }
        }
        svg.finish()
    }

    fn csv(data: &Data) -> String {
        let caps = data.decomposition.capacities();
        let mut rows = Vec::new();
        for (i, &ci) in caps.iter().enumerate() {
            for r in 0..data.w.nrows() {
                rows.push(vec![
                    r.to_string(),
                    i.to_string(),
                    cell(data.w[(r, i)]),
                    data.decomposition
                        .block_of(i)
                        .map_or_else(String::new, |b| b.to_string()),
                    cell(ci),
                ]);
            }
        }
        table("neuron,feature,w,block,capacity", &rows)
    }
}
