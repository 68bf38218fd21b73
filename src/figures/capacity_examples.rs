//! \[S\] Fig. 6 (spec §2.4, §11 S6): four embeddings in D = 2, each vector labelled by its
//! capacity Cᵢ COMPUTED from (C1) by `theory::capacity`, with ΣC and the efficiency verdict
//! of `theory::geometry::decompose`.
//!
//! The vectors are parameters (length ‖Wᵢ‖ and angle θᵢ to the first neuron axis); every
//! label comes from them or from the computation.

use nalgebra::DMatrix;

use crate::base::Result;
use crate::theory::capacity::capacities;
use crate::theory::geometry::{DEFAULT_TOLERANCE, decompose, nearest_fraction};

use super::canvas::{Anchor, Canvas, Stroke, text_width};
use super::cell;
use super::colour::CATEGORICAL;
use super::colour::Rgb;
use super::panel::fmt_value;
use super::parts::{Draw, canvas, page, table};
use super::style::Style;
use super::{Figure, Parameters};

/// One 2-D embedding: its vectors as (length ‖Wᵢ‖, angle θᵢ in degrees).
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Panel letter.
    pub letter: char,
    /// (‖Wᵢ‖, θᵢ in degrees) per feature.
    pub vectors: Vec<(f64, f64)>,
}

impl Case {
    /// W (2×N, columns = features).
    pub fn matrix(&self) -> DMatrix<f64> {
        DMatrix::from_fn(2, self.vectors.len(), |r, c| {
            let (len, deg) = self.vectors[c];
            let t = deg.to_radians();
            len * if r == 0 { t.cos() } else { t.sin() }
        })
    }

