//! Realising a capacity allocation as an embedding matrix (spec §3, Theorem 1, and §6.4).
//!
//! * [`feasible`] — (A1) FEASIBLE(c, D): an N×N orthogonal U whose first D rows have column
//!   squared norms c, for any c ∈ [0, 1]ᴺ with Σ c = D. Its first D rows W = U[0..D, :] are
//!   semi-orthogonal (WWᵀ = I), so Cᵢ(W) = cᵢ by (C7) with λ = 1.
//! * [`realize`] — (A10): a D×N matrix with prescribed capacities Cᵢ and squared lengths nᵢ:
//!   full features on their own axes, interior features in one block √λ·R, ignored features 0.
//! * [`rotate`] — W ↦ QW with a seeded random Q ∈ O(D); capacities and losses are invariant.
//!
//! Derivation: derivations/realization.md.
//!
//! # Example
//! ```
//! use polycap::theory::{capacity::capacities, realization::{feasible, realize}};
//!
//! // Three features sharing two dimensions: capacities 0.5, 0.7, 0.8 (Σ = 2).
//! let c = [0.5, 0.7, 0.8];
//! let u = feasible(&c, 2).expect("Σ c = D");
//! let w = u.rows(0, 2).into_owned();
//! for (got, want) in capacities(&w).iter().zip(&c) {
//!     assert!((got - want).abs() < 1e-12);
//! }
//! // With lengths nᵢ = λ Cᵢ (λ = 3) and a fourth, monosemantic feature of length² 2.
//! let w = realize(&[0.5, 0.7, 0.8, 1.0], &[1.5, 2.1, 2.4, 2.0], 3).expect("realisable");
//! assert!((w.column(3).norm_squared() - 2.0).abs() < 1e-12);
//! ```

use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use statrs::distribution::Normal;

use crate::base::{Error, Result};

/// Entries of c in [−`CLAMP_TOL`, 0) are set to 0 and in (1, 1 + `CLAMP_TOL`] to 1 (spec §3).
pub const CLAMP_TOL: f64 = 1e-12;

/// FEASIBLE rejects c when |Σ c − D| > `SUM_TOL`·N (spec §3).
pub const SUM_TOL: f64 = 1e-9;

/// [`realize`] treats Cᵢ ≥ 1 − `CLASS_TOL` as full, Cᵢ ≤ `CLASS_TOL` as ignored, and requires
/// the ratios nᵢ/Cᵢ of interior features to agree within a relative `CLASS_TOL`.
pub const CLASS_TOL: f64 = 1e-9;

/// (A1) FEASIBLE(c, D): an N×N orthogonal U whose first D rows have column squared norms c.
///
/// Recursive: merge the two smallest entries into one coordinate and split it back with a
/// 2×2 rotation, or (when every pair sums to more than 1) pass to the complement 1 − c with
/// N − D rows. Depth ≤ 2N, cost O(N³).
///
/// Input validation (spec §3, pitfall 18): entries in [−1e-12, 0) are clamped to 0 and in
/// (1, 1 + 1e-12] to 1 ([`CLAMP_TOL`]); other entries outside [0, 1], non-finite entries, D > N
/// and |Σ c − D| > 1e-9·N ([`SUM_TOL`]) are rejected.
///
/// Spec (indexed in derivations/README.md): (A1), Theorem 1. Derivation: derivations/realization.md (R1)–(R4).
///
/// # Errors
/// [`Error::NoFeatures`] for empty c; [`Error::Parameter`] naming the offending value
/// otherwise.
pub fn feasible(c: &[f64], dims: usize) -> Result<DMatrix<f64>> {
    let c = validate(c, dims)?;
    Ok(feasible_core(&c, dims))
}

fn validate(c: &[f64], dims: usize) -> Result<Vec<f64>> {
    let n = c.len();
    if n == 0 {
        return Err(Error::NoFeatures);
    }
    if dims > n {
        return Err(Error::Parameter(format!(
            "FEASIBLE needs D ≤ N, got D = {dims} > N = {n}"
        )));
    }
    let mut out = Vec::with_capacity(n);
    for (i, &x) in c.iter().enumerate() {
        let y = if (-CLAMP_TOL..0.0).contains(&x) {
            0.0
        } else if x > 1.0 && x <= 1.0 + CLAMP_TOL {
            1.0
        } else {
            x
        };
        if !(y.is_finite() && (0.0..=1.0).contains(&y)) {
            return Err(Error::Parameter(format!(
                "capacity c[{i}] must be in [0, 1], got {x}"
            )));
        }
        out.push(y);
    }
    let sum: f64 = out.iter().sum();
    if (sum - dims as f64).abs() > SUM_TOL * n as f64 {
        return Err(Error::Parameter(format!(
            "capacities must sum to D = {dims} (within {:e}), got Σ c = {sum}",
            SUM_TOL * n as f64
        )));
    }
    Ok(out)
}

