//! Training runs: one instance (a feature set, a seed), and sweeps of many instances in
//! parallel with best-of-seeds selection.
//!
//! Determinism: every (instance, seed) pair owns a [`Xoshiro`] stream seeded from
//! (seed, instance index) and is trained start to finish on one thread, with no reduction
//! across pairs, so results are bit-identical for any rayon thread count.
//!
//! Derivation: derivations/run.md (RN1)–(RN6).

use std::time::Instant;

use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::base::{Error, FeatureSet, Result};

use super::data::{InputLaw, Sampler, SparseBatch};
use super::guard;
use super::hidden::Hidden;
use super::model::{Family, Init, Model};
use super::optim::{OptState, Optimizer, Schedule};
use super::pairs::Pairs;
use super::quadratic::{ActiveScratch, QuadraticNet};
use super::quadratic_group::{GroupScratch, group_grad};
use super::quadratic_lanes;
use super::rng::Xoshiro;
#[cfg(target_arch = "x86_64")]
use super::simd::Avx2;
use super::simd::{Isa, Path, Portable, Simd};
use super::tms::{Autoencoder, KernelLanes, Scratch};
use super::zoo::{self, ZooNet};

/// Which kernel to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Pick by the expected number of active features per sample (see [`GRAM_BELOW`] and
    /// [`QUAD_DENSE_FROM`]).
    Auto,
    /// Dense lane-blocked kernel (cost ∝ N·D per sample).
    Dense,
    /// Sparse kernel: Gram kernel of the autoencoders (cost ∝ |active|·N per non-empty
    /// sample), active-entry kernel of the quadratic family (cost ∝ |active|·D).
    Sparse,
}

/// The Gram kernel is chosen when Σᵢ pᵢ < `GRAM_BELOW`·D (measured crossover, see
/// derivations/run.md "Kernel crossover").
pub const GRAM_BELOW: f64 = 0.15;

/// Default expected number of active entries per feature and step of (T3), m in
/// B = ⌈m / p_min⌉ (derivations/run.md (RN6), "Batch by density").
pub const ACTIVE_PER_FEATURE: usize = 256;

/// Largest batch the density rule (RN6) chooses: 2¹⁸ samples. Below p_min = m/2¹⁸ the
/// expected active entries per feature fall under m.
pub const BATCH_CAP: usize = 1 << 18;

/// Largest accepted active-entry target m (a larger one asks for more than [`BATCH_CAP`]
/// samples at every density).
pub const ACTIVE_MAX: usize = BATCH_CAP;

/// The quadratic family uses the dense lane kernel (QT5) when the mean density Σᵢ pᵢ / N is
/// at least `QUAD_DENSE_FROM`, the active-entry kernel (QT1)–(QT4) below (measured crossover,
/// derivations/run.md "Quadratic kernel crossover").
pub const QUAD_DENSE_FROM: f64 = 0.5;

/// Largest factor by which (V9) scales the step count (a heavy-tailed law at a low density:
/// at p = 0.001 with m = 256 Laplace asks for 16.6×, Student-t ν = 5 for 32×, both train 8×;
/// ν → 4 stays finite).
pub const STEP_SCALE_MAX: f64 = 8.0;

/// Co-active events per step of the sparsest pair of features, B·p_min², from which on the
/// interference gradient of (V9) is counted as plentiful: below it a heavy-tailed law's extra
/// steps grow as [`PAIR_EVENTS_REF`] / (B·p_min²), the spread regime (p < 0.0156 with m = 256).
pub const PAIR_EVENTS_REF: f64 = 4.0;

/// Most values a training batch may store (2²⁷, 0.5–1.5 GiB with indices and offsets).
pub const MAX_BATCH_ENTRIES: usize = 1 << 27;

