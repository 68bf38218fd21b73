//! Every model's batch gradient against central differences of an independent f64 loss, and
//! the two autoencoder kernels (dense lanes, Gram) against each other.

use polycap::base::{FeatureSet, Magnitude};
use polycap::training::data::{InputLaw, Sampler, SparseBatch, from_blocks};
use polycap::training::model::Activation;
use polycap::training::quadratic::QuadraticNet;
use polycap::training::rng::Xoshiro;
use polycap::training::tms::{Autoencoder, Scratch};

const N: usize = 7;
const D: usize = 3;

fn params(seed: u64, len: usize, std: f64) -> Vec<f64> {
    let mut r = Xoshiro::new(seed, 77);
    (0..len).map(|_| std * r.normal()).collect()
}

fn sparse_of(dense: &[f32], n: usize) -> SparseBatch {
    let mut b = SparseBatch::default();
    b.start.push(0);
    for row in dense.chunks(n) {
        for (i, &v) in row.iter().enumerate() {
            if v != 0.0 {
                b.index.push(i as u32);
                b.value.push(v);
            }
        }
        b.start.push(b.index.len());
    }
    b
}

/// Reference autoencoder loss in f64: mean over samples and features of Iⱼ(σ(Wⱼ·Σᵢ xᵢWᵢ + bⱼ) − xⱼ)².
fn ae_loss(act: Activation, imp: &[f64], theta: &[f64], x: &[f32]) -> f64 {
    let (w, b) = theta.split_at(N * D);
    let mut tot = 0.0;
    let rows = x.len() / N;
    for row in x.chunks(N) {
        let mut h = [0f64; D];
        for i in 0..N {
            for d in 0..D {
                h[d] += row[i] as f64 * w[i * D + d];
            }
        }
        for j in 0..N {
            let z: f64 = (0..D).map(|d| w[j * D + d] * h[d]).sum::<f64>() + b[j];
            let e = act.eval(z).0 - row[j] as f64;
            tot += imp[j] * e * e;
        }
    }
    tot / (rows * N) as f64
}

fn central(f: &dyn Fn(&[f64]) -> f64, theta: &[f64], h: f64) -> Vec<f64> {
    (0..theta.len())
        .map(|k| {
            let (mut p, mut m) = (theta.to_vec(), theta.to_vec());
            p[k] += h;
            m[k] -= h;
            (f(&p) - f(&m)) / (2.0 * h)
        })
        .collect()
}

fn assert_close(got: &[f64], want: &[f64], rel: f64, what: &str) {
    let scale = want.iter().fold(0f64, |a, &v| a.max(v.abs()));
    assert!(scale > 0.0, "{what}: zero gradient");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rel * scale,
            "{what}: component {k}: got {g}, want {w} (scale {scale})"
        );
    }
}

#[test]
fn autoencoder_gradients_match_central_differences_and_each_other() {
    let imp: Vec<f64> = (0..N).map(|i| 0.9f64.powi(i as i32)).collect();
    for act in [
        Activation::Relu,
        Activation::Gelu,
        Activation::Square,
        Activation::Identity,
    ] {
        for p in [1.0, 0.3] {
            let f = FeatureSet::from_densities(imp.clone(), &[p; N], Magnitude::Uniform)
                .expect("valid features");
            let s = Sampler::new(&f, InputLaw::UnitUniform).expect("valid sampler");
            // 37 samples: not a multiple of the 8 lanes, so the masked tail is exercised.
            let mut xb = Vec::new();
            s.dense(37, &mut Xoshiro::new(3, 1), &mut xb);
            let x = from_blocks(&xb, N, 37);
            let mut theta = params(4, N * D, 0.5);
            theta.extend(params(5, N, 0.1));
            let net = Autoencoder {
                act,
                n: N,
                d: D,
                importance: imp.iter().map(|&v| v as f32).collect(),
            };
            let w32: Vec<f32> = theta[..N * D].iter().map(|&v| v as f32).collect();
            let b32: Vec<f32> = theta[N * D..].iter().map(|&v| v as f32).collect();
            // Evaluate the reference at the f32-rounded parameters the kernels see.
            let theta32: Vec<f64> = w32.iter().chain(&b32).map(|&v| v as f64).collect();
            let fd = central(&|t| ae_loss(act, &imp, t, &x), &theta32, 1e-5);
            let mut sc = Scratch::default();
            let (mut gw, mut gb) = (vec![0.0; N * D], vec![0.0; N]);
            let l_dense = net.dense_grad(&w32, &b32, &xb, 37, &mut gw, &mut gb, &mut sc);
            let dense: Vec<f64> = gw.iter().chain(&gb).copied().collect();
            let l_gram = net.gram_grad(&w32, &b32, &sparse_of(&x, N), &mut gw, &mut gb, &mut sc);
            let gram: Vec<f64> = gw.iter().chain(&gb).copied().collect();
            let l_ref = ae_loss(act, &imp, &theta32, &x);
            let what = format!("{act:?} p = {p}");
            assert!(
                (l_dense - l_ref).abs() <= 1e-5 * l_ref,
                "{what}: loss {l_dense} vs {l_ref}"
            );
            assert!(
                (l_gram - l_ref).abs() <= 1e-5 * l_ref,
                "{what}: loss {l_gram} vs {l_ref}"
            );
            assert_close(&dense, &fd, 1e-4, &format!("{what} dense"));
            assert_close(&gram, &fd, 1e-4, &format!("{what} gram"));
        }
    }
}

