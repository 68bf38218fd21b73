//! Geometry of an embedding W (D×N, columns = features): its decomposition into mutually
//! orthogonal blocks (the tegum factors), their dimensions, scales and capacities, the
//! factorisation W = Q·B·P of Theorem 2, simple-fraction and polytope recognition, and the
//! per-feature measures of Elhage et al. (spec §2.3, §8, §9.3).
//!
//! * [`decompose`] groups the non-zero features into the connected components of the graph
//!   with an edge wherever |Ŵᵢ·Ŵⱼ| > tol. Every component is a [`Block`]: its dimension
//!   D_b = numerical rank of its columns, its scale γ_b, the capacities of its features and
//!   whether it is efficient (Σ_{i∈b} Cᵢ = D_b, (C7)). The blocks' column spaces are checked
//!   for mutual orthogonality: only then is W a tegum product of its blocks, (C6).
//! * [`BlockDecomposition::factors`] rebuilds Q ∈ O(D), B block-diagonal with blocks
//!   √γ_b R_b and the permutation P with W = Q·B·P (Theorem 2, (C6)).
//! * [`nearest_fraction`] and [`POLYTOPE_FRACTIONS`] recognise the capacities of the regular
//!   polytopes (E6); [`feature_dimensionality`], [`dimensions_per_feature`] and
//!   [`superposition`] are (E6)–(E8).
//!
//! Derivation of every statement: derivations/geometry.md.
//!
//! # Example
//! ```
//! use nalgebra::DMatrix;
//! use polycap::theory::geometry::{decompose, nearest_fraction, polytope};
//!
//! // Fig. 6(b) of Scherlis et al.: e₁ orthogonal to an antipodal pair ±e₂ (D = 2, N = 3).
//! let w = DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 0.0,
//!                                         0.0, 1.0, -1.0]);
//! let g = decompose(&w, 1e-9).expect("finite matrix, valid tolerance");
//! assert_eq!(g.blocks.len(), 2);
//! assert_eq!(g.blocks[0].features, vec![0]);    // a 1×1 monosemantic block, C = 1
//! assert_eq!(g.blocks[1].features, vec![1, 2]); // a 1×2 block (digon), C = ½ each
//! assert_eq!(g.blocks[1].dims, 1);
//! assert!(g.efficient && g.tegum);              // Σ C = 2 = D, orthogonal blocks
//! let (p, q) = nearest_fraction(g.blocks[1].capacities[0], 8, 1e-9).expect("½");
//! assert_eq!((p, q), (1, 2));
//! assert_eq!(polytope(p, q).map(|f| f.name), Some("digon"));
//!
//! // W = Q·B·P holds to rounding.
//! let f = g.factors(&w).expect("orthogonal blocks");
//! assert!((f.product() - &w).norm() < 1e-12);
//! ```

mod factors;
mod fraction;
mod measures;

pub use factors::{TegumFactors, tegum_product};
pub use fraction::{POLYTOPE_FRACTIONS, PolytopeFraction, nearest_fraction, polytope};
pub use measures::{
    NOTEBOOK_NORM_FLOOR, dimensions_per_feature, feature_dimensionality, superposition,
};

use nalgebra::DMatrix;

use crate::base::{Error, Result};
use crate::theory::capacity::{self, zero_cut};

/// Default tolerance of [`decompose`]: cosines |Ŵᵢ·Ŵⱼ| ≤ 1e-9 count as orthogonal.
///
/// Right for matrices built in floating point from exact structure (rounding leaves
/// cosines near 1e-16); trained matrices need a tolerance at their noise level (e.g. 1e-2).
pub const DEFAULT_TOLERANCE: f64 = 1e-9;

/// Maximum sweeps of the symmetric eigensolver before [`Error::NotConverged`].
const MAX_EIGEN_SWEEPS: usize = 10_000;

