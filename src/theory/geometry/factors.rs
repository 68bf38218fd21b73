//! The factorisation W = Q·B·P of Theorem 2 (spec (C6)) and its inverse, the tegum product.

use std::ops::Range;

use nalgebra::DMatrix;

use super::{BlockDecomposition, MAX_EIGEN_SWEEPS, not_converged};
use crate::base::{Error, Result};

/// W = Q·B·P (spec (C6), Theorem 2 of Scherlis et al.), rebuilt from a
/// [`BlockDecomposition`]:
///
/// * Q = [U₁ … U_K U_⊥] ∈ O(D): the blocks' orthonormal bases, completed by an orthonormal
///   basis U_⊥ of the complement of their span (present when rank W < D);
/// * B (D×N) block-diagonal, block b = U_bᵀ W_b = √γ_b R_b in rows `rows[b]` and columns
///   `cols[b]`; columns of ignored features are zero;
/// * P (N×N) the permutation with P(c, order(c)) = 1, so that (BP)ᵢ = B_c for i = `order[c]`.
///
/// For an efficient block R_b R_bᵀ = I (semi-orthogonal); for any other block R_b is just
/// B_b/√γ_b, and [`TegumFactors::semi_orthogonality_residual`] says by how much it fails.
///
/// Spec (indexed in derivations/README.md): (C6), (C7), §8. Derivation: derivations/geometry.md (G5).
#[derive(Debug, Clone, PartialEq)]
pub struct TegumFactors {
    /// Q ∈ O(D) (to the orthogonality of the blocks, see
    /// [`TegumFactors::orthogonality_residual`]).
    pub q: DMatrix<f64>,
    /// B (D×N), block-diagonal with blocks √γ_b R_b.
    pub b: DMatrix<f64>,
    /// P (N×N), a permutation matrix.
    pub p: DMatrix<f64>,
    /// Column c of B is feature `order[c]` of W: blocks in order, then ignored features.
    pub order: Vec<usize>,
    /// Rows of B (and columns of Q) that belong to block b.
    pub rows: Vec<Range<usize>>,
    /// Columns of B that belong to block b.
    pub cols: Vec<Range<usize>>,
    /// Scale γ_b of each block.
    pub scales: Vec<f64>,
}

impl TegumFactors {
    pub(super) fn new(w: &DMatrix<f64>, dec: &BlockDecomposition) -> Result<Self> {
        let (d, n) = w.shape();
        if (d, n) != (dec.embedding_dims, dec.feature_count) {
            return Err(Error::Matrix(format!(
                "W is {d}×{n} but the decomposition is of a {}×{} matrix",
                dec.embedding_dims, dec.feature_count
            )));
        }
        if !dec.tegum {
            return Err(Error::Certificate(format!(
                "W is not a tegum product of its blocks: the largest cosine between two blocks' \
                 column spaces is {:e} > tolerance {:e}",
                dec.max_cross_overlap, dec.tolerance
            )));
        }
        let r = dec.dims_sum();
        if r > d {
            return Err(Error::Certificate(format!(
                "the blocks' dimensions add up to {r} > D = {d}: their spaces are not independent"
            )));
        }

        let mut q = DMatrix::zeros(d, d);
        let mut b = DMatrix::zeros(d, n);
        let mut order = Vec::with_capacity(n);
        let mut rows = Vec::with_capacity(dec.blocks.len());
        let mut cols = Vec::with_capacity(dec.blocks.len());
        let (mut r0, mut c0) = (0, 0);
        for blk in &dec.blocks {
            let (db, nb) = (blk.dims, blk.features.len());
            q.columns_mut(r0, db).copy_from(&blk.basis);
            let wb = w.select_columns(blk.features.iter());
            b.view_mut((r0, c0), (db, nb))
                .copy_from(&blk.basis.tr_mul(&wb));
            order.extend_from_slice(&blk.features);
            rows.push(r0..r0 + db);
            cols.push(c0..c0 + nb);
            r0 += db;
            c0 += nb;
        }
        order.extend_from_slice(&dec.ignored);
        if r < d {
            let complement = complement_basis(&q.columns(0, r).into_owned(), d - r)?;
            q.columns_mut(r, d - r).copy_from(&complement);
        }
        let mut p = DMatrix::zeros(n, n);
        for (c, &i) in order.iter().enumerate() {
            p[(c, i)] = 1.0;
        }
        Ok(TegumFactors {
            q,
            b,
            p,
            order,
            rows,
            cols,
            scales: dec.blocks.iter().map(|blk| blk.scale).collect(),
        })
    }