/// One level of the (A1) recursion, recorded on the way down and undone on the way up.
enum Step {
    /// Step 3: entries `i` and `j` were merged into one coordinate, placed last; `rest` are the
    /// other indices in increasing order.
    Merge {
        i: usize,
        j: usize,
        rest: Vec<usize>,
        ci: f64,
        cj: f64,
    },
    /// Step 4: the problem (c, d) was replaced by (1 − c, N − d).
    Complement { d: usize },
}

/// The recursion of (A1) on validated input, run as a loop (depth up to 2N would overflow small
/// thread stacks for large N): first descend, recording each step, to a base case I_m; then
/// rebuild U level by level. After a complement step the next step is forced to be a merge,
/// where the two smallest entries provably sum to < 1 (guards against round-off looping).
fn feasible_core(c: &[f64], d: usize) -> DMatrix<f64> {
    let mut c = c.to_vec();
    let mut d = d;
    let mut force = false;
    let mut steps = Vec::new();
    // Descend.
    loop {
        let n = c.len();
        // Step 1.
        if n == 1 || d == 0 || d == n {
            break;
        }
        // Step 2: the two smallest entries, ties by the lower index (i before j).
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| c[a].total_cmp(&c[b]).then(a.cmp(&b)));
        let (i, j) = (order[0], order[1]);
        let s = c[i] + c[j];
        if s <= 1.0 || force {
            // Step 3: merge i and j into one coordinate, placed last.
            let rest: Vec<usize> = (0..n).filter(|&t| t != i && t != j).collect();
            let mut merged: Vec<f64> = rest.iter().map(|&t| c[t]).collect();
            merged.push(s.min(1.0));
            steps.push(Step::Merge {
                i,
                j,
                rest,
                ci: c[i],
                cj: c[j],
            });
            c = merged;
            force = false;
        } else {
            // Step 4: complement.
            steps.push(Step::Complement { d });
            c = c.iter().map(|&x| 1.0 - x).collect();
            d = n - d;
            force = true;
        }
    }
    // Rebuild.
    let mut u = DMatrix::identity(c.len(), c.len());
    while let Some(step) = steps.pop() {
        let m = u.nrows();
        u = match step {
            Step::Merge { i, j, rest, ci, cj } => {
                let n = m + 1;
                // Û = blockdiag(U′, 1): column t < N−1 of Û is column t of U′ padded with a 0.
                let mut out = DMatrix::zeros(n, n);
                for (t, &r) in rest.iter().enumerate() {
                    out.view_mut((0, r), (m, 1)).copy_from(&u.column(t));
                }
                // 2×2 rotation splitting s into c_i and c_j: cosθ = √(c_i/s), sinθ = √(c_j/s).
                let (a, b) = (ci.sqrt(), cj.sqrt());
                let r = a.hypot(b);
                let (cos, sin) = if r > 0.0 { (a / r, b / r) } else { (1.0, 0.0) };
                let merged_col = u.column(m - 1);
                for row in 0..m {
                    out[(row, i)] = cos * merged_col[row];
                    out[(row, j)] = -sin * merged_col[row];
                }
                // e = e_{N−1}, the new coordinate (row N−1 ≥ D).
                out[(m, i)] = sin;
                out[(m, j)] = cos;
                out
            }
            Step::Complement { d } => {
                // The last D rows of Ũ = FEASIBLE(1 − c, N − D) have column squared norms
                // 1 − (1 − cᵢ) = cᵢ; move them to the top.
                let mut out = DMatrix::zeros(m, m);
                out.rows_mut(0, d).copy_from(&u.rows(m - d, d));
                out.rows_mut(d, m - d).copy_from(&u.rows(0, m - d));
                out
            }
        };
    }
    u
}

