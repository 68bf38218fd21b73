//! \[E\] "Perturbing a single feature" (spec §14.7, (Z22)): 5 features in 2 dimensions,
//! density 0.05 for features 2–5 and p₁ = 0.05·r for feature 1. The best of K fits per r is
//! drawn as arrows (feature 1 dark), and every fit's loss against r, coloured by its class
//! (pentagon, two digons, other): the best fit jumps from a deformed pentagon to two digons
//! with feature 1 dropped at one r*.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::base::{Error, FeatureSet, Magnitude, Result};
use crate::training::rng::Xoshiro;
use crate::training::{Model, TrainConfig, Trainer};
use crate::verify::zoo::{Geometry, angle_gaps, digon_axes_cos, geometry, room_of_first, spearman};

use super::canvas::{Anchor, Marker, Stroke, wrap};
use super::capacity_examples::arrow;
use super::colour::CATEGORICAL;
use super::colour::Rgb;
use super::panel::{Axis, Panel, fmt_value};
use super::parts::Draw;
use super::parts::{area, canvas, page, table};
use super::style::Style;
use super::zoo_pairs::canonical;
use super::{Figure, Invocation, Parameters, cell, joined};

/// Parameters of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Density of features 2–5.
    pub base_density: f64,
    /// Values of r = p₁/p, log-spaced from `r_range.0` to `r_range.1`.
    pub r_range: (f64, f64),
    /// Number of r values.
    pub r_count: usize,
    /// Fits per r.
    pub fits: usize,
    /// Steps per fit.
    pub steps: usize,
    /// First seed.
    pub base_seed: u64,
}

impl Parameters for Params {
    /// 16 values of r in [10⁻², 10], 6 fits × 6000 steps each (the reproduce budget); the
    /// spec's 31 × 20 fits × 10 000 steps is `Params::paper_resolution`.
    fn paper() -> Self {
        Params {
            base_density: 0.05,
            r_range: (0.01, 10.0),
            r_count: 16,
            fits: 6,
            steps: 6000,
            base_seed: 0,
        }
    }

    /// The spec's setting: 31 values of r, 20 fits × 10 000 steps each.
    fn paper_resolution() -> Self {
        Params {
            r_count: 31,
            fits: 20,
            steps: 10_000,
            ..Params::paper()
        }
    }

    /// 5 values of r, 2 fits × 800 steps.
    fn quick() -> Self {
        Params {
            r_count: 5,
            fits: 2,
            steps: 800,
            ..Params::paper()
        }
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![
            (
                "model".into(),
                format!(
                    "tms-relu (E1), N = 5, D = 2, I = 1; p = {} for features 2–5, p₁ = p·r",
                    self.base_density
                ),
            ),
            (
                "r (log)".into(),
                format!(
                    "{} values in [{}, {}]",
                    self.r_count,
                    fmt_value(self.r_range.0),
                    fmt_value(self.r_range.1)
                ),
            ),
            (
                "training".into(),
                format!(
                    "{} fits × {} steps per r, Adam lr 1e-3, batch 1024, per-model Xavier (T1 without weight decay); best = lowest loss on one fixed batch (Z2)",
                    self.fits, self.steps
                ),
            ),
        ]
    }
}

impl Params {
    /// The r values.
    pub fn ratios(&self) -> Vec<f64> {
        let (lo, hi) = (self.r_range.0.log10(), self.r_range.1.log10());
        let m = self.r_count.max(2) - 1;
        (0..self.r_count)
            .map(|k| 10f64.powf(lo + (hi - lo) * k as f64 / m as f64))
            .collect()
    }
}

/// One fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// W, column-major 2×5.
    pub w: Vec<f64>,
    /// Final loss on the fixed batch.
    pub loss: f64,
    /// Seed.
    pub seed: u64,
    /// Class (Z22).
    pub class: Geometry,
}