/// Hyper-parameters of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Optimisation steps T.
    pub steps: usize,
    /// Batch size B when `active_per_feature` is `None`.
    pub batch: usize,
    /// Expected active entries per feature and step, m: when set, the batch is sized by the
    /// density, B = min(max(⌈m / p_min⌉, m), [`BATCH_CAP`]) (RN6), and `batch` is unused.
    pub active_per_feature: Option<usize>,
    /// Base learning rate η₀.
    pub lr: f64,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Initialisation of W.
    pub init: Init,
    /// Fresh samples for the final evaluation loss (at least 16 batches when the batch is
    /// sized by density, so that every feature is active ≈ 16 m times (RN3)).
    pub eval_batch: usize,
    /// Number of points kept on the loss curve.
    pub curve_points: usize,
    /// Autoencoder kernel choice.
    pub kernel: Kernel,
    /// Instruction set of the kernels: [`Simd::Auto`] (AVX2 when the CPU has it) or
    /// [`Simd::Portable`]. Results are bit-identical either way (simd.md (SD3)).
    pub simd: Simd,
    // --- issue 14a: the zoo engine (zoo.rs) ---
    /// Hidden activation of the neuron model (Z8), (Z20); ReLU for every other model.
    pub hidden: Hidden,
    /// Correlated / anticorrelated pairs leading the features (Z4)–(Z6); autoencoders and
    /// the neuron model only. With pairs, the autoencoders train on the zoo engine.
    pub pairs: Pairs,
    // --- end issue 14a ---
    /// (QT7), the quadratic model with a batch of active entries: single-entry samples
    /// contribute their expectation over the magnitude (a conditional expectation of the
    /// sampled gradient: same mean, no eighth moment in its variance, verify.md (V9)).
    pub expected_singles: bool,
    /// (V9), the quadratic family: scale the step count by the magnitude law and the pair
    /// events per step, T = ⌈`steps`·clamp(1 + (Kurt − 3)/3 · max(1, e* / (B·p_min²)), 1,
    /// [`STEP_SCALE_MAX`])⌉ with Kurt the largest magnitude kurtosis E z⁴ of the features and
    /// e* = [`PAIR_EVENTS_REF`] (uniform and Gaussian keep `steps`; Laplace 2× and Student-t
    /// ν = 5 3× where pairs are plentiful, more below). See [`TrainConfig::steps_at`].
    pub steps_by_kurtosis: bool,
}

impl TrainConfig {
    /// Defaults: (T3) for the quadratic family (Adam, η = 1e-2 cosine, 10 000 steps, batch
    /// sized by density with m = [`ACTIVE_PER_FEATURE`] (RN6), N(0, 0.3²)); (T1) without
    /// weight decay for the autoencoders (Adam, η = 1e-3 constant, 10 000 steps, batch 1024,
    /// per-model Xavier). Evaluation on 65 536 samples.
    pub fn defaults(model: Model) -> Self {
        if model.is_quadratic() {
            TrainConfig {
                steps: 10_000,
                batch: 2048,
                active_per_feature: Some(ACTIVE_PER_FEATURE),
                lr: 1e-2,
                optimizer: Optimizer::Adam,
                schedule: Schedule::Cosine,
                init: Init::Normal { std: 0.3 },
                eval_batch: 65_536,
                curve_points: 100,
                kernel: Kernel::Auto,
                simd: Simd::Auto,
                hidden: Hidden::Relu,
                pairs: Pairs::default(),
                expected_singles: false,
                steps_by_kurtosis: true,
            }
        } else {
            TrainConfig {
                steps: 10_000,
                batch: 1024,
                active_per_feature: None,
                lr: 1e-3,
                optimizer: Optimizer::Adam,
                schedule: Schedule::Constant,
                init: Init::Xavier,
                eval_batch: 65_536,
                curve_points: 100,
                kernel: Kernel::Auto,
                simd: Simd::Auto,
                hidden: Hidden::Relu,
                pairs: Pairs::default(),
                expected_singles: false,
                steps_by_kurtosis: false,
            }
        }
    }

