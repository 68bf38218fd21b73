//! \[H\], \[A\] §4: finite training sets, memorisation and data double descent (spec §14.5,
//! (Z14)–(Z19)). The ReLU-output model (E1) in D = 2 is trained full-batch on T fixed points
//! for T from a few to thousands, 4 data seeds × best-of-K inits per T (ZB11). Drawn: (a) the
//! columns of W and the hidden vectors hₜ = WXₜ for a few T (small T: the hₜ form a T-gon;
//! large T: 5 features form a pentagon), (b) the feature and data-point dimensionalities D_f,
//! D_X (Z18) against T with the guide D/T, (c) the mean test loss with standard errors over
//! data seeds (the bump), (d) ‖W‖_F and ‖b‖₂. The (Z19) checks are in the title and the CSV.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::base::{Error, FeatureSet, Result};
use crate::theory::capacity::capacities;
use crate::training::finite::{FiniteConfig, FiniteModel};
use crate::training::{Activation, Schedule};
use crate::verify::zoo::angle_gaps;

use super::canvas::{Anchor, Canvas, Marker, Stroke, text_width, wrap};
use super::colour::{CATEGORICAL, Rgb};
use super::panel::{Axis, Frame, Panel, fmt_value, margins};
use super::parts::Draw;
use super::parts::{area, page, table, uniform_features};
use super::style::Style;
use super::{Figure, Invocation, Parameters, cell, joined};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Features N.
    pub n: usize,
    /// Density p = 1 − S of every feature.
    pub density: f64,
    /// Training set sizes T, increasing.
    pub points: Vec<usize>,
    /// Data seeds per T (0, 1, …).
    pub data_seeds: usize,
    /// Inits per data seed; the lowest training loss is kept (Z19).
    pub inits: usize,
    /// Full-batch AdamW updates.
    pub steps: usize,
    /// Linear warm-up steps before the cosine (Z17).
    pub warmup: usize,
    /// Fresh points of the test loss (Z16).
    pub test_points: usize,
    /// T ≤ this must give T-gons (Z19: 10).
    pub small_max: usize,
    /// T ≥ this must give the pentagon and D_X < 0.1 (Z19: 2000 at N = 1000, p = 0.01).
    pub large_min: usize,
    /// T values drawn in panel (a).
    pub shown: Vec<usize>,
}

impl Parameters for Params {
    /// The default resolution: N = 200 features at p = 0.05, so that a point
    /// has N·p = 10 active features as in \[A\] and the onset of generalisation, at
    /// T·p ≈ 10, moves from T ≈ 1000 to T ≈ 200; the large-T check starts at 400 (\[A\]'s 2000
    /// scaled by the same factor 5); 5000 steps with a 1250-step warm-up; 4 data seeds × 1 init.
    /// T-gons need a feature to be shared by few points, T·p ≲ 0.1 (\[A\]: T ≤ 10 at
    /// p = 0.01); at p = 0.05, T = 8 and 10 are not memorised even in 15 000 steps, so the
    /// small-T check stops at T = 5 (ZB11).
    fn paper() -> Self {
        Params {
            n: 200,
            density: 0.05,
            points: vec![3, 4, 5, 8, 10, 20, 50, 100, 200, 400, 800],
            data_seeds: 4,
            inits: 1,
            steps: 5000,
            warmup: 1250,
            test_points: 2000,
            small_max: 5,
            large_min: 400,
            shown: vec![3, 5, 10, 50, 200, 800],
        }
    }

    /// \[A\]'s configuration (Z19): N = 1000, p = 0.01, D = 2, AdamW wd 10⁻², η = 10⁻³ with
    /// 2500 warm-up steps and the cosine, \[A\]'s solution-cell T grid and 15 000 steps,
    /// 4 data seeds × best-of-5 inits, 10 000 test points.
    fn paper_resolution() -> Self {
        Params {
            n: 1000,
            density: 0.01,
            points: vec![
                3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000,
            ],
            data_seeds: 4,
            inits: 5,
            steps: 15_000,
            warmup: 2500,
            test_points: 10_000,
            small_max: 10,
            large_min: 2000,
            shown: vec![3, 5, 10, 100, 500, 3000],
        }
    }

