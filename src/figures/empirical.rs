//! Shared pieces of the trained (empirical) figures: the capacity colours of the analytic
//! diagram, the closed-form boundaries to overlay, the caption of a training protocol, and
//! the best-of-seeds run of one instance as a job result that shards (V7).

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::base::{Error, FeatureSet, Result};
use crate::theory::phase::{self, PhaseSetting};
use crate::training::{Trainer, best_of};
use crate::verify::Protocol;

use super::canvas::{Canvas, Marker, Stroke};
use super::colour::Rgb;
use super::colour::{Colormap, IGNORED, MONOSEMANTIC};
use super::panel::Panel;
use super::phase_diagram;

/// Trained capacities within this of 0 (or 1) are drawn as ignored (monosemantic).
pub const PLATEAU_EPS: f64 = 1e-3;

/// The analytic diagram's colour scale ([`phase_diagram`]): grey for C₁ ≤ ε, red → magenta
/// bands of 0.05 in between, dark blue for C₁ ≥ 1 − ε (ε = [`PLATEAU_EPS`]).
pub fn capacity_colour(c: f64) -> Rgb {
    if c <= PLATEAU_EPS {
        IGNORED
    } else if c >= 1.0 - PLATEAU_EPS {
        MONOSEMANTIC
    } else {
        let band = (c / 0.05).floor().clamp(0.0, 19.0);
        Colormap::RedMagenta.at(band * 0.05 + 0.025)
    }
}

/// Colour-bar segments matching [`capacity_colour`].
pub fn capacity_segments() -> Vec<(f64, f64, Rgb)> {
    let mut s = vec![(0.0, PLATEAU_EPS, IGNORED)];
    for j in 0..20 {
        let lo = (j as f64 * 0.05).max(PLATEAU_EPS);
        let hi = ((j + 1) as f64 * 0.05).min(1.0 - PLATEAU_EPS);
        s.push((lo, hi, Colormap::RedMagenta.at(j as f64 * 0.05 + 0.025)));
    }
    s.push((1.0 - PLATEAU_EPS, 1.0, MONOSEMANTIC));
    s
}

/// The closed-form boundaries V_ign (P4), V_full (P3), the first-order line and the critical
/// point of `setting` over the ranges (empty when D ≥ N).
pub fn boundaries(
    setting: PhaseSetting,
    v_range: (f64, f64),
    p_range: (f64, f64),
) -> Result<phase_diagram::Data> {
    let g = phase::phase_grid(&setting, &[v_range.0, v_range.1], &[p_range.0, p_range.1])?;
    phase_diagram::from_grid(g, v_range, p_range)
}

/// Draws the boundaries (black over a white casing) and the critical point into `panel`.
pub fn draw_boundaries(svg: &mut Canvas, panel: &Panel, b: &phase_diagram::Data, scale: f64) {
    panel.clip(svg);
    for (curve, width) in [
        (&b.ignored_boundary, 0.9),
        (&b.full_boundary, 0.9),
        (&b.first_order, 1.8),
    ] {
        let pts: Vec<(f64, f64)> = curve.iter().map(|(v, p)| panel.at(*v, *p)).collect();
        svg.polyline(&pts, &Stroke::solid(Rgb::WHITE, (width + 0.9) * scale));
        svg.polyline(&pts, &Stroke::solid(Rgb::BLACK, width * scale));
    }
    svg.unclip();
    if let Some((v, p)) = b.critical {
        svg.marker(
            Marker::Star,
            panel.at(v, p),
            8.0 * scale,
            Rgb::WHITE,
            Some(&Stroke::solid(Rgb::BLACK, 0.6)),
        );
    }
}

/// "quadratic model, exact loss (T4), 20000 steps, best of 5 seeds" etc.
pub fn protocol_caption(protocol: &Protocol, seeds: usize) -> String {
    let what = match protocol {
        Protocol::Exact(_) => "quadratic model, exact expected loss (T4)".to_string(),
        Protocol::Sampled { model, .. } => match model.name() {
            "quadratic" => "quadratic model, sampled SGD (T3)".to_string(),
            name => format!("{name}, sampled"),
        },
    };
    format!(
        "{what}, {} steps, best of {seeds} seed{}",
        protocol.steps(),
        if seeds == 1 { "" } else { "s" }
    )
}

/// The best run of one instance (lowest evaluation loss): the result of one job of a
/// trained figure, in a form that round-trips through JSON exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestRun {
    /// Rows of W (D).
    pub rows: usize,
    /// Columns of W (N).
    pub cols: usize,
    /// W, column-major (column i = feature i).
    pub w: Vec<f64>,
    /// Evaluation loss of the run.
    pub loss: f64,
    /// Its seed.
    pub seed: u64,
}

impl BestRun {
    /// Trains instance `index` of a sweep with seeds `base_seed`, `base_seed + 1`, … exactly
    /// as [`Trainer::sweep`] does (seed, instance index) and keeps the lowest evaluation
    /// loss ([`best_of`]).
    ///
    /// # Errors
    /// [`Error::Parameter`] for 0 seeds; training errors.
    pub fn train(
        trainer: &Trainer,
        features: &FeatureSet,
        seeds: usize,
        base_seed: u64,
        index: usize,
    ) -> Result<BestRun> {
        let best = best_of(trainer, features, seeds, base_seed, index as u64)?;
        Ok(BestRun {
            rows: best.w.nrows(),
            cols: best.w.ncols(),
            w: best.w.as_slice().to_vec(),
            loss: best.loss,
            seed: best.seed,
        })
    }

    /// W as a matrix.
    ///
    /// # Errors
    /// [`Error::Parameter`] when the entries do not fill rows × cols.
    pub fn matrix(&self) -> Result<DMatrix<f64>> {
        if self.w.len() != self.rows * self.cols {
            return Err(Error::Parameter(format!(
                "a {}×{} W needs {} entries, got {}",
                self.rows,
                self.cols,
                self.rows * self.cols,
                self.w.len()
            )));
        }
        Ok(DMatrix::from_column_slice(self.rows, self.cols, &self.w))
    }
}
