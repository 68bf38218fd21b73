//! Many tiny ReLU-output autoencoders x′ = ReLU(WᵀWx + b) (spec (E1)–(E3)) trained at once,
//! one instance per SIMD lane.
//!
//! The kernels of [`super::tms`] vectorise *within* one instance (eight samples per lane
//! block). For N ≤ 8 features in D ≤ 4 dimensions that leaves the lanes mostly idle on tiny
//! matrices; here the eight lanes of a vector are eight *different* instances (own W, b,
//! importances, densities, random stream), and every sample of a batch is one pass of scalar
//! code over lane vectors (LN1). Each lane draws its inputs from its own xoshiro128++ stream
//! seeded from the instance's seed alone, and the optimiser runs per lane in f64, so an
//! instance's result depends only on (seed, instance), not on which lane, block or thread it
//! ran in (LN3). Both instruction-set copies (portable, AVX2) give the same bits (simd.md
//! (SD3)).
//!
//! Shapes other than 2 × 1 and 3 × 2 run zero-padded to 8 × 4; padded features have
//! importance 0 and density 0 and padded weights stay exactly 0 (LN2).
//!
//! Derivation: derivations/lanes.md (LN1)–(LN4).
//!
//! # Example
//!
//! ```
//! use polycap::training::lanes::{TinyConfig, TinyInstance, train_tiny};
//! // Two features in one dimension, the second half as important: dense inputs drop it.
//! let mut cfg = TinyConfig::new(2, 1)?;
//! cfg.steps = 2000;
//! let inst = TinyInstance { importance: vec![1.0, 0.5], density: vec![1.0, 1.0], seed: 1 };
//! let runs = train_tiny(&cfg, &[inst], &|_| {})?;
//! assert!(runs[0].w[(0, 0)].abs() > 0.9 && runs[0].w[(0, 1)].abs() < 0.3);
//! # Ok::<(), polycap::base::Error>(())
//! ```

use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::base::{Error, Result};

use super::model::Init;
use super::optim::{OptState, Optimizer, Schedule};
use super::rng::{Xoshiro, xoshiro128pp};
#[cfg(target_arch = "x86_64")]
use super::simd::Avx2;
use super::simd::{Bits, Isa, LANES, Lanes, Path, Portable, Simd};

/// Largest number of features N of the lane engine.
pub const MAX_FEATURES: usize = 8;
/// Largest embedding dimension D of the lane engine.
pub const MAX_DIMS: usize = 4;

/// Hyper-parameters shared by every instance of a lane run.
#[derive(Debug, Clone, PartialEq)]
pub struct TinyConfig {
    /// Number of features N (1 ≤ N ≤ 8).
    pub features: usize,
    /// Embedding dimension D (1 ≤ D ≤ 4).
    pub dims: usize,
    /// Optimisation steps T.
    pub steps: usize,
    /// Batch size B.
    pub batch: usize,
    /// Learning rate η.
    pub lr: f64,
    /// Optimiser (per lane, f64).
    pub optimizer: Optimizer,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Initialisation of W (b starts at 0).
    pub init: Init,
    /// Fresh samples for the final loss.
    pub eval_batch: usize,
    /// Instruction set: results are bit-identical either way.
    pub simd: Simd,
}

impl TinyConfig {
    /// The public replication's set-up for N features in D dimensions: AdamW (weight decay
    /// 0.01, PyTorch's default) at η = 1e-3 constant, 5000 steps, batch 1024, Xavier normal,
    /// final loss on 16 384 fresh samples.
    ///
    /// # Errors
    /// [`Error::Parameter`] unless 1 ≤ N ≤ 8 and 1 ≤ D ≤ 4.
    pub fn new(features: usize, dims: usize) -> Result<Self> {
        let c = TinyConfig {
            features,
            dims,
            steps: 5000,
            batch: 1024,
            lr: 1e-3,
            optimizer: Optimizer::AdamW { weight_decay: 0.01 },
            schedule: Schedule::Constant,
            init: Init::Xavier,
            eval_batch: 16_384,
            simd: Simd::Auto,
        };
        c.validate()?;
        Ok(c)
    }