/// The (E1) loss of (W, b) on 2¹⁶ samples of one fixed stream per r (Z2), in f64 (mean over
/// samples and features).
fn fixed_batch_loss(w: &DMatrix<f64>, b: &[f64], f: &FeatureSet, index: u64) -> Result<f64> {
    let p = f.densities().ok_or(Error::NoFeatures)?;
    let n = p.len();
    let g = w.tr_mul(w);
    let mut rng = Xoshiro::new(crate::training::zoo::EVAL_SEED, index);
    let samples = 1usize << 16;
    let mut total = 0.0;
    let mut x = vec![0.0; n];
    for _ in 0..samples {
        for (xi, &pi) in x.iter_mut().zip(&p) {
            let (t, u) = rng.uniform_pair_f32();
            *xi = if f64::from(t) < pi { f64::from(u) } else { 0.0 };
        }
        for i in 0..n {
            let o: f64 = (0..n).map(|j| g[(i, j)] * x[j]).sum::<f64>() + b[i];
            let e = o.max(0.0) - x[i];
            total += e * e;
        }
    }
    Ok(total / (samples * n) as f64)
}

/// One r.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// r = p₁/p.
    pub r: f64,
    /// Every fit.
    pub fits: Vec<Fit>,
    /// Index of the best fit.
    pub best: usize,
}

impl Point {
    /// The best fit's W.
    pub fn best_w(&self) -> DMatrix<f64> {
        DMatrix::from_vec(2, 5, self.fits[self.best].w.clone())
    }
}

/// The figure's data and its (Z22) checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// One point per r.
    pub points: Vec<Point>,
    /// Fits and steps.
    pub fits: usize,
    /// Steps.
    pub steps: usize,
    /// r = 1 (nearest): norms in [0.7, 1.3] and gaps 72° ± 6°.
    pub regular_at_1: bool,
    /// Spearman ρ of feature 1's room against r over the best fits that are pentagons.
    pub room_rho: f64,
    /// Smallest r: two digons with |cos| between the axes ≤ 0.1.
    pub digons_at_min: bool,
    /// Number of changes of the best fit's class along r.
    pub class_changes: usize,
    /// r* (geometric mean of the r values around the first change), if any.
    pub r_star: Option<f64>,
}

impl Data {
    /// Every asserted (Z22) condition.
    pub fn pass(&self) -> bool {
        self.regular_at_1 && self.room_rho >= 0.9 && self.digons_at_min && self.class_changes == 1
    }
}

fn class_colour(c: Geometry) -> Rgb {
    match c {
        Geometry::Pentagon => CATEGORICAL[4],
        Geometry::TwoDigons => CATEGORICAL[5],
        Geometry::Other => Rgb::hex(0x999999),
    }
}

/// The figure, for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Fig;

impl Figure for Fig {
    const ID: &'static str = "z22-nonuniform-pentagon";
    const SOURCE: &'static str = "[E] perturbing a single feature; spec §14.7 (Z22)";
    type Params = Params;
    type Item = Vec<Fit>;
    type Data = Data;

    fn jobs(params: &Params) -> usize {
        params.r_count
    }

    fn job(params: &Params, j: usize) -> Result<Vec<Fit>> {
        let r = params.ratios()[j];
        let mut cfg = TrainConfig::defaults(Model::TmsRelu);
        cfg.steps = params.steps;
        let trainer = Trainer::new(Model::TmsRelu, 2, cfg)?;
        let p = params.base_density;
        let f = FeatureSet::from_densities(
            vec![1.0; 5],
            &[(p * r).min(1.0), p, p, p, p],
            Magnitude::Uniform,
        )?;
        // Best-of on one fixed batch (Z2): every fit is re-evaluated on the same samples.
        let mut fits = Vec::new();
        for s in 0..params.fits as u64 {
            let run = trainer.train(&f, params.base_seed.wrapping_add(s), j as u64)?;
            let loss = fixed_batch_loss(&run.w, &run.bias, &f, j as u64)?;
            fits.push(Fit {
                class: geometry(&run.w),
                w: run.w.as_slice().to_vec(),
                loss,
                seed: run.seed,
            });
        }
        Ok(fits)
    }

