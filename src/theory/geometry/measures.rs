//! The per-feature and global measures of Elhage et al. (spec (E6)–(E8)), computed with the
//! companion notebook's recipe.

use nalgebra::DMatrix;

/// Floor on ‖Wᵢ‖ when normalising, Ŵᵢ = Wᵢ / max(‖Wᵢ‖, 1e-6), as in the notebook (E6).
pub const NOTEBOOK_NORM_FLOOR: f64 = 1e-6;

/// Per-feature Gram row sums: (‖Wᵢ‖², Σⱼ Gᵢⱼ², Σ_{j≠i} Gᵢⱼ²) with G = WᵀW.
fn gram_rows(w: &DMatrix<f64>) -> Vec<(f64, f64, f64)> {
    let g = w.tr_mul(w);
    (0..w.ncols())
        .map(|i| {
            let all = g.row(i).norm_squared();
            let gii = g[(i, i)];
            let off: f64 = (0..w.ncols())
                .filter(|&j| j != i)
                .map(|j| g[(i, j)] * g[(i, j)])
                .sum();
            (gii, all, off)
        })
        .collect()
}

/// Feature dimensionality of Elhage et al., by the notebook's recipe:
///
/// Dᵢ = ‖Wᵢ‖² / Σⱼ (Ŵᵢ·Wⱼ)²,   Ŵᵢ = Wᵢ / max(‖Wᵢ‖, 1e-6).
///
/// For ‖Wᵢ‖ ≥ 1e-6 this is exactly the capacity Cᵢ of (C1) (spec (C2)); below the floor it is
/// ‖Wᵢ‖²·10⁻¹² / Σⱼ Gᵢⱼ² = Cᵢ·10⁻¹²/‖Wᵢ‖² < Cᵢ, which sends very short features towards 0
/// continuously. An exactly zero column gives 0/0 in the notebook (NaN); here it gives 0, the
/// convention of (C1). Cost O(N²D).
///
/// Spec (indexed in derivations/README.md): (E6), (C2). Derivation: derivations/geometry.md (G8).
pub fn feature_dimensionality(w: &DMatrix<f64>) -> Vec<f64> {
    gram_rows(w)
        .into_iter()
        .map(|(n, all, _)| {
            let f = n.sqrt().max(NOTEBOOK_NORM_FLOOR);
            let denom = all / (f * f);
            if denom > 0.0 { n / denom } else { 0.0 }
        })
        .collect()
}

/// Dimensions per feature D* = m / ‖W‖_F² with m = D (rows of W) (E7).
///
/// For unit-length learned features ‖W‖_F² counts them, so D* is dimensions per learned
/// feature; it sticks at 1 and at ½ in the ReLU-output model. Infinite for W = 0.
///
/// Spec (indexed in derivations/README.md): (E7). Derivation: derivations/geometry.md (G9).
pub fn dimensions_per_feature(w: &DMatrix<f64>) -> f64 {
    let f2 = w.norm_squared();
    if f2 > 0.0 {
        w.nrows() as f64 / f2
    } else {
        f64::INFINITY
    }
}

/// Superposition score of every feature, Σ_{j≠i} (Ŵᵢ·Wⱼ)² with Ŵᵢ = Wᵢ / max(‖Wᵢ‖, 1e-6)
/// (E8): 0 for a feature orthogonal to all others (exactly 0 for exactly orthogonal
/// columns: the sum is taken over j ≠ i, never as a difference); ≥ 1 when strongly shared.
/// Cost O(N²D).
///
/// Spec (indexed in derivations/README.md): (E8). Derivation: derivations/geometry.md (G10).
pub fn superposition(w: &DMatrix<f64>) -> Vec<f64> {
    gram_rows(w)
        .into_iter()
        .map(|(n, _, off)| {
            let f = n.sqrt().max(NOTEBOOK_NORM_FLOOR);
            off / (f * f)
        })
        .collect()
}