/// Reference quadratic-family loss in f64: mean of (Σ_r σ((Wx)_r) + b − Σᵢ vᵢ σ(xᵢ))².
/// Unstored all-zero samples (`batch.zeros`) are added as explicit rows x = 0.
fn quad_loss(act: Activation, v: &[f64], theta: &[f64], batch: &SparseBatch) -> f64 {
    let b = theta[N * D];
    let mut tot = batch.zeros as f64 * (act.eval(0.0).0 * D as f64 + b).powi(2);
    for s in 0..batch.rows() {
        let mut x = [0f64; N];
        for k in batch.start[s]..batch.start[s + 1] {
            x[batch.index[k] as usize] = batch.value[k] as f64;
        }
        let mut yt = theta[N * D];
        for d in 0..D {
            let h: f64 = (0..N).map(|i| theta[i * D + d] * x[i]).sum();
            yt += act.eval(h).0;
        }
        let y: f64 = (0..N).map(|i| v[i] * act.eval(x[i]).0).sum();
        tot += (yt - y) * (yt - y);
    }
    tot / batch.len() as f64
}

/// Relative tolerance of the active-entry kernel's loss against the f64 reference: GeLU
/// evaluates σ in f32 lanes, |Δσ| ≤ 3·10⁻⁷·max(1, |z|) (derivations/quadratic.md (QT8)); the
/// other activations are f64 throughout.
fn active_loss_tol(act: Activation) -> f64 {
    if act == Activation::Gelu { 1e-6 } else { 1e-12 }
}

#[test]
fn quadratic_gradients_match_central_differences() {
    let v: Vec<f64> = (0..N).map(|i| 1.0 / (1.0 + i as f64)).collect();
    for act in [Activation::Square, Activation::Relu, Activation::Gelu] {
        // Full sparse batches, and active batches (S7) whose all-zero samples are only counted.
        for (p, active) in [(1.0, false), (0.2, false), (0.2, true), (0.01, true)] {
            let f = FeatureSet::from_densities(v.clone(), &[p; N], Magnitude::Uniform)
                .expect("valid features");
            let s = Sampler::quadratic(&f).expect("valid sampler");
            let mut batch = SparseBatch::default();
            if active {
                s.active(
                    if p < 0.1 { 2000 } else { 50 },
                    &mut Xoshiro::new(8, 2),
                    &mut batch,
                );
                assert!(batch.zeros > 0 && batch.rows() > 0, "{batch:?}");
            } else {
                s.sparse(50, &mut Xoshiro::new(8, 2), &mut batch);
            }
            let mut theta = params(6, N * D, 0.3);
            theta.push(0.2);
            let net = QuadraticNet {
                act,
                n: N,
                d: D,
                importance: v.clone(),
                single_moments: Vec::new(),
            };
            let (mut gw, mut gb) = (vec![0.0; N * D], vec![0.0; 1]);
            let l = net.batch_grad(&theta[..N * D], theta[N * D], &batch, &mut gw, &mut gb);
            let got: Vec<f64> = gw.iter().chain(&gb).copied().collect();
            let l_ref = quad_loss(act, &v, &theta, &batch);
            assert!(
                (l - l_ref).abs() <= active_loss_tol(act) * l_ref.max(1.0),
                "{act:?}: {l} vs {l_ref}"
            );
            let fd = central(&|t| quad_loss(act, &v, t, &batch), &theta, 1e-6);
            assert_close(&got, &fd, 1e-6, &format!("{act:?} p = {p}"));
        }
    }
}