/// One tegum factor of W: a maximal set of features connected by non-zero overlaps.
///
/// For an efficient block, W_b = √γ_b U_b R_b with U_b orthonormal (D×D_b) and R_b
/// semi-orthogonal (D_b×N_b, R_b R_bᵀ = I): nᵢ = γ_b Cᵢ and Σ_{i∈b} Cᵢ = D_b (C7).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Dimension D_b of the block: numerical rank of its columns (singular values
    /// σ > tol·σ_max of W_b).
    pub dims: usize,
    /// The block's features (0-based column indices of W), ascending.
    pub features: Vec<usize>,
    /// Scale γ_b = Σ_{i∈b} nᵢ / Σ_{i∈b} Cᵢ: the capacity-weighted mean of nᵢ/Cᵢ, equal to the
    /// common value nᵢ/Cᵢ and to the squared singular value of W_b when the block is
    /// efficient (C7).
    pub scale: f64,
    /// Relative spread (max nᵢ/Cᵢ − min nᵢ/Cᵢ)/γ_b over the block; 0 (to rounding) for an
    /// efficient block. Zero spread alone does not imply efficiency (Fig. 6(d)).
    pub scale_spread: f64,
    /// Capacity Cᵢ (C1) of each feature, in the order of `features`, computed on the WHOLE
    /// matrix W; see [`BlockDecomposition::capacity_leak`] for the difference to the
    /// capacities of the block on its own.
    pub capacities: Vec<f64>,
    /// Squared length nᵢ = ‖Wᵢ‖² of each feature, in the order of `features`.
    pub sq_norms: Vec<f64>,
    /// Σ_{i∈b} Cᵢ.
    pub capacity_sum: f64,
    /// Relative spread (σ₁² − σ²_{D_b})/σ₁² of the block's retained squared singular values:
    /// 0 exactly when W_bW_bᵀ = γ_b·(projector onto its span), i.e. for an efficient block.
    pub spectral_spread: f64,
    /// Efficient block (C7): |Σ_{i∈b} Cᵢ − D_b| ≤ tol·N_b and `spectral_spread` ≤ tol. The two
    /// conditions are equivalent in exact arithmetic; the first deviates only to second order
    /// in a perturbation of W, the second to first order, like the cosines of the graph
    /// (derivations/geometry.md (G3)).
    pub efficient: bool,
    /// Singular values of W_b (the block's columns), descending; an efficient block has D_b
    /// of them equal to √γ_b and the rest zero.
    pub singular_values: Vec<f64>,
    /// Orthonormal basis U_b (D×D_b) of the block's column space: the left singular vectors
    /// of W_b that belong to the D_b retained singular values.
    pub basis: DMatrix<f64>,
}

impl Block {
    /// Number of features N_b of the block.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Always false: a block holds at least one feature.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

/// The block structure of an embedding W (D×N), as computed by [`decompose`].
#[derive(Debug, Clone, PartialEq)]
pub struct BlockDecomposition {
    /// Embedding dimension D (rows of W).
    pub embedding_dims: usize,
    /// Number of features N (columns of W).
    pub feature_count: usize,
    /// The blocks (connected components), ordered by their smallest feature index.
    /// Monosemantic features are 1×1 blocks.
    pub blocks: Vec<Block>,
    /// Ignored features: ‖Wᵢ‖² ≤ τ·maxⱼ ‖Wⱼ‖², τ = [`capacity::ZERO_COLUMN_THRESHOLD`], capacity 0 (C1).
    pub ignored: Vec<usize>,
    /// Total capacity C = Σᵢ Cᵢ of W, (C1), (C5).
    pub total_capacity: f64,
    /// Numerical rank of W: singular values σ > tol·σ_max.
    pub rank: usize,
    /// Efficient W (C6): rank W = D, |Σᵢ Cᵢ − D| ≤ tol·N, the blocks are mutually orthogonal
    /// (`tegum`) and every block is efficient. In exact arithmetic the first two imply the
    /// others (Theorem 2); at a tolerance they are checked separately.
    pub efficient: bool,
    /// Largest cosine between the column spaces of two different blocks: the largest
    /// singular value of U_aᵀU_b over all pairs a ≠ b (0 with fewer than two blocks).
    pub max_cross_overlap: f64,
    /// The blocks span mutually orthogonal subspaces (`max_cross_overlap` ≤ tol), so W is the
    /// tegum product (direct sum) of its blocks. When false the components only have
    /// pairwise near-orthogonal columns and W is NOT a tegum product of them.
    pub tegum: bool,
    /// max over features |Cᵢ(W) − Cᵢ(W_b)|: how much the capacities on the whole W differ
    /// from those of each block on its own (0 exactly when the blocks' columns are exactly
    /// orthogonal to one another).
    pub capacity_leak: f64,
    /// The tolerance the decomposition was computed with.
    pub tolerance: f64,
}

impl BlockDecomposition {
    /// Index of the block that holds feature `i` (None if ignored or out of range).
    pub fn block_of(&self, i: usize) -> Option<usize> {
        self.blocks.iter().position(|b| b.features.contains(&i))
    }

    /// Capacity of every feature in column order (0 for ignored features).
    pub fn capacities(&self) -> Vec<f64> {
        let mut c = vec![0.0; self.feature_count];
        for b in &self.blocks {
            for (&i, &ci) in b.features.iter().zip(&b.capacities) {
                c[i] = ci;
            }
        }
        c
    }

    /// Σ_b D_b: equals rank W for a tegum product.
    pub fn dims_sum(&self) -> usize {
        self.blocks.iter().map(|b| b.dims).sum()
    }

