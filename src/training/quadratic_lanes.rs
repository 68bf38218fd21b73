//! The quadratic family (quadratic, quadratic-relu, quadratic-gelu: ỹ = Σ_r σ((Wx)_r) + b
//! against y = Σᵢ vᵢ σ(xᵢ), spec (Q1)–(Q5), §10.4) trained many instances at once, one
//! instance per SIMD lane, under the (T3) protocol of [`super::Trainer::train`]: the same
//! batch by density (RN6), step count (V9), optimiser, schedule, initialisation,
//! divergence watch and evaluation.
//!
//! A batch of B samples is drawn as its non-empty rows only (QL1): per lane, geometric skips
//! over the rows with the probability 1 − Π(1 − pᵢ) that a row is non-empty, then per
//! non-empty row its first active feature from the conditional law and every later feature
//! by its own density (QL2). The all-zero rows are counted and added in O(1) ((QT4)). Each
//! non-empty row is one pass of scalar code over lane vectors, dense over the N features
//! (inactive ones are 0), in f32 (QL4). Every lane draws from its own xoshiro128++ stream
//! and advances it only for its own rows (QL3), so an instance's result depends only on its
//! seed, stream index and configuration: not on its lane, its neighbours, the block order,
//! the thread count or the instruction set (portable or AVX2, simd.md (SD3)).
//!
//! `polycap verify` keeps the per-instance trainer (quadratic-lanes.md, "Scope").
//!
//! Derivation: derivations/quadratic-lanes.md (QL1)–(QL5).
//!
//! # Example
//!
//! ```
//! use polycap::base::{FeatureSet, Magnitude};
//! use polycap::training::quadratic_lanes::{Instance, train};
//! use polycap::training::{Model, TrainConfig};
//!
//! // Three features in two dimensions, dense, the first three times as important as the
//! // next: it gets a dimension of its own at its full length ‖W₁‖² = v₁ (A3).
//! let f = FeatureSet::from_densities(vec![3.0, 1.0, 0.5], &[1.0; 3], Magnitude::Uniform)?;
//! let mut cfg = TrainConfig::defaults(Model::Quadratic);
//! cfg.steps = 1500;
//! cfg.eval_batch = 1024;
//! let runs = train(Model::Quadratic, 2, &cfg, &[Instance { features: &f, seed: 1, init: 1, index: 0 }])?;
//! let norms = &runs[0].sq_norm;
//! assert!((norms[0] - 3.0).abs() < 0.1, "{norms:?}");
//! # Ok::<(), polycap::base::Error>(())
//! ```

use std::time::Instant;

use nalgebra::DMatrix;
use rayon::prelude::*;
use wide::f32x8;

use crate::base::{Error, FeatureSet, Magnitude, Result};

use super::guard::{self, Divergence};
use super::model::{Activation, Family, Model};
use super::optim::OptState;
use super::rng::{Xoshiro, xoshiro128pp};
use super::run::{Run, TrainConfig};
#[cfg(target_arch = "x86_64")]
use super::simd::Avx2;
use super::simd::{Bits, Isa, LANES, Lanes, Path, Portable};
use super::tms::act_v;

/// One instance of a lane run: its features (importances, densities, magnitude laws) and the
/// (seed, stream index) pair that names all its random numbers, as in
/// [`super::Trainer::train`].
#[derive(Debug, Clone, Copy)]
pub struct Instance<'a> {
    /// The features.
    pub features: &'a FeatureSet,
    /// The seed of the data streams: training batches, L_ref and evaluation samples.
    pub seed: u64,
    /// The seed of the initial W's stream (RN1); `seed` for an ordinary run. Jobs that share
    /// `seed` and `index` but not `init` share their batches and start from their own W
    /// (run.md (RN8), verify.md (V10)).
    pub init: u64,
    /// The stream index.
    pub index: u64,
}