    fn assemble(params: &Params, items: Vec<Vec<Fit>>) -> Result<Data> {
        let points: Vec<Point> = params
            .ratios()
            .into_iter()
            .zip(items)
            .map(|(r, fits)| {
                let best = (0..fits.len())
                    .min_by(|&a, &b| fits[a].loss.total_cmp(&fits[b].loss))
                    .unwrap_or(0);
                Point { r, fits, best }
            })
            .filter(|p| !p.fits.is_empty())
            .collect();
        if points.is_empty() {
            return Err(Error::Parameter("no fits for the figure".into()));
        }
        let at_1 = points
            .iter()
            .min_by(|a, b| a.r.log10().abs().total_cmp(&b.r.log10().abs()))
            .map(Point::best_w);
        let regular_at_1 = at_1.is_some_and(|w| {
            (0..5).all(|i| (0.7..=1.3).contains(&w.column(i).norm()))
                && angle_gaps(&w).1.iter().all(|g| (g - 72.0).abs() <= 6.0)
        });
        let (rs, rooms): (Vec<f64>, Vec<f64>) = points
            .iter()
            .filter(|p| p.fits[p.best].class == Geometry::Pentagon)
            .map(|p| (p.r, room_of_first(&p.best_w())))
            .unzip();
        let classes: Vec<Geometry> = points.iter().map(|p| p.fits[p.best].class).collect();
        let change_at: Vec<usize> = (1..classes.len())
            .filter(|&k| classes[k] != classes[k - 1])
            .collect();
        Ok(Data {
            regular_at_1,
            room_rho: spearman(&rs, &rooms),
            digons_at_min: digon_axes_cos(&points[0].best_w()).is_some_and(|c| c <= 0.1),
            class_changes: change_at.len(),
            r_star: change_at
                .first()
                .map(|&k| (points[k - 1].r * points[k].r).sqrt()),
            points,
            fits: params.fits,
            steps: params.steps,
        })
    }

    fn title(data: &Data) -> String {
        format!(
            "One feature's density varied, p₁ = 0.05·r (Z22 {}): regular pentagon at r = 1 {}, room of feature 1 vs r ρ = {:.2}, two digons at r = {} {}, best class changes {} time(s){}",
            if data.pass() { "pass" } else { "FAIL" },
            if data.regular_at_1 { "yes" } else { "no" },
            data.room_rho,
            fmt_value(data.points[0].r),
            if data.digons_at_min { "yes" } else { "no" },
            data.class_changes,
            data.r_star
                .map_or(String::new(), |r| format!(", r* ≈ {}", fmt_value(r)))
        )
    }