    /// Checks sizes (1 ≤ N ≤ 8, 1 ≤ D ≤ 4), batch, evaluation batch, η, optimiser, init.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_FEATURES).contains(&self.features) || !(1..=MAX_DIMS).contains(&self.dims) {
            return Err(Error::Parameter(format!(
                "the lane engine trains 1 ≤ N ≤ {MAX_FEATURES} features in 1 ≤ D ≤ {MAX_DIMS} dimensions, got N = {}, D = {}",
                self.features, self.dims
            )));
        }
        if self.batch == 0 || self.eval_batch == 0 {
            return Err(Error::Parameter(format!(
                "batch and evaluation batch must be ≥ 1, got {} and {}",
                self.batch, self.eval_batch
            )));
        }
        super::optim::check_lr(self.lr)?;
        self.optimizer.validate()?;
        self.init.validate()
    }
}

/// One instance: importances Iᵢ, densities pᵢ (N each) and its seed.
#[derive(Debug, Clone, PartialEq)]
pub struct TinyInstance {
    /// Importances Iᵢ ≥ 0.
    pub importance: Vec<f64>,
    /// Densities pᵢ ∈ (0, 1]: xᵢ ~ U[0, 1) with probability pᵢ, else 0 (E2).
    pub density: Vec<f64>,
    /// Seed: the instance's whole random stream (initialisation and data) (LN3).
    pub seed: u64,
}

/// A trained instance.
#[derive(Debug, Clone, PartialEq)]
pub struct TinyRun {
    /// Trained W, D×N, column i = feature i.
    pub w: DMatrix<f64>,
    /// Bias b, N entries.
    pub bias: Vec<f64>,
    /// Loss on `eval_batch` fresh samples, mean over samples and features of
    /// Iⱼ(xⱼ − x′ⱼ)² (notebook normalisation, as [`super::Run::loss`]).
    pub loss: f64,
}

/// Trains every instance (in parallel, eight per lane block) and returns the runs in input
/// order. `on_block(k)` is called after each block with its number of instances.
///
/// # Errors
/// [`Error::Parameter`] for an invalid configuration, an instance whose importances or
/// densities do not have N entries, an importance < 0 or a density outside (0, 1].
pub fn train_tiny(
    config: &TinyConfig,
    instances: &[TinyInstance],
    on_block: &(dyn Fn(usize) + Sync),
) -> Result<Vec<TinyRun>> {
    config.validate()?;
    let n = config.features;
    for (k, inst) in instances.iter().enumerate() {
        if inst.importance.len() != n || inst.density.len() != n {
            return Err(Error::Parameter(format!(
                "instance {}: expected {n} importances and densities, got {} and {}",
                k + 1,
                inst.importance.len(),
                inst.density.len()
            )));
        }
        for (index, &value) in inst.importance.iter().enumerate() {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::Importance { index, value });
            }
        }
        for (index, &value) in inst.density.iter().enumerate() {
            if !(value > 0.0 && value <= 1.0) {
                return Err(Error::Density { index, value });
            }
        }
    }
    let shape = Shape::of(config.features, config.dims);
    let isa = Isa::select(config.simd);
    let blocks: Vec<Vec<TinyRun>> = instances
        .par_chunks(LANES)
        .with_max_len(1)
        .map(|chunk| {
            let mut block = Block::new(config, chunk, shape);
            block.train(isa, config);
            on_block(chunk.len());
            block.runs(config)
        })
        .collect();
    Ok(blocks.into_iter().flatten().collect())
}

/// The compiled shape an (N, D) runs on (LN2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    TwoInOne,
    ThreeInTwo,
    Padded,
}

impl Shape {
    fn of(n: usize, d: usize) -> Shape {
        match (n, d) {
            (2, 1) => Shape::TwoInOne,
            (3, 2) => Shape::ThreeInTwo,
            _ => Shape::Padded,
        }
    }

    /// (N, D) of the compiled kernel.
    fn size(self) -> (usize, usize) {
        match self {
            Shape::TwoInOne => (2, 1),
            Shape::ThreeInTwo => (3, 2),
            Shape::Padded => (MAX_FEATURES, MAX_DIMS),
        }
    }
}

