//! Sampled inputs have the right density and moments (spec (E2), (Q4), (Q5)), on every
//! sampling path: dense tests, one geometric walk, per-feature skips with a counting sort.

use polycap::base::{FeatureSet, Magnitude};
use polycap::training::data::{InputLaw, SKIP_BELOW, Sampler, SparseBatch, from_blocks};
use polycap::training::rng::Xoshiro;

/// Moments of feature `i` over a sparse batch: (fraction active, E x, E x², E x⁴).
fn moments(batch: &SparseBatch, i: u32) -> (f64, f64, f64, f64) {
    let b = batch.len() as f64;
    let mut m = [0f64; 5];
    for (&f, &v) in batch.index.iter().zip(&batch.value) {
        if f == i {
            let v = v as f64;
            m[0] += 1.0;
            m[1] += v;
            m[2] += v * v;
            m[4] += v * v * v * v;
        }
    }
    (m[0] / b, m[1] / b, m[2] / b, m[4] / b)
}

fn check(got: f64, want: f64, sd_one: f64, b: usize, what: &str) {
    let se = sd_one / (b as f64).sqrt();
    assert!(
        (got - want).abs() <= 6.0 * se,
        "{what}: got {got}, want {want} ± 6·{se}"
    );
}

fn rows_are_sorted(batch: &SparseBatch) {
    for s in 0..batch.rows() {
        let row = &batch.index[batch.start[s]..batch.start[s + 1]];
        assert!(
            row.windows(2).all(|w| w[0] < w[1]),
            "row {s} not increasing"
        );
    }
}

#[test]
fn sparse_uniform_inputs_have_unit_variance_and_kurtosis_9_over_5p() {
    // Feature 0 at p = 0.3 (tests), feature 1 at p = 0.02 (skips): column path (S4).
    let b = 400_000;
    for dens in [vec![0.3, 0.02], vec![0.02, 0.02], vec![0.3, 0.3]] {
        let f = FeatureSet::from_densities(vec![1.0, 1.0], &dens, Magnitude::Uniform)
            .expect("valid features");
        let s = Sampler::quadratic(&f).expect("valid sampler");
        let mut batch = SparseBatch::default();
        s.sparse(b, &mut Xoshiro::new(11, 3), &mut batch);
        assert_eq!(batch.len(), b);
        rows_are_sorted(&batch);
        for (i, &p) in dens.iter().enumerate() {
            let (frac, mean, var, m4) = moments(&batch, i as u32);
            let k = 9.0 / (5.0 * p);
            check(frac, p, (p * (1.0 - p)).sqrt(), b, "density");
            check(mean, 0.0, 1.0, b, "mean");
            check(var, 1.0, (k - 1.0).sqrt(), b, "variance");
            // Var x⁴ = E x⁸ − k², E x⁸ = E z⁸/p³ with E z⁸ = 81/9 for U(−√3, √3).
            let e8 = 9.0 / (p * p * p);
            check(m4, k, (e8 - k * k).sqrt(), b, "kurtosis");
        }
    }
}