    /// Checks every field once (steps, batch ≥ 1; η finite > 0; decay and init valid).
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 {
            return Err(Error::Parameter(
                "training needs at least 1 step, got 0".into(),
            ));
        }
        if self.batch == 0 {
            return Err(Error::Parameter("batch size must be ≥ 1, got 0".into()));
        }
        if self.eval_batch == 0 {
            return Err(Error::Parameter(
                "evaluation batch must be ≥ 1, got 0".into(),
            ));
        }
        super::optim::check_lr(self.lr)?;
        if self.batch > u32::MAX as usize / 2 {
            return Err(Error::Parameter(format!(
                "batch size too large: {}",
                self.batch
            )));
        }
        match self.active_per_feature {
            Some(0) => {
                return Err(Error::Parameter(
                    "active entries per feature must be ≥ 1, got 0".into(),
                ));
            }
            Some(m) if m > ACTIVE_MAX => {
                return Err(Error::Parameter(format!(
                    "active entries per feature must be ≤ {ACTIVE_MAX}, got {m}"
                )));
            }
            _ => {}
        }
        self.optimizer.validate()?;
        self.init.validate()
    }

    /// The step count for `features` (V9): [`TrainConfig::steps_at`] their largest magnitude
    /// kurtosis and smallest density, or `steps` when they carry no magnitude laws.
    pub fn steps_for(&self, features: &FeatureSet) -> usize {
        match features.inputs() {
            Some(inputs) => self.steps_at(
                inputs
                    .iter()
                    .map(|x| x.magnitude.kurtosis())
                    .fold(0.0, f64::max),
                inputs.iter().map(|x| x.density).fold(1.0, f64::min),
            ),
            None => self.steps,
        }
    }

    /// The step count for inputs whose largest magnitude kurtosis is `kurt` and smallest
    /// density `p_min` (V9): `steps`, times clamp(1 + (Kurt − 3)/3 · max(1, e*/e), 1,
    /// [`STEP_SCALE_MAX`]) when `steps_by_kurtosis` is set, where e = B·p_min² are the
    /// co-active events of the sparsest pair per step (B = [`TrainConfig::batch_for`]) and
    /// e* = [`PAIR_EVENTS_REF`]. Laws no heavier than the Gaussian (Kurt ≤ 3) keep `steps`.
    pub fn steps_at(&self, kurt: f64, p_min: f64) -> usize {
        if !self.steps_by_kurtosis || kurt.is_nan() || kurt <= 3.0 {
            return self.steps;
        }
        let events = self.batch_for(p_min) as f64 * p_min * p_min;
        // The spread regime: the capacity error ∝ K/√(e·T), so T ∝ 1/e (V9).
        let rarity = (PAIR_EVENTS_REF / events).max(1.0);
        // events = 0 (no pairs) or Kurt = ∞: rarity or product ∞, clamped to the cap.
        let scale = (1.0 + (kurt - 3.0) / 3.0 * rarity).clamp(1.0, STEP_SCALE_MAX);
        (self.steps as f64 * scale).ceil() as usize
    }

    /// The batch size for features whose smallest density is `p_min`: `batch`, or with an
    /// active-entry target m, B = min(max(⌈m / p_min⌉, m), [`BATCH_CAP`]) (RN6).
    pub fn batch_for(&self, p_min: f64) -> usize {
        match self.active_per_feature {
            None => self.batch,
            Some(m) => density_batch(m, p_min, m),
        }
    }
}

/// The batch that holds m expected active entries of the rarest feature, at least `floor`
/// samples: B = min(max(⌈m / p_min⌉, floor), [`BATCH_CAP`]) (RN7; the |x| model's floor is
/// its fixed batch, zoo-b.md (ZB13)).
pub fn density_batch(m: usize, p_min: f64, floor: usize) -> usize {
    let b = (m as f64 / p_min).ceil();
    if b.is_finite() && b < BATCH_CAP as f64 {
        (b as usize).max(floor).min(BATCH_CAP)
    } else {
        BATCH_CAP
    }
}

/// The outcome of training one instance with one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Trained W, D×N, column i = feature i (spec §1).
    pub w: DMatrix<f64>,
    /// Bias: N entries (autoencoders) or 1 (quadratic family).
    pub bias: Vec<f64>,
    /// Parameters of the hidden activation: γ then β (D each) for SoLU-LN (Z20), else empty.
    pub hidden_params: Vec<f64>,
    /// Loss on `eval_batch` fresh samples: autoencoders the mean over batch and features of
    /// Iⱼ(xⱼ − x′ⱼ)² (notebook normalisation, spec pitfall 10); quadratic family the mean of
    /// (ỹ − y)².
    pub loss: f64,
    /// ‖Wᵢ‖² per feature.
    pub sq_norm: Vec<f64>,
    /// (step, batch loss) pairs, `curve_points` of them evenly spaced, plus the last step.
    pub loss_curve: Vec<(usize, f64)>,
    /// Wall time of training and evaluation, seconds.
    pub wall_seconds: f64,
    /// The seed used.
    pub seed: u64,
    /// Whether the sparse kernel was used (Gram for autoencoders, active-entry for the
    /// quadratic family).
    pub sparse_kernel: bool,
    /// Batch size B of the training steps (RN7).
    pub batch: usize,
}

/// The model of one instance and its kernel buffers.
struct OneNet {
    net: Net,
    w32: Vec<f32>,
    b32: Vec<f32>,
    scratch: Scratch,
    active: ActiveScratch,
}

/// One instance of a group in training (RN8): its kernel, parameters, optimiser, divergence
/// watch and loss curve; `failed` once it diverged (it then takes no further steps).
struct Member {
    kernel: OneNet,
    theta: Vec<f64>,
    grad: Vec<f64>,
    opt: OptState,
    watch: guard::Divergence,
    curve: Vec<(usize, f64)>,
    loss: f64,
    failed: Option<Error>,
}

/// One batch shared by the members of a group (RN8): the sampler and the batch buffers, and
/// the instruction set chosen for the run (simd.md (SD2)).
struct Step {
    sampler: Sampler,
    quadratic: bool,
    sparse: bool,
    n: usize,
    d: usize,
    dense_x: Vec<f32>,
    batch: SparseBatch,
    group: GroupScratch,
    isa: Isa,
}

