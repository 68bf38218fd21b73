//! Acceptance checks of the zoo reproductions against the published qualitative results:
//! paired features (Z7), the neuron model (Z9) and the non-uniform pentagon (Z22). Each check
//! is a pure function of trained weights, so tests, figures and the CLI share one copy.
//!
//! Derivation: derivations/zoo-a.md (Z7), (Z9), (Z22).

use nalgebra::DMatrix;

use crate::training::readout::{MONO_TAU, NeuronCounts, cosine, ignored, neurons, represented};

/// cos(partners) at or below this is antipodal (Z7).
pub const ANTIPODAL: f64 = -0.9;
/// |cos| at or below this is orthogonal (Z7).
pub const ORTHOGONAL: f64 = 0.2;

/// (Z7) anti-2: features (1, 2) and (3, 4) are antipodal pairs, orthogonal across pairs.
pub fn anti_pairs(w: &DMatrix<f64>) -> bool {
    cosine(w, 0, 1) <= ANTIPODAL
        && cosine(w, 2, 3) <= ANTIPODAL
        && [(0, 2), (0, 3), (1, 2), (1, 3)]
            .iter()
            .all(|&(i, j)| cosine(w, i, j).abs() <= ORTHOGONAL)
}

/// (Z7) corr-2: partners (1, 2) and (3, 4) orthogonal, and every feature antipodal to a
/// member of the other pair (a cross).
pub fn correlated_cross(w: &DMatrix<f64>) -> bool {
    cosine(w, 0, 1).abs() <= ORTHOGONAL
        && cosine(w, 2, 3).abs() <= ORTHOGONAL
        && (0..4).all(|i| {
            let other = if i < 2 { [2, 3] } else { [0, 1] };
            other.iter().any(|&j| cosine(w, i, j) <= ANTIPODAL)
        })
}

/// (Z7) corr-3: every feature represented and its partner side by side: cos > 0 and among
/// its two largest cosines (its angular neighbours in 2 dimensions). Not "nearest": partners
/// are always co-active, so the optimum puts them further apart than the other neighbours
/// (derivations/zoo-a.md).
pub fn partners_adjacent(w: &DMatrix<f64>) -> bool {
    let n = w.ncols();
    (0..n).all(|i| {
        let partner = i ^ 1;
        let c = cosine(w, i, partner);
        let closer = (0..n)
            .filter(|&j| j != i && j != partner && cosine(w, i, j) > c)
            .count();
        represented(w, i) && c > 0.0 && closer <= 1
    })
}

/// (Z9) dense: each of the `top` most important features (the first ones) is the argmax of
/// its own monosemantic neuron, and every other feature is ignored.
pub fn neuron_dense(w: &DMatrix<f64>, top: usize) -> bool {
    let view = neurons(w, MONO_TAU);
    (0..top).all(|i| view.iter().any(|v| v.monosemantic && v.top == i))
        && (top..w.ncols()).all(|i| ignored(w, i))
}

/// (Z9) sparse: more than `top` features represented and at least one live neuron
/// polysemantic.
pub fn neuron_sparse(w: &DMatrix<f64>, top: usize) -> bool {
    let rep = (0..w.ncols()).filter(|&i| represented(w, i)).count();
    rep > top && NeuronCounts::of(&neurons(w, MONO_TAU)).polysemantic >= 1
}

/// Number of increases in `counts` (ordered as the density falls); (Z9) allows one.
pub fn inversions(counts: &[usize]) -> usize {
    counts.windows(2).filter(|c| c[1] > c[0]).count()
}

/// Geometry classes of 5 features in 2 dimensions (Z22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Geometry {
    /// All ‖Wᵢ‖ ≥ 0.5 and no cos ≤ −0.95.
    Pentagon,
    /// ‖W₁‖ < 0.1 and features 2–5 form two pairs with cos ≤ −0.95.
    TwoDigons,
    /// Anything else.
    Other,
}