#[test]
fn tms_inputs_are_unit_uniform_with_density_p() {
    let b = 200_000;
    let dens = [1.0, 0.5, SKIP_BELOW / 2.0];
    let f = FeatureSet::from_densities(vec![1.0; 3], &dens, Magnitude::Uniform)
        .expect("valid features");
    let s = Sampler::new(&f, InputLaw::UnitUniform).expect("valid sampler");
    let mut batch = SparseBatch::default();
    s.sparse(b, &mut Xoshiro::new(5, 0), &mut batch);
    rows_are_sorted(&batch);
    let mut blocks = Vec::new();
    s.dense(b + 3, &mut Xoshiro::new(5, 1), &mut blocks);
    // b + 3 samples: a partial last block, whose padding lanes must be 0.
    let last = blocks.len() - 8 * 3;
    for i in 0..3 {
        let pad = &blocks[last + 8 * i + 3..last + 8 * i + 8];
        assert!(pad.iter().all(|&v| v == 0.0), "padding lanes {pad:?}");
    }
    let dense = from_blocks(&blocks, 3, b);
    for (i, &p) in dens.iter().enumerate() {
        // E x = p/2, E x² = p/3 (U[0,1) when active, (E2)).
        let (frac, mean, sq, _) = moments(&batch, i as u32);
        check(frac, p, (p * (1.0 - p)).sqrt().max(1e-3), b, "density");
        check(mean, p / 2.0, (p / 3.0 - p * p / 4.0).sqrt(), b, "mean");
        check(sq, p / 3.0, (p / 5.0 - p * p / 9.0).sqrt(), b, "E x²");
        let col: Vec<f64> = dense.iter().skip(i).step_by(3).map(|&v| v as f64).collect();
        let dfrac = col.iter().filter(|&&v| v > 0.0).count() as f64 / b as f64;
        let dmean = col.iter().sum::<f64>() / b as f64;
        check(
            dfrac,
            p,
            (p * (1.0 - p)).sqrt().max(1e-3),
            b,
            "dense density",
        );
        check(
            dmean,
            p / 2.0,
            (p / 3.0 - p * p / 4.0).sqrt(),
            b,
            "dense mean",
        );
        assert!(col.iter().all(|&v| (0.0..1.0).contains(&v)));
    }
}

#[test]
fn gaussian_and_laplace_magnitudes_have_their_kurtosis() {
    let b = 400_000;
    for (m, kz) in [(Magnitude::Gaussian, 3.0), (Magnitude::Laplace, 6.0)] {
        let p = 0.5;
        let f = FeatureSet::from_densities(vec![1.0], &[p], m).expect("valid features");
        let s = Sampler::quadratic(&f).expect("valid sampler");
        let mut batch = SparseBatch::default();
        s.sparse(b, &mut Xoshiro::new(2, 9), &mut batch);
        let (_, mean, var, m4) = moments(&batch, 0);
        let k = kz / p;
        check(mean, 0.0, 1.0, b, "mean");
        check(var, 1.0, (k - 1.0).sqrt(), b, "variance");
        // Loose: E x⁸ is large for these tails; 10 % is ~6 standard errors here.
        assert!((m4 - k).abs() < 0.1 * k, "{m:?}: E x⁴ = {m4}, want {k}");
    }
}

#[test]
fn streams_differ_by_seed_and_by_index() {
    let a = Xoshiro::new(1, 0).next_u64();
    let b = Xoshiro::new(1, 1).next_u64();
    let c = Xoshiro::new(2, 0).next_u64();
    assert!(a != b && a != c && b != c);
    assert_eq!(Xoshiro::new(1, 0).next_u64(), a);
}

#[test]
fn low_density_walks_have_the_right_density() {
    // Equal densities (one walk, (S3)) and unequal ones (per-feature walks, (S4)).
    let b = 400_000;
    for dens in [vec![1e-3; 5], vec![1e-3, 3e-3, 1e-3, 3e-3, 1e-3]] {
        let f = FeatureSet::from_densities(vec![1.0; 5], &dens, Magnitude::Uniform)
            .expect("valid features");
        let s = Sampler::new(&f, InputLaw::UnitUniform).expect("valid sampler");
        let mut batch = SparseBatch::default();
        s.sparse(b, &mut Xoshiro::new(13, 4), &mut batch);
        assert_eq!(batch.len(), b);
        rows_are_sorted(&batch);
        for (i, &p) in dens.iter().enumerate() {
            let (frac, mean, _, _) = moments(&batch, i as u32);
            check(frac, p, (p * (1.0 - p)).sqrt(), b, "density");
            check(mean, p / 2.0, (p / 3.0 - p * p / 4.0).sqrt(), b, "mean");
        }
    }
}

