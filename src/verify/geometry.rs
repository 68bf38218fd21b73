//! Geometry of trained models against the theory (spec §8): the quadratic model's optimum is
//! one polysemantic block with one shared scale λ, while the ReLU-output autoencoder of
//! Elhage et al. breaks into small blocks whose capacities sit on polytope fractions.
//!
//! * [`decompose_trained`] is [`decompose`] for a trained W: columns whose squared length is
//!   at most `tol` times the longest are set to zero first (a dropped feature never reaches
//!   exactly 0 under Adam, and its residual direction is noise that would join every block).
//! * [`quadratic_geometry`] trains the quadratic model on its exact expected loss (T4, (Q8))
//!   and compares the decomposition with the optimal allocation (A7): the interior features
//!   form one block whose scale is λ (C7).
//! * [`autoencoder_geometry`] trains the ReLU-output model (E1)–(E3) (best of several seeds by loss)
//!   and recognises the capacity of every feature as a fraction (E6).
//!
//! Derivation of the block statements: derivations/geometry.md.
//!
//! # Example
//! ```
//! use nalgebra::DMatrix;
//! use polycap::verify::geometry::decompose_trained;
//!
//! // An antipodal pair, 0.1 % off, with a dropped third feature of length 1e-3.
//! let w = DMatrix::from_row_slice(1, 3, &[1.0, -0.999, 1e-3]);
//! let g = decompose_trained(&w, 1e-2).expect("finite matrix");
//! assert_eq!(g.blocks.len(), 1);
//! assert_eq!(g.blocks[0].features, vec![0, 1]);
//! assert_eq!(g.ignored, vec![2]);
//! ```

use nalgebra::DMatrix;

use crate::base::{Error, FeatureSet, Result};
use crate::theory::allocation::{Allocation, allocate};
use crate::theory::geometry::{BlockDecomposition, decompose, nearest_fraction};
use crate::theory::quadratic::ExpectedLoss;
use crate::training::ExactTrainer;
use crate::training::{ExactConfig, ExactRun, Model, Run, TrainConfig, Trainer, best_by};

/// Default tolerance for trained matrices: Adam leaves cosines of order 1e-3 between
/// features that theory puts at exactly 0, and capacities within ~1e-3 of their fractions.
pub const TRAINED_TOLERANCE: f64 = 1e-2;

/// Largest denominator tried when recognising a trained capacity as a fraction.
pub const MAX_DENOMINATOR: u32 = 8;

/// W with every column of ‖Wᵢ‖² ≤ `tol`·maxⱼ‖Wⱼ‖² set to zero: nᵢ ≤ τ·maxⱼ nⱼ (G12). No
/// kept capacity changes by more than the relative amount nᵢ/nⱼ.
///
/// Derivation: derivations/geometry.md (G12).
pub fn prune_short_columns(w: &DMatrix<f64>, tol: f64) -> DMatrix<f64> {
    let sq: Vec<f64> = w.column_iter().map(|c| c.norm_squared()).collect();
    let max = sq.iter().copied().fold(0.0, f64::max);
    let mut out = w.clone();
    for (i, &n) in sq.iter().enumerate() {
        if n <= tol * max {
            out.column_mut(i).fill(0.0);
        }
    }
    out
}

/// [`decompose`] of [`prune_short_columns`]`(w, tol)` at tolerance `tol`: the block
/// structure of a trained W, with features shorter than √tol times the longest counted as
/// not learned.
///
/// # Errors
/// As [`decompose`].
pub fn decompose_trained(w: &DMatrix<f64>, tol: f64) -> Result<BlockDecomposition> {
    decompose(&prune_short_columns(w, tol), tol)
}

/// Capacity of every feature recognised as p/q (q ≤ `max_den`) within `tol`, in column
/// order; `None` where no such fraction is that close.
pub fn fractions(dec: &BlockDecomposition, max_den: u32, tol: f64) -> Vec<Option<(u32, u32)>> {
    dec.capacities()
        .iter()
        .map(|&c| nearest_fraction(c, max_den, tol))
        .collect()
}

/// A quadratic model trained on its exact loss, decomposed, next to its theory.
#[derive(Debug, Clone)]
pub struct QuadraticGeometry {
    /// The best run (lowest exact loss (Q8)).
    pub run: ExactRun,
    /// Block structure of the trained W at `tolerance`.
    pub decomposition: BlockDecomposition,
    /// The optimal allocation (A7) for the same features and D.
    pub theory: Allocation,
    /// Features the theory puts strictly inside (0, 1): they must share one block.
    pub interior: Vec<usize>,
    /// The block holding every interior feature, if one does.
    pub shared_block: Option<usize>,
    /// |γ_b/λ − 1| for the shared block (NaN without one, or without an interior λ).
    pub scale_error: f64,
    /// maxᵢ |Cᵢ(trained) − Cᵢ(theory)|.
    pub capacity_error: f64,
}

