//! Models without a closed-form theory (quadratic-relu/gelu, the autoencoders) compared
//! qualitatively with the quadratic theory: trained C₁ over the grid beside the theory's,
//! and where they depart (V8).
//!
//! Derivation: derivations/verify.md (V8).

use serde::{Deserialize, Serialize};

use crate::base::{Result, run_jobs};
use crate::theory::capacity::capacities;

use super::grid::GridSpec;
use super::point::{Protocol, point_seed};
use super::theory::Theory;

/// The antipodal plateau: C₁ ∈ [0.47, 0.53] (spec §10.4, §11 S7).
pub const PLATEAU: (f64, f64) = (0.47, 0.53);

/// A departure: |C₁,trained − C₁,theory| above this counts as a qualitative difference.
pub const DEPARTURE: f64 = 0.1;

/// Trained and theoretical C₁ over a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedGrid {
    /// The grid.
    pub grid: GridSpec,
    /// Protocol name (model).
    pub model: String,
    /// Trained C₁ per point (index = row · columns + column).
    pub trained: Vec<f64>,
    /// Trained Cᵢ of every feature per point.
    pub trained_all: Vec<Vec<f64>>,
    /// The theory's C₁ per point.
    pub theory: Vec<f64>,
    /// The theory's Cᵢ of every feature per point.
    pub theory_all: Vec<Vec<f64>>,
}

/// Trains `protocol` at every grid point (best of `seeds`, seeds from (base, index)) and
/// predicts with `theory`, in parallel; `on_done` after each point.
pub fn train_grid(
    protocol: &Protocol,
    theory: &dyn Theory,
    grid: &GridSpec,
    seeds: usize,
    base_seed: u64,
    on_done: &(dyn Fn() + Sync),
) -> Result<TrainedGrid> {
    let rows = run_jobs(
        grid.len(),
        None,
        |i| train_point(protocol, theory, grid, seeds, base_seed, i),
        on_done,
    )?;
    Ok(TrainedGrid::from_points(
        grid,
        protocol,
        rows.into_iter().map(|(_, r)| r).collect(),
    ))
}

/// Point `index` of [`train_grid`]: (trained Cᵢ, theory Cᵢ) of every feature.
///
/// # Errors
/// Validation errors of the point's features; training and theory errors.
pub fn train_point(
    protocol: &Protocol,
    theory: &dyn Theory,
    grid: &GridSpec,
    seeds: usize,
    base_seed: u64,
    index: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (v, p) = grid.coordinates(index);
    let features = grid.setting.feature_set(v, p)?;
    let dims = grid.setting.dims();
    let t = protocol.train_best(&features, dims, point_seed(base_seed, index as u64), seeds)?;
    let th = theory.predict(&features, dims)?;
    Ok((capacities(&t.w), th.capacity))
}

/// Points `indices` of [`train_grid`] trained together through
/// [`Protocol::train_best_many`], with common random numbers along V (verify.md (V10)): every
/// point keeps its own seeds `point_seed(base_seed, i)`, … for its initial W, and takes its
/// data (batches, evaluation samples) from the seeds of its density row r,
/// `point_seed(base_seed, r·W)`, …, so the points of one row differ in V and initial W,
/// share every batch of a seed and train as one group per seed (run.md (RN8)).
/// (trained Cᵢ, theory Cᵢ) per point, in index order; a point's numbers depend on its index,
/// not on which other points of the row are in `indices`.
///
/// # Errors
/// As [`train_point`].
pub fn train_points(
    protocol: &Protocol,
    theory: &dyn Theory,
    grid: &GridSpec,
    seeds: usize,
    base_seed: u64,
    indices: std::ops::Range<usize>,
) -> Result<Vec<(Vec<f64>, Vec<f64>)>> {
    let dims = grid.setting.dims();
    let features = indices
        .clone()
        .map(|i| {
            let (v, p) = grid.coordinates(i);
            grid.setting.feature_set(v, p)
        })
        .collect::<Result<Vec<_>>>()?;
    let width = grid.importance.len();
    let point_seeds: Vec<u64> = indices
        .clone()
        .map(|i| point_seed(base_seed, i as u64))
        .collect();
    let data_seeds: Vec<u64> = indices
        .map(|i| point_seed(base_seed, (i - i % width) as u64))
        .collect();
    let trained = protocol.train_best_many(&features, dims, &point_seeds, &data_seeds, seeds)?;
    features
        .iter()
        .zip(trained)
        .map(|(f, t)| Ok((capacities(&t.w), theory.predict(f, dims)?.capacity)))
        .collect()
}