impl Step {
    /// Draws one batch of `bsz` samples from `rng` and, for every member that has not
    /// failed, writes its loss on that batch into `loss` and the gradient with respect to
    /// its θ into `grad` (RN2), (RN8). Runs the AVX2 copy when the run selected it.
    fn loss_grad(&mut self, members: &mut [Member], rng: &mut Xoshiro, bsz: usize) {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = self.isa.v3 {
            // The token exists only if the CPU has AVX2 (pulp detects it); `vectorize` runs the
            // inlined step inside a function compiled with those features (SD2).
            return v3.vectorize(Avx2Step {
                step: self,
                v3,
                members,
                rng,
                bsz,
            });
        }
        self.loss_grad_inline::<Portable>((), members, rng, bsz)
    }

    /// One step on the lane types of `P` (SD1): the batch once, then every member's kernel.
    #[inline(always)]
    fn loss_grad_inline<P: Path>(
        &mut self,
        cx: P::Ctx,
        members: &mut [Member],
        rng: &mut Xoshiro,
        bsz: usize,
    ) where
        P::F: KernelLanes,
    {
        let (n, d) = (self.n, self.d);
        match (self.quadratic, self.sparse) {
            (true, true) => self.sampler.active_in::<P>(cx, bsz, rng, &mut self.batch),
            (false, true) => self.sampler.sparse_in::<P>(cx, bsz, rng, &mut self.batch),
            (_, false) => self.sampler.dense_in::<P>(cx, bsz, rng, &mut self.dense_x),
        }
        let live = members.iter().filter(|m| m.failed.is_none()).count();
        if self.quadratic && self.sparse && live >= 2 {
            // (RN9) the live members four per lane block on the shared batch.
            let sc = &mut self.group;
            let mm = sc.reset(n, d, live);
            let mut first = None;
            for (mi, m) in members.iter().filter(|m| m.failed.is_none()).enumerate() {
                let Net::Quad(q) = &m.kernel.net else {
                    continue;
                };
                first.get_or_insert(q);
                for (k, &t) in m.theta[..n * d].iter().enumerate() {
                    sc.w[k * mm + mi] = t;
                }
                for (a, &v) in q.importance.iter().enumerate() {
                    sc.v[a * mm + mi] = v;
                }
                sc.b[mi] = m.theta[n * d];
            }
            if let Some(q) = first {
                group_grad::<P::F>(cx, q, &self.batch, sc);
            }
            for (mi, m) in members
                .iter_mut()
                .filter(|m| m.failed.is_none())
                .enumerate()
            {
                for (k, g) in m.grad[..n * d].iter_mut().enumerate() {
                    *g = sc.gw[k * mm + mi];
                }
                m.grad[n * d] = sc.gb[mi];
                m.loss = sc.loss[mi];
            }
            return;
        }
        for m in members.iter_mut().filter(|m| m.failed.is_none()) {
            let (gw, gb) = m.grad.split_at_mut(n * d);
            let (theta, k) = (&m.theta, &mut m.kernel);
            m.loss = match &k.net {
                Net::Quad(q) if self.sparse => {
                    let (w, b) = (&theta[..n * d], theta[n * d]);
                    q.batch_grad_with(w, b, &self.batch, gw, gb, &mut k.active)
                }
                Net::Quad(q) => {
                    for (o, &p) in k.w32.iter_mut().zip(theta.iter()) {
                        *o = p as f32;
                    }
                    let b = theta[n * d] as f32;
                    q.dense_grad_in::<P::F>(cx, &k.w32, b, &self.dense_x, bsz, gw, gb)
                }
                Net::Auto(a) => {
                    for (o, &p) in k.w32.iter_mut().zip(theta.iter()) {
                        *o = p as f32;
                    }
                    for (o, &p) in k.b32.iter_mut().zip(theta[n * d..].iter()) {
                        *o = p as f32;
                    }
                    let (w32, b32, sc) = (&k.w32, &k.b32, &mut k.scratch);
                    if self.sparse {
                        a.gram_grad_in::<P::F>(cx, w32, b32, &self.batch, gw, gb, sc)
                    } else {
                        a.dense_grad_in::<P::F>(cx, w32, b32, &self.dense_x, bsz, gw, gb, sc)
                    }
                }
            };
        }
    }
}

/// The AVX2 copy of [`Step::loss_grad`] as a value `pulp` can run inside its target-feature
/// function; `call` is `inline(always)` so that the whole step is compiled there (SD2).
#[cfg(target_arch = "x86_64")]
struct Avx2Step<'a> {
    step: &'a mut Step,
    v3: pulp::x86::V3,
    members: &'a mut [Member],
    rng: &'a mut Xoshiro,
    bsz: usize,
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for Avx2Step<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        self.step
            .loss_grad_inline::<Avx2>(self.v3, self.members, self.rng, self.bsz)
    }
}