/// Up to eight instances trained together; padded lanes repeat the last instance and are
/// dropped at the end.
struct Block {
    shape: Shape,
    /// Real instances in this block.
    used: usize,
    /// Per lane: θ = (W row-major N×D in the padded shape, b), f64.
    theta: [Vec<f64>; LANES],
    opt: Vec<OptState>,
    /// Per feature, per lane: importance, density, 1/density (f32).
    importance: Vec<[f32; LANES]>,
    density: Vec<[f32; LANES]>,
    inv_density: Vec<[f32; LANES]>,
    /// xoshiro128++ state word k of lane l: `rng[k][l]` (R6).
    rng: [[u32; LANES]; 4],
    loss: [f64; LANES],
}

/// Stream number of the lane generator (distinct from the per-instance streams of `run.rs`).
const LANE_STREAM: u64 = 0x7A11_1A9E;

impl Block {
    fn new(config: &TinyConfig, chunk: &[TinyInstance], shape: Shape) -> Block {
        let (n, d) = (config.features, config.dims);
        let (np, dp) = shape.size();
        let std = config.init.std(n, d);
        let mut theta: [Vec<f64>; LANES] = Default::default();
        let mut rng = [[0u32; LANES]; 4];
        let mut importance = vec![[0f32; LANES]; np];
        let mut density = vec![[0f32; LANES]; np];
        let mut inv_density = vec![[0f32; LANES]; np];
        for l in 0..LANES {
            let inst = &chunk[l.min(chunk.len() - 1)];
            // (LN3) W ~ N(0, std²) from the instance's own stream, then the lane state.
            let mut r = Xoshiro::new(inst.seed, LANE_STREAM);
            let mut t = vec![0f64; np * dp + np];
            for i in 0..n {
                for k in 0..d {
                    t[i * dp + k] = std * r.normal();
                }
            }
            theta[l] = t;
            let (a, b) = (r.next_u64(), r.next_u64());
            let words = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32 | 1];
            for (k, w) in words.into_iter().enumerate() {
                rng[k][l] = w;
            }
            for i in 0..n {
                importance[i][l] = inst.importance[i] as f32;
                density[i][l] = inst.density[i] as f32;
                inv_density[i][l] = (1.0 / inst.density[i]) as f32;
            }
        }
        let len = np * dp + np;
        Block {
            shape,
            used: chunk.len(),
            theta,
            opt: (0..LANES)
                .map(|_| OptState::new(config.optimizer, len))
                .collect(),
            importance,
            density,
            inv_density,
            rng,
            loss: [0.0; LANES],
        }
    }

    /// All T steps and the final evaluation, on the chosen instruction set (SD2).
    fn train(&mut self, isa: Isa, config: &TinyConfig) {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = isa.v3 {
            v3.vectorize(Avx2Block {
                block: self,
                v3,
                config,
            });
            return;
        }
        let _ = isa;
        self.train_in::<Portable>((), config);
    }

    #[inline(always)]
    fn train_in<P: Path>(&mut self, cx: P::Ctx, config: &TinyConfig) {
        match self.shape {
            Shape::TwoInOne => self.train_shape::<P, 2, 1>(cx, config),
            Shape::ThreeInTwo => self.train_shape::<P, 3, 2>(cx, config),
            Shape::Padded => self.train_shape::<P, MAX_FEATURES, MAX_DIMS>(cx, config),
        }
    }

    #[inline(always)]
    fn train_shape<P: Path, const N: usize, const D: usize>(
        &mut self,
        cx: P::Ctx,
        config: &TinyConfig,
    ) {
        let mut imp = [P::F::splat(cx, 0.0); N];
        let mut den = imp;
        let mut inv = imp;
        for i in 0..N {
            imp[i] = P::F::from_array(cx, self.importance[i]);
            den[i] = P::F::from_array(cx, self.density[i]);
            inv[i] = P::F::from_array(cx, self.inv_density[i]);
        }
        let mut rng = [P::U::from_array(cx, self.rng[0]); 4];
        for (r, a) in rng.iter_mut().zip(self.rng) {
            *r = P::U::from_array(cx, a);
        }
        let mut x = [P::F::splat(cx, 0.0); N];
        let len = N * D + N;
        let mut grad = vec![0f64; len];
        // (LN1) gradient of the notebook loss: 2/(B·N) times the sums below.
        let scale = 2.0 / (config.batch as f64 * config.features as f64);
        for t in 0..config.steps {
            let (w, b) = self.weights::<P, N, D>(cx);
            let mut gw = [[P::F::splat(cx, 0.0); D]; N];
            let mut gb = [P::F::splat(cx, 0.0); N];
            for _ in 0..config.batch {
                sample::<P, N>(&mut rng, &den, &inv, &mut x);
                let s = forward::<P, N, D>(&w, &b, &x, &imp);
                // (LN1) ∂/∂W_ik of Σ_j g_j (Σ_m W_jm h_m + b_j)·…: g_i h_k + u_k x_i, u = Wg.
                let mut u = [P::F::splat(cx, 0.0); D];
                for (wi, &gi) in w.iter().zip(&s.g) {
                    for (uk, &wik) in u.iter_mut().zip(wi) {
                        *uk += wik * gi;
                    }
                }
                for i in 0..N {
                    for k in 0..D {
                        gw[i][k] += s.g[i] * s.h[k] + u[k] * x[i];
                    }
                    gb[i] += s.g[i];
                }
            }
            let lr = config.lr * config.schedule.factor(t, config.steps);
            for l in 0..self.used {
                for i in 0..N {
                    for k in 0..D {
                        grad[i * D + k] = gw[i][k].to_array()[l] as f64 * scale;
                    }
                    grad[N * D + i] = gb[i].to_array()[l] as f64 * scale;
                }
                self.opt[l].step(&mut self.theta[l], &grad, lr);
            }
        }
        // (RN3) final loss on fresh samples of the same stream.
        let (w, b) = self.weights::<P, N, D>(cx);
        let mut total = [0f64; LANES];
        let mut left = config.eval_batch;
        while left > 0 {
            let c = left.min(1024);
            let mut loss = P::F::splat(cx, 0.0);
            for _ in 0..c {
                sample::<P, N>(&mut rng, &den, &inv, &mut x);
                loss += forward::<P, N, D>(&w, &b, &x, &imp).loss;
            }
            for (t, v) in total.iter_mut().zip(loss.to_array()) {
                *t += v as f64;
            }
            left -= c;
        }
        for (o, t) in self.loss.iter_mut().zip(total) {
            *o = t / (config.eval_batch as f64 * config.features as f64);
        }
        for (a, r) in self.rng.iter_mut().zip(rng) {
            *a = r.to_array();
        }
    }

    /// W and b of every lane as lane vectors (f32).
    #[inline(always)]
    fn weights<P: Path, const N: usize, const D: usize>(
        &self,
        cx: P::Ctx,
    ) -> ([[P::F; D]; N], [P::F; N]) {
        let mut w = [[P::F::splat(cx, 0.0); D]; N];
        let mut b = [P::F::splat(cx, 0.0); N];
        let mut lanes = [0f32; LANES];
        for i in 0..N {
            for k in 0..D {
                for (o, t) in lanes.iter_mut().zip(&self.theta) {
                    *o = t[i * D + k] as f32;
                }
                w[i][k] = P::F::from_array(cx, lanes);
            }
            for (o, t) in lanes.iter_mut().zip(&self.theta) {
                *o = t[N * D + i] as f32;
            }
            b[i] = P::F::from_array(cx, lanes);
        }
        (w, b)
    }

    /// The real instances' runs, W back in the D×N layout.
    fn runs(&self, config: &TinyConfig) -> Vec<TinyRun> {
        let (n, d) = (config.features, config.dims);
        let (np, dp) = self.shape.size();
        (0..self.used)
            .map(|l| {
                let t = &self.theta[l];
                TinyRun {
                    w: DMatrix::from_fn(d, n, |k, i| t[i * dp + k]),
                    bias: t[np * dp..np * dp + n].to_vec(),
                    loss: self.loss[l],
                }
            })
            .collect()
    }
}