    fn render(data: &Data, style: &Style) -> String {
        let (width, ts, _, title_h, heading) = page(style, Self::title(data));
        let shown: Vec<&Point> = {
            let step = data.points.len().div_ceil(8).max(1);
            data.points.iter().step_by(step).collect()
        };
        let cols = shown.len().max(1);
        let gap = 5.0;
        let side = ((width - 8.0 - gap * (cols as f64 - 1.0)) / cols as f64).min(90.0);
        let plot_h = 150.0;
        let y_arrows = title_h;
        let y_plot = y_arrows + side + ts * 2.5 + 10.0;
        // Loss of every fit against r.
        let (lo, hi) = data
            .points
            .iter()
            .flat_map(|p| p.fits.iter().map(|f| f.loss))
            .fold((f64::INFINITY, 0.0f64), |(a, b), l| (a.min(l), b.max(l)));
        let pad = 0.05 * (hi - lo).max(1e-12);
        let mut panel = Panel {
            frame: area(0.0, y_plot, width, plot_h),
            x: Axis::log(
                data.points[0].r / 1.3,
                data.points[data.points.len() - 1].r * 1.3,
                "r = p₁/p",
            ),
            y: Axis::linear(lo - pad, hi + pad, "loss"),
        };
        let (left, bottom) = panel.room(style);
        // 4 pt from the page edge, as the panels above.
        (panel.frame.x, panel.frame.w) = (left + 4.0, width - left - 8.0);
        let caption = wrap(
            "dots: every fit's loss (blue pentagon, vermillion two digons, grey other); line: best fit",
            ts,
            width - 8.0,
        );
        let height = y_plot + plot_h + bottom + ts * 1.2 * caption.len() as f64 + 6.0;
        let mut svg = canvas(&heading, height, style);
        for (k, p) in shown.iter().enumerate() {
            let x0 = 4.0 + k as f64 * (side + gap);
            let centre = (x0 + side / 2.0, y_arrows + side / 2.0);
            let fit = &p.fits[p.best];
            let square = area(x0, y_arrows, side, side);
            svg.border(square, class_colour(fit.class), 0.8);
            // Feature 1 along +x, or feature 2 when feature 1 is dropped.
            let lead = usize::from(p.best_w().column(0).norm() < 0.1);
            let w = canonical(&p.best_w(), lead);
            let scale = side * 0.4;
            for i in 0..5 {
                let colour = if i == 0 { Rgb::BLACK } else { CATEGORICAL[2] };
                let tip = (centre.0 + scale * w[(0, i)], centre.1 - scale * w[(1, i)]);
                arrow(&mut svg, centre, tip, colour, style.line_width());
            }
            let below = [
                (format!("r = {}", fmt_value(p.r)), Rgb::BLACK),
                (fit.class.name().to_string(), class_colour(fit.class)),
            ];
            svg.lines_below(x0 + side / 2.0, y_arrows + side + ts * 1.2, &below, ts);
        }
        panel.clip(&mut svg);
        let best: Vec<(f64, f64)> = data
            .points
            .iter()
            .map(|p| panel.at(p.r, p.fits[p.best].loss))
            .collect();
        svg.polyline(&best, &Stroke::solid(Rgb::hex(0x444444), 0.6));
        for p in &data.points {
            for f in &p.fits {
                let at = panel.at(p.r, f.loss);
                svg.marker(Marker::Circle, at, 3.0, class_colour(f.class), None);
            }
        }
        svg.unclip();
        panel.draw_axes(&mut svg, style);
        for (k, line) in caption.iter().enumerate() {
            let y = y_plot + plot_h + bottom + ts * (1.1 + 1.2 * k as f64);
            svg.say(width / 2.0, y, line, ts, Anchor::Middle);
        }
        svg.finish()
    }

    fn csv(data: &Data) -> String {
        let mut rows = Vec::new();
        for p in &data.points {
            for (k, f) in p.fits.iter().enumerate() {
                let w = DMatrix::from_vec(2, 5, f.w.clone());
                rows.push(vec![
                    cell(p.r),
                    cell(f.seed),
                    cell(f.loss),
                    cell(f.class.name()),
                    cell(k == p.best),
                    cell(room_of_first(&w)),
                    joined((0..5).map(|i| w.column(i).norm())),
                    joined(f.w.iter().copied()),
                ]);
            }
        }
        table(
            "r,seed,loss,class,best,room_of_feature_1_deg,norms_features_1_to_5,w_column_major",
            &rows,
        )
    }

    fn commands(params: &Params) -> Vec<Invocation> {
        let p = params.base_density;
        vec![
            Invocation::new("train")
                .opt("model", "tms-relu")
                .opt("dims", 2)
                .opt(
                    "density",
                    format!("{},{p},{p},{p},{p}", p * params.r_range.0),
                )
                .opt("seeds", params.fits)
                .opt("steps", params.steps)
                .opt("format", "csv"),
        ]
    }
}
