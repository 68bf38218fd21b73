//! Capacity of the features of an embedding matrix: the fraction of a dimension each one
//! occupies (spec §2, (C1)–(C9)).
//!
//! W is D×N with **columns as features** (spec §1). With the Gram matrix G = WᵀW,
//!
//! Cᵢ = Gᵢᵢ² / (G²)ᵢᵢ = (Wᵢ·Wᵢ)² / Σⱼ (Wᵢ·Wⱼ)²,   0 ≤ Cᵢ ≤ 1,   1 ≤ Σᵢ Cᵢ ≤ rank W ≤ D.
//!
//! A column with nᵢ = ‖Wᵢ‖² ≤ τ·maxⱼ nⱼ, τ = [`ZERO_COLUMN_THRESHOLD`], has capacity 0: the
//! cut-off is relative, so capacity stays scale invariant (C1) and W is rescaled by its largest
//! entry before anything is squared (no overflow for entries near 1e160, no underflow near
//! 1e-160).
//!
//! Derivation of every formula and bound: derivations/capacity.md.
//!
//! # Example
//! ```
//! use nalgebra::DMatrix;
//! use polycap::theory::capacity::{analyze, capacities};
//!
//! // Fig. 6(b) of Scherlis et al.: e₁ and an antipodal pair ±e₂ in D = 2.
//! let w = DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 0.0,
//!                                         0.0, 1.0, -1.0]);
//! let c = capacities(&w);
//! assert!((c[0] - 1.0).abs() < 1e-15 && (c[1] - 0.5).abs() < 1e-15);
//! let report = analyze(&w).expect("finite matrix");
//! assert!((report.total_capacity - 2.0).abs() < 1e-12);
//! assert_eq!(report.rank, 2);
//! assert!(report.efficient); // Σ C = D = rank W
//! ```

use nalgebra::DMatrix;

use crate::base::{Error, Result};

/// Relative zero-column cut-off τ: columns with squared norm nᵢ = ‖Wᵢ‖² ≤ τ·maxⱼ nⱼ count as
/// zero, Cᵢ = 0 (derivations/capacity.md (C1)). Relative to the longest column, so W and
/// c·W (c > 0) get the same capacities.
pub const ZERO_COLUMN_THRESHOLD: f64 = 1e-10;

/// The absolute squared-norm cut-off τ·maxⱼ nⱼ below which a column of a matrix with
/// squared column norms `sq_norm` counts as zero ([`ZERO_COLUMN_THRESHOLD`]).
pub fn zero_cut(sq_norm: &[f64]) -> f64 {
    ZERO_COLUMN_THRESHOLD * sq_norm.iter().copied().fold(0.0, f64::max)
}

/// W times the power of two that brings its largest |entry| into [1, 2) — exact, no rounding
/// — when that entry is outside [1e-30, 1e30] (W itself otherwise): every quantity here is
/// scale invariant, and fourth powers of the rescaled entries neither overflow nor underflow.
fn rescaled(w: &DMatrix<f64>) -> std::borrow::Cow<'_, DMatrix<f64>> {
    let m = w.amax();
    if m == 0.0 || !m.is_finite() || (1e-30..=1e30).contains(&m) {
        return std::borrow::Cow::Borrowed(w);
    }
    // 2^−⌊log₂ m⌋, built in two factors so that neither overflows nor is subnormal.
    let e = m.log2().floor() as i32;
    let (a, b) = (-e / 2, -e - (-e / 2));
    std::borrow::Cow::Owned(w * 2f64.powi(a) * 2f64.powi(b))
}

/// Relative tolerance of [`CapacityReport::efficient`]: W is efficient when
/// |Σᵢ Cᵢ − D| ≤ `EFFICIENCY_TOL`·max(N, 1) and rank W = D (spec (C6)).
pub const EFFICIENCY_TOL: f64 = 1e-9;