/// The dense lane kernel (QT5) of the quadratic family, in f32 with a partial last block,
/// against central differences of the f64 reference on the same samples.
#[test]
fn quadratic_dense_kernel_matches_central_differences() {
    let v: Vec<f64> = (0..N).map(|i| 1.0 / (1.0 + i as f64)).collect();
    for act in [Activation::Square, Activation::Relu, Activation::Gelu] {
        for p in [1.0, 0.4] {
            let f = FeatureSet::from_densities(v.clone(), &[p; N], Magnitude::Gaussian)
                .expect("valid features");
            let s = Sampler::quadratic(&f).expect("valid sampler");
            let b = 61;
            let mut blocks = Vec::new();
            s.dense(b, &mut Xoshiro::new(4, 2), &mut blocks);
            let batch = sparse_of(&from_blocks(&blocks, N, b), N);
            // Parameters on the f32 grid, so that the rounding of W is not part of the check.
            let mut theta: Vec<f64> = params(9, N * D, 0.3)
                .into_iter()
                .map(|x| x as f32 as f64)
                .collect();
            theta.push(0.25);
            let w32: Vec<f32> = theta[..N * D].iter().map(|&x| x as f32).collect();
            let net = QuadraticNet {
                act,
                n: N,
                d: D,
                importance: v.clone(),
                single_moments: Vec::new(),
            };
            let (mut gw, mut gb) = (vec![0.0; N * D], vec![0.0; 1]);
            let l = net.dense_grad(&w32, 0.25, &blocks, b, &mut gw, &mut gb);
            let got: Vec<f64> = gw.iter().chain(&gb).copied().collect();
            let l_ref = quad_loss(act, &v, &theta, &batch);
            assert!(
                (l - l_ref).abs() <= 1e-5 * l_ref.max(1.0),
                "{act:?}: {l} vs {l_ref}"
            );
            let fd = central(&|t| quad_loss(act, &v, t, &batch), &theta, 1e-6);
            assert_close(&got, &fd, 1e-4, &format!("{act:?} dense p = {p}"));
        }
    }
}

