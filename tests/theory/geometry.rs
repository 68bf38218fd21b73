//! Tests of theory::geometry: block decomposition (C6)/(C7), the Fig. 6 cases (C9), the S5
//! matrix, W = Q·B·P, fraction recognition and the measures (E6)–(E8).

use std::collections::BTreeSet;
use std::f64::consts::PI;

use approx::assert_relative_eq;
use nalgebra::DMatrix;
use polycap::base::Error;
use polycap::theory::geometry::{
    BlockDecomposition, DEFAULT_TOLERANCE, POLYTOPE_FRACTIONS, decompose, dimensions_per_feature,
    feature_dimensionality, nearest_fraction, polytope, superposition, tegum_product,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

const TOL: f64 = DEFAULT_TOLERANCE;

// ---------------------------------------------------------------- helpers

/// Independent capacities (C1) by explicit loops: Cᵢ = (Wᵢ·Wᵢ)² / Σⱼ (Wᵢ·Wⱼ)².
fn capacity_by_loops(w: &DMatrix<f64>) -> Vec<f64> {
    let n = w.ncols();
    (0..n)
        .map(|i| {
            let nii = w.column(i).dot(&w.column(i));
            if nii <= 1e-10 {
                return 0.0;
            }
            let s: f64 = (0..n).map(|j| w.column(i).dot(&w.column(j)).powi(2)).sum();
            nii * nii / s
        })
        .collect()
}

fn gaussian(rng: &mut Pcg64Mcg) -> f64 {
    // Box–Muller.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

fn gaussian_matrix(r: usize, c: usize, rng: &mut Pcg64Mcg) -> DMatrix<f64> {
    DMatrix::from_fn(r, c, |_, _| gaussian(rng))
}

/// A Haar-like random orthogonal d×d matrix: QR of a Gaussian matrix.
fn random_orthogonal(d: usize, rng: &mut Pcg64Mcg) -> DMatrix<f64> {
    gaussian_matrix(d, d, rng).qr().q()
}

/// A random semi-orthogonal D_b×N_b matrix R (R Rᵀ = I): the transposed Q of the QR of a
/// Gaussian N_b×D_b matrix.
fn random_semi_orthogonal(db: usize, nb: usize, rng: &mut Pcg64Mcg) -> DMatrix<f64> {
    gaussian_matrix(nb, db, rng).qr().q().transpose()
}

fn permutation(n: usize, rng: &mut Pcg64Mcg) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        p.swap(i, j);
    }
    p
}

/// A random efficient tegum product, rotated and permuted: W = Q·B·P.
struct Planted {
    w: DMatrix<f64>,
    /// Per block: (feature set in W's column order, D_b, γ_b).
    blocks: Vec<(BTreeSet<usize>, usize, f64)>,
    /// Zero columns of W.
    ignored: BTreeSet<usize>,
}

/// K blocks √γ_b R_b, D_b ∈ 1..=3, N_b = 1 (monosemantic, D_b = 1) or D_b+1..=D_b+3
/// (indecomposable), γ_b log-uniform in [0.1, 10], `zeros` zero columns, `extra_dims` zero
/// rows (rank W < D), then a random rotation and a random column permutation.
fn planted(seed: u64, zeros: usize, extra_dims: usize) -> Planted {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let k = rng.random_range(1..=4usize);
    let mut parts = Vec::new();
    for _ in 0..k {
        let db = rng.random_range(1..=3usize);
        let nb = if db == 1 && rng.random::<bool>() {
            1
        } else {
            db + rng.random_range(1..=3usize)
        };
        let gamma = 10f64.powf(2.0 * rng.random::<f64>() - 1.0);
        parts.push((gamma, random_semi_orthogonal(db, nb, &mut rng)));
    }
    let b = tegum_product(&parts).expect("valid blocks");
    let (d0, n0) = b.shape();
    let (d, n) = (d0 + extra_dims, n0 + zeros);
    let mut full = DMatrix::zeros(d, n);
    full.view_mut((0, 0), (d0, n0)).copy_from(&b);
    let q = random_orthogonal(d, &mut rng);
    let perm = permutation(n, &mut rng); // column c of B becomes column perm[c] of W
    let qb = &q * &full;
    let mut w = DMatrix::zeros(d, n);
    for (c, &target) in perm.iter().enumerate() {
        w.set_column(target, &qb.column(c));
    }
    let mut blocks = Vec::new();
    let mut c0 = 0;
    for (gamma, r) in &parts {
        let set = (c0..c0 + r.ncols()).map(|c| perm[c]).collect();
        blocks.push((set, r.nrows(), *gamma));
        c0 += r.ncols();
    }
    let ignored = (n0..n).map(|c| perm[c]).collect();
    Planted { w, blocks, ignored }
}