/// One sample per lane: xᵢ = u/pᵢ if u < pᵢ else 0 with u ~ U[0, 1) (24 bits), so xᵢ is 0 with
/// probability 1 − pᵢ and U[0, 1) otherwise from a single draw (LN4). Plain loops, no
/// closures: everything must inline into the AVX2 copy (SD2).
#[inline(always)]
fn sample<P: Path, const N: usize>(
    rng: &mut [P::U; 4],
    den: &[P::F; N],
    inv: &[P::F; N],
    x: &mut [P::F; N],
) {
    let [s0, s1, s2, s3] = rng;
    for i in 0..N {
        // xoshiro128++ (rng.md (R6)).
        let u = xoshiro128pp(s0, s1, s2, s3).unit_f32();
        x[i] = u.lt_select(den[i], u * inv[i]);
    }
}

/// Hidden vector, per-feature gradient factor gᵢ = Iᵢ eᵢ 1[yᵢ > 0] and the weighted squared
/// error Σᵢ Iᵢ eᵢ² of one sample, eᵢ = ReLU(yᵢ) − xᵢ, y = WᵀWx + b.
struct Pass<V, const N: usize, const D: usize> {
    h: [V; D],
    g: [V; N],
    loss: V,
}

#[inline(always)]
fn forward<P: Path, const N: usize, const D: usize>(
    w: &[[P::F; D]; N],
    b: &[P::F; N],
    x: &[P::F; N],
    imp: &[P::F; N],
) -> Pass<P::F, N, D> {
    let cx = x[0].ctx();
    let zero = P::F::splat(cx, 0.0);
    let mut h = [zero; D];
    for i in 0..N {
        for k in 0..D {
            h[k] += w[i][k] * x[i];
        }
    }
    let mut g = [zero; N];
    let mut loss = zero;
    for i in 0..N {
        let mut y = b[i];
        for k in 0..D {
            y += w[i][k] * h[k];
        }
        let e = y.max(zero) - x[i];
        let ie = imp[i] * e;
        loss += ie * e;
        g[i] = ie * y.positive();
    }
    Pass { h, g, loss }
}

