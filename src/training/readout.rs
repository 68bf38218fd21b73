//! Read-outs of trained weights beyond capacity (Z3): feature cosines, represented and
//! ignored features, and per-neuron views of a privileged hidden basis (monosemanticity,
//! features per neuron, dead neurons). Pure functions of W (D×N, column i = feature i, row
//! r = neuron r).
//!
//! Derivation: derivations/zoo-a.md (Z3), (ZA8).
//!
//! # Example
//!
//! ```
//! use nalgebra::DMatrix;
//! use polycap::training::readout::{cosine, neurons, MONO_TAU};
//!
//! // Neuron 1 reads feature 1 alone; neuron 2 mixes features 2 and 3 equally.
//! let w = DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 0.0, 0.0, 1.0, -1.0]);
//! let v = neurons(&w, MONO_TAU);
//! assert!(v[0].monosemantic && !v[1].monosemantic);
//! assert!((cosine(&w, 1, 2) + 1.0).abs() < 1e-12);
//! ```

use nalgebra::DMatrix;

/// Columns shorter than this have cosine 0 with everything (Z3).
pub const COS_NORM_MIN: f64 = 1e-6;
/// A feature is represented when ‖Wᵢ‖ ≥ 0.5 (Z3).
pub const REPRESENTED: f64 = 0.5;
/// A feature is ignored when ‖Wᵢ‖ < 0.1 (Z3).
pub const IGNORED: f64 = 0.1;
/// Monosemanticity threshold τ of the acceptance checks (Z3); \[A\]'s code uses 0.99, its
/// docstring 0.9 (spec §14.8 item 6).
pub const MONO_TAU: f64 = 0.9;
/// A neuron is dead when ‖W_{r,:}‖ < `DEAD_REL`·max_{r′} ‖W_{r′,:}‖ (Z3).
pub const DEAD_REL: f64 = 1e-3;

/// cos(Wᵢ, Wⱼ) = Wᵢ·Wⱼ/(‖Wᵢ‖‖Wⱼ‖), 0 if either norm is below [`COS_NORM_MIN`] (Z3).
pub fn cosine(w: &DMatrix<f64>, i: usize, j: usize) -> f64 {
    let (a, b) = (w.column(i), w.column(j));
    let (na, nb) = (a.norm(), b.norm());
    if na < COS_NORM_MIN || nb < COS_NORM_MIN {
        0.0
    } else {
        (a.dot(&b) / (na * nb)).clamp(-1.0, 1.0)
    }
}

/// The N×N matrix of [`cosine`]s.
pub fn cosines(w: &DMatrix<f64>) -> DMatrix<f64> {
    let n = w.ncols();
    DMatrix::from_fn(n, n, |i, j| cosine(w, i, j))
}

/// ‖Wᵢ‖ ≥ [`REPRESENTED`] (Z3).
pub fn represented(w: &DMatrix<f64>, i: usize) -> bool {
    w.column(i).norm() >= REPRESENTED
}

/// ‖Wᵢ‖ < [`IGNORED`] (Z3).
pub fn ignored(w: &DMatrix<f64>, i: usize) -> bool {
    w.column(i).norm() < IGNORED
}

/// One neuron (row r of W) of a privileged hidden basis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neuron {
    /// mono_r = max_i |W_ri| / ‖W_{r,:}‖₂ ∈ \[1/√N, 1\] (Z3); 0 for a zero row.
    pub mono: f64,
    /// The feature of largest |W_ri| (0-based; the first on ties).
    pub top: usize,
    /// Features per neuron, the participation ratio (Σᵢ W_ri²)²/Σᵢ W_ri⁴ ∈ \[1, N\] (ZA8); 0
    /// for a zero row.
    pub features: f64,
    /// ‖W_{r,:}‖ < [`DEAD_REL`]·max_{r′} ‖W_{r′,:}‖ (Z3).
    pub dead: bool,
    /// Live and mono_r ≥ τ.
    pub monosemantic: bool,
}

/// Every neuron of W with monosemanticity threshold `tau` (Z3), (ZA8).
pub fn neurons(w: &DMatrix<f64>, tau: f64) -> Vec<Neuron> {
    let norms: Vec<f64> = w.row_iter().map(|r| r.norm()).collect();
    let max = norms.iter().copied().fold(0.0, f64::max);
    w.row_iter()
        .zip(&norms)
        .map(|(row, &norm)| {
            let (top, big) = row.iter().enumerate().fold((0, 0.0f64), |(k, m), (i, &x)| {
                if x.abs() > m { (i, x.abs()) } else { (k, m) }
            });
            let sq: f64 = row.iter().map(|x| x * x).sum();
            let quart: f64 = row.iter().map(|x| x.powi(4)).sum();
            let dead = !(norm >= DEAD_REL * max && norm > 0.0);
            let mono = if norm > 0.0 { big / norm } else { 0.0 };
            Neuron {
                mono,
                top,
                features: if quart > 0.0 { sq * sq / quart } else { 0.0 },
                dead,
                monosemantic: !dead && mono >= tau,
            }
        })
        .collect()
}

/// Neuron counts: live, monosemantic and polysemantic among the live, dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NeuronCounts {
    /// Live neurons.
    pub live: usize,
    /// Live neurons with mono_r ≥ τ.
    pub monosemantic: usize,
    /// Live neurons with mono_r < τ.
    pub polysemantic: usize,
    /// Dead neurons (excluded from the fractions).
    pub dead: usize,
}

impl NeuronCounts {
    /// Counts of [`neurons`].
    pub fn of(view: &[Neuron]) -> Self {
        let mut c = NeuronCounts::default();
        for v in view {
            if v.dead {
                c.dead += 1;
            } else {
                c.live += 1;
                if v.monosemantic {
                    c.monosemantic += 1;
                } else {
                    c.polysemantic += 1;
                }
            }
        }
        c
    }

    /// Monosemantic fraction of the live neurons (0 when none is live).
    pub fn mono_fraction(&self) -> f64 {
        if self.live == 0 {
            0.0
        } else {
            self.monosemantic as f64 / self.live as f64
        }
    }
}