    /// Q·B·P, which reproduces W (up to its ignored columns, which B sets to zero).
    pub fn product(&self) -> DMatrix<f64> {
        &self.q * &self.b * &self.p
    }

    /// R_b = B_b / √γ_b (D_b×N_b), the semi-orthogonal factor of block `blk` when it is
    /// efficient (C7).
    ///
    /// # Panics
    /// If `blk` is not a block index.
    pub fn semi_orthogonal(&self, blk: usize) -> DMatrix<f64> {
        let (rows, cols) = (&self.rows[blk], &self.cols[blk]);
        self.b
            .view((rows.start, cols.start), (rows.len(), cols.len()))
            .into_owned()
            / self.scales[blk].sqrt()
    }

    /// max over blocks and entries |R_b R_bᵀ − I|: 0 (to rounding) exactly when every block is
    /// efficient (C7).
    pub fn semi_orthogonality_residual(&self) -> f64 {
        (0..self.rows.len())
            .map(|blk| {
                let r = self.semi_orthogonal(blk);
                let rrt = &r * r.transpose();
                max_abs(&(rrt - DMatrix::identity(r.nrows(), r.nrows())))
            })
            .fold(0.0, f64::max)
    }

    /// max |QᵀQ − I| over entries: of the order of the blocks' cross overlaps.
    pub fn orthogonality_residual(&self) -> f64 {
        let d = self.q.nrows();
        max_abs(&(self.q.tr_mul(&self.q) - DMatrix::identity(d, d)))
    }
}

fn max_abs(m: &DMatrix<f64>) -> f64 {
    m.iter().fold(0.0, |acc, x| acc.max(x.abs()))
}

/// An orthonormal basis (D×k) of the orthogonal complement of the span of `u` (orthonormal
/// columns): the eigenvectors of the projector I − UUᵀ with the k largest eigenvalues (≈ 1).
fn complement_basis(u: &DMatrix<f64>, k: usize) -> Result<DMatrix<f64>> {
    let d = u.nrows();
    let proj = DMatrix::identity(d, d) - u * u.transpose();
    let eig = nalgebra::SymmetricEigen::try_new(proj, f64::EPSILON, MAX_EIGEN_SWEEPS)
        .ok_or_else(|| not_converged("symmetric eigensolver (nalgebra)"))?;
    let mut idx: Vec<usize> = (0..d).collect();
    idx.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    Ok(eig.eigenvectors.select_columns(idx[..k].iter()))
}

/// The tegum product (direct sum) of blocks √γ_b R_b: the block-diagonal matrix
/// B = diag(√γ₁R₁, …, √γ_KR_K) of size (Σ D_b)×(Σ N_b), the B of (C6) with Q = I, P = I.
///
/// With every R_b semi-orthogonal (R_bR_bᵀ = I) the result is efficient, with nᵢ = γ_bCᵢ
/// and Σ_{i∈b} Cᵢ = D_b (C7). R_b need not be semi-orthogonal: any blocks are accepted.
///
/// Spec (indexed in derivations/README.md): (C6), (C7), §8. Derivation: derivations/geometry.md (G5).
///
/// # Errors
/// [`Error::Parameter`] for a γ_b that is not finite and > 0; [`Error::Matrix`] for an empty
/// list, an empty block or a non-finite entry.
pub fn tegum_product(blocks: &[(f64, DMatrix<f64>)]) -> Result<DMatrix<f64>> {
    if blocks.is_empty() {
        return Err(Error::Matrix(
            "a tegum product needs at least one block".into(),
        ));
    }
    for (k, (gamma, r)) in blocks.iter().enumerate() {
        if !(gamma.is_finite() && *gamma > 0.0) {
            return Err(Error::Parameter(format!(
                "scale γ of block {k} must be finite and > 0, got {gamma}"
            )));
        }
        if r.is_empty() {
            return Err(Error::Matrix(format!(
                "block {k} is empty ({:?})",
                r.shape()
            )));
        }
        if r.iter().any(|x| !x.is_finite()) {
            return Err(Error::Matrix(format!("block {k} has a non-finite entry")));
        }
    }
    let d: usize = blocks.iter().map(|(_, r)| r.nrows()).sum();
    let n: usize = blocks.iter().map(|(_, r)| r.ncols()).sum();
    let mut out = DMatrix::zeros(d, n);
    let (mut r0, mut c0) = (0, 0);
    for (gamma, r) in blocks {
        out.view_mut((r0, c0), r.shape())
            .copy_from(&(r * gamma.sqrt()));
        r0 += r.nrows();
        c0 += r.ncols();
    }
    Ok(out)
}