    /// A second or two: N = 50 at p = 0.2, T ∈ {3, 5, 30}, 2 data seeds, 400 steps.
    fn quick() -> Self {
        Params {
            n: 50,
            density: 0.2,
            points: vec![3, 5, 30],
            data_seeds: 2,
            inits: 1,
            steps: 400,
            warmup: 100,
            test_points: 200,
            small_max: 10,
            large_min: 30,
            shown: vec![3, 5, 30],
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![
            (
                "model".into(),
                format!(
                    "tms-relu (E1), N = {}, D = 2, density p = {} (N·p = {} active features per point), points normalised (Z14)",
                    self.n,
                    self.density,
                    fmt_value(self.n as f64 * self.density)
                ),
            ),
            (
                "T".into(),
                self.points
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "training".into(),
                format!(
                    "full-batch AdamW wd 1e-2, lr 1e-3, {} warm-up steps then cosine, {} steps (Z17); {} data seeds × best-of-{} inits by training loss; {} test points (Z16)",
                    self.warmup, self.steps, self.data_seeds, self.inits, self.test_points
                ),
            ),
        ]
    }
}

impl Params {
    /// The training configuration of one T (Z17).
    pub fn config(&self, t: usize) -> FiniteConfig {
        let mut cfg = FiniteConfig::defaults(t);
        cfg.steps = self.steps;
        cfg.schedule = Schedule::WarmupCosine(self.warmup);
        cfg.test_points = self.test_points;
        cfg
    }

    /// The features of (Z14): N features of density p, importance 1.
    fn features(&self) -> Result<FeatureSet> {
        uniform_features(vec![1.0; self.n], self.density)
    }
}

/// The best of the inits on one (T, data seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Training set size T.
    pub points: usize,
    /// Data seed.
    pub data_seed: u64,
    /// Init seed of the best init.
    pub seed: u64,
    /// L_train (Z16).
    pub train_loss: f64,
    /// L_test (Z16).
    pub test_loss: f64,
    /// W, column-major 2×N.
    pub w: Vec<f64>,
    /// b ∈ ℝᴺ.
    pub bias: Vec<f64>,
    /// H = WX, column-major 2×T.
    pub hidden: Vec<f64>,
}

impl Fit {
    /// W (2×N).
    pub fn w(&self) -> DMatrix<f64> {
        DMatrix::from_column_slice(2, self.w.len() / 2, &self.w)
    }

    /// H = WX (2×T).
    pub fn hidden(&self) -> DMatrix<f64> {
        DMatrix::from_column_slice(2, self.hidden.len() / 2, &self.hidden)
    }

    /// ‖b‖₂.
    pub fn bias_norm(&self) -> f64 {
        self.bias.iter().map(|b| b * b).sum::<f64>().sqrt()
    }
}

/// One T: its fits (one per data seed) and their read-outs.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// T.
    pub points: usize,
    /// One fit per data seed.
    pub fits: Vec<Fit>,
    /// D_f of every feature per fit (Z18).
    pub d_feature: Vec<Vec<f64>>,
    /// D_X of every point per fit (Z18).
    pub d_point: Vec<Vec<f64>>,
    /// Per fit: the hₜ form a regular T-gon (checked for 4 ≤ T ≤ `small_max`).
    pub t_gon: Vec<bool>,
    /// Per fit: 5 ± 1 strong features (‖Wᵢ‖ ≥ 0.5) with the largest D_f forming a pentagon,
    /// and every D_X < 0.1 (checked for T ≥ `large_min`).
    pub pentagon: Vec<bool>,
    /// Strong features per fit.
    pub strong: Vec<usize>,
    /// Whether this T is checked for T-gons (4 ≤ T ≤ `small_max`; T = 3 is degenerate (ZB11)).
    pub t_gon_checked: bool,
    /// Whether this T is checked for the pentagon (T ≥ `large_min`).
    pub pentagon_checked: bool,
}

impl Row {
    /// Mean and standard error over data seeds of `f`.
    pub fn mean_se(&self, f: impl Fn(&Fit) -> f64) -> (f64, f64) {
        let v: Vec<f64> = self.fits.iter().map(f).collect();
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        if v.len() < 2 {
            return (m, 0.0);
        }
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        (m, (var / n).sqrt())
    }
}