    /// The factorisation W = Q·B·P of Theorem 2 (C6), rebuilt from the blocks; see
    /// [`TegumFactors`].
    ///
    /// Spec (indexed in derivations/README.md): (C6). Derivation: derivations/geometry.md (G5).
    ///
    /// # Errors
    /// [`Error::Matrix`] if `w` is not the matrix this decomposition was computed from (shape);
    /// [`Error::Certificate`] if the blocks are not mutually orthogonal (`tegum` false);
    /// [`Error::NotConverged`] if the eigen-solver completing Q does not converge.
    pub fn factors(&self, w: &DMatrix<f64>) -> Result<TegumFactors> {
        TegumFactors::new(w, self)
    }
}

/// Splits W (D×N, columns = features) into its tegum factors (spec (C6), §8, §9.3).
///
/// 1. Features with nᵢ = ‖Wᵢ‖² ≤ τ·maxⱼ nⱼ, τ = [`capacity::ZERO_COLUMN_THRESHOLD`], are ignored
///    (capacity 0).
/// 2. The others are the vertices of a graph with an edge i–j wherever
///    |Gᵢⱼ| > tol·√(nᵢnⱼ), i.e. |cos∠(Wᵢ, Wⱼ)| > tol: a tolerance relative to the lengths of
///    the two columns, so invariant under W → αQW and under rescaling single columns. The
///    blocks are its connected components (union–find, O(N²D) for G = WᵀW).
/// 3. Per block: D_b = #{σ(W_b) > tol·σ_max(W_b)}, capacities from the whole W via
///    [`capacity::capacities`] (C1), γ_b = Σnᵢ/ΣCᵢ, efficient iff |ΣCᵢ − D_b| ≤ tol·N_b and
///    the retained σ² agree to tol (C7).
/// 4. Orthogonality of the blocks' column spaces (largest principal cosine ≤ tol), rank W
///    (σ > tol·σ_max) and efficiency of W (rank W = D, |ΣC − D| ≤ tol·N, orthogonal
///    efficient blocks, (C6)).
///
/// For an efficient W the components are exactly the blocks of W = Q·B·P, (C6) and
/// Theorem 2: derivations/geometry.md (G1)–(G4).
///
/// Spec (indexed in derivations/README.md): (C6), (C7), §8, §9.3. Derivation: derivations/geometry.md.
///
/// # Errors
/// [`Error::Dims`] for D = 0, [`Error::NoFeatures`] for N = 0, [`Error::Matrix`] for a
/// non-finite entry, [`Error::Parameter`] unless 0 < tol < 1, [`Error::NotConverged`] if an
/// SVD does not converge.
pub fn decompose(w: &DMatrix<f64>, tol: f64) -> Result<BlockDecomposition> {
    let (d, n) = w.shape();
    if d == 0 {
        return Err(Error::Dims(0));
    }
    if n == 0 {
        return Err(Error::NoFeatures);
    }
    crate::theory::capacity::check_finite(w)?;
    if !(tol.is_finite() && tol > 0.0 && tol < 1.0) {
        return Err(Error::Parameter(format!(
            "geometry tolerance must be in (0, 1), got {tol}"
        )));
    }

    let sq_norm: Vec<f64> = w.column_iter().map(|c| c.norm_squared()).collect();
    let cut = zero_cut(&sq_norm);
    let (kept, ignored): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| sq_norm[i] > cut);

    // (G1′) edges |Gᵢⱼ| > tol √(nᵢ nⱼ) between kept features; components by union–find.
    let g = w.tr_mul(w);
    let mut uf = UnionFind::new(n);
    for (a, &i) in kept.iter().enumerate() {
        for &j in &kept[a + 1..] {
            if g[(i, j)].abs() > tol * (sq_norm[i] * sq_norm[j]).sqrt() {
                uf.union(i, j);
            }
        }
    }
    let mut components: Vec<Vec<usize>> = Vec::new();
    let mut slot = vec![usize::MAX; n];
    for &i in &kept {
        let r = uf.find(i);
        if slot[r] == usize::MAX {
            slot[r] = components.len();
            components.push(Vec::new());
        }
        components[slot[r]].push(i);
    }