fn feature_sets(g: &BlockDecomposition) -> BTreeSet<BTreeSet<usize>> {
    g.blocks
        .iter()
        .map(|b| b.features.iter().copied().collect())
        .collect()
}

fn max_abs(m: &DMatrix<f64>) -> f64 {
    m.iter().fold(0.0, |a, x| a.max(x.abs()))
}

/// Checks W = Q·B·P with Q orthogonal, P a permutation, B block-diagonal √γ_b R_b and every
/// R_b semi-orthogonal, all to `tol`.
fn assert_factors(w: &DMatrix<f64>, g: &BlockDecomposition, tol: f64) {
    let f = g.factors(w).expect("tegum product");
    let (d, n) = w.shape();
    assert!(max_abs(&(f.product() - w)) <= tol, "W ≠ QBP");
    assert!(f.orthogonality_residual() <= tol, "Q not orthogonal");
    assert!(
        f.semi_orthogonality_residual() <= tol,
        "R_b not semi-orthogonal"
    );
    // P is a permutation matrix.
    for i in 0..n {
        let row_sum: f64 = f.p.row(i).iter().sum();
        let col_sum: f64 = f.p.column(i).iter().sum();
        assert_relative_eq!(row_sum, 1.0);
        assert_relative_eq!(col_sum, 1.0);
    }
    assert!(
        f.p.iter()
            .all(|&x| x.abs() < 1e-300 || (x - 1.0).abs() < 1e-300)
    );
    // B vanishes outside its diagonal blocks.
    let mut mask = DMatrix::from_element(d, n, true);
    for (rows, cols) in f.rows.iter().zip(&f.cols) {
        for r in rows.clone() {
            for c in cols.clone() {
                mask[(r, c)] = false;
            }
        }
    }
    for r in 0..d {
        for c in 0..n {
            if mask[(r, c)] {
                assert!(f.b[(r, c)].abs() <= tol, "B[{r},{c}] = {}", f.b[(r, c)]);
            }
        }
    }
}

// ---------------------------------------------------------------- Fig. 6 cases (C9)

fn unit(theta_deg: f64) -> [f64; 2] {
    let t = theta_deg.to_radians();
    [t.cos(), t.sin()]
}

fn from_columns(cols: &[[f64; 2]]) -> DMatrix<f64> {
    DMatrix::from_fn(2, cols.len(), |r, c| cols[c][r])
}

#[test]
fn fig6a_three_vectors_at_120_degrees_are_one_efficient_2x3_block() {
    let w = from_columns(&[unit(90.0), unit(210.0), unit(330.0)]);
    let g = decompose(&w, TOL).expect("valid");
    assert_eq!(g.blocks.len(), 1);
    let b = &g.blocks[0];
    assert_eq!((b.dims, b.features.clone()), (2, vec![0, 1, 2]));
    for &c in &b.capacities {
        assert_relative_eq!(c, 2.0 / 3.0, epsilon = 1e-12);
    }
    assert!(b.efficient && g.efficient && g.tegum);
    // γ = n/C = 1/(2/3).
    assert_relative_eq!(b.scale, 1.5, epsilon = 1e-12);
    assert_relative_eq!(g.total_capacity, 2.0, epsilon = 1e-12);
    assert_factors(&w, &g, 1e-12);
}