/// Capacity of feature `i`: the fraction of an embedding dimension it occupies.
///
/// Cᵢ = (Wᵢ·Wᵢ)² / Σⱼ (Wᵢ·Wⱼ)²  (sum over all j, including j = i),
/// with Cᵢ = 0 when nᵢ = ‖Wᵢ‖² ≤ τ·maxⱼ nⱼ ([`ZERO_COLUMN_THRESHOLD`]). Cost O(ND).
///
/// Derivation: derivations/capacity.md (C1).
///
/// # Panics
/// If `i` ≥ N (the number of columns).
pub fn capacity(w: &DMatrix<f64>, i: usize) -> f64 {
    assert!(
        i < w.ncols(),
        "feature index {i} out of range for {} columns",
        w.ncols()
    );
    let w = rescaled(w);
    let wi = w.column(i);
    let n_i = wi.norm_squared();
    if n_i <= zero_cut(&sq_norms(&w)) || n_i <= 0.0 {
        return 0.0;
    }
    // g = Wᵀ Wᵢ: the i-th row of the Gram matrix.
    let g = w.tr_mul(&wi);
    // Σⱼ gⱼ² ≥ gᵢ² = nᵢ², so the ratio is in (0, 1].
    (n_i * n_i / g.norm_squared()).min(1.0)
}

/// Capacities of all features: Cᵢ = Gᵢᵢ² / (G²)ᵢᵢ with G = WᵀW (spec (C1)).
///
/// (G²)ᵢᵢ = Σⱼ Gᵢⱼ² is the squared norm of row i of G, computed block by block (G² and the
/// full G are never held). For very large problems (N > D and N²D > 2³⁰) the same number is
/// computed as (G²)ᵢᵢ = Wᵢᵀ (WWᵀ) Wᵢ, which costs O(ND²) instead of O(N²D) but is less accurate
/// for columns of very different lengths (derivations/capacity.md (C1′)). Zero columns
/// (nᵢ ≤ τ·maxⱼ nⱼ, [`ZERO_COLUMN_THRESHOLD`]) get 0. Scale invariant: W is rescaled by its
/// largest entry first.
///
/// Derivation: derivations/capacity.md (C1), (C1′).
pub fn capacities(w: &DMatrix<f64>) -> Vec<f64> {
    capacities_with_threshold(w, ZERO_COLUMN_THRESHOLD)
}

/// [`capacities`] with a chosen relative zero-column threshold τ: Cᵢ = 0 when
/// nᵢ = ‖Wᵢ‖² ≤ τ·maxⱼ nⱼ. τ = 0 keeps every non-zero column.
///
/// Derivation: derivations/capacity.md (C1).
pub fn capacities_with_threshold(w: &DMatrix<f64>, threshold: f64) -> Vec<f64> {
    let (d, n) = w.shape();
    if n == 0 {
        return Vec::new();
    }
    let w = rescaled(w);
    let w = w.as_ref();
    let sq_norm = sq_norms(w);
    let threshold = threshold * sq_norm.iter().copied().fold(0.0, f64::max);
    let g2_diag = if n > d && (n * n).saturating_mul(d) > GRAM_WORK_LIMIT {
        outer_sq_diag(w)
    } else {
        gram_sq_diag(w)
    };
    sq_norm
        .iter()
        .zip(&g2_diag)
        .map(|(&ni, &g2)| {
            if ni <= threshold || ni <= 0.0 || g2 <= 0.0 {
                0.0
            } else {
                (ni * ni / g2).min(1.0)
            }
        })
        .collect()
}

/// Squared column norms nᵢ = ‖Wᵢ‖² = Gᵢᵢ (spec §1).
pub fn sq_norms(w: &DMatrix<f64>) -> Vec<f64> {
    w.column_iter().map(|c| c.norm_squared()).collect()
}

/// Above this many multiply-adds (N²D) and with N > D, [`capacities`] switches from the Gram
/// form of (C1) to the cheaper outer form (C1′).
const GRAM_WORK_LIMIT: usize = 1 << 30;

/// Rows of G computed per block in [`gram_sq_diag`] (memory O(`GRAM_BLOCK`·N)).
const GRAM_BLOCK: usize = 256;