/// Trains one model type at one size with one configuration.
#[derive(Debug, Clone)]
pub struct Trainer {
    model: Model,
    dims: usize,
    config: TrainConfig,
}

enum Net {
    Quad(QuadraticNet),
    Auto(Autoencoder),
}

impl Trainer {
    /// Validates D ≥ 1 and the configuration, and that the hidden activation and pairs apply
    /// to the model.
    pub fn new(model: Model, dims: usize, config: TrainConfig) -> Result<Self> {
        if dims == 0 {
            return Err(Error::Dims(dims));
        }
        if let Family::Abs(_) = model.family() {
            return Err(abs_elsewhere());
        }
        config.validate()?;
        if config.hidden != Hidden::Relu && model.family() != Family::Neuron {
            return Err(Error::Parameter(format!(
                "hidden activation {} applies to tms-neuron only, not {}",
                config.hidden.name(),
                model.name()
            )));
        }
        config.hidden.validate(dims)?;
        if !config.pairs.is_none() && model.is_quadratic() {
            return Err(Error::Parameter(format!(
                "pairs apply to the autoencoders and tms-neuron, not {}",
                model.name()
            )));
        }
        Ok(Trainer {
            model,
            dims,
            config,
        })
    }

    /// The model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Trains one instance: features (importances and densities; quadratic models also use
    /// each feature's magnitude, autoencoders draw U[0, 1) (E2)), RNG stream (seed, index).
    /// A group of one of [`Trainer::train_group`].
    pub fn train(&self, features: &FeatureSet, seed: u64, index: u64) -> Result<Run> {
        let mut runs = self.train_group(&[(features, seed)], seed, index)?;
        runs.pop()
            .ok_or_else(|| Error::Parameter("invariant: one run per group member".into()))?
    }