#[test]
fn fig6b_vector_orthogonal_to_antipodal_pair_is_1x1_plus_1x2() {
    let w = from_columns(&[[1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]);
    let g = decompose(&w, TOL).expect("valid");
    assert_eq!(g.blocks.len(), 2);
    assert_eq!(
        (g.blocks[0].dims, g.blocks[0].features.clone()),
        (1, vec![0])
    );
    assert_eq!(
        (g.blocks[1].dims, g.blocks[1].features.clone()),
        (1, vec![1, 2])
    );
    let c = g.capacities();
    for (got, want) in c.iter().zip([1.0, 0.5, 0.5]) {
        assert_relative_eq!(*got, want, epsilon = 1e-15);
    }
    assert!(g.blocks.iter().all(|b| b.efficient));
    assert!(g.efficient && g.tegum);
    assert_relative_eq!(g.blocks[1].scale, 2.0, epsilon = 1e-15);
    assert_factors(&w, &g, 1e-14);
}

#[test]
fn fig6c_antiparallel_pair_with_squared_lengths_1_to_9() {
    let w = from_columns(&[[1.0, 0.0], [0.0, 1.0], [0.0, -3.0]]);
    let g = decompose(&w, TOL).expect("valid");
    assert_eq!(feature_sets(&g).len(), 2);
    assert_eq!(g.blocks[1].features, vec![1, 2]);
    let c = g.capacities();
    for (got, want) in c.iter().zip([1.0, 0.1, 0.9]) {
        assert_relative_eq!(*got, want, epsilon = 1e-15);
    }
    // One block of dimension 1 with γ = n/C = 1/0.1 = 9/0.9 = 10 (C7).
    let b = &g.blocks[1];
    assert_eq!(b.dims, 1);
    assert_relative_eq!(b.scale, 10.0, epsilon = 1e-13);
    assert!(b.scale_spread < 1e-14 && b.efficient && g.efficient);
    assert_factors(&w, &g, 1e-13);
}

#[test]
fn fig6d_two_vectors_at_30_degrees_are_not_efficient() {
    let w = from_columns(&[unit(0.0), unit(30.0)]);
    let g = decompose(&w, TOL).expect("valid");
    assert_eq!(g.blocks.len(), 1);
    let b = &g.blocks[0];
    assert_eq!(b.dims, 2);
    // (C9): C = 1/(1 + cos²30°) = 4/7 each, ΣC = 8/7 < 2.
    for &c in &b.capacities {
        assert_relative_eq!(c, 4.0 / 7.0, epsilon = 1e-14);
    }
    assert_relative_eq!(g.total_capacity, 8.0 / 7.0, epsilon = 1e-14);
    assert!(!b.efficient && !g.efficient);
    // Equal n/C by symmetry, so zero spread does not imply efficiency.
    assert!(b.scale_spread < 1e-14);
    // Still a (one-block) tegum product: W = QBP holds, but R is not semi-orthogonal.
    let f = g.factors(&w).expect("one block");
    assert!(max_abs(&(f.product() - &w)) < 1e-14);
    assert!(f.semi_orthogonality_residual() > 0.1);
    assert_eq!(
        nearest_fraction(b.capacities[0], 12, 1e-9),
        Some((4, 7)),
        "4/7 is a fraction but not a polytope"
    );
    assert!(polytope(4, 7).is_none());
}

// ---------------------------------------------------------------- S5 (spec §11)

/// The S5 matrix: an antipodal pair √γ₁[1/√2, −1/√2] ⊕ a triangle √γ₂√(2/3)[cos θ; sin θ],
/// θ = 90°, 210°, 330°.
fn s5(g1: f64, g2: f64) -> DMatrix<f64> {
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let pair = DMatrix::from_row_slice(1, 2, &[s, -s]);
    let k = (2.0f64 / 3.0).sqrt();
    let tri = DMatrix::from_fn(2, 3, |r, c| {
        let t = (90.0 + 120.0 * c as f64).to_radians();
        k * if r == 0 { t.cos() } else { t.sin() }
    });
    tegum_product(&[(g1, pair), (g2, tri)]).expect("valid blocks")
}

#[test]
fn s5_two_block_matrix_decomposes_into_its_blocks() {
    for (g1, g2) in [(1.0, 1.0), (2.5, 0.3)] {
        let w = s5(g1, g2);
        let g = decompose(&w, TOL).expect("valid");
        assert_eq!(g.blocks.len(), 2);
        assert_eq!(
            (g.blocks[0].dims, g.blocks[0].features.clone()),
            (1, vec![0, 1])
        );
        assert_eq!(
            (g.blocks[1].dims, g.blocks[1].features.clone()),
            (2, vec![2, 3, 4])
        );
        for (c, want) in g
            .capacities()
            .iter()
            .zip([0.5, 0.5, 2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0])
        {
            assert_relative_eq!(*c, want, epsilon = 1e-14);
        }
        assert_relative_eq!(g.blocks[0].scale, g1, max_relative = 1e-14);
        assert_relative_eq!(g.blocks[1].scale, g2, max_relative = 1e-14);
        assert!(g.efficient && g.tegum && g.ignored.is_empty());
        let names: Vec<_> = g
            .capacities()
            .iter()
            .map(|&c| {
                let (p, q) = nearest_fraction(c, 12, 1e-9).expect("simple fraction");
                polytope(p, q).expect("polytope").name
            })
            .collect();
        assert_eq!(
            names,
            ["digon", "digon", "triangle", "triangle", "triangle"]
        );
        assert_factors(&w, &g, 1e-13);
    }
}

// ---------------------------------------------------------------- planted block structure

fn check_planted(p: &Planted, tol_rec: f64) {
    let g = decompose(&p.w, TOL).expect("valid");
    let want: BTreeSet<BTreeSet<usize>> = p.blocks.iter().map(|b| b.0.clone()).collect();
    assert_eq!(feature_sets(&g), want, "same feature sets");
    assert_eq!(
        g.ignored.iter().copied().collect::<BTreeSet<_>>(),
        p.ignored
    );
    for (set, db, gamma) in &p.blocks {
        let b = g
            .blocks
            .iter()
            .find(|b| b.features.iter().copied().collect::<BTreeSet<_>>() == *set)
            .expect("block found");
        assert_eq!(b.dims, *db);
        assert_relative_eq!(b.scale, *gamma, max_relative = 1e-9);
        assert!(b.scale_spread < 1e-9, "spread {}", b.scale_spread);
        assert!(b.efficient);
        assert_relative_eq!(b.capacity_sum, *db as f64, epsilon = 1e-9);
        // (C7): nᵢ = γ_b Cᵢ.
        for (n, c) in b.sq_norms.iter().zip(&b.capacities) {
            assert_relative_eq!(*n, gamma * c, max_relative = 1e-9);
        }
    }
    // Capacities agree with an independent computation, and across blocks nothing leaks.
    for (a, b) in g.capacities().iter().zip(capacity_by_loops(&p.w)) {
        assert_relative_eq!(*a, b, epsilon = 1e-12);
    }
    assert!(g.capacity_leak < 1e-12);
    assert!(g.tegum && g.max_cross_overlap < 1e-12);
    let dims: usize = p.blocks.iter().map(|b| b.1).sum();
    assert_eq!(g.rank, dims);
    assert_eq!(g.dims_sum(), dims);
    assert_relative_eq!(g.total_capacity, dims as f64, epsilon = 1e-9);
    assert_eq!(g.efficient, dims == p.w.nrows());
    assert_factors(&p.w, &g, tol_rec);
}

#[test]
fn planted_efficient_tegum_products_are_recovered() {
    for seed in 0..40 {
        check_planted(&planted(seed, (seed % 3) as usize, 0), 1e-10);
    }
}

#[test]
fn planted_rank_deficient_tegum_products_are_recovered_but_not_efficient() {
    for seed in 100..120 {
        let p = planted(seed, 1, 2);
        check_planted(&p, 1e-10);
        let g = decompose(&p.w, TOL).expect("valid");
        assert!(!g.efficient, "rank W < D");
        assert!(g.blocks.iter().all(|b| b.efficient));
        assert!(g.total_capacity < p.w.nrows() as f64 - 1.5);
    }
}

#[test]
fn generic_perturbation_breaks_efficiency() {
    for seed in 200..220 {
        let p = planted(seed, 0, 0);
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let (d, n) = p.w.shape();
        if n == 1 || d == 1 {
            continue; // collinear vectors (D = 1) are always efficient
        }
        let w = &p.w + gaussian_matrix(d, n, &mut rng) * 1e-3;
        let g = decompose(&w, TOL).expect("valid");
        // (C5)/(C6): Σ C ≤ rank W = D with equality only for efficient W.
        assert!(
            g.total_capacity < d as f64 - 1e-8,
            "ΣC = {} for D = {d}",
            g.total_capacity
        );
        assert!(!g.efficient);
        // A generic matrix with N ≥ 2 is one block, and not an efficient one.
        assert!(g.blocks.iter().all(|b| !b.efficient));
        assert_eq!(g.blocks.len(), 1);
    }
}

#[test]
fn noisy_tegum_products_are_recovered_at_a_matching_tolerance() {
    // Like a trained matrix: the planted structure plus 1e-8 Gaussian noise, analysed at
    // tolerance 1e-5 (three orders above the noise).
    for seed in 400..440 {
        let p = planted(seed, 1, 0);
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let (d, n) = p.w.shape();
        let w = &p.w + gaussian_matrix(d, n, &mut rng) * 1e-8;
        let g = decompose(&w, 1e-5).expect("valid");
        let want: BTreeSet<BTreeSet<usize>> = p.blocks.iter().map(|b| b.0.clone()).collect();
        assert_eq!(feature_sets(&g), want, "seed {seed}");
        assert!(g.tegum && g.efficient, "seed {seed}");
        for (set, db, gamma) in &p.blocks {
            let b = g
                .blocks
                .iter()
                .find(|b| b.features.iter().copied().collect::<BTreeSet<_>>() == *set)
                .expect("block found");
            assert_eq!(b.dims, *db);
            assert_relative_eq!(b.scale, *gamma, max_relative = 1e-5);
        }
        let f = g.factors(&w).expect("tegum");
        assert!(max_abs(&(f.product() - &w)) < 1e-6);
        assert!(f.semi_orthogonality_residual() < 1e-5);
    }
}

#[test]
fn blocks_with_equal_scale_stay_separate() {
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    let r1 = random_semi_orthogonal(2, 4, &mut rng);
    let r2 = random_semi_orthogonal(1, 3, &mut rng);
    let w = tegum_product(&[(1.7, r1), (1.7, r2)]).expect("valid");
    let g = decompose(&w, TOL).expect("valid");
    assert_eq!(g.blocks.len(), 2);
    assert_eq!(g.blocks[0].features, vec![0, 1, 2, 3]);
    assert_eq!(g.blocks[1].features, vec![4, 5, 6]);
    assert_relative_eq!(g.blocks[0].scale, g.blocks[1].scale, max_relative = 1e-12);
}

// ---------------------------------------------------------------- non-tegum, ignored, errors

#[test]
fn pairwise_near_orthogonal_but_overlapping_spaces_are_reported() {
    // A triangle in the (e₁, e₂) plane and b = (ε, 0, 1)/‖·‖: every pairwise cosine is at most
    // ε·cos 30° < tol, so b is its own component, but the cosine between b and the plane is
    // ε/√(1+ε²) > tol: the components are not a tegum product.
    let eps: f64 = 1e-3;
    let tol = 0.95e-3;
    let mut w = DMatrix::zeros(3, 4);
    for c in 0..3 {
        let t = (90.0 + 120.0 * c as f64).to_radians();
        w[(0, c)] = t.cos();
        w[(1, c)] = t.sin();
    }
    let nb = (1.0 + eps * eps).sqrt();
    w[(0, 3)] = eps / nb;
    w[(2, 3)] = 1.0 / nb;
    let g = decompose(&w, tol).expect("valid");
    assert_eq!(g.blocks.len(), 2);
    assert!(!g.tegum);
    assert_relative_eq!(g.max_cross_overlap, eps / nb, max_relative = 1e-9);
    assert!(g.capacity_leak > 0.0);
    match g.factors(&w) {
        Err(Error::Certificate(msg)) => assert!(msg.contains("not a tegum product"), "{msg}"),
        other => panic!("expected a certificate error, got {other:?}"),
    }
    // At a tolerance below every cosine it is one (non-efficient) block instead.
    let g = decompose(&w, 1e-4).expect("valid");
    assert_eq!(g.blocks.len(), 1);
    assert!(g.tegum && !g.efficient);
}

#[test]
fn zero_and_tiny_columns_are_ignored() {
    let w = DMatrix::from_row_slice(2, 4, &[1.0, 0.0, 1e-6, 0.0, 0.0, 0.0, 0.0, 1.0]);
    let g = decompose(&w, TOL).expect("valid");
    assert_eq!(g.ignored, vec![1, 2]); // ‖W₂‖² = 1e-12 ≤ 1e-10
    assert_eq!(feature_sets(&g).len(), 2);
    assert!(g.efficient);
    assert_factors(&w, &g, 1e-6); // the ignored 1e-6 column is set to zero in B
    assert_eq!(g.block_of(3), Some(1));
    assert_eq!(g.block_of(1), None);
}

#[test]
fn all_zero_matrix_has_no_blocks() {
    let w = DMatrix::zeros(3, 2);
    let g = decompose(&w, TOL).expect("valid");
    assert!(g.blocks.is_empty());
    assert_eq!(g.ignored, vec![0, 1]);
    assert_eq!(g.rank, 0);
    assert!(!g.efficient && g.tegum);
    assert_relative_eq!(g.total_capacity, 0.0);
    let f = g.factors(&w).expect("trivial");
    assert!(f.orthogonality_residual() < 1e-14);
    assert!(dimensions_per_feature(&w).is_infinite());
}

#[test]
fn invalid_inputs_are_rejected_with_their_values() {
    let w = DMatrix::identity(2, 2);
    for tol in [0.0, 1.0, -1e-3, f64::NAN, f64::INFINITY] {
        match decompose(&w, tol) {
            Err(Error::Parameter(m)) => assert!(m.contains("tolerance"), "{m}"),
            other => panic!("tol {tol}: {other:?}"),
        }
    }
    let mut bad = w.clone();
    bad[(1, 0)] = f64::NAN;
    assert!(matches!(decompose(&bad, TOL), Err(Error::Matrix(m)) if m.contains("row 2, column 1")));
    assert_eq!(
        decompose(&DMatrix::zeros(2, 0), TOL),
        Err(Error::NoFeatures)
    );
    assert_eq!(decompose(&DMatrix::zeros(0, 2), TOL), Err(Error::Dims(0)));
    assert!(matches!(
        g_factors_shape_mismatch(),
        Err(Error::Matrix(m)) if m.contains("2×2")
    ));
    assert!(matches!(
        tegum_product(&[(0.0, DMatrix::identity(1, 1))]),
        Err(Error::Parameter(m)) if m.contains("got 0")
    ));
    assert!(matches!(tegum_product(&[]), Err(Error::Matrix(_))));
}

fn g_factors_shape_mismatch() -> polycap::base::Result<polycap::theory::geometry::TegumFactors> {
    let g = decompose(&DMatrix::identity(2, 2), TOL)?;
    g.factors(&DMatrix::identity(3, 3))
}

// ---------------------------------------------------------------- fractions (E6)

#[test]
fn polytope_fractions_are_recognised_and_named() {
    let names: Vec<_> = POLYTOPE_FRACTIONS.iter().map(|f| f.name).collect();
    for (x, want, name) in [
        (1.0, (1, 1), "dedicated dimension"),
        (0.75, (3, 4), "tetrahedron"),
        (2.0 / 3.0, (2, 3), "triangle"),
        (0.5, (1, 2), "digon"),
        (0.4, (2, 5), "pentagon"),
        (0.375, (3, 8), "square antiprism"),
        (0.0, (0, 1), "not learned"),
    ] {
        assert!(names.contains(&name));
        assert_eq!(nearest_fraction(x, 12, 1e-12), Some(want), "{x}");
        assert_eq!(polytope(want.0, want.1).map(|f| f.name), Some(name));
        // A trained capacity a little off the value is still recognised at a loose tolerance.
        let noisy = (x + 3e-3).min(1.0);
        assert_eq!(nearest_fraction(noisy, 8, 5e-3), Some(want), "{noisy}");
    }
    assert_eq!(polytope(2, 4).map(|f| f.name), Some("digon"));
    assert!(polytope(3, 5).is_none()); // a triangular bipyramid is 2/3 ⊕ 1/2, never 3/5
    assert!(polytope(1, 0).is_none());
}

#[test]
fn nearest_fraction_edge_cases() {
    assert_eq!(nearest_fraction(PI, 7, 0.01), Some((22, 7)));
    assert_eq!(nearest_fraction(PI, 113, 1e-6), Some((355, 113)));
    assert_eq!(nearest_fraction(PI, 100, 1e-6), None); // best is 311/99, 1.8e-4 away
    assert_eq!(nearest_fraction(0.41, 5, 1e-3), None);
    assert_eq!(nearest_fraction(0.41, 5, 0.02), Some((2, 5)));
    assert_eq!(nearest_fraction(-1e-17, 5, 1e-12), Some((0, 1)));
    assert_eq!(nearest_fraction(-0.1, 5, 1e-3), None);
    assert_eq!(nearest_fraction(f64::NAN, 5, 1.0), None);
    assert_eq!(nearest_fraction(0.5, 0, 1.0), None);
    assert_eq!(nearest_fraction(0.5, 5, -1.0), None);
    assert_eq!(nearest_fraction(7.25, 4, 0.0), Some((29, 4)));
    assert_eq!(nearest_fraction(1e12, 4, 1.0), None); // numerator beyond u32
    assert_eq!(nearest_fraction(0.999_999, 12, 1e-5), Some((1, 1)));
}

/// Brute force: min over q ≤ max_den of |x − round(xq)/q|.
fn brute_best_error(x: f64, max_den: u32) -> f64 {
    (1..=max_den)
        .map(|q| {
            let q = f64::from(q);
            (x - (x * q).round() / q).abs()
        })
        .fold(f64::INFINITY, f64::min)
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

proptest! {
    #![proptest_config(crate::prop_config(256))]

    #[test]
    fn nearest_fraction_is_the_best_approximation(x in 0.0f64..5.0, max_den in 1u32..200) {
        let (p, q) = nearest_fraction(x, max_den, 10.0).expect("tol 10 always accepts");
        prop_assert!(q >= 1 && q <= max_den);
        prop_assert_eq!(gcd(p, q), 1);
        let err = (x - f64::from(p) / f64::from(q)).abs();
        prop_assert!(err <= brute_best_error(x, max_den) + 1e-15, "{}/{} err {}", p, q, err);
    }

    #[test]
    fn planted_structure_is_recovered(seed in 1000u64..100_000, zeros in 0usize..3) {
        check_planted(&planted(seed, zeros, 0), 1e-10);
    }

    #[test]
    fn decomposition_invariants_on_random_matrices(
        seed in 0u64..100_000, d in 1usize..5, n in 1usize..8
    ) {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mut w = gaussian_matrix(d, n, &mut rng);
        // Zero out a random subset of rows and columns to create structure.
        for c in 0..n {
            if rng.random_range(0..4) == 0 {
                w.column_mut(c).fill(0.0);
            }
        }
        let g = decompose(&w, TOL).expect("valid");
        // Blocks and ignored features partition the features.
        let mut all: Vec<usize> = g.blocks.iter().flat_map(|b| b.features.clone()).collect();
        all.extend(&g.ignored);
        all.sort_unstable();
        prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
        // (C5): 0 ≤ Cᵢ ≤ 1 and Σ C ≤ rank W; per block Σ C ≤ D_b.
        for b in &g.blocks {
            prop_assert!(b.dims >= 1 && b.dims <= b.len().min(d));
            prop_assert!(b.capacities.iter().all(|&c| c > 0.0 && c <= 1.0));
            prop_assert!(b.capacity_sum <= b.dims as f64 + 1e-9);
        }
        prop_assert!(g.total_capacity <= g.rank as f64 + 1e-9);
        // Rotation and scale invariance: same blocks, dims; scales × α².
        let q = random_orthogonal(d, &mut rng);
        let alpha = 3.0;
        let h = decompose(&(&q * &w * alpha), TOL).expect("valid");
        prop_assert_eq!(feature_sets(&g), feature_sets(&h));
        for (a, b) in g.blocks.iter().zip(&h.blocks) {
            prop_assert_eq!(a.dims, b.dims);
            prop_assert!((b.scale - alpha * alpha * a.scale).abs() <= 1e-9 * b.scale);
        }
        // Permutation equivariance: column perm[c] of W is column c of W·Π.
        let perm = permutation(n, &mut rng);
        let wp = DMatrix::from_fn(d, n, |r, c| w[(r, perm[c])]);
        let k = decompose(&wp, TOL).expect("valid");
        let mapped: BTreeSet<BTreeSet<usize>> = k
            .blocks
            .iter()
            .map(|b| b.features.iter().map(|&c| perm[c]).collect())
            .collect();
        prop_assert_eq!(feature_sets(&g), mapped);
    }
}

// ---------------------------------------------------------------- measures (E6)–(E8)

#[test]
fn feature_dimensionality_is_capacity_above_the_norm_floor() {
    let mut rng = Pcg64Mcg::seed_from_u64(11);
    let mut w = gaussian_matrix(3, 6, &mut rng);
    w.column_mut(4).fill(0.0);
    let f = 1e-7 / w.column(5).norm();
    w.column_mut(5).scale_mut(f); // ‖W₅‖ = 1e-7 < 1e-6
    let dim = feature_dimensionality(&w);
    let cap = capacity_by_loops(&w);
    for i in 0..4 {
        assert_relative_eq!(dim[i], cap[i], max_relative = 1e-12);
    }
    assert_relative_eq!(dim[4], 0.0); // a zero column: 0, not the notebook's NaN
    // Below the floor: Dᵢ = nᵢ·(1e-6)² / Σⱼ Gᵢⱼ² (capacity_by_loops would threshold it to 0).
    let g = w.tr_mul(&w);
    let n5 = g[(5, 5)];
    let want = n5 * 1e-12 / g.row(5).norm_squared();
    assert_relative_eq!(dim[5], want, max_relative = 1e-10);
    // … which is Cᵢ·10⁻¹²/nᵢ > Cᵢ (G8).
    assert!(dim[5] > n5 * n5 / g.row(5).norm_squared());
}

#[test]
fn superposition_score_and_dims_per_feature() {
    // Fig. 6(b): the lone vector has score exactly 0; each antipode sees the other fully.
    let w = from_columns(&[[1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]);
    let s = superposition(&w);
    assert!(s[0].abs() < 1e-300);
    assert_relative_eq!(s[1], 1.0, epsilon = 1e-15);
    assert_relative_eq!(s[2], 1.0, epsilon = 1e-15);
    // D* = m/‖W‖²_F: 2/3 here, 1 for an identity, ½ for a unit antipodal pair in m = 1.
    assert_relative_eq!(dimensions_per_feature(&w), 2.0 / 3.0, epsilon = 1e-15);
    assert_relative_eq!(dimensions_per_feature(&DMatrix::identity(4, 4)), 1.0);
    let pair = DMatrix::from_row_slice(1, 2, &[1.0, -1.0]);
    assert_relative_eq!(dimensions_per_feature(&pair), 0.5);
    // In an efficient block: Σⱼ (Ŵᵢ·Wⱼ)² = nᵢ/Cᵢ = γ, so the score is γ − nᵢ (G10); and
    // Σᵢ Dᵢ = m.
    for seed in 0..10 {
        let p = planted(300 + seed, 0, 0);
        let g = decompose(&p.w, TOL).expect("valid");
        let s = superposition(&p.w);
        for b in &g.blocks {
            for (&i, &n) in b.features.iter().zip(&b.sq_norms) {
                assert_relative_eq!(s[i], b.scale - n, epsilon = 1e-9 * b.scale);
            }
        }
        let total: f64 = feature_dimensionality(&p.w).iter().sum();
        assert_relative_eq!(total, p.w.nrows() as f64, epsilon = 1e-9);
    }
    // Brute force on a random matrix.
    let mut rng = Pcg64Mcg::seed_from_u64(5);
    let w = gaussian_matrix(3, 5, &mut rng);
    let s = superposition(&w);
    for (i, &si) in s.iter().enumerate() {
        let wi = w.column(i) / w.column(i).norm();
        let want: f64 = (0..5)
            .filter(|&j| j != i)
            .map(|j| wi.dot(&w.column(j)).powi(2))
            .sum();
        assert_relative_eq!(si, want, max_relative = 1e-12);
    }
}