/// (G²)ᵢᵢ = Σⱼ (Wᵢ·Wⱼ)² from the rows of the Gram matrix, O(N²D) time, computed in blocks of
/// rows so the N×N matrix is never held. Each term is a square: no cancellation.
fn gram_sq_diag(w: &DMatrix<f64>) -> Vec<f64> {
    let n = w.ncols();
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    while start < n {
        let len = GRAM_BLOCK.min(n - start);
        // Rows start..start+len of G = (W columns)ᵀ W.
        let rows = w.columns(start, len).tr_mul(w);
        out.extend(rows.row_iter().map(|r| r.norm_squared()));
        start += len;
    }
    out
}

/// (G²)ᵢᵢ = Wᵢᵀ M Wᵢ with M = WWᵀ (D×D), O(ND²). Clamped at 0 (M is positive semidefinite).
fn outer_sq_diag(w: &DMatrix<f64>) -> Vec<f64> {
    let m = w * w.transpose();
    let mw = &m * w;
    w.column_iter()
        .zip(mw.column_iter())
        .map(|(wi, mwi)| wi.dot(&mwi).max(0.0))
        .collect()
}

/// Rank of W from its singular values σ: #{σ > σ_max·max(D, N)·ε}, ε = f64::EPSILON
/// (the tolerance of LAPACK-style rank estimation). A zero or empty matrix has rank 0.
///
/// # Errors
/// [`Error::Matrix`] for non-finite entries; [`Error::NotConverged`] if the SVD does not
/// converge.
pub fn rank(w: &DMatrix<f64>) -> Result<usize> {
    let sigma = singular_values(&rescaled(w))?;
    let (d, n) = w.shape();
    let smax = sigma.iter().copied().fold(0.0, f64::max);
    if smax <= 0.0 {
        return Ok(0);
    }
    let tol = smax * (d.max(n) as f64) * f64::EPSILON;
    Ok(sigma.iter().filter(|&&s| s > tol).count())
}

/// [`Error::Matrix`] naming the first non-finite entry of W, if any.
pub(crate) fn check_finite(w: &DMatrix<f64>) -> Result<()> {
    if let Some(pos) = w.iter().position(|x| !x.is_finite()) {
        let d = w.nrows();
        return Err(Error::Matrix(format!(
            "entry (row {}, column {}) of W is {}; W must have finite entries",
            pos % d + 1,
            pos / d + 1,
            w[pos]
        )));
    }
    Ok(())
}

fn singular_values(w: &DMatrix<f64>) -> Result<Vec<f64>> {
    check_finite(w)?;
    if w.is_empty() {
        return Ok(Vec::new());
    }
    Ok(super::svd::left_svd(w, false)?.0)
}

/// Leverage-score capacities C̃ᵢ = (RᵀR)ᵢᵢ of the compact SVD W = Q S R (spec (C8)).
///
/// R holds the right singular vectors of the singular values above the rank tolerance of
/// [`rank`]. Σᵢ C̃ᵢ = rank W, and C̃ = C when W is efficient (Σ C = D). Optional alternative
/// to (C1), less continuous in W.
///
/// Spec (indexed in derivations/README.md): (C8). Derivation: derivations/capacity.md (C8).
///
/// # Errors
/// As [`rank`].
pub fn leverage_capacities(w: &DMatrix<f64>) -> Result<Vec<f64>> {
    check_finite(w)?;
    let (d, n) = w.shape();
    if w.is_empty() {
        return Ok(vec![0.0; n]);
    }
    // The right singular vectors of W are the left ones of Wᵀ (certified Jacobi SVD).
    let (sigma, v) = super::svd::left_svd(&rescaled(w).transpose(), true)?;
    let v = v.expect("invariant: vectors requested from the SVD");
    let smax = sigma.iter().copied().fold(0.0, f64::max);
    let tol = smax * (d.max(n) as f64) * f64::EPSILON;
    let mut out = vec![0.0; n];
    for (r, &s) in sigma.iter().enumerate() {
        if smax > 0.0 && s > tol {
            for (i, o) in out.iter_mut().enumerate() {
                *o += v[(i, r)] * v[(i, r)];
            }
        }
    }
    Ok(out)
}