    /// Trains the instances `group` — (features, init seed) pairs whose features differ in
    /// their importances only — on the data stream (seed, index), together (RN8): they share
    /// every sampled batch (RN2), the L_ref samples (RN6) and the evaluation samples (RN3),
    /// drawn once per step for all of them; member k starts from the W of stream (init_k,
    /// index) (RN1) and keeps its own kernel, parameters, optimiser and divergence watch. A
    /// member whose init seed is `seed` runs bit-identically to `train(features, seed,
    /// index)` (the same operations on the same data); its `wall_seconds` is the group's time
    /// divided by the group's size. The neuron model and paired autoencoders (zoo engine)
    /// train member by member, with their init seeds.
    ///
    /// # Errors
    /// For the whole group: [`Error::Parameter`] when members differ in more than their
    /// importances, size and configuration errors. Per member: [`Error::Diverged`] (RN6).
    pub fn train_group(
        &self,
        group: &[(&FeatureSet, u64)],
        seed: u64,
        index: u64,
    ) -> Result<Vec<Result<Run>>> {
        let start = Instant::now();
        let cfg = &self.config;
        let Some(&(first, _)) = group.first() else {
            return Ok(Vec::new());
        };
        if let Some(k) = group
            .iter()
            .position(|(f, _)| !differ_in_importance_only(first, f))
        {
            return Err(Error::Parameter(format!(
                "group member {k} differs from member 0 in more than its importances"
            )));
        }
        let (n, d) = (first.len(), self.dims);
        let steps = cfg.steps_for(first);
        guard::check_sweep(n, d, steps, cfg.batch, cfg.eval_batch, 1, 1)?;
        let quadratic = self.model.is_quadratic();
        let act = match self.model.family() {
            Family::Quadratic(act) => act,
            // Issue 14a: the neuron model, and autoencoders on paired data, on the zoo engine.
            Family::Neuron => {
                let net = ZooNet::Neuron(cfg.hidden);
                let train = |&(f, init): &(&FeatureSet, u64)| {
                    zoo::train(net, d, cfg, cfg.pairs, f, init, index)
                };
                return Ok(group.iter().map(train).collect());
            }
            Family::Autoencoder(act) if !cfg.pairs.is_none() => {
                let net = ZooNet::Autoencoder(act);
                let train = |&(f, init): &(&FeatureSet, u64)| {
                    zoo::train(net, d, cfg, cfg.pairs, f, init, index)
                };
                return Ok(group.iter().map(train).collect());
            }
            Family::Autoencoder(act) => act,
            Family::Abs(_) => return Err(abs_elsewhere()),
        };
        let sampler = if quadratic {
            Sampler::quadratic(first)?
        } else {
            Sampler::new(first, InputLaw::UnitUniform)?
        };
        let net_of = |f: &FeatureSet| {
            if !quadratic {
                return Net::Auto(Autoencoder {
                    act,
                    n,
                    d,
                    importance: f.importance().iter().map(|&v| v as f32).collect(),
                });
            }
            Net::Quad(QuadraticNet {
                act,
                n,
                d,
                importance: f.importance().to_vec(),
                single_moments: match f.inputs() {
                    Some(inputs) if cfg.expected_singles => inputs
                        .iter()
                        .map(|x| (1.0 / x.density, x.kurtosis() / x.density))
                        .collect(),
                    _ => Vec::new(),
                },
            })
        };
        let nb = if quadratic { 1 } else { n };
        let sparse = match cfg.kernel {
            Kernel::Auto if quadratic => sampler.mean_active() < QUAD_DENSE_FROM * n as f64,
            Kernel::Auto => sampler.mean_active() < GRAM_BELOW * d as f64,
            Kernel::Dense => false,
            Kernel::Sparse => true,
        };

        // (RN1) θ = (W row-major N×D, b); W ~ N(0, std²), b = 0. The data stream starts after
        // the N·D normals of its own W, as in a run alone; a member with another init seed
        // draws its W from stream (init, index).
        let mut rng = Xoshiro::new(seed, index);
        let std = cfg.init.std(n, d);
        let draw = |r: &mut Xoshiro| -> Vec<f64> {
            let mut t: Vec<f64> = (0..n * d).map(|_| std * r.normal()).collect();
            t.resize(n * d + nb, 0.0);
            t
        };
        let theta = draw(&mut rng);
        let mut members: Vec<Member> = group
            .iter()
            .map(|&(f, init)| Member {
                kernel: OneNet {
                    net: net_of(f),
                    w32: vec![0f32; n * d],
                    b32: vec![0f32; nb],
                    scratch: Scratch::default(),
                    active: ActiveScratch::default(),
                },
                theta: if init == seed {
                    theta.clone()
                } else {
                    draw(&mut Xoshiro::new(init, index))
                },
                grad: vec![0f64; n * d + nb],
                opt: OptState::new(cfg.optimizer, theta.len()),
                watch: guard::Divergence::new(),
                curve: Vec::new(),
                loss: 0.0,
                failed: None,
            })
            .collect();
        let mut step = Step {
            sampler,
            quadratic,
            sparse,
            n,
            d,
            dense_x: Vec::new(),
            batch: SparseBatch::default(),
            group: GroupScratch::default(),
            isa: Isa::select(cfg.simd),
        };
        let every = (steps / cfg.curve_points.max(1)).max(1);
        let p_min = first
            .densities()
            .map_or(1.0, |p| p.iter().copied().fold(1.0, f64::min));
        let bsz = cfg.batch_for(p_min);
        // Check the batch's memory before allocating it: B·N stored values for the dense
        // kernel, ≈ B·Σpᵢ active entries (plus row offsets) for the sparse ones.
        let per_sample = if sparse {
            step.sampler.mean_active() + 1.0
        } else {
            n as f64
        };
        if bsz as f64 * per_sample > MAX_BATCH_ENTRIES as f64 {
            return Err(Error::Parameter(format!(
                "batch of {bsz} samples × {per_sample:.1} entries each exceeds the limit of {MAX_BATCH_ENTRIES} stored entries; use a smaller batch"
            )));
        }

        // (RN6) L_ref: the loss of the initial parameters on samples of an independent
        // stream (the sampler is stateless, so the run itself is unchanged), at least one
        // training batch of them so that every feature contributes its (RN7) active entries.
        let mut ref_rng = Xoshiro::new(seed, index ^ 0x6A4D_0000_0000_0000);
        let ref_batch = cfg.eval_batch.min(8192).max(bsz);
        step.loss_grad(&mut members, &mut ref_rng, ref_batch);
        for m in &mut members {
            m.watch = guard::Divergence::with_reference(m.loss);
        }
        // (RN2) T steps of the optimiser on fresh batches; (RN6) a member that diverges stops.
        for t in 0..steps {
            step.loss_grad(&mut members, &mut rng, bsz);
            let lr = cfg.lr * cfg.schedule.factor(t, steps);
            let mut live = 0usize;
            for m in members.iter_mut().filter(|m| m.failed.is_none()) {
                if let Err(e) = m.watch.check(t, m.loss) {
                    m.failed = Some(e);
                    continue;
                }
                if t % every == 0 || t + 1 == steps {
                    m.curve.push((t, m.loss));
                }
                m.opt.step(&mut m.theta, &m.grad, lr);
                live += 1;
            }
            if live == 0 {
                break;
            }
        }

        // (RN3) Evaluation on fresh samples from an independent stream, in chunks.
        let mut eval_rng = Xoshiro::new(seed, index ^ 0xE7A1_0000_0000_0000);
        let eval_batch = match cfg.active_per_feature {
            Some(_) => cfg.eval_batch.max(16 * bsz),
            None => cfg.eval_batch,
        };
        let mut totals = vec![0f64; members.len()];
        let mut remaining = eval_batch;
        while remaining > 0 && members.iter().any(|m| m.failed.is_none()) {
            let c = remaining.min(bsz.max(8192));
            step.loss_grad(&mut members, &mut eval_rng, c);
            for (total, m) in totals.iter_mut().zip(&members) {
                *total += c as f64 * m.loss;
            }
            remaining -= c;
        }
        let wall_seconds = start.elapsed().as_secs_f64() / members.len() as f64;
        Ok(members
            .into_iter()
            .zip(totals)
            .map(|(m, total)| {
                if let Some(e) = m.failed {
                    return Err(e);
                }
                let loss = total / eval_batch as f64;
                m.watch.check_final(steps, loss)?;
                let theta = &m.theta;
                Ok(Run {
                    w: DMatrix::from_fn(d, n, |r, c| theta[c * d + r]),
                    bias: theta[n * d..].to_vec(),
                    hidden_params: Vec::new(),
                    loss,
                    sq_norm: (0..n)
                        .map(|i| theta[i * d..(i + 1) * d].iter().map(|x| x * x).sum())
                        .collect(),
                    loss_curve: m.curve,
                    wall_seconds,
                    seed,
                    sparse_kernel: sparse,
                    batch: bsz,
                })
            })
            .collect())
    }