/// (QT7): with the conditional moments, a single-entry sample contributes the mean of the
/// sampled single-entry contribution over its magnitude. Checked against the sampled kernel
/// averaged over 4000 fresh draws of the single-entry magnitudes (rows with two or more
/// entries, and the all-zero count, kept): loss and every gradient coordinate within 5
/// standard errors of that mean; and the two kernels agree exactly on rows of two entries.
#[test]
fn expected_single_entries_are_the_mean_over_magnitudes() {
    let v: Vec<f64> = (0..N).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let p = 0.05;
    for law in [Magnitude::Gaussian, Magnitude::Laplace] {
        let f = FeatureSet::from_densities(v.clone(), &[p; N], law).expect("valid features");
        let s = Sampler::quadratic(&f).expect("valid sampler");
        let mut batch = SparseBatch::default();
        s.active(400, &mut Xoshiro::new(3, 1), &mut batch);
        let singles: Vec<usize> = (0..batch.rows())
            .filter(|&r| batch.start[r + 1] == batch.start[r] + 1)
            .collect();
        assert!(
            singles.len() > 50 && singles.len() < batch.rows(),
            "{batch:?}"
        );
        let mut theta = params(5, N * D, 0.4);
        theta.push(0.3);
        let (w, b) = (&theta[..N * D], theta[N * D]);
        let sampled = QuadraticNet {
            act: Activation::Square,
            n: N,
            d: D,
            importance: v.clone(),
            single_moments: Vec::new(),
        };
        let k = law.kurtosis();
        let expected = QuadraticNet {
            single_moments: vec![(1.0 / p, k / (p * p)); N],
            ..sampled.clone()
        };
        let (mut gw, mut gb) = (vec![0.0; N * D], vec![0.0; 1]);
        let l_exp = expected.batch_grad(w, b, &batch, &mut gw, &mut gb);
        let want: Vec<f64> = std::iter::once(l_exp).chain(gw).chain(gb).collect();
        // Monte Carlo over the single-entry magnitudes.
        let reps = 4000;
        let mut rng = Xoshiro::new(11, 0);
        let (mut sum, mut sq) = (vec![0.0; want.len()], vec![0.0; want.len()]);
        let mut draw = batch.clone();
        for _ in 0..reps {
            for &r in &singles {
                let z = law.sample_standard(&mut rng);
                draw.value[batch.start[r]] = (z / p.sqrt()) as f32;
            }
            let (mut gw, mut gb) = (vec![0.0; N * D], vec![0.0; 1]);
            let l = sampled.batch_grad(w, b, &draw, &mut gw, &mut gb);
            for (k, x) in std::iter::once(l).chain(gw).chain(gb).enumerate() {
                sum[k] += x;
                sq[k] += x * x;
            }
        }
        for k in 0..want.len() {
            let mean = sum[k] / reps as f64;
            let se = ((sq[k] / reps as f64 - mean * mean) / reps as f64).sqrt();
            assert!(
                (mean - want[k]).abs() <= 5.0 * se + 1e-9 * want[k].abs(),
                "{law:?} coordinate {k}: Monte Carlo {mean} ± {se}, expected kernel {}",
                want[k]
            );
        }
        // Without single-entry rows the two kernels are the same computation.
        let mut pairs = SparseBatch::default();
        pairs.start.push(0);
        for r in 0..batch.rows() {
            let (lo, hi) = (batch.start[r], batch.start[r + 1]);
            if hi - lo >= 2 {
                pairs.index.extend_from_slice(&batch.index[lo..hi]);
                pairs.value.extend_from_slice(&batch.value[lo..hi]);
                pairs.start.push(pairs.index.len());
            }
        }
        let (mut g1, mut b1, mut g2, mut b2) = (vec![0.0; N * D], [0.0], vec![0.0; N * D], [0.0]);
        let l1 = sampled.batch_grad(w, b, &pairs, &mut g1, &mut b1);
        let l2 = expected.batch_grad(w, b, &pairs, &mut g2, &mut b2);
        let mut same = g1.iter().chain(&b1).zip(g2.iter().chain(&b2));
        assert!((l1 - l2).abs() <= 1e-12 * l1.abs());
        assert!(same.all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

/// (QT8) The active-entry kernel at every embedding dimension it specialises (D = 1, 8) and
/// at one it does not (D = 9), for each activation, against central differences of an
/// independent dense f64 loss on the same active batch.
#[test]
fn quadratic_kernel_copies_per_dimension_match_central_differences() {
    let n = 5;
    let v: Vec<f64> = (0..n).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let f = FeatureSet::from_densities(v.clone(), &[0.3; 5], Magnitude::Uniform)
        .expect("valid features");
    let mut batch = SparseBatch::default();
    Sampler::quadratic(&f)
        .expect("valid sampler")
        .active(40, &mut Xoshiro::new(4, 1), &mut batch);
    for d in [1, 8, 9] {
        for act in [Activation::Square, Activation::Relu, Activation::Gelu] {
            let loss = |t: &[f64]| {
                let mut tot = batch.zeros as f64 * t[n * d].powi(2);
                for s in 0..batch.rows() {
                    let mut x = vec![0f64; n];
                    for k in batch.start[s]..batch.start[s + 1] {
                        x[batch.index[k] as usize] = batch.value[k] as f64;
                    }
                    let mut r = t[n * d];
                    for j in 0..d {
                        let h: f64 = (0..n).map(|i| t[i * d + j] * x[i]).sum();
                        r += act.eval(h).0;
                    }
                    r -= (0..n).map(|i| v[i] * act.eval(x[i]).0).sum::<f64>();
                    tot += r * r;
                }
                tot / batch.len() as f64
            };
            let mut theta = params(5, n * d, 0.4);
            theta.push(0.1);
            let net = QuadraticNet {
                act,
                n,
                d,
                importance: v.clone(),
                single_moments: Vec::new(),
            };
            let (mut gw, mut gb) = (vec![0.0; n * d], vec![0.0; 1]);
            let l = net.batch_grad(&theta[..n * d], theta[n * d], &batch, &mut gw, &mut gb);
            let l_ref = loss(&theta);
            assert!(
                (l - l_ref).abs() <= active_loss_tol(act) * l_ref,
                "{act:?} D = {d}: {l} vs {l_ref}"
            );
            let got: Vec<f64> = gw.iter().chain(&gb).copied().collect();
            let fd = central(&loss, &theta, 1e-6);
            assert_close(&got, &fd, 1e-6, &format!("{act:?} D = {d}"));
        }
    }
}