    let cap = capacity::capacities(w);
    let mut blocks = Vec::with_capacity(components.len());
    let mut capacity_leak = 0.0f64;
    for features in components {
        let wb = w.select_columns(features.iter());
        let (sigma, u) = svd_left(&wb)?;
        let smax = sigma.first().copied().unwrap_or(0.0);
        let dims = sigma.iter().filter(|&&s| s > tol * smax).count();
        let basis = u.columns(0, dims).into_owned();
        let mut sigma = sigma;
        sigma.truncate(features.len().min(d));

        let capacities: Vec<f64> = features.iter().map(|&i| cap[i]).collect();
        let sq_norms: Vec<f64> = features.iter().map(|&i| sq_norm[i]).collect();
        let capacity_sum: f64 = capacities.iter().sum();
        // (G3) γ_b = Σ nᵢ / Σ Cᵢ; every Cᵢ > 0 here because nᵢ > τ.
        let scale = sq_norms.iter().sum::<f64>() / capacity_sum;
        let (lo, hi) = sq_norms
            .iter()
            .zip(&capacities)
            .map(|(ni, ci)| ni / ci)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(r), hi.max(r))
            });
        let scale_spread = (hi - lo) / scale;
        let spectral_spread = if dims > 0 {
            1.0 - (sigma[dims - 1] / smax).powi(2)
        } else {
            0.0
        };
        let efficient = (capacity_sum - dims as f64).abs() <= tol * features.len() as f64
            && spectral_spread <= tol;

        // §3 of the derivation: capacities of the block alone, to measure the leak across
        // blocks.
        for (own, whole) in capacity::capacities(&wb).iter().zip(&capacities) {
            capacity_leak = capacity_leak.max((own - whole).abs());
        }

        blocks.push(Block {
            dims,
            features,
            scale,
            scale_spread,
            capacities,
            sq_norms,
            capacity_sum,
            spectral_spread,
            efficient,
            singular_values: sigma,
            basis,
        });
    }

    let max_cross_overlap = max_cross_overlap(&blocks)?;
    let sigma = svd_values(w)?;
    let smax = sigma.first().copied().unwrap_or(0.0);
    let rank = if smax > 0.0 {
        sigma.iter().filter(|&&s| s > tol * smax).count()
    } else {
        0
    };
    let total_capacity: f64 = cap.iter().sum();
    let tegum = max_cross_overlap <= tol;
    let efficient = rank == d
        && (total_capacity - d as f64).abs() <= tol * n as f64
        && tegum
        && blocks.iter().all(|b| b.efficient);

    Ok(BlockDecomposition {
        embedding_dims: d,
        feature_count: n,
        blocks,
        ignored,
        total_capacity,
        rank,
        efficient,
        max_cross_overlap,
        tegum,
        capacity_leak,
        tolerance: tol,
    })
}

/// Largest principal cosine between the column spaces of two different blocks:
/// max_{a<b} σ_max(U_aᵀ U_b) (G4).
fn max_cross_overlap(blocks: &[Block]) -> Result<f64> {
    let mut worst = 0.0f64;
    for (a, ba) in blocks.iter().enumerate() {
        for bb in &blocks[a + 1..] {
            let m = ba.basis.tr_mul(&bb.basis);
            let s = if m.len() == 1 {
                m[(0, 0)].abs()
            } else {
                svd_values(&m)?.first().copied().unwrap_or(0.0)
            };
            worst = worst.max(s);
        }
    }
    Ok(worst)
}

fn not_converged(solver: &'static str) -> Error {
    Error::NotConverged {
        solver,
        reason: "QR sweeps did not converge".into(),
        iterations: MAX_EIGEN_SWEEPS as u64,
    }
}

/// Singular values (descending) of `m`, by certified one-sided Jacobi.
fn svd_values(m: &DMatrix<f64>) -> Result<Vec<f64>> {
    Ok(crate::theory::svd::left_svd(m, false)?.0)
}

/// Singular values (descending, as many as rows) and the matching left singular vectors
/// (D×D, as columns) of `m`, by certified one-sided Jacobi.
fn svd_left(m: &DMatrix<f64>) -> Result<(Vec<f64>, DMatrix<f64>)> {
    let (sigma, u) = crate::theory::svd::left_svd(m, true)?;
    let u = u.expect("invariant: U was requested from the SVD");
    Ok((sigma, u))
}

/// Disjoint sets with path halving and union by size.
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra] < self.size[rb] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb] = ra;
        self.size[ra] += self.size[rb];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_joins_chains() {
        let mut uf = UnionFind::new(6);
        uf.union(0, 3);
        uf.union(3, 5);
        uf.union(1, 2);
        assert_eq!(uf.find(5), uf.find(0));
        assert_eq!(uf.find(2), uf.find(1));
        assert_ne!(uf.find(0), uf.find(1));
        assert_ne!(uf.find(4), uf.find(0));
    }

    #[test]
    fn left_svd_is_sorted_and_orthonormal() {
        let m = DMatrix::from_fn(4, 3, |r, c| ((r * 3 + c) as f64 * 0.71).cos());
        let (s, u) = svd_left(&m).expect("converges");
        assert!(s.windows(2).all(|p| p[0] >= p[1]));
        let utu = u.tr_mul(&u);
        assert!((utu - DMatrix::identity(4, 4)).norm() < 1e-12);
    }
}