    /// Trains every job (features, seed, stream index) and returns the runs in job order.
    /// Jobs on the same stream (seed, index) whose features differ in their importances only
    /// train as one group sharing every sampled batch ([`Trainer::train_group`], (RN8));
    /// a job alone on its stream that [`Trainer::uses_lanes`] picks runs on the quadratic
    /// lane engine, eight per SIMD lane block (quadratic-lanes.md (QL1)–(QL5)); groups train
    /// in parallel. Either way a run depends only on its job and the configuration, not on
    /// the other jobs.
    ///
    /// # Errors
    /// Training errors of either engine.
    pub fn train_many(&self, jobs: &[quadratic_lanes::Instance<'_>]) -> Result<Vec<Run>> {
        // Groups in order of their first job; a job joins the first group it fits.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut by_stream: std::collections::HashMap<(u64, u64), Vec<usize>> =
            std::collections::HashMap::new();
        for (k, job) in jobs.iter().enumerate() {
            let candidates = by_stream.entry((job.seed, job.index)).or_default();
            match candidates
                .iter()
                .find(|&&g| differ_in_importance_only(jobs[groups[g][0]].features, job.features))
            {
                Some(&g) => groups[g].push(k),
                None => {
                    candidates.push(groups.len());
                    groups.push(vec![k]);
                }
            }
        }
        let (lanes, shared): (Vec<Vec<usize>>, Vec<Vec<usize>>) = groups
            .into_iter()
            .partition(|g| g.len() == 1 && self.uses_lanes(jobs[g[0]].features));
        let lanes: Vec<usize> = lanes.into_iter().flatten().collect();
        // The lane engine trains blocks of one size N: one call per N, in job order.
        let mut sizes: Vec<usize> = lanes.iter().map(|&k| jobs[k].features.len()).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let mut out: Vec<Option<Result<Run>>> = vec![None; jobs.len()];
        for n in sizes {
            let ks: Vec<usize> = lanes
                .iter()
                .copied()
                .filter(|&k| jobs[k].features.len() == n)
                .collect();
            let picked: Vec<quadratic_lanes::Instance<'_>> = ks.iter().map(|&k| jobs[k]).collect();
            let runs = quadratic_lanes::train(self.model, self.dims, &self.config, &picked)?;
            for (k, r) in ks.into_iter().zip(runs) {
                out[k] = Some(Ok(r));
            }
        }
        let shared_runs: Vec<Vec<Result<Run>>> = shared
            .par_iter()
            .with_max_len(1)
            .map(|g| {
                let members: Vec<(&FeatureSet, u64)> = g
                    .iter()
                    .map(|&k| (jobs[k].features, jobs[k].init))
                    .collect();
                self.train_group(&members, jobs[g[0]].seed, jobs[g[0]].index)
            })
            .collect::<Result<_>>()?;
        for (g, runs) in shared.iter().zip(shared_runs) {
            for (&k, r) in g.iter().zip(runs) {
                out[k] = Some(r);
            }
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(Error::Parameter("invariant: every job trained".into())))
            })
            .collect()
    }

    /// True when [`Trainer::train_many`] runs `features` on the quadratic lane engine: the
    /// measured crossover of quadratic-lanes.md (QL5). The lane engine wins for
    /// `quadratic-gelu` wherever the per-instance trainer would take its active-entry kernel
    /// (mean density below [`QUAD_DENSE_FROM`]); for square and ReLU the per-instance
    /// active-entry kernel ((QT6) singles, bulk skips) is as fast or faster, and at high
    /// density the per-instance dense lane kernel (QT5) is faster for all three.
    pub fn uses_lanes(&self, features: &FeatureSet) -> bool {
        let mean = features
            .densities()
            .map_or(1.0, |p| p.iter().sum::<f64>() / p.len().max(1) as f64);
        self.model == Model::QuadraticGelu
            && mean < QUAD_DENSE_FROM
            && !self.config.expected_singles
            && self.config.kernel == Kernel::Auto
    }

    /// Trains every instance with `seeds` seeds (`base_seed`, `base_seed` + 1, …) in parallel
    /// on the current rayon pool. Instance k with seed s uses stream (s, k). Returns, per
    /// instance, the runs of all its seeds in seed order. `on_done` is called after each run.
    pub fn sweep(
        &self,
        instances: &[FeatureSet],
        seeds: usize,
        base_seed: u64,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<Vec<Vec<Run>>> {
        if seeds == 0 {
            return Err(Error::Parameter("need at least 1 seed, got 0".into()));
        }
        let c = &self.config;
        let n = instances.iter().map(FeatureSet::len).max().unwrap_or(0);
        let jobs = instances.len().saturating_mul(seeds);
        let live = rayon::current_num_threads();
        guard::check_sweep(n, self.dims, c.steps, c.batch, c.eval_batch, jobs, live)?;
        let jobs: Vec<(usize, u64)> = (0..instances.len())
            .flat_map(|k| (0..seeds as u64).map(move |s| (k, base_seed.wrapping_add(s))))
            .collect();
        let runs: Vec<Run> = jobs
            .par_iter()
            .with_max_len(1)
            .map(|&(k, seed)| {
                let r = self.train(&instances[k], seed, k as u64);
                on_done();
                r
            })
            .collect::<Result<_>>()?;
        let mut out: Vec<Vec<Run>> = Vec::with_capacity(instances.len());
        let mut it = runs.into_iter();
        for _ in 0..instances.len() {
            out.push(it.by_ref().take(seeds).collect());
        }
        Ok(out)
    }
}