impl Geometry {
    /// `pentagon`, `two digons`, `other`.
    pub fn name(self) -> &'static str {
        match self {
            Geometry::Pentagon => "pentagon",
            Geometry::TwoDigons => "two digons",
            Geometry::Other => "other",
        }
    }
}

/// Antipodal threshold of the (Z22) classes.
pub const DIGON_COS: f64 = -0.95;

/// The (Z22) class of W (2 × 5).
pub fn geometry(w: &DMatrix<f64>) -> Geometry {
    let n = w.ncols();
    let anti = |i: usize, j: usize| cosine(w, i, j) <= DIGON_COS;
    if (0..n).all(|i| w.column(i).norm() >= 0.5) && !(0..n).any(|i| (i + 1..n).any(|j| anti(i, j)))
    {
        return Geometry::Pentagon;
    }
    if n == 5 && w.column(0).norm() < 0.1 {
        // Features 2–5 (indices 1–4) split into two antipodal pairs.
        let splits = [((1, 2), (3, 4)), ((1, 3), (2, 4)), ((1, 4), (2, 3))];
        if splits
            .iter()
            .any(|&((a, b), (c, d))| anti(a, b) && anti(c, d))
        {
            return Geometry::TwoDigons;
        }
    }
    Geometry::Other
}

/// The two digons' axes: |cos| between the pair axes of a [`Geometry::TwoDigons`] W (None
/// otherwise).
pub fn digon_axes_cos(w: &DMatrix<f64>) -> Option<f64> {
    if geometry(w) != Geometry::TwoDigons {
        return None;
    }
    let mate = (2..5).find(|&j| cosine(w, 1, j) <= DIGON_COS)?;
    let other = (2..5).find(|&j| j != mate)?;
    Some(cosine(w, 1, other).abs())
}

/// Angle of each feature's column in degrees, [0, 360).
pub fn angles(w: &DMatrix<f64>) -> Vec<f64> {
    (0..w.ncols())
        .map(|i| w[(1, i)].atan2(w[(0, i)]).to_degrees().rem_euclid(360.0))
        .collect()
}

/// Gaps (degrees) between angularly consecutive features, gap k following the k-th feature
/// in angle order; (features in angle order, gaps).
pub fn angle_gaps(w: &DMatrix<f64>) -> (Vec<usize>, Vec<f64>) {
    let a = angles(w);
    let mut order: Vec<usize> = (0..a.len()).collect();
    order.sort_by(|&i, &j| a[i].total_cmp(&a[j]));
    let gaps = (0..order.len())
        .map(|k| {
            let next = order[(k + 1) % order.len()];
            (a[next] - a[order[k]]).rem_euclid(360.0)
        })
        .collect();
    (order, gaps)
}

/// Room of feature 1 (Z22): the sum of its two adjacent angle gaps, degrees.
pub fn room_of_first(w: &DMatrix<f64>) -> f64 {
    let (order, gaps) = angle_gaps(w);
    let k = order.iter().position(|&i| i == 0).unwrap_or(0);
    let prev = (k + order.len() - 1) % order.len();
    gaps[k] + gaps[prev]
}

/// Spearman's rank correlation of two equally long samples (average ranks for ties); 0 for
/// fewer than 2 points or a constant sample.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut k = 0;
        while k < idx.len() {
            let mut m = k;
            while m + 1 < idx.len() && v[idx[m + 1]].total_cmp(&v[idx[k]]).is_eq() {
                m += 1;
            }
            let avg = (k + m) as f64 / 2.0;
            for &i in &idx[k..=m] {
                r[i] = avg;
            }
            k = m + 1;
        }
        r
    }
    if x.len() < 2 || x.len() != y.len() {
        return 0.0;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    if vx <= 0.0 || vy <= 0.0 {
        0.0
    } else {
        cov / (vx * vy).sqrt()
    }
}