/// The regular-T-gon check of (Z19) on H (2×T): every D_X within 15 % of 2/T and every
/// sorted angle gap within 360°/T ± 10°.
pub fn is_t_gon(hidden: &DMatrix<f64>, d_point: &[f64]) -> bool {
    let t = hidden.ncols();
    let target = 2.0 / t as f64;
    t >= 3
        && d_point.iter().all(|&c| (c - target).abs() <= 0.15 * target)
        && angle_gaps(hidden)
            .1
            .iter()
            .all(|g| (g - 360.0 / t as f64).abs() <= 10.0)
}

/// The large-T check of (Z19): the features with ‖Wᵢ‖ ≥ 0.5 number 5 ± 1 and have the
/// largest D_f; the 5 of them with the largest D_f have angle gaps 72° ± 10° (a pentagon; a
/// sixth strong feature is allowed, 4 cannot form one) (ZB11); every D_X < 0.1. Returns the
/// check and the number of strong features.
pub fn is_pentagon(w: &DMatrix<f64>, d_feature: &[f64], d_point: &[f64]) -> (bool, usize) {
    let mut strong: Vec<usize> = (0..w.ncols())
        .filter(|&i| w.column(i).norm() >= 0.5)
        .collect();
    let count = strong.len();
    let weakest_strong = strong
        .iter()
        .map(|&i| d_feature[i])
        .fold(f64::INFINITY, f64::min);
    let largest = (0..w.ncols())
        .filter(|i| !strong.contains(i))
        .all(|i| d_feature[i] <= weakest_strong);
    strong.sort_by(|&a, &b| d_feature[b].total_cmp(&d_feature[a]));
    strong.truncate(5);
    let sub = DMatrix::from_fn(2, strong.len(), |r, k| w[(r, strong[k])]);
    let gaps_ok =
        (5..=6).contains(&count) && angle_gaps(&sub).1.iter().all(|g| (g - 72.0).abs() <= 10.0);
    let dx_ok = d_point.iter().all(|&c| c < 0.1);
    (largest && gaps_ok && dx_ok, count)
}