/// True when `a` and `b` have the same size, kurtoses and input laws (densities and
/// magnitudes), so that they may share a stream's batches (RN8).
fn differ_in_importance_only(a: &FeatureSet, b: &FeatureSet) -> bool {
    a.len() == b.len() && a.kurtosis() == b.kurtosis() && a.inputs() == b.inputs()
}

/// The |x| model has its own trainer (two untied layers, signed inputs).
fn abs_elsewhere() -> Error {
    Error::Parameter("the abs model trains with training::abs::AbsModel (Z10)".into())
}

/// Best of `seeds` runs of one instance (spec (T3), zoo (Z2)): seeds `base_seed`,
/// `base_seed` + 1, … on stream `index`, trained one after the other, the lowest final loss
/// kept (ties: the earliest seed). On the zoo engine every seed's final loss is measured on
/// the same fixed batch.
///
/// # Errors
/// [`Error::Parameter`] for 0 seeds; training errors.
pub fn best_of(
    trainer: &Trainer,
    features: &FeatureSet,
    seeds: usize,
    base_seed: u64,
    index: u64,
) -> Result<Run> {
    let mut best: Option<Run> = None;
    for s in 0..seeds as u64 {
        let r = trainer.train(features, base_seed.wrapping_add(s), index)?;
        if best.as_ref().is_none_or(|b| r.loss < b.loss) {
            best = Some(r);
        }
    }
    best.ok_or_else(|| Error::Parameter("need at least 1 seed, got 0".into()))
}

/// The run with the lowest `key` (ties: the earliest), e.g. `best_by(&runs, |r| r.loss)`
/// (spec (T3), pitfall 6). `None` for an empty slice.
pub fn best_by<T, F: Fn(&T) -> f64>(runs: &[T], key: F) -> Option<&T> {
    runs.iter().fold(None, |best: Option<&T>, r| match best {
        Some(b) if key(b) <= key(r) || key(r).is_nan() => Some(b),
        _ => Some(r),
    })
}
