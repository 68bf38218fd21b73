//! The theory side of a comparison, pluggable: a [`Theory`] predicts the optimal capacities,
//! lengths, loss and phases of a feature set in D dimensions. [`QuadraticTheory`] (the
//! optimal allocation (A7) of the quadratic model) is the default; tests inject deliberately
//! wrong theories to check that verification rejects them.
//!
//! Derivation: derivations/verify.md (V1).

use crate::base::{FeatureSet, Result};
use crate::theory::allocation::{self, Phase};

/// What a theory predicts for one feature set.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Capacities Cᵢ (C1) at the optimum.
    pub capacity: Vec<f64>,
    /// Squared lengths nᵢ = ‖Wᵢ‖² at the optimum.
    pub sq_norm: Vec<f64>,
    /// Optimal loss L* (Q8 normalisation).
    pub loss: f64,
    /// Phase of every feature.
    pub phase: Vec<Phase>,
}

/// A theory of the optimum: anything that maps (features, D) to a [`Prediction`].
pub trait Theory: Sync {
    /// Short name for reports (e.g. "quadratic allocation (A7)").
    fn name(&self) -> String;
    /// The prediction for `features` embedded in `dims` dimensions.
    fn predict(&self, features: &FeatureSet, dims: usize) -> Result<Prediction>;
}

/// The quadratic model's optimal allocation, solved exactly by (A7) (spec §6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuadraticTheory;

impl Theory for QuadraticTheory {
    fn name(&self) -> String {
        "quadratic allocation (A7)".into()
    }

    /// Spec (indexed in derivations/README.md): (A7). Derivation: derivations/verify.md (V1).
    fn predict(&self, features: &FeatureSet, dims: usize) -> Result<Prediction> {
        let a = allocation::allocate(features, dims)?;
        Ok(Prediction {
            capacity: a.capacity,
            sq_norm: a.sq_norm,
            loss: a.loss,
            phase: a.phase,
        })
    }
}
