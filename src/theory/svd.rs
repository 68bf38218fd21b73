//! Singular values and left singular vectors by one-sided (Hestenes) Jacobi rotations.
//!
//! nalgebra 0.34's bidiagonal SVD can return wrong singular values when singular vectors are
//! requested (dimforge/nalgebra#1172, still open: Σσ² ≠ ‖W‖²_F on exactly the rank-deficient
//! matrices with repeated singular values that efficient embeddings are made of). One-sided
//! Jacobi is simple, converges quadratically and is accurate to a few ulps relative to σ_max
//! for every singular value (Demmel–Veselić), which is what the rank decisions of
//! [`super::geometry::decompose`] and [`super::capacity::rank`] need. derivations/geometry.md (G11).
//! The one SVD of `theory`: every rank and singular-vector decision goes through it.

use nalgebra::DMatrix;

use crate::base::{Error, Result};

/// Maximum Jacobi sweeps (each sweep visits every column pair once); convergence is
/// quadratic and typically takes 5–10 sweeps.
const MAX_SWEEPS: usize = 100;

/// A column pair counts as orthogonal when |xᵢ·xⱼ| ≤ max(N, 4)·ε·‖xᵢ‖‖xⱼ‖ (N = rows of X),
/// and a column with ‖xᵢ‖ ≤ ε·‖X‖_F counts as zero: rotating rounding noise against itself
/// never converges and changes no singular value above ε·‖X‖_F.
fn orth_tol(rows: usize) -> f64 {
    rows.max(4) as f64 * f64::EPSILON
}

/// Relative tolerance of the certificates Σσ² = ‖W‖²_F and VᵀV = I.
const CERT_TOL: f64 = 1e-10;

/// The singular values σ₁ ≥ … ≥ σ_D of W (D×N) and, with `want_u`, its left singular vectors
/// U (D×D, column k belongs to σ_k).
///
/// Hestenes: rotate the D columns of X = Wᵀ (N×D) pairwise, X ← XJ, V ← VJ, until all are
/// mutually orthogonal; then XV has orthogonal columns of norms σ_k and V holds the left
/// singular vectors of W = Xᵀ (W Wᵀ V = V Σ²). Cost O(sweeps·D²N). There are D values (the
/// ones beyond min(D, N) are zero to rounding).
///
/// # Errors
/// [`Error::NotConverged`] after [`MAX_SWEEPS`] sweeps; [`Error::Certificate`] if the result
/// fails Σσ² = ‖W‖²_F or VᵀV = I to 1e-10.
pub(crate) fn left_svd(w: &DMatrix<f64>, want_u: bool) -> Result<(Vec<f64>, Option<DMatrix<f64>>)> {
    let d = w.nrows();
    let mut x = w.transpose();
    let mut v = want_u.then(|| DMatrix::<f64>::identity(d, d));
    let tol = orth_tol(x.nrows());
    let negligible = (f64::EPSILON * f64::EPSILON) * w.norm_squared();
    let mut converged = false;
    let mut sweeps = 0;
    while sweeps < MAX_SWEEPS && !converged {
        sweeps += 1;
        converged = true;
        for i in 0..d {
            for j in i + 1..d {
                let alpha = x.column(i).norm_squared();
                let beta = x.column(j).norm_squared();
                if alpha <= negligible || beta <= negligible {
                    continue;
                }
                let gamma = x.column(i).dot(&x.column(j));
                if gamma.abs() <= tol * (alpha * beta).sqrt() {
                    continue;
                }
                converged = false;
                // The rotation that zeroes the (i, j) entry of XᵀX (G11).
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                rotate(&mut x, i, j, c, s);
                if let Some(v) = v.as_mut() {
                    rotate(v, i, j, c, s);
                }
            }
        }
    }
    if !converged {
        return Err(Error::NotConverged {
            solver: "one-sided Jacobi SVD",
            reason: "column pairs still not orthogonal".into(),
            iterations: MAX_SWEEPS as u64,
        });
    }
    let norms: Vec<f64> = x.column_iter().map(|c| c.norm()).collect();
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| norms[b].total_cmp(&norms[a]));
    let sigma: Vec<f64> = order.iter().map(|&k| norms[k]).collect();

    let f2 = w.norm_squared();
    let s2: f64 = sigma.iter().map(|s| s * s).sum();
    if (s2 - f2).abs() > CERT_TOL * f2 {
        return Err(Error::Certificate(format!(
            "SVD trace check failed: Σσ² = {s2:e} but ‖W‖²_F = {f2:e}"
        )));
    }
    let u = match v {
        Some(v) => {
            let u = v.select_columns(order.iter());
            let dev = (u.tr_mul(&u) - DMatrix::identity(d, d)).amax();
            if dev > CERT_TOL {
                return Err(Error::Certificate(format!(
                    "left singular vectors are not orthonormal: max |UᵀU − I| = {dev:e}"
                )));
            }
            Some(u)
        }
        None => None,
    };
    Ok((sigma, u))
}

/// Columns (i, j) ← (c·xᵢ − s·xⱼ, s·xᵢ + c·xⱼ).
fn rotate(m: &mut DMatrix<f64>, i: usize, j: usize, c: f64, s: f64) {
    for k in 0..m.nrows() {
        let (a, b) = (m[(k, i)], m[(k, j)]);
        m[(k, i)] = c * a - s * b;
        m[(k, j)] = s * a + c * b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The case where nalgebra's SVD returned Σσ² ≠ ‖W‖²_F: an all-ones 3×5 matrix
    /// (rank 1, σ₁ = √15; dimforge/nalgebra#1172).
    #[test]
    fn all_ones_has_one_singular_value_sqrt_15() {
        let w = DMatrix::from_element(3, 5, 1.0);
        let (s, u) = left_svd(&w, true).expect("converges");
        assert!((s[0] - 15f64.sqrt()).abs() < 1e-14);
        assert!(s[1].abs() < 1e-14 && s[2].abs() < 1e-14);
        let u = u.expect("requested");
        // The top left singular vector is (1, 1, 1)/√3 up to sign.
        let dot = u.column(0).sum() / 3f64.sqrt();
        assert!((dot.abs() - 1.0).abs() < 1e-14);
    }

    #[test]
    fn reproduces_eigenvalues_of_w_wt_and_the_left_vectors() {
        let w = DMatrix::from_fn(4, 6, |r, c| {
            ((r * 6 + c) as f64 * 0.73).sin() + 0.1 * r as f64
        });
        let (s, u) = left_svd(&w, true).expect("converges");
        let u = u.expect("requested");
        let m = &w * w.transpose();
        // W Wᵀ U = U Σ².
        let lhs = &m * &u;
        let rhs = &u
            * DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
                4,
                s.iter().map(|x| x * x),
            ));
        assert!((lhs - rhs).amax() < 1e-12 * m.amax());
        assert!(s.windows(2).all(|p| p[0] >= p[1]));
    }

    #[test]
    fn zero_and_empty_matrices() {
        let (s, u) = left_svd(&DMatrix::zeros(3, 2), true).expect("trivially converged");
        assert!(s.iter().all(|&x| x.abs() < 1e-300));
        assert!((u.expect("requested") - DMatrix::identity(3, 3)).amax() < 1e-300);
        let (s, _) = left_svd(&DMatrix::zeros(2, 0), false).expect("empty");
        assert_eq!(s.len(), 2);
    }
}