    /// "1∠90°, 1∠210°, 1∠330°".
    pub fn describe(&self) -> String {
        self.vectors
            .iter()
            .map(|(l, d)| format!("{}∠{}°", capacity_label(*l), fmt_value(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// The four cases (a)–(d).
    pub cases: Vec<Case>,
}

impl Parameters for Params {
    /// Spec §2.4: (a) three unit vectors 120° apart; (b) a unit vector orthogonal to an
    /// antipodal pair of unit vectors; (c) a unit vector orthogonal to two antiparallel
    /// vectors of lengths 1/3 and 1 (squared lengths 1 : 9); (d) two unit vectors 30° apart.
    fn paper() -> Self {
        let case = |letter, vectors: &[(f64, f64)]| Case {
            letter,
            vectors: vectors.to_vec(),
        };
        Params {
            cases: vec![
                case('a', &[(1.0, 90.0), (1.0, 210.0), (1.0, 330.0)]),
                case('b', &[(1.0, 0.0), (1.0, 90.0), (1.0, 270.0)]),
                case('c', &[(1.0, 0.0), (1.0 / 3.0, 90.0), (1.0, 270.0)]),
                case('d', &[(1.0, -15.0), (1.0, 15.0)]),
            ],
        }
    }

    /// The same (nothing to compute at lower resolution).
    fn quick() -> Self {
        Params::paper()
    }

    fn describe(&self) -> Vec<(String, String)> {
        self.cases
            .iter()
            .map(|c| (format!("({}) vectors ‖W_i‖∠θ_i", c.letter), c.describe()))
            .collect()
    }
}

/// One computed case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseData {
    /// The case.
    pub case: Case,
    /// W (2×N).
    pub w: DMatrix<f64>,
    /// Cᵢ (C1) per vector.
    pub capacities: Vec<f64>,
    /// Σ Cᵢ.
    pub total: f64,
    /// Efficient (ΣC = D, (C6)) by `decompose`.
    pub efficient: bool,
    /// Number of blocks found by `decompose`.
    pub blocks: usize,
}

/// Computed data.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// One entry per case.
    pub cases: Vec<CaseData>,
}

/// "2/3" when x is within 1e-9 of a fraction with denominator ≤ 12, else 3 decimals.
pub fn capacity_label(c: f64) -> String {
    let frac = if (0.0..=1.0).contains(&c) {
        nearest_fraction(c, 12, 1e-9)
    } else {
        // Above 1: the smallest denominator q ≤ 12 with c·q within 1e-9 of an integer.
        (1..=12u32).find_map(|q| {
            let p = (c * f64::from(q)).round();
            ((c - p / f64::from(q)).abs() <= 1e-9 && p >= 0.0).then_some((p as u32, q))
        })
    };
    match frac {
        Some((0, _)) => "0".into(),
        Some((p, 1)) => p.to_string(),
        Some((p, q)) => format!("{p}/{q}"),
        None => format!("{c:.3}"),
    }
}

/// Draws an arrow from `a` to `b` (page points) with a filled head.
pub(crate) fn arrow(svg: &mut Canvas, a: (f64, f64), b: (f64, f64), color: Rgb, width: f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1e-9 {
        return;
    }
    let (ux, uy) = (dx / len, dy / len);
    let head = (width * 5.0).min(len * 0.5);
    let base = (b.0 - ux * head, b.1 - uy * head);
    svg.line(a, base, &Stroke::solid(color, width));
    let half = head * 0.4;
    svg.loops(
        &[vec![
            b,
            (base.0 - uy * half, base.1 + ux * half),
            (base.0 + uy * half, base.1 - ux * half),
        ]],
        color,
    );
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "fig6-capacity-examples";
    const SOURCE: &'static str = "[S] Fig. 6; spec §2.4, §11 S6, (C1), (C9)";
    type Params = Params;
    type Item = ();
    type Data = Data;

    fn assemble(params: &Params, _: Vec<()>) -> Result<Data> {
        let cases = params
            .cases
            .iter()
            .map(|c| {
                let w = c.matrix();
                let caps = capacities(&w);
                let dec = decompose(&w, DEFAULT_TOLERANCE)?;
                Ok(CaseData {
                    case: c.clone(),
                    total: caps.iter().sum(),
                    capacities: caps,
                    efficient: dec.efficient,
                    blocks: dec.blocks.len(),
                    w,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Data {
            params: params.clone(),
            cases,
        })
    }

    fn title(data: &Data) -> String {
        format!(
            "Capacities of {} embeddings in D = 2, computed from (C1)",
            data.cases.len()
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, ls, title_h, heading) = page(style, Self::title(data));
        let n = data.cases.len().max(1);
        let cols = if width > 400.0 { n } else { 2 };
        let rows = n.div_ceil(cols);
        let gap = 8.0;
        let side = (width - 8.0 - gap * (cols as f64 - 1.0)) / cols as f64;
        let caption_h = ls * 1.2 * 2.0 + 2.0;
        let row_h = side + caption_h + 6.0;
        let height = title_h + rows as f64 * row_h + 4.0;
        let mut svg = canvas(&heading, height, style);
        let grey = Rgb::hex(0xbbbbbb);
        let border = Stroke::solid(Rgb::hex(0x999999), 0.4);
        for (k, c) in data.cases.iter().enumerate() {
            let (r, q) = (k / cols, k % cols);
            let x0 = 4.0 + q as f64 * (side + gap);
            let y0 = title_h + r as f64 * row_h;
            let centre = (x0 + side / 2.0, y0 + side / 2.0);
            let longest = c.case.vectors.iter().map(|v| v.0).fold(0.0, f64::max);
            let scale = side * 0.26 / longest.max(1e-12);
            // Neuron axes.
            let axis = Stroke::dashed(grey, 0.5, 2.0, 1.5);
            svg.line((x0 + 4.0, centre.1), (x0 + side - 4.0, centre.1), &axis);
            svg.line((centre.0, y0 + 4.0), (centre.0, y0 + side - 4.0), &axis);
            svg.rect(x0, y0, side, side, None, Some(&border));
            let letter = format!("({})", c.case.letter);
            svg.say(x0 + 3.0, y0 + ls, &letter, ls, Anchor::Start);
            for (i, (&(_, deg), &cap)) in c.case.vectors.iter().zip(&c.capacities).enumerate() {
                let color = CATEGORICAL[(i % 7) + 1].mix(Rgb::BLACK, 0.15);
                let tip = (
                    centre.0 + scale * c.w[(0, i)],
                    centre.1 - scale * c.w[(1, i)],
                );
                arrow(&mut svg, centre, tip, color, style.line_width() * 1.2);
                // Label beyond the tip, along the vector's direction (at least 14 pt out).
                let t = deg.to_radians();
                let out = scale * c.case.vectors[i].0 + ts * 1.6;
                let out = out.max(ts * 3.5);
                let (lx, ly) = (centre.0 + out * t.cos(), centre.1 - out * t.sin());
                let anchor = if t.cos() > 0.35 {
                    Anchor::Start
                } else if t.cos() < -0.35 {
                    Anchor::End
                } else {
                    Anchor::Middle
                };
                let label = format!("C = {}", capacity_label(cap));
                let tw = text_width(&label, ts);
                let (lo, hi) = match anchor {
                    Anchor::Start => (x0 + 2.0, x0 + side - 2.0 - tw),
                    Anchor::End => (x0 + 2.0 + tw, x0 + side - 2.0),
                    Anchor::Middle => (x0 + 2.0 + tw / 2.0, x0 + side - 2.0 - tw / 2.0),
                };
                let lx = lx.clamp(lo, hi.max(lo));
                let ly = ly.clamp(y0 + ts * 2.2, y0 + side - ts * 0.6);
                svg.text_halo(lx, ly + ts * 0.35, &label, ts, anchor);
            }
            let verdict = if c.efficient {
                "efficient"
            } else {
                "not efficient"
            };
            let lines = [
                c.case.describe(),
                format!(
                    "ΣC = {}, {verdict}, {} block{}",
                    capacity_label(c.total),
                    c.blocks,
                    if c.blocks == 1 { "" } else { "s" }
                ),
            ];
            for (j, l) in lines.iter().enumerate() {
                let y = y0 + side + ls * 1.2 * (j as f64 + 1.0);
                svg.say(x0 + side / 2.0, y, l, ts, Anchor::Middle);
            }
        }
        svg.finish()
    }

    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for c in &data.cases {
            for (i, &(len, deg)) in c.case.vectors.iter().enumerate() {
                rows.push(vec![
                    c.case.letter.to_string(),
                    i.to_string(),
                    cell(len),
                    cell(deg),
                    cell(c.w[(0, i)]),
                    cell(c.w[(1, i)]),
                    cell(c.capacities[i]),
                    capacity_label(c.capacities[i]),
                    cell(c.total),
                    c.efficient.to_string(),
                ]);
            }
        }
        table(
            "case,feature,length,angle_deg,w1,w2,capacity,capacity_fraction,total_capacity,efficient",
            &rows,
        )
    }
}