#[test]
fn dense_walk_has_the_right_density() {
    // Equal densities below DENSE_SKIP_BELOW fill dense batches by one geometric walk.
    let b = 200_003;
    let p = 0.05;
    let f = FeatureSet::from_densities(vec![1.0; 4], &[p; 4], Magnitude::Uniform)
        .expect("valid features");
    let s = Sampler::new(&f, InputLaw::UnitUniform).expect("valid sampler");
    let mut blocks = Vec::new();
    s.dense(b, &mut Xoshiro::new(17, 2), &mut blocks);
    let x = from_blocks(&blocks, 4, b);
    for i in 0..4 {
        let col: Vec<f64> = x.iter().skip(i).step_by(4).map(|&v| v as f64).collect();
        let frac = col.iter().filter(|&&v| v > 0.0).count() as f64 / b as f64;
        let mean = col.iter().sum::<f64>() / b as f64;
        check(frac, p, (p * (1.0 - p)).sqrt(), b, "dense walk density");
        check(
            mean,
            p / 2.0,
            (p / 3.0 - p * p / 4.0).sqrt(),
            b,
            "dense walk mean",
        );
    }
    let last = blocks.len() - 8 * 4;
    for i in 0..4 {
        let pad = &blocks[last + 8 * i + 3..last + 8 * i + 8];
        assert!(pad.iter().all(|&v| v == 0.0), "padding lanes {pad:?}");
    }
}

#[test]
fn geometric_skips_have_mean_q_over_p() {
    // E G = (1 − p)/p, Var G = (1 − p)/p² (rng.md (R5)).
    let mut r = Xoshiro::new(21, 0);
    let p: f64 = 0.1;
    let k = 200_000;
    let mean = (0..k)
        .map(|_| r.geometric((1.0 - p).ln()) as f64)
        .sum::<f64>()
        / k as f64;
    check(
        mean,
        (1.0 - p) / p,
        ((1.0 - p) / (p * p)).sqrt(),
        k,
        "geometric mean",
    );
    let u = r.bulk_f32(1000).to_vec();
    assert!(u.iter().all(|&v| (0.0..1.0).contains(&v)));
    let m = u.iter().map(|&v| v as f64).sum::<f64>() / 1000.0;
    check(m, 0.5, (1.0f64 / 12.0).sqrt(), 1000, "bulk uniform mean");
}

/// The active-entry sampler (S7) draws the same law as the full sparse one: per-feature
/// density and moments, and the count of unstored all-zero samples is Binomial(B, Πᵢ(1 − pᵢ)).
#[test]
fn active_batches_store_only_nonempty_samples_with_the_right_law() {
    let b = 200_000;
    // Walks only; walks and tests mixed; tests only (row-wise path).
    for dens in [vec![0.002, 0.005], vec![0.3, 0.01], vec![0.3, 0.5]] {
        let f = FeatureSet::from_densities(vec![1.0, 1.0], &dens, Magnitude::Uniform)
            .expect("valid features");
        let s = Sampler::quadratic(&f).expect("valid sampler");
        let mut batch = SparseBatch::default();
        s.active(b, &mut Xoshiro::new(7, 1), &mut batch);
        assert_eq!(batch.len(), b, "{dens:?}");
        rows_are_sorted(&batch);
        assert!(
            batch.start.windows(2).all(|w| w[0] < w[1]),
            "{dens:?}: an empty row is stored"
        );
        let q0: f64 = dens.iter().map(|p| 1.0 - p).product();
        check(
            batch.zeros as f64 / b as f64,
            q0,
            (q0 * (1.0 - q0)).sqrt(),
            b,
            "all-zero fraction",
        );
        for (i, &p) in dens.iter().enumerate() {
            let (frac, mean, var, _) = moments(&batch, i as u32);
            check(frac, p, (p * (1.0 - p)).sqrt(), b, "density");
            check(mean, 0.0, 1.0, b, "mean");
            check(var, 1.0, (9.0 / (5.0 * p) - 1.0).sqrt(), b, "variance");
        }
    }
}