impl TrainedGrid {
    /// The grid of [`train_point`] results, one per point in index order.
    pub fn from_points(
        grid: &GridSpec,
        protocol: &Protocol,
        rows: Vec<(Vec<f64>, Vec<f64>)>,
    ) -> Self {
        let (trained_all, theory_all): (Vec<Vec<f64>>, Vec<Vec<f64>>) = rows.into_iter().unzip();
        TrainedGrid {
            grid: grid.clone(),
            model: protocol.name(),
            trained: trained_all.iter().map(|c| c[0]).collect(),
            theory: theory_all.iter().map(|c| c[0]).collect(),
            trained_all,
            theory_all,
        }
    }
}

/// Where a trained diagram departs from the theory's (V8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Departure {
    /// Points.
    pub points: usize,
    /// Fraction of points with trained C₁ ∈ [0.47, 0.53].
    pub plateau_trained: f64,
    /// Fraction of points with theoretical C₁ ∈ [0.47, 0.53].
    pub plateau_theory: f64,
    /// Mean |ΔC₁|.
    pub mean_abs_diff: f64,
    /// Fraction of points with |ΔC₁| > 0.1.
    pub departed: f64,
    /// The same among the dense points (k < 3).
    pub departed_dense: f64,
    /// The same among the sparse points (k > 3).
    pub departed_sparse: f64,
    /// Fraction of points where the trained feature 1 is represented (C₁ > 0.1) while the
    /// theory ignores it (C₁ = 0).
    pub kept_when_ignored: f64,
    /// Fraction of points where the trained C₁ < 0.9 while the theory makes it
    /// monosemantic (C₁ = 1): "stays in superposition although important".
    pub shared_when_full: f64,
}

/// Compares trained and theoretical C₁ over the grid (V8).
///
/// Derivation: derivations/verify.md (V8).
pub fn departure(t: &TrainedGrid) -> Departure {
    let n = t.trained.len();
    let frac = |count: usize, of: usize| {
        if of == 0 {
            0.0
        } else {
            count as f64 / of as f64
        }
    };
    let in_plateau = |c: f64| (PLATEAU.0..=PLATEAU.1).contains(&c);
    let diff: Vec<f64> = t
        .trained
        .iter()
        .zip(&t.theory)
        .map(|(a, b)| (a - b).abs())
        .collect();
    let dense: Vec<bool> = (0..n)
        .map(|i| t.grid.setting.kurtosis_at(t.grid.coordinates(i).1) < 3.0)
        .collect();
    let count = |f: &dyn Fn(usize) -> bool| (0..n).filter(|&i| f(i)).count();
    let n_dense = count(&|i| dense[i]);
    Departure {
        points: n,
        plateau_trained: frac(count(&|i| in_plateau(t.trained[i])), n),
        plateau_theory: frac(count(&|i| in_plateau(t.theory[i])), n),
        mean_abs_diff: if n == 0 {
            0.0
        } else {
            diff.iter().sum::<f64>() / n as f64
        },
        departed: frac(count(&|i| diff[i] > DEPARTURE), n),
        departed_dense: frac(count(&|i| dense[i] && diff[i] > DEPARTURE), n_dense),
        departed_sparse: frac(count(&|i| !dense[i] && diff[i] > DEPARTURE), n - n_dense),
        kept_when_ignored: frac(count(&|i| t.theory[i] <= 0.0 && t.trained[i] > 0.1), n),
        shared_when_full: frac(count(&|i| t.theory[i] >= 1.0 && t.trained[i] < 0.9), n),
    }
}