/// Stream tags (QL3): initial W, training data, the reference loss and the evaluation are
/// four independent streams of (seed, index ^ tag).
const INIT_TAG: u64 = 0x51A0_0000_0000_0000;
const TRAIN_TAG: u64 = 0x51A1_0000_0000_0000;
const REF_TAG: u64 = 0x51A2_0000_0000_0000;
const EVAL_TAG: u64 = 0x51A3_0000_0000_0000;

/// Trains every instance of the quadratic-family `model` in D = `dims` dimensions with the
/// (T3) configuration `config`, eight per lane block, blocks in parallel on the current rayon
/// pool, and returns the runs in input order.
///
/// # Errors
/// [`Error::Parameter`] for a model outside the quadratic family, D = 0, an invalid
/// configuration, instances with different numbers of features or without magnitude laws,
/// or a size the guards refuse; [`Error::Diverged`] when a run diverges (RN6).
pub fn train(
    model: Model,
    dims: usize,
    config: &TrainConfig,
    instances: &[Instance<'_>],
) -> Result<Vec<Run>> {
    let Family::Quadratic(act) = model.family() else {
        return Err(Error::Parameter(format!(
            "the quadratic lane engine trains the quadratic family, not {}",
            model.name()
        )));
    };
    if dims == 0 {
        return Err(Error::Dims(dims));
    }
    config.validate()?;
    let n = instances.first().map_or(0, |i| i.features.len());
    for (k, inst) in instances.iter().enumerate() {
        if inst.features.len() != n {
            return Err(Error::Parameter(format!(
                "instance {}: {} features, the first instance has {n}",
                k + 1,
                inst.features.len()
            )));
        }
        if inst.features.inputs().is_none() {
            return Err(Error::Parameter(format!(
                "instance {}: the quadratic family needs densities and magnitude laws",
                k + 1
            )));
        }
        let steps = config.steps_for(inst.features);
        guard::check_sweep(n, dims, steps, config.batch, config.eval_batch, 1, 1)?;
    }
    let isa = Isa::select(config.simd);
    let blocks: Vec<Vec<Run>> = instances
        .par_chunks(LANES)
        .with_max_len(1)
        .map(|chunk| {
            let start = Instant::now();
            let mut block = Block::new(act, dims, config, chunk);
            block.train(isa, config)?;
            Ok(block.runs(start.elapsed().as_secs_f64()))
        })
        .collect::<Result<_>>()?;
    Ok(blocks.into_iter().flatten().collect())
}

/// One lane's instance: parameters, optimiser, watch and protocol sizes.
struct Lane {
    /// θ = (W row-major N×D, b), f64.
    theta: Vec<f64>,
    opt: OptState,
    watch: Divergence,
    /// Steps T (V9), batch B (RN6), evaluation samples (RN3), curve spacing.
    steps: usize,
    batch: usize,
    eval: usize,
    every: usize,
    curve: Vec<(usize, f64)>,
    seed: u64,
    loss: f64,
}

/// The random state of one stream of a block (QL3): xoshiro128++ words k of lane l in
/// `words[k][l]`, and per lane a 64-bit stream for magnitudes drawn by scalar code.
struct Streams {
    words: [[u32; LANES]; 4],
    scalar: Vec<Xoshiro>,
}

impl Streams {
    fn new(chunk: &[Instance<'_>], tag: u64) -> Streams {
        let mut words = [[0u32; LANES]; 4];
        let mut scalar = Vec::with_capacity(LANES);
        for l in 0..LANES {
            let inst = &chunk[l.min(chunk.len() - 1)];
            let mut r = Xoshiro::new(inst.seed, inst.index ^ tag);
            let (a, b) = (r.next_u64(), r.next_u64());
            let w = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32 | 1];
            for (k, x) in w.into_iter().enumerate() {
                words[k][l] = x;
            }
            scalar.push(r);
        }
        Streams { words, scalar }
    }
}

/// Per feature and lane: the constants of the sampler (QL1), (QL2) and the importances.
struct Features {
    /// 1/√pᵢ (f32).
    inv_sqrt_p: Vec<[f32; LANES]>,
    /// cᵢ = 1 − Π_{j≤i}(1 − pⱼ), i < N − 1 (QL2).
    cum: Vec<[f32; LANES]>,
    /// eᵢ = Π_{j≤i}(1 − pⱼ), i < N: no feature up to i is active (QL2).
    e: Vec<[f32; LANES]>,
    /// 1 − Π(1 − pⱼ): a row is non-empty with this probability.
    nonempty: [f32; LANES],
    /// 1/ln Π(1 − pⱼ) (−0 when some pⱼ = 1: no row is empty).
    inv_ln_empty: [f32; LANES],
    /// Importances vᵢ.
    imp: Vec<[f32; LANES]>,
    /// 1 where feature i's magnitude is uniform, resp. Rademacher, resp. drawn by scalar code.
    uniform: Vec<[f32; LANES]>,
    rademacher: Vec<[f32; LANES]>,
    other: Vec<[f32; LANES]>,
    /// The magnitude laws, for the scalar draws.
    law: Vec<[Magnitude; LANES]>,
    /// True when some lane has a magnitude drawn by scalar code.
    any_other: bool,
    /// True when every magnitude of every lane is uniform (spec (Q5)).
    all_uniform: bool,
}

impl Features {
    fn new(chunk: &[Instance<'_>], n: usize) -> Features {
        let mut f = Features {
            inv_sqrt_p: vec![[0.0; LANES]; n],
            cum: vec![[0.0; LANES]; n.saturating_sub(1)],
            e: vec![[0.0; LANES]; n],
            nonempty: [0.0; LANES],
            inv_ln_empty: [0.0; LANES],
            imp: vec![[0.0; LANES]; n],
            uniform: vec![[0.0; LANES]; n],
            rademacher: vec![[0.0; LANES]; n],
            other: vec![[0.0; LANES]; n],
            law: vec![[Magnitude::Uniform; LANES]; n],
            any_other: false,
            all_uniform: true,
        };
        for l in 0..LANES {
            let inst = &chunk[l.min(chunk.len() - 1)];
            let inputs = inst.features.inputs().expect("invariant: checked by train");
            let mut empty = 1f64;
            for (i, x) in inputs.iter().enumerate() {
                let p = x.density;
                f.inv_sqrt_p[i][l] = (1.0 / p.sqrt()) as f32;
                f.imp[i][l] = inst.features.importance()[i] as f32;
                empty *= 1.0 - p;
                f.e[i][l] = empty as f32;
                if i + 1 < n {
                    f.cum[i][l] = (1.0 - empty) as f32;
                }
                f.law[i][l] = x.magnitude;
                match x.magnitude {
                    Magnitude::Uniform => f.uniform[i][l] = 1.0,
                    Magnitude::Rademacher => {
                        f.rademacher[i][l] = 1.0;
                        f.all_uniform = false;
                    }
                    _ => {
                        f.all_uniform = false;
                        f.other[i][l] = 1.0;
                        f.any_other = true;
                    }
                }
            }
            f.nonempty[l] = (1.0 - empty) as f32;
            f.inv_ln_empty[l] = (1.0 / empty.ln()) as f32;
        }
        f
    }
}

/// Up to eight instances trained together; padding lanes repeat the last instance, are never
/// given a row (batch 0) and are dropped.
struct Block {
    act: Activation,
    n: usize,
    d: usize,
    lanes: Vec<Lane>,
    features: Features,
    train: Streams,
    reference: Streams,
    eval: Streams,
    /// The first divergence (RN6) of a lane, which stops the block.
    failed: Option<Error>,
}

impl Block {
    fn new(act: Activation, d: usize, cfg: &TrainConfig, chunk: &[Instance<'_>]) -> Block {
        let n = chunk[0].features.len();
        let std = cfg.init.std(n, d);
        let lanes = chunk
            .iter()
            .map(|inst| {
                // (RN1) W ~ N(0, std²), b = 0, from the instance's own stream.
                let mut r = Xoshiro::new(inst.init, inst.index ^ INIT_TAG);
                let mut theta: Vec<f64> = (0..n * d).map(|_| std * r.normal()).collect();
                theta.push(0.0);
                let f = inst.features;
                let p_min = f
                    .densities()
                    .map_or(1.0, |p| p.iter().copied().fold(1.0, f64::min));
                let steps = cfg.steps_for(f);
                let batch = cfg.batch_for(p_min);
                let eval = match cfg.active_per_feature {
                    Some(_) => cfg.eval_batch.max(16 * batch),
                    None => cfg.eval_batch,
                };
                Lane {
                    opt: OptState::new(cfg.optimizer, theta.len()),
                    theta,
                    watch: Divergence::new(),
                    steps,
                    batch,
                    eval,
                    every: (steps / cfg.curve_points.max(1)).max(1),
                    curve: Vec::new(),
                    seed: inst.seed,
                    loss: f64::NAN,
                }
            })
            .collect();
        Block {
            act,
            n,
            d,
            lanes,
            features: Features::new(chunk, n),
            train: Streams::new(chunk, TRAIN_TAG),
            reference: Streams::new(chunk, REF_TAG),
            eval: Streams::new(chunk, EVAL_TAG),
            failed: None,
        }
    }

    /// Reference loss, T steps and the evaluation, on the chosen instruction set (SD2).
    fn train(&mut self, isa: Isa, cfg: &TrainConfig) -> Result<()> {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = isa.v3 {
            v3.vectorize(Avx2Block {
                block: self,
                v3,
                cfg,
            });
            return self.failed.take().map_or(Ok(()), Err);
        }
        let _ = isa;
        self.train_in::<Portable>((), cfg);
        self.failed.take().map_or(Ok(()), Err)
    }

    #[inline(always)]
    fn train_in<P: Path>(&mut self, cx: P::Ctx, cfg: &TrainConfig) {
        let (n, d) = (self.n, self.d);
        let k = Consts::<P>::new(cx, &self.features);
        let mut buf = Buffers::<P>::new(cx, n, d);
        let used = self.lanes.len();
        // (RN6) L_ref: the initial parameters on at least one training batch of an
        // independent stream.
        let bsz = sizes(&self.lanes, |l| l.batch.max(cfg.eval_batch.min(8192)));
        let (w, b) = self.weights::<P>(cx);
        let mut rng = LaneRng::<P>::new(cx, &self.reference);
        let out = batch_for::<P>(
            cx,
            self.act,
            &k,
            &self.features,
            &w,
            b,
            &bsz,
            &mut rng,
            &mut self.reference.scalar,
            &mut buf,
            false,
        );
        for (lane, &l0) in self.lanes.iter_mut().zip(&out.loss) {
            lane.watch = Divergence::with_reference(l0);
        }
        // (RN2) T steps of the optimiser on fresh batches.
        let t_max = self.lanes.iter().map(|l| l.steps).max().unwrap_or(0);
        let mut rng = LaneRng::<P>::new(cx, &self.train);
        let mut grad = vec![0f64; n * d + 1];
        for t in 0..t_max {
            let bsz = sizes(&self.lanes, |l| if t < l.steps { l.batch } else { 0 });
            let (w, b) = self.weights::<P>(cx);
            let out = batch_for::<P>(
                cx,
                self.act,
                &k,
                &self.features,
                &w,
                b,
                &bsz,
                &mut rng,
                &mut self.train.scalar,
                &mut buf,
                true,
            );
            let acc: Vec<[f32; LANES]> = buf.acc.iter().map(|a| a.to_array()).collect();
            for (l, lane) in self.lanes.iter_mut().enumerate().take(used) {
                if t >= lane.steps {
                    continue;
                }
                let loss = out.loss[l];
                if let Err(e) = lane.watch.check(t, loss) {
                    self.failed = Some(e);
                    return;
                }
                if t % lane.every == 0 || t + 1 == lane.steps {
                    lane.curve.push((t, loss));
                }
                // (QL4) ∂L/∂W = (2/B) Σ r σ′(h) x, ∂L/∂b = (2/B)(Σ r + zeros·b).
                let two_scale = 2.0 / lane.batch as f64;
                for (g, a) in grad.iter_mut().zip(&acc) {
                    *g = two_scale * a[l] as f64;
                }
                grad[n * d] = out.gb[l];
                let lr = cfg.lr * cfg.schedule.factor(t, lane.steps);
                lane.opt.step(&mut lane.theta, &grad, lr);
            }
        }
        // (RN3) Evaluation on fresh samples of an independent stream, in chunks of
        // max(B, 8192) samples.
        let (w, b) = self.weights::<P>(cx);
        let mut rng = LaneRng::<P>::new(cx, &self.eval);
        let mut left = sizes(&self.lanes, |l| l.eval);
        let mut total = [0f64; LANES];
        while left.iter().any(|&r| r > 0) {
            let mut c = [0u64; LANES];
            for ((c, r), lane) in c.iter_mut().zip(&left).zip(&self.lanes) {
                *c = (*r).min(lane.batch.max(8192) as u64);
            }
            let out = batch_for::<P>(
                cx,
                self.act,
                &k,
                &self.features,
                &w,
                b,
                &c,
                &mut rng,
                &mut self.eval.scalar,
                &mut buf,
                false,
            );
            for l in 0..used {
                total[l] += c[l] as f64 * out.loss[l];
                left[l] -= c[l];
            }
        }
        for (lane, t) in self.lanes.iter_mut().zip(total) {
            lane.loss = t / lane.eval as f64;
            if let Err(e) = lane.watch.check_final(lane.steps, lane.loss) {
                self.failed = Some(e);
                return;
            }
        }
    }

    /// W (N·D lane vectors) and b of every lane, rounded to f32 (QL4).
    #[inline(always)]
    fn weights<P: Path>(&self, cx: P::Ctx) -> (Vec<P::F>, P::F) {
        let len = self.n * self.d;
        let mut lanes = [0f32; LANES];
        let mut lane_of = |j: usize| {
            for (o, lane) in lanes.iter_mut().zip(&self.lanes) {
                *o = lane.theta[j] as f32;
            }
            P::F::from_array(cx, lanes)
        };
        let w = (0..len).map(&mut lane_of).collect();
        (w, lane_of(len))
    }

    /// The runs, W back in the D×N layout.
    fn runs(&mut self, wall: f64) -> Vec<Run> {
        let (n, d) = (self.n, self.d);
        self.lanes
            .drain(..)
            .map(|lane| {
                let t = &lane.theta;
                Run {
                    w: DMatrix::from_fn(d, n, |r, c| t[c * d + r]),
                    bias: vec![t[n * d]],
                    hidden_params: Vec::new(),
                    loss: lane.loss,
                    sq_norm: (0..n)
                        .map(|i| t[i * d..(i + 1) * d].iter().map(|x| x * x).sum())
                        .collect(),
                    loss_curve: lane.curve,
                    wall_seconds: wall,
                    seed: lane.seed,
                    // Active entries only (QL1), like the per-instance sparse kernels.
                    sparse_kernel: true,
                    batch: lane.batch,
                }
            })
            .collect()
    }
}

/// `f(lane)` per lane, 0 for the padding lanes.
fn sizes(lanes: &[Lane], f: impl Fn(&Lane) -> usize) -> [u64; LANES] {
    let mut b = [0u64; LANES];
    for (o, lane) in b.iter_mut().zip(lanes) {
        *o = f(lane) as u64;
    }
    b
}

/// [`Features`] as lane vectors of one kernel copy.
struct Consts<P: Path> {
    inv_sqrt_p: Vec<P::F>,
    cum: Vec<P::F>,
    e: Vec<P::F>,
    nonempty: P::F,
    inv_ln_empty: f32x8,
    imp: Vec<P::F>,
    uniform: Vec<P::F>,
    rademacher: Vec<P::F>,
    other: Vec<P::F>,
    /// i − ½ and i + ½ (QL2: f < i and f = i as comparisons).
    below: Vec<P::F>,
    above: Vec<P::F>,
}

impl<P: Path> Consts<P> {
    #[inline(always)]
    fn new(cx: P::Ctx, f: &Features) -> Self {
        let v = |a: &[[f32; LANES]]| a.iter().map(|&x| P::F::from_array(cx, x)).collect();
        let n = f.e.len();
        Consts {
            inv_sqrt_p: v(&f.inv_sqrt_p),
            cum: v(&f.cum),
            e: v(&f.e),
            nonempty: P::F::from_array(cx, f.nonempty),
            inv_ln_empty: f32x8::new(f.inv_ln_empty),
            imp: v(&f.imp),
            uniform: v(&f.uniform),
            rademacher: v(&f.rademacher),
            other: v(&f.other),
            below: (0..n).map(|i| P::F::splat(cx, i as f32 - 0.5)).collect(),
            above: (0..n).map(|i| P::F::splat(cx, i as f32 + 0.5)).collect(),
        }
    }
}

/// Lane buffers of one row and the gradient sums of a batch.
struct Buffers<P: Path> {
    x: Vec<P::F>,
    active: Vec<P::F>,
    h: Vec<P::F>,
    gh: Vec<P::F>,
    /// Σ r xᵢ σ′(h_d) per (i, d), per lane (QL4).
    acc: Vec<P::F>,
}

impl<P: Path> Buffers<P> {
    fn new(cx: P::Ctx, n: usize, d: usize) -> Self {
        let z = P::F::splat(cx, 0.0);
        Buffers {
            x: vec![z; n],
            active: vec![z; n],
            h: vec![z; d],
            gh: vec![z; d],
            acc: vec![z; n * d],
        }
    }
}

/// The xoshiro128++ lane generator of one stream (rng.md (R6)), advanced only in the lanes of
/// a mask (QL3).
struct LaneRng<P: Path> {
    s: [P::U; 4],
}

impl<P: Path> LaneRng<P> {
    #[inline(always)]
    fn new(cx: P::Ctx, st: &Streams) -> Self {
        LaneRng {
            s: st.words.map(|w| P::U::from_array(cx, w)),
        }
    }

    /// One uniform on [0, 1) per lane (24 bits); the state moves on only where `keep` is all
    /// ones, elsewhere it stays as it was (QL3).
    #[inline(always)]
    fn next(&mut self, keep: P::U) -> P::F {
        let [s0, s1, s2, s3] = self.s;
        let [mut n0, mut n1, mut n2, mut n3] = self.s;
        let r = xoshiro128pp(&mut n0, &mut n1, &mut n2, &mut n3);
        // old ^ ((new ^ old) & keep): new where keep, old elsewhere.
        self.s = [
            s0 ^ (n0 ^ s0).and(keep),
            s1 ^ (n1 ^ s1).and(keep),
            s2 ^ (n2 ^ s2).and(keep),
            s3 ^ (n3 ^ s3).and(keep),
        ];
        r.unit_f32()
    }
}

/// The activations of the quadratic family, by the number [`batch`] is compiled for (one
/// copy per activation, so that σ inlines into the row loop).
const ACTS: [Activation; 3] = [Activation::Square, Activation::Relu, Activation::Gelu];

/// [`batch`] for the activation `act`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn batch_for<P: Path>(
    cx: P::Ctx,
    act: Activation,
    k: &Consts<P>,
    feat: &Features,
    w: &[P::F],
    b: P::F,
    bsz: &[u64; LANES],
    rng: &mut LaneRng<P>,
    scalar: &mut [Xoshiro],
    buf: &mut Buffers<P>,
    grad: bool,
) -> Out {
    match act {
        Activation::Relu => batch::<P, 1>(cx, k, feat, w, b, bsz, rng, scalar, buf, grad),
        Activation::Gelu => batch::<P, 2>(cx, k, feat, w, b, bsz, rng, scalar, buf, grad),
        // The quadratic family has no identity activation; square is σ(z) = z².
        _ => batch::<P, 0>(cx, k, feat, w, b, bsz, rng, scalar, buf, grad),
    }
}

/// Per lane: the batch loss (QT3) and ∂L/∂b.
struct Out {
    loss: [f64; LANES],
    gb: [f64; LANES],
}

/// One batch per lane, `bsz[l]` samples in lane l (0: no rows, its streams stay put), at the
/// lane parameters `w`, `b` (QL1)–(QL4). With `grad`, the sums Σ r xᵢ σ′(h_d) go to
/// `buf.acc`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn batch<P: Path, const ACT: u8>(
    cx: P::Ctx,
    k: &Consts<P>,
    feat: &Features,
    w: &[P::F],
    b: P::F,
    bsz: &[u64; LANES],
    rng: &mut LaneRng<P>,
    scalar: &mut [Xoshiro],
    buf: &mut Buffers<P>,
    grad: bool,
) -> Out {
    let act = ACTS[ACT as usize];
    let n = k.e.len();
    let d = buf.h.len();
    let zero = P::F::splat(cx, 0.0);
    let one = P::F::splat(cx, 1.0);
    let two = P::F::splat(cx, 2.0);
    let half = P::F::splat(cx, 0.5);
    let root3 = P::F::splat(cx, 3f32.sqrt());
    let all = |m: &[bool; LANES]| P::U::from_array(cx, m.map(|x| if x { u32::MAX } else { 0 }));
    let unit = |m: &[bool; LANES]| P::F::from_array(cx, m.map(|x| if x { 1.0 } else { 0.0 }));
    buf.acc.iter_mut().for_each(|a| *a = zero);
    let (mut lossv, mut rsum, mut rows) = (zero, zero, zero);
    let mut pos = [0u64; LANES];
    let mut live = bsz.map(|b| b > 0);
    let last = P::F::splat(cx, n as f32 - 0.5);
    while live.iter().any(|&x| x) {
        // (QL1) the next non-empty row: skip Geometric(1 − Π(1 − pⱼ)) empty ones.
        let u = rng.next(all(&live));
        let g = (f32x8::splat(1.0) - f32x8::new(u.to_array())).ln() * k.inv_ln_empty;
        let g = g.to_array();
        let mut hit = [false; LANES];
        for l in 0..LANES {
            if live[l] {
                // g ≥ 0 (or −0); the cast truncates (= floor) and saturates.
                let row = pos[l].saturating_add(g[l] as u64);
                if row < bsz[l] {
                    hit[l] = true;
                    pos[l] = row + 1;
                }
            }
        }
        let m = unit(&hit);
        // (QL2) the first active feature j of the row: cᵢ ≤ t for exactly j of the i < N − 1.
        let t = rng.next(all(&hit)) * k.nonempty;
        let mut j = zero;
        for &c in &k.cum {
            j += one - t.lt_select(c, one);
        }
        buf.x.iter_mut().for_each(|x| *x = zero);
        let mut y = zero;
        // Lanes whose row has an entry at j (1) or is finished (0).
        let mut on = m;
        let mut on_b = hit;
        loop {
            let keep = all(&on_b);
            // eq_i = [j = i]; the feature's constants picked by it.
            let (mut e, mut isq, mut v_imp) = (zero, zero, zero);
            for i in 0..n {
                let eq = (j.lt_select(k.above[i], one) - j.lt_select(k.below[i], one)) * on;
                buf.active[i] = eq;
                e += eq * k.e[i];
                isq += eq * k.inv_sqrt_p[i];
                v_imp += eq * k.imp[i];
            }
            // Its value x = z/√pⱼ (spec (Q4)): z = √3(2v − 1) uniform (Q5), ±1 Rademacher.
            let v = rng.next(keep);
            let zu = root3 * (two * v - one);
            let mut z = zu;
            if !feat.all_uniform {
                let (mut is_u, mut is_r) = (zero, zero);
                for (i, &eq) in buf.active.iter().enumerate() {
                    is_u += eq * k.uniform[i];
                    is_r += eq * k.rademacher[i];
                }
                z = is_u * zu + is_r * (one - two * v.lt_select(half, one));
            }
            if feat.any_other {
                let mut is_o = zero;
                for (i, &eq) in buf.active.iter().enumerate() {
                    is_o += eq * k.other[i];
                }
                // Magnitude laws without a lane formula: one scalar draw per such entry,
                // from the lane's own 64-bit stream (QL3).
                let (o, a) = (is_o.to_array(), j.to_array());
                let mut zo = [0f32; LANES];
                for l in 0..LANES {
                    if on_b[l] && o[l] > 0.0 {
                        zo[l] = feat.law[a[l] as usize][l].sample_standard(&mut scalar[l]) as f32;
                    }
                }
                z += is_o * P::F::from_array(cx, zo);
            }
            let x = z * isq;
            for (xi, &eq) in buf.x.iter_mut().zip(&buf.active) {
                *xi += eq * x;
            }
            y += v_imp * act_v(act, x).0;
            // (QL2) the next active feature after j: the count of eᵢ > u·eⱼ (N: none).
            let s = rng.next(keep) * e;
            let mut next = zero;
            for &ei in &k.e {
                next += s.lt_select(ei, one);
            }
            // u·eⱼ may round up to eⱼ: never the same feature twice.
            j = next.max(j + one);
            on = on * j.lt_select(last, one);
            let oa = on.to_array();
            let mut any = false;
            for (b, &o) in on_b.iter_mut().zip(&oa) {
                *b = o > 0.0;
                any |= *b;
            }
            if !any {
                break;
            }
        }
        // (QT1) forward pass over the row (xᵢ = 0 off the active entries).
        buf.h.iter_mut().for_each(|h| *h = zero);
        for (i, &x) in buf.x.iter().enumerate() {
            for (h, &wid) in buf.h.iter_mut().zip(&w[i * d..i * d + d]) {
                *h += x * wid;
            }
        }
        let mut yt = b;
        for (h, gh) in buf.h.iter().zip(buf.gh.iter_mut()) {
            let (o, dz) = act_v(act, *h);
            yt += o;
            *gh = dz;
        }
        let r = (yt - y) * m;
        lossv += r * r;
        rsum += r;
        rows += m;
        if grad {
            // (QT2) ∂L/∂W_{di} ∝ r σ′(h_d) xᵢ.
            for (i, &x) in buf.x.iter().enumerate() {
                let rx = r * x;
                for (a, &gh) in buf.acc[i * d..i * d + d].iter_mut().zip(&buf.gh) {
                    *a += rx * gh;
                }
            }
        }
        for l in 0..LANES {
            live[l] = hit[l] && pos[l] < bsz[l];
        }
    }
    // (QT4) the all-zero rows: r = b each.
    let (lossv, rsum, rows, b) = (
        lossv.to_array(),
        rsum.to_array(),
        rows.to_array(),
        b.to_array(),
    );
    let mut out = Out {
        loss: [0.0; LANES],
        gb: [0.0; LANES],
    };
    for l in 0..LANES {
        if bsz[l] == 0 {
            continue;
        }
        let big_b = bsz[l] as f64;
        let zeros = big_b - rows[l] as f64;
        let bl = b[l] as f64;
        out.loss[l] = (lossv[l] as f64 + zeros * bl * bl) / big_b;
        out.gb[l] = 2.0 * (rsum[l] as f64 + zeros * bl) / big_b;
    }
    out
}

/// The AVX2 copy of [`Block::train`], run inside `pulp`'s target-feature function (SD2).
#[cfg(target_arch = "x86_64")]
struct Avx2Block<'a> {
    block: &'a mut Block,
    v3: pulp::x86::V3,
    cfg: &'a TrainConfig,
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for Avx2Block<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        self.block.train_in::<Avx2>(self.v3, self.cfg);
    }
}