/// The bump of (Z19) on the mean test loss: the interior T_p with the largest
/// min over sides of max over T_a (T_b) of L(T_p) − L(T_a) − 2·√(SE_p² + SE_a²); the bump
/// passes when that margin is > 0. Returns (index of T_p, margin), `None` for < 3 T values.
pub fn bump(mean: &[f64], se: &[f64]) -> Option<(usize, f64)> {
    let margin =
        |p: usize, a: usize| mean[p] - mean[a] - 2.0 * (se[p].powi(2) + se[a].powi(2)).sqrt();
    (1..mean.len().saturating_sub(1))
        .map(|p| {
            let left = (0..p)
                .map(|a| margin(p, a))
                .fold(f64::NEG_INFINITY, f64::max);
            let right = (p + 1..mean.len())
                .map(|b| margin(p, b))
                .fold(f64::NEG_INFINITY, f64::max);
            (p, left.min(right))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The figure's data and its (Z19) checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The parameters.
    pub params: Params,
    /// One row per T.
    pub rows: Vec<Row>,
    /// Every fit with 4 ≤ T ≤ `small_max` is a T-gon (T = 3 is degenerate (ZB11)).
    pub small_pass: bool,
    /// Every fit with T ≥ `large_min` is a pentagon with all D_X < 0.1.
    pub large_pass: bool,
    /// The bump: (index of T_p, margin in loss units; > 0 passes).
    pub bump: Option<(usize, f64)>,
    /// Index of the largest mean test loss.
    pub peak: usize,
}

impl Data {
    /// Whether the bump passes.
    pub fn bump_pass(&self) -> bool {
        self.bump.is_some_and(|(_, m)| m > 0.0)
    }
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

const BLUE: Rgb = CATEGORICAL[4];
const RED: Rgb = CATEGORICAL[5];

/// Panel (a) for one fit: the W columns (blue segments; those shorter than 5 % of the longest
/// are left out) and the hₜ (red dots; the first 400), on the fit's own scale.
fn draw_geometry(svg: &mut Canvas, fit: &Fit, frame: Frame) {
    let (w, h) = (fit.w(), fit.hidden());
    let wmax = w.column_iter().map(|c| c.norm()).fold(0.0, f64::max);
    let hmax = h.column_iter().map(|c| c.norm()).fold(0.0, f64::max);
    let scale = 0.45 * frame.w / wmax.max(hmax).max(1e-12);
    let c = (frame.x + frame.w / 2.0, frame.y + frame.h / 2.0);
    let at = |x: f64, y: f64| (c.0 + scale * x, c.1 - scale * y);
    svg.border(frame, Rgb::hex(0x999999), 0.5);
    for col in w.column_iter().filter(|col| col.norm() >= 0.05 * wmax) {
        svg.line(c, at(col[0], col[1]), &Stroke::solid(BLUE, 0.7));
    }
    for col in h.column_iter().take(400) {
        svg.marker(Marker::Circle, at(col[0], col[1]), 2.2, RED, None);
    }
}

/// One of the panels (b)–(d) against log T.
fn t_panel(data: &Data, frame: Frame, lo: f64, hi: f64, label: &str) -> Panel {
    let first = data.rows[0].points as f64;
    let last = data.rows[data.rows.len() - 1].points as f64;
    Panel {
        frame,
        x: Axis::log(first / 1.4, last * 1.4, "T (log)"),
        y: Axis::linear(lo, hi, label),
    }
}

/// The setting in words for the caption.
fn describe_setting(p: &Params) -> String {
    format!(
        "Setting: N = {}, p = {}, {} steps ({} warm-up), {} data seeds × best-of-{} inits, {} test points.",
        p.n, p.density, p.steps, p.warmup, p.data_seeds, p.inits, p.test_points
    )
}

/// The `k` largest values of `v`, largest first.
fn top(v: &[f64], k: usize) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    s.truncate(k);
    s
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "z19-double-descent";
    const SOURCE: &'static str = "[H], [A] §4 memorisation and double descent; spec §14.5 (Z14)–(Z19); polycap train --dataset T";
    type Params = Params;
    type Item = Fit;
    type Data = Data;

    // Jobs: one per (T, data seed).
    fn jobs(params: &Params) -> usize {
        params.points.len() * params.data_seeds
    }

    // Trains the inits of job `j` = (T index, data seed) and keeps the lowest training loss.
    fn job(params: &Params, j: usize) -> Result<Fit> {
        let (k, ds) = (j / params.data_seeds, j % params.data_seeds);
        let t = params.points[k];
        let f = params.features()?;
        let cfg = params.config(t);
        let model = FiniteModel::new(Activation::Relu, &f, 2)?;
        let runs = (0..params.inits as u64)
            .map(|s| model.train(&f, &cfg, s, ds as u64, 0))
            .collect::<Result<Vec<_>>>()?;
        let run = crate::training::best_by(&runs, |r| r.train_loss)
            .ok_or_else(|| Error::Parameter("need at least 1 init".into()))?;
        Ok(Fit {
            points: t,
            data_seed: ds as u64,
            seed: run.seed,
            train_loss: run.train_loss,
            test_loss: run.test_loss,
            w: run.w.as_slice().to_vec(),
            bias: run.bias.clone(),
            hidden: run.hidden.as_slice().to_vec(),
        })
    }

    // The rows and the (Z19) checks.
    fn assemble(params: &Params, items: Vec<Fit>) -> Result<Data> {
        if items.len() != Self::jobs(params) || items.is_empty() {
            return Err(Error::Parameter(format!(
                "{} fits for {} jobs",
                items.len(),
                Self::jobs(params)
            )));
        }
        let mut it = items.into_iter();
        let rows: Vec<Row> = params
            .points
            .iter()
            .map(|&t| {
                let fits: Vec<Fit> = it.by_ref().take(params.data_seeds).collect();
                let d_feature: Vec<Vec<f64>> = fits.iter().map(|f| capacities(&f.w())).collect();
                let d_point: Vec<Vec<f64>> = fits.iter().map(|f| capacities(&f.hidden())).collect();
                let t_gon = fits
                    .iter()
                    .zip(&d_point)
                    .map(|(f, dx)| is_t_gon(&f.hidden(), dx))
                    .collect();
                let (pentagon, strong) = fits
                    .iter()
                    .zip(&d_feature)
                    .zip(&d_point)
                    .map(|((f, df), dx)| is_pentagon(&f.w(), df, dx))
                    .unzip();
                Row {
                    points: t,
                    fits,
                    d_feature,
                    d_point,
                    t_gon,
                    pentagon,
                    strong,
                    t_gon_checked: (4..=params.small_max).contains(&t),
                    pentagon_checked: t >= params.large_min,
                }
            })
            .collect();
        let small: Vec<&Row> = rows.iter().filter(|r| r.t_gon_checked).collect();
        let large: Vec<&Row> = rows.iter().filter(|r| r.pentagon_checked).collect();
        let (mean, se): (Vec<f64>, Vec<f64>) =
            rows.iter().map(|r| r.mean_se(|f| f.test_loss)).unzip();
        let peak = (0..mean.len())
            .max_by(|&a, &b| mean[a].total_cmp(&mean[b]))
            .unwrap_or(0);
        Ok(Data {
            small_pass: !small.is_empty() && small.iter().all(|r| r.t_gon.iter().all(|&x| x)),
            large_pass: !large.is_empty() && large.iter().all(|r| r.pentagon.iter().all(|&x| x)),
            bump: bump(&mean, &se),
            peak,
            params: params.clone(),
            rows,
        })
    }

    fn title(data: &Data) -> String {
        let p = &data.params;
        let bump = match data.bump {
            Some((k, m)) => format!(
                "bump {} (interior peak T = {}, margin over 2 SE {:+.3})",
                verdict(m > 0.0),
                data.rows[k].points,
                m
            ),
            None => "bump FAIL (fewer than 3 T)".into(),
        };
        let failing = |check: fn(&Row) -> bool| {
            let t: Vec<String> = data
                .rows
                .iter()
                .filter(|r| check(r))
                .map(|r| r.points.to_string())
                .collect();
            if t.is_empty() {
                String::new()
            } else {
                format!(" (not at T = {})", t.join(", "))
            }
        };
        let small_fail = failing(|r| r.t_gon_checked && !r.t_gon.iter().all(|&x| x));
        let large_fail = failing(|r| r.pentagon_checked && !r.pentagon.iter().all(|&x| x));
        format!(
            "Finite data, N = {}, p = {}, D = 2 (Z19): 4 ≤ T ≤ {} T-gons {}{small_fail}; T ≥ {} pentagon, D_X < 0.1 {}{large_fail}; {}; highest mean test loss at T = {}",
            p.n,
            p.density,
            p.small_max,
            verdict(data.small_pass),
            p.large_min,
            verdict(data.large_pass),
            bump,
            data.rows[data.peak].points
        )
    }

    // The SVG: (a) geometry for the shown T, then (b) D_f and D_X, (c) test loss, (d) norms.
    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, _, title_h, heading) = page(style, Self::title(data));
        let shown: Vec<&Row> = data
            .rows
            .iter()
            .filter(|r| data.params.shown.contains(&r.points))
            .collect();
        let cols = shown.len().max(1);
        let gap = 5.0;
        let side = ((width - 8.0 - gap * (cols as f64 - 1.0)) / cols as f64).min(95.0);
        let y_a = title_h + 4.0;
        // Panels (b)–(d) side by side (stacked at one-column width).
        let (left, bottom) = margins(style, text_width("0.00", ts));
        let stacked = width < 300.0;
        let pw = if stacked {
            width - left - 8.0
        } else {
            (width - 3.0 * left - 12.0) / 3.0
        };
        let ph = 120.0;
        let y_b = y_a + side + ts * 3.5 + 6.0;
        let frame = |k: usize| {
            let k = k as f64;
            let (x, y) = if stacked {
                (left, y_b + k * (ph + bottom + 6.0))
            } else {
                (left + k * (pw + left + 2.0), y_b)
            };
            Frame { x, y, w: pw, h: ph }
        };
        let last = frame(2);
        let caption = format!(
            "(a) data seed 0 per T, own scale: W columns (blue; ≥ 5 % of the longest), hₜ = WXₜ (red dots; first 400). (b) D_{{f}} (blue, top 8 per fit) and D_{{X}} (red, top 50 per fit) (Z18) against T, dashed D/T. (c) mean test loss ± 1 SE over {} data seeds (solid; red dot: highest), mean train loss (dashed). (d) mean ‖W‖_{{F}} (blue) and ‖b‖₂ (red), dashed √5 (the simplified pentagon). {}",
            data.params.data_seeds,
            describe_setting(&data.params)
        ) + " T = 3 is not checked: any triangle with all gaps over 90° memorises with zero loss (ZB11)."
            + if data.params.density > 0.02 {
                " T-gons need T·p ≲ 0.1 (few points share a feature): checked for T ≤ 5 here, T ≤ 10 at [A]'s p = 0.01."
            } else {
                ""
            };
        let lines = wrap(&caption, ts, width - 8.0);
        let y_cap = last.y + last.h + bottom + ts;
        let mut svg = Canvas::new(width, y_cap + ts * 1.2 * lines.len() as f64 + 4.0, style);
        for (k, row) in shown.iter().enumerate() {
            let frame = area(4.0 + k as f64 * (side + gap), y_a, side, side);
            draw_geometry(&mut svg, &row.fits[0], frame);
            let dx = row.d_point[0].iter().sum::<f64>() / row.d_point[0].len().max(1) as f64;
            let below = [
                (format!("T = {}", row.points), Rgb::BLACK),
                (format!("mean D_{{X}} {dx:.3}"), Rgb::BLACK),
            ];
            svg.lines_below(frame.x + side / 2.0, y_a + side + ts * 1.2, &below, ts);
        }
        // (b) dimensionalities.
        let b = t_panel(data, frame(0), 0.0, 1.0, "dimensionality");
        b.clip(&mut svg);
        let guide: Vec<(f64, f64)> = (0..=60)
            .map(|k| {
                let t = b.x.lo * (b.x.hi / b.x.lo).powf(k as f64 / 60.0);
                b.at(t, (2.0 / t).min(1.05))
            })
            .collect();
        svg.polyline(&guide, &Stroke::dashed(Rgb::BLACK, 0.7, 3.0, 2.0));
        for row in &data.rows {
            let t = row.points as f64;
            for (df, dx) in row.d_feature.iter().zip(&row.d_point) {
                for v in top(dx, 50) {
                    svg.marker(Marker::Circle, b.at(t * 1.04, v), 1.8, RED, None);
                }
                for v in top(df, 8) {
                    svg.marker(Marker::Circle, b.at(t / 1.04, v), 1.8, BLUE, None);
                }
            }
        }
        svg.unclip();
        b.draw_axes(&mut svg, style);
        // (c) test loss.
        let stats: Vec<((f64, f64), (f64, f64))> = data
            .rows
            .iter()
            .map(|r| (r.mean_se(|f| f.test_loss), r.mean_se(|f| f.train_loss)))
            .collect();
        let top_loss = stats
            .iter()
            .map(|((m, s), _)| m + s)
            .fold(0.0, f64::max)
            .max(1e-9);
        let c = t_panel(data, frame(1), 0.0, top_loss * 1.08, "loss (Z16)");
        c.clip(&mut svg);
        let grey_dashes = |width| Stroke::dashed(Rgb::hex(0x888888), width, 3.0, 2.0);
        for (test, stroke) in [
            (true, Stroke::solid(Rgb::BLACK, 0.9)),
            (false, grey_dashes(0.8)),
        ] {
            let line: Vec<(f64, f64)> = (data.rows.iter().zip(&stats))
                .map(|(r, (a, b))| c.at(r.points as f64, if test { a.0 } else { b.0 }))
                .collect();
            svg.polyline(&line, &stroke);
        }
        for (k, (r, ((m, s), _))) in data.rows.iter().zip(&stats).enumerate() {
            let t = r.points as f64;
            svg.line(
                c.at(t, m - s),
                c.at(t, m + s),
                &Stroke::solid(Rgb::BLACK, 0.8),
            );
            let colour = if k == data.peak { RED } else { Rgb::BLACK };
            svg.marker(Marker::Circle, c.at(t, *m), 2.6, colour, None);
        }
        svg.unclip();
        c.draw_axes(&mut svg, style);
        // (d) norms.
        let norms: Vec<(f64, f64)> = data
            .rows
            .iter()
            .map(|r| (r.mean_se(|f| f.w().norm()).0, r.mean_se(Fit::bias_norm).0))
            .collect();
        let top_norm = norms
            .iter()
            .map(|(a, b)| a.max(*b))
            .fold(5f64.sqrt(), f64::max);
        let d = t_panel(data, frame(2), 0.0, top_norm * 1.1, "norm");
        d.clip(&mut svg);
        svg.line(
            d.at(d.x.lo, 5f64.sqrt()),
            d.at(d.x.hi, 5f64.sqrt()),
            &grey_dashes(0.7),
        );
        for (pick, colour) in [(0usize, BLUE), (1, RED)] {
            let pts: Vec<(f64, f64)> = data
                .rows
                .iter()
                .zip(&norms)
                .map(|(r, n)| d.at(r.points as f64, if pick == 0 { n.0 } else { n.1 }))
                .collect();
            svg.polyline(&pts, &Stroke::solid(colour, 0.9));
            for p in pts {
                svg.marker(Marker::Circle, p, 2.4, colour, None);
            }
        }
        svg.unclip();
        d.draw_axes(&mut svg, style);
        for (k, line) in lines.iter().enumerate() {
            svg.say(4.0, y_cap + ts * 1.2 * k as f64, line, ts, Anchor::Start);
        }
        heading.draw(&mut svg);
        svg.finish()
    }

    // One row per (T, data seed): the losses, norms, checks and the drawn values.
    fn csv(data: &Data) -> String {
        let (mean, se): (Vec<f64>, Vec<f64>) =
            data.rows.iter().map(|r| r.mean_se(|f| f.test_loss)).unzip();
        let mut rows = Vec::new();
        for (k, row) in data.rows.iter().enumerate() {
            let (small, large) = (row.t_gon_checked, row.pentagon_checked);
            for (s, fit) in row.fits.iter().enumerate() {
                let mut df = row.d_feature[s].clone();
                df.sort_by(|a, b| b.total_cmp(a));
                let dx = &row.d_point[s];
                let bump = data.bump.filter(|(p, _)| *p == k).map(|(_, m)| m);
                rows.push(vec![
                    cell(row.points),
                    cell(fit.data_seed),
                    cell(fit.seed),
                    cell(fit.train_loss),
                    cell(fit.test_loss),
                    cell(mean[k]),
                    cell(se[k]),
                    cell(fit.w().norm()),
                    cell(fit.bias_norm()),
                    cell(row.strong[s]),
                    cell(dx.iter().copied().fold(0.0, f64::max)),
                    cell(dx.iter().sum::<f64>() / dx.len().max(1) as f64),
                    cell(if small { verdict(row.t_gon[s]) } else { "" }),
                    cell(if large { verdict(row.pentagon[s]) } else { "" }),
                    cell(k == data.peak),
                    bump.map_or(String::new(), cell),
                    joined(df.iter().take(8).copied()),
                    joined(dx.iter().copied()),
                ]);
            }
        }
        table(
            "T,data_seed,seed,train_loss,test_loss,mean_test_loss,se_test_loss,w_frobenius,b_norm,strong_features,max_d_x,mean_d_x,t_gon_check,pentagon_check,highest_mean_test_loss,bump_margin,top8_d_f,d_x",
            &rows,
        )
    }

    // `polycap train` line for the largest T (the same runs as the figure's jobs of that T).
    fn commands(params: &Params) -> Vec<Invocation> {
        let t = params.points.last().copied().unwrap_or(1);
        vec![
            Invocation::new("train")
                .opt("model", "tms-relu")
                .opt("features", params.n)
                .opt("dims", 2)
                .opt("density", params.density)
                .opt("dataset", t)
                .opt("steps", params.steps)
                .opt("schedule", format!("warmup-cosine:{}", params.warmup))
                .opt("seeds", params.inits)
                .opt("data-seeds", params.data_seeds)
                .opt("test-points", params.test_points)
                .opt("format", "csv"),
        ]
    }
}