/// Trains the quadratic model on its exact expected loss (T4) with `seeds` seeds, keeps the
/// best, decomposes its W at `tol` and compares it with the allocation (A7): spec §8, "the
/// optimum needs nᵢ = λCᵢ with one common λ for every interior feature", so all interior
/// features lie in one block of scale γ = λ (C7).
///
/// # Errors
/// Validation errors of the features, D or the configuration; [`Error::NotConverged`] from
/// training or the decomposition.
pub fn quadratic_geometry(
    features: &FeatureSet,
    dims: usize,
    config: ExactConfig,
    seeds: usize,
    base_seed: u64,
    tol: f64,
) -> Result<QuadraticGeometry> {
    let objective = ExpectedLoss::new(features, dims)?;
    let run = ExactTrainer::new(config)?.train_best(&objective, seeds, base_seed)?;
    quadratic_geometry_of(run, features, dims, tol)
}

/// The comparison of [`quadratic_geometry`] for an already trained `run`.
///
/// # Errors
/// Validation errors of the features or D; [`Error::NotConverged`] from the decomposition.
pub fn quadratic_geometry_of(
    run: ExactRun,
    features: &FeatureSet,
    dims: usize,
    tol: f64,
) -> Result<QuadraticGeometry> {
    let decomposition = decompose_trained(&run.w, tol)?;
    let theory = allocate(features, dims)?;
    let interior: Vec<usize> = theory
        .capacity
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 1e-9 && c < 1.0 - 1e-9)
        .map(|(i, _)| i)
        .collect();
    let shared_block = match interior.first() {
        Some(&i0) => decomposition.block_of(i0).filter(|&b| {
            interior
                .iter()
                .all(|&i| decomposition.block_of(i) == Some(b))
        }),
        None => None,
    };
    let scale_error = match (shared_block, theory.lambda) {
        (Some(b), Some(lam)) => (decomposition.blocks[b].scale / lam - 1.0).abs(),
        _ => f64::NAN,
    };
    let capacity_error = decomposition
        .capacities()
        .iter()
        .zip(&theory.capacity)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    Ok(QuadraticGeometry {
        run,
        decomposition,
        theory,
        interior,
        shared_block,
        scale_error,
        capacity_error,
    })
}

/// A ReLU-output model (or another autoencoder) trained by SGD, decomposed.
#[derive(Debug, Clone)]
pub struct AutoencoderGeometry {
    /// The best run (lowest evaluation loss).
    pub run: Run,
    /// Block structure of the trained W at `tolerance` (short columns pruned).
    pub decomposition: BlockDecomposition,
    /// Capacity of each feature as p/q (q ≤ [`MAX_DENOMINATOR`]) within the tolerance.
    pub fractions: Vec<Option<(u32, u32)>>,
}

/// Trains `model` (an autoencoder) on `features` in `dims` dimensions with `seeds` seeds,
/// keeps the lowest-loss run (spec §9.5: "fit several times and keep the lowest loss") and
/// decomposes it at `tol` (short columns pruned, [`decompose_trained`]), recognising every
/// capacity as a fraction within `tol`.
///
/// # Errors
/// [`Error::Parameter`] for a quadratic-family model; validation errors of the trainer;
/// [`Error::NotConverged`] from the decomposition.
pub fn autoencoder_geometry(
    model: Model,
    features: &FeatureSet,
    dims: usize,
    config: TrainConfig,
    seeds: usize,
    base_seed: u64,
    tol: f64,
) -> Result<AutoencoderGeometry> {
    if model.is_quadratic() {
        return Err(Error::Parameter(format!(
            "autoencoder geometry needs an autoencoder model, got {model:?}"
        )));
    }
    let runs = Trainer::new(model, dims, config)?.sweep(
        std::slice::from_ref(features),
        seeds,
        base_seed,
        &|| {},
    )?;
    let run = runs
        .first()
        .and_then(|r| best_by(r, |r| r.loss))
        .cloned()
        .ok_or_else(|| Error::Parameter("no runs".into()))?;
    autoencoder_geometry_of(run, tol)
}

/// The decomposition of [`autoencoder_geometry`] for an already trained `run`.
///
/// # Errors
/// [`Error::NotConverged`] from the decomposition.
pub fn autoencoder_geometry_of(run: Run, tol: f64) -> Result<AutoencoderGeometry> {
    let decomposition = decompose_trained(&run.w, tol)?;
    let fractions = fractions(&decomposition, MAX_DENOMINATOR, tol);
    Ok(AutoencoderGeometry {
        run,
        decomposition,
        fractions,
    })
}