/// The AVX2 copy of [`Block::train`], run inside `pulp`'s target-feature function (SD2).
#[cfg(target_arch = "x86_64")]
struct Avx2Block<'a> {
    block: &'a mut Block,
    v3: pulp::x86::V3,
    config: &'a TinyConfig,
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for Avx2Block<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        self.block.train_in::<Avx2>(self.v3, self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(r: f64, p: f64, seed: u64) -> TinyInstance {
        TinyInstance {
            importance: vec![1.0, r],
            density: vec![p, p],
            seed,
        }
    }

    /// (LN3): an instance's result does not depend on its lane or block neighbours.
    #[test]
    fn lane_position_does_not_matter() {
        let mut cfg = TinyConfig::new(2, 1).expect("valid");
        cfg.steps = 50;
        cfg.batch = 64;
        cfg.eval_batch = 256;
        let a: Vec<TinyInstance> = (0..11).map(|s| inst(0.5, 0.3, s)).collect();
        let mut b = a.clone();
        b.reverse();
        let ra = train_tiny(&cfg, &a, &|_| {}).expect("runs");
        let rb = train_tiny(&cfg, &b, &|_| {}).expect("runs");
        for (k, r) in ra.iter().enumerate() {
            assert_eq!(r, &rb[a.len() - 1 - k]);
        }
    }

    /// (SD3): portable and AVX2 copies agree bit for bit.
    #[test]
    fn simd_copies_agree() {
        let mut cfg = TinyConfig::new(3, 2).expect("valid");
        cfg.steps = 30;
        cfg.batch = 32;
        cfg.eval_batch = 128;
        let a: Vec<TinyInstance> = (0..9)
            .map(|s| TinyInstance {
                importance: vec![1.0, 1.0, 0.7],
                density: vec![0.2; 3],
                seed: s,
            })
            .collect();
        let auto = train_tiny(&cfg, &a, &|_| {}).expect("runs");
        cfg.simd = Simd::Portable;
        let portable = train_tiny(&cfg, &a, &|_| {}).expect("runs");
        assert_eq!(auto, portable);
    }
}