/// (A10) A D×N matrix with capacities Cᵢ and squared lengths nᵢ (spec §6.4):
///
/// * full features (Cᵢ ≥ 1 − [`CLASS_TOL`]) get their own axis, Wᵢ = √nᵢ e_r, rows 0..|F| in
///   index order;
/// * interior features P form one semi-orthogonal block
///   W[|F|..|F|+D_P, P] = √λ · (first D_P rows of FEASIBLE(C_P, D_P)), with λ = Σ_P nᵢ / Σ_P Cᵢ
///   and D_P = Σ_P Cᵢ, which must be an integer ≤ D − |F| (within 1e-9·N); remaining rows are 0;
/// * ignored features (Cᵢ ≤ [`CLASS_TOL`]) are zero columns and must have nᵢ = 0.
///
/// Every interior ratio nᵢ/Cᵢ must equal λ within the relative [`CLASS_TOL`]: one block has
/// one singular value (spec (C7), §8). The result has Cᵢ(W) = Cᵢ and ‖Wᵢ‖² = nᵢ.
///
/// Spec (indexed in derivations/README.md): (A10), (C7), Theorem 1. Derivation: derivations/realization.md (R5).
///
/// # Errors
/// [`Error::Dims`] if `dims` = 0, [`Error::NoFeatures`], [`Error::Length`] for lists of
/// different lengths, [`Error::Parameter`] naming the value for any other inconsistency
/// (capacity outside [0, 1], negative length, too many full features, non-integer D_P,
/// ratios nᵢ/Cᵢ that differ, an ignored feature with nᵢ > 0).
pub fn realize(capacity: &[f64], sq_norm: &[f64], dims: usize) -> Result<DMatrix<f64>> {
    let n = capacity.len();
    if dims == 0 {
        return Err(Error::Dims(dims));
    }
    if n == 0 {
        return Err(Error::NoFeatures);
    }
    if sq_norm.len() != n {
        return Err(Error::Length {
            what: "squared norm",
            expected: n,
            got: sq_norm.len(),
        });
    }
    let mut full = Vec::new();
    let mut interior = Vec::new();
    for i in 0..n {
        let (c, s) = (capacity[i], sq_norm[i]);
        if !(c.is_finite() && (-CLAMP_TOL..=1.0 + CLAMP_TOL).contains(&c)) {
            return Err(Error::Parameter(format!(
                "capacity C[{i}] must be in [0, 1], got {c}"
            )));
        }
        if !(s.is_finite() && s >= 0.0) {
            return Err(Error::Parameter(format!(
                "squared norm n[{i}] must be finite and ≥ 0, got {s}"
            )));
        }
        if c >= 1.0 - CLASS_TOL {
            full.push(i);
        } else if c <= CLASS_TOL {
            if s > CLASS_TOL {
                return Err(Error::Parameter(format!(
                    "feature {i} has capacity {c} (ignored) but squared norm {s} > 0"
                )));
            }
        } else {
            interior.push(i);
        }
    }
    if full.len() > dims {
        return Err(Error::Parameter(format!(
            "{} full features (C = 1) do not fit in D = {dims} dimensions",
            full.len()
        )));
    }
    let mut w = DMatrix::zeros(dims, n);
    for (r, &i) in full.iter().enumerate() {
        w[(r, i)] = sq_norm[i].sqrt();
    }
    if interior.is_empty() {
        return Ok(w);
    }
    let c_p: Vec<f64> = interior.iter().map(|&i| capacity[i]).collect();
    let sum_c: f64 = c_p.iter().sum();
    let d_p = sum_c.round();
    if (sum_c - d_p).abs() > SUM_TOL * n as f64 || d_p as usize + full.len() > dims {
        return Err(Error::Parameter(format!(
            "interior capacities sum to {sum_c}: one block needs an integer ≤ D − |F| = {}",
            dims - full.len()
        )));
    }
    let d_p = d_p as usize;
    let sum_n: f64 = interior.iter().map(|&i| sq_norm[i]).sum();
    let lam = sum_n / sum_c;
    for &i in &interior {
        let ratio = sq_norm[i] / capacity[i];
        if (ratio - lam).abs() > CLASS_TOL * lam.max(f64::MIN_POSITIVE) {
            return Err(Error::Parameter(format!(
                "interior feature {i} has n/C = {ratio}, but one block needs the common \
                 λ = {lam} (relative tolerance {CLASS_TOL:e})"
            )));
        }
    }
    let u = feasible(&c_p, d_p)?;
    let scale = lam.sqrt();
    let row0 = full.len();
    for (t, &i) in interior.iter().enumerate() {
        for r in 0..d_p {
            w[(row0 + r, i)] = scale * u[(r, t)];
        }
    }
    Ok(w)
}

/// A random orthogonal Q ∈ O(D), seeded: Q from the QR factorisation of a D×D standard
/// Gaussian matrix, with column signs fixed so that diag R > 0 (this makes Q Haar-distributed).
///
/// Derivation: derivations/realization.md (R6).
pub fn random_orthogonal(dims: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let normal = Normal::new(0.0, 1.0).expect("invariant: N(0, 1) is valid");
    let g = DMatrix::from_fn(dims, dims, |_, _| rng.sample(normal));
    let qr = g.qr();
    let r = qr.r();
    let mut q = qr.q();
    for (col, mut qc) in q.column_iter_mut().enumerate() {
        if r[(col, col)] < 0.0 {
            qc.neg_mut();
        }
    }
    q
}

/// W ↦ QW with Q = [`random_orthogonal`](D, seed): capacities (C1) and the quadratic loss
/// (Q8) are unchanged (spec §2.1 invariances, (A10) step 5).
///
/// Spec (indexed in derivations/README.md): (A10). Derivation: derivations/realization.md (R6).
pub fn rotate(w: &DMatrix<f64>, seed: u64) -> DMatrix<f64> {
    random_orthogonal(w.nrows(), seed) * w
}