/// Everything `polycap capacity` reports about one matrix W (D×N, columns = features).
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityReport {
    /// Capacity Cᵢ of each feature, (C1).
    pub capacity: Vec<f64>,
    /// Squared length nᵢ = ‖Wᵢ‖² of each feature.
    pub sq_norm: Vec<f64>,
    /// Total capacity C = Σᵢ Cᵢ; 1 ≤ C ≤ rank W for W ≠ 0, (C5).
    pub total_capacity: f64,
    /// Numerical rank of W (tolerance of [`rank`]).
    pub rank: usize,
    /// Efficient: |Σ C − D| ≤ [`EFFICIENCY_TOL`]·max(N, 1) and rank W = D, (C6).
    pub efficient: bool,
}

/// Capacities, squared lengths, total capacity, rank and efficiency of W.
///
/// The result is checked against its invariants (C2), (C5): 0 ≤ Cᵢ ≤ 1, ΣC ≤ rank W ≤ D (to
/// rounding); a violation is an [`Error::Invariant`], never a report.
///
/// Derivation: derivations/capacity.md (C1), (C5), (C6).
///
/// # Errors
/// [`Error::Matrix`] if W has a non-finite entry or a squared column length overflows f64
/// (entries beyond about 1e154); [`Error::NotConverged`] if the SVD behind the rank does not
/// converge; [`Error::Invariant`] as above.
pub fn analyze(w: &DMatrix<f64>) -> Result<CapacityReport> {
    CapacityReport::new(w)
}

impl CapacityReport {
    /// See [`analyze`].
    ///
    /// # Errors
    /// As [`analyze`].
    pub fn new(w: &DMatrix<f64>) -> Result<Self> {
        check_finite(w)?;
        let (d, n) = w.shape();
        let capacity = capacities(w);
        let sq_norm = sq_norms(w);
        if let Some(i) = sq_norm.iter().position(|x| !x.is_finite()) {
            return Err(Error::Matrix(format!(
                "‖W_{}‖² overflows f64 (largest entry {:e}); entries must be below 1e154 in \
                 magnitude: rescale W (capacity is scale invariant)",
                i + 1,
                w.amax()
            )));
        }
        let total_capacity: f64 = capacity.iter().sum();
        let rank = rank(w)?;
        check_invariants(&capacity, total_capacity, rank)?;
        let efficient = d > 0
            && rank == d
            && (total_capacity - d as f64).abs() <= EFFICIENCY_TOL * n.max(1) as f64;
        Ok(CapacityReport {
            capacity,
            sq_norm,
            total_capacity,
            rank,
            efficient,
        })
    }
}

/// (C2), (C5): 0 ≤ Cᵢ ≤ 1 and ΣC ≤ rank W, to a rounding slack of 1e-9·max(N, 1).
pub(crate) fn check_invariants(capacity: &[f64], total: f64, rank: usize) -> Result<()> {
    if let Some(i) = capacity
        .iter()
        .position(|c| !(c.is_finite() && (0.0..=1.0).contains(c)))
    {
        return Err(Error::Invariant(format!(
            "capacity C_{} = {} is outside [0, 1] (C2): W is too ill-conditioned for f64",
            i + 1,
            capacity[i]
        )));
    }
    if total > rank as f64 + EFFICIENCY_TOL * capacity.len().max(1) as f64 {
        return Err(Error::Invariant(format!(
            "ΣC = {total} exceeds rank W = {rank} (C5): W is too ill-conditioned for f64"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_and_outer_forms_agree() {
        // A fixed 3×700 matrix (several Gram blocks) with a zero column: both O(N²D) and
        // O(ND²) forms of (G²)ᵢᵢ.
        let mut w = DMatrix::from_fn(3, 700, |r, c| ((r * 700 + c) as f64 * 0.37).sin());
        w.column_mut(4).fill(0.0);
        let a = gram_sq_diag(&w);
        let b = outer_sq_diag(&w);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-13 * x.abs().max(1.0), "{x} vs {y}");
        }
    }
}
