//! Computation in superposition: the two-layer |x| model (Z10) of Elhage et al., trained on
//! sparse signed inputs.
//!
//! h = ReLU(W₁x),  y′ = ReLU(W₂h + b),  target yᵢ = |xᵢ|,  L = mean over batch and features of
//! Iᵢ(|xᵢ| − y′ᵢ)², with W₁ ∈ ℝ^{D×N}, W₂ ∈ ℝ^{N×D} untied and b ∈ ℝᴺ.
//!
//! Cost: a sample's hidden layer costs |active|·D (only the non-zero xᵢ are visited), and
//! the output costs N per live hidden unit (hᵣ > 0), in forward and backward; no dense
//! N-vector of inputs is built. The all-zero samples of a batch are only counted, and their
//! common contribution is added once (ZB13), so a sparse batch costs O(active entries).
//!
//! Determinism: each (instance, seed) pair owns the stream (seed, instance index) and runs on
//! one thread, so results are bit-identical for any thread count (as in [`super::run`]).
//!
//! Derivation: derivations/zoo-b.md (ZB1)–(ZB4), (ZB12), (ZB13).

use std::time::Instant;

use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::base::{Error, FeatureSet, Result};

use super::data::{InputLaw, Sampler, SparseBatch};
use super::guard;
use super::hidden::{Hidden, HiddenCache};
use super::optim::{OptState, Optimizer, Schedule};
use super::readout::{self, Neuron};
use super::rng::Xoshiro;
use super::run::{ACTIVE_MAX, density_batch};

/// Initialisation of W₁ and W₂ (b starts at 0) (Z11).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AbsInit {
    /// PyTorch's `kaiming_uniform_` on the joint (K, D, N) and (K, N, D) tensors, as ARENA
    /// does: fan_in = N·D for both, entries U[±√(6/(N D))] (the default) (ZB2).
    Kaiming,
    /// Kaiming uniform per model: U[±√(6/N)] for W₁ (fan_in N), U[±√(6/D)] for W₂ (ZB2).
    KaimingPerModel,
    /// The Jan 2024 ARENA's `xavier_normal_` on the joint tensors of `instances` instances:
    /// std √(2/(N(D + K))) for W₁ and √(2/(D(N + K))) for W₂ (ZB2).
    XavierJoint {
        /// Number of instances K in the joint tensor.
        instances: usize,
    },
}

impl AbsInit {
    /// Parses `kaiming`, `kaiming-per-model`, `xavier-joint` (with `instances`).
    pub fn parse(s: &str, instances: usize) -> Result<Self> {
        match s.trim() {
            "kaiming" => Ok(AbsInit::Kaiming),
            "kaiming-per-model" => Ok(AbsInit::KaimingPerModel),
            "xavier-joint" => Ok(AbsInit::XavierJoint {
                instances: instances.max(1),
            }),
            other => Err(Error::Parameter(format!(
                "unknown abs initialisation '{other}' (expected kaiming, kaiming-per-model or xavier-joint)"
            ))),
        }
    }

    /// Draws one entry of W₁ (`first` = true) or W₂ for N features and D neurons (ZB2).
    fn draw(self, first: bool, n: usize, d: usize, rng: &mut Xoshiro) -> f64 {
        let (n, d) = (n as f64, d as f64);
        let uniform = |bound: f64, rng: &mut Xoshiro| bound * (2.0 * rng.uniform() - 1.0);
        match self {
            AbsInit::Kaiming => uniform((6.0 / (n * d)).sqrt(), rng),
            AbsInit::KaimingPerModel => uniform((6.0 / if first { n } else { d }).sqrt(), rng),
            AbsInit::XavierJoint { instances } => {
                let k = instances as f64;
                let std = if first {
                    (2.0 / (n * (d + k))).sqrt()
                } else {
                    (2.0 / (d * (n + k))).sqrt()
                };
                std * rng.normal()
            }
        }
    }
}

/// Hyper-parameters of the |x| model's training.
#[derive(Debug, Clone, PartialEq)]
pub struct AbsConfig {
    /// Optimisation steps.
    pub steps: usize,
    /// Samples per step; with `active_per_feature` the smallest batch (ZB13).
    pub batch: usize,
    /// Expected active entries m of the rarest feature per step: the batch is
    /// B = min(max(⌈m / p_min⌉, `batch`), 2¹⁸) (ZB13); `None` keeps `batch` (ARENA's protocol).
    pub active_per_feature: Option<usize>,
    /// Base learning rate η₀.
    pub lr: f64,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Initialisation.
    pub init: AbsInit,
    /// Fresh samples for the final evaluation loss.
    pub eval_batch: usize,
    /// Points kept on the loss curve.
    pub curve_points: usize,
    /// Hidden activation: ReLU (Z10), or SoLU / SoLU-LN for the comparison (Z21).
    pub hidden: Hidden,
    /// Draw W₂ as |W₂| (the init law's magnitudes, all signs positive), so that every
    /// output side starts alive (ZB12); false is ARENA's init (Z11).
    pub positive_w2: bool,
}

impl Default for AbsConfig {
    /// ARENA's `optimize()` defaults (Z10)–(Z11): Adam, η = 1e-3 constant, batch 1024, 5 000
    /// steps, joint Kaiming-uniform init; evaluation on 65 536 samples.
    fn default() -> Self {
        AbsConfig {
            steps: 5_000,
            batch: 1024,
            active_per_feature: None,
            lr: 1e-3,
            optimizer: Optimizer::Adam,
            schedule: Schedule::Constant,
            init: AbsInit::Kaiming,
            eval_batch: 65_536,
            curve_points: 100,
            hidden: Hidden::Relu,
            positive_w2: false,
        }
    }
}

impl AbsConfig {
    /// Checks steps, batch and evaluation batch ≥ 1, η finite > 0, the optimiser and the
    /// instance count of the joint init.
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 || self.batch == 0 || self.eval_batch == 0 {
            return Err(Error::Parameter(format!(
                "steps, batch and evaluation batch must be ≥ 1, got {}, {}, {}",
                self.steps, self.batch, self.eval_batch
            )));
        }
        super::optim::check_lr(self.lr)?;
        match self.active_per_feature {
            Some(m) if m == 0 || m > ACTIVE_MAX => {
                return Err(Error::Parameter(format!(
                    "active entries per feature must be in [1, {ACTIVE_MAX}], got {m}"
                )));
            }
            _ => {}
        }
        if let AbsInit::XavierJoint { instances: 0 } = self.init {
            return Err(Error::Parameter(
                "joint initialisation needs at least 1 instance, got 0".into(),
            ));
        }
        self.optimizer.validate()
    }

    /// The training batch for features whose smallest density is `p_min`: `batch`, or
    /// min(max(⌈m / p_min⌉, `batch`), 2¹⁸) with an active-entry target m (ZB13).
    pub fn batch_for(&self, p_min: f64) -> usize {
        match self.active_per_feature {
            None => self.batch,
            Some(m) => density_batch(m, p_min, self.batch),
        }
    }
}

/// One trained |x| model.
#[derive(Debug, Clone, PartialEq)]
pub struct AbsRun {
    /// W₁, D×N: row r = neuron r's input weights, column i = feature i.
    pub w1: DMatrix<f64>,
    /// W₂, N×D: row i = output i's weights on the neurons.
    pub w2: DMatrix<f64>,
    /// Output bias b ∈ ℝᴺ.
    pub bias: Vec<f64>,
    /// Hidden activation.
    pub hidden: Hidden,
    /// γ then β of a SoLU-LN hidden layer (empty otherwise).
    pub hidden_params: Vec<f64>,
    /// Mean over `eval_batch` fresh samples and the N features of Iᵢ(|xᵢ| − y′ᵢ)².
    pub loss: f64,
    /// (step, batch loss) pairs.
    pub loss_curve: Vec<(usize, f64)>,
    /// Wall time, seconds.
    pub wall_seconds: f64,
    /// The seed used.
    pub seed: u64,
}

impl AbsRun {
    /// The model's output y′ = ReLU(W₂ σ(W₁x) + b) at a dense input x (Z10).
    pub fn output(&self, x: &[f64]) -> Vec<f64> {
        let (d, n) = self.w1.shape();
        let z: Vec<f64> = (0..d)
            .map(|r| (0..n).map(|i| self.w1[(r, i)] * x[i]).sum::<f64>())
            .collect();
        let mut h = vec![0.0; d];
        self.hidden
            .forward(&z, &self.hidden_params, &mut h, &mut HiddenCache::default());
        (0..n)
            .map(|i| {
                let o: f64 = (0..d).map(|r| self.w2[(i, r)] * h[r]).sum::<f64>() + self.bias[i];
                o.max(0.0)
            })
            .collect()
    }
}

/// The |x| model with N features and D neurons, feature importances Iᵢ and densities pᵢ.
#[derive(Debug, Clone)]
pub struct AbsModel {
    n: usize,
    d: usize,
    hidden: Hidden,
    importance: Vec<f64>,
    sampler: Sampler,
    p_min: f64,
}

/// Parameters θ = (W₁ feature-major: θ[i·D + r] = W₁[r, i]; W₂ᵀ neuron-major:
/// θ[N·D + r·N + i] = W₂[i, r]; b; γ, β of SoLU-LN) and the per-sample buffers.
struct Buffers {
    batch: SparseBatch,
    active: Vec<(usize, f64)>,
    z: Vec<f64>,
    h: Vec<f64>,
    dh: Vec<f64>,
    dz: Vec<f64>,
    cache: HiddenCache,
    live: Vec<usize>,
    o: Vec<f64>,
    g: Vec<f64>,
}

impl AbsModel {
    /// The model for `features` (importances and densities pᵢ ∈ (0, 1]), D ≥ 1 neurons and
    /// the hidden activation (SoLU-LN needs D ≥ 4).
    pub fn new(features: &FeatureSet, d: usize, hidden: Hidden) -> Result<Self> {
        if d == 0 {
            return Err(Error::Dims(d));
        }
        hidden.validate(d)?;
        let density = features.densities().ok_or_else(|| {
            Error::Parameter("the abs model needs feature densities p (Z10)".into())
        })?;
        Ok(AbsModel {
            n: features.len(),
            d,
            hidden,
            importance: features.importance().to_vec(),
            sampler: Sampler::new(features, InputLaw::UnitUniform)?,
            p_min: density.iter().copied().fold(1.0, f64::min),
        })
    }

    /// Number of parameters: 2·N·D + N, plus 2D for SoLU-LN.
    pub fn params(&self) -> usize {
        2 * self.n * self.d + self.n + self.hidden.params(self.d)
    }

    /// The smallest feature density p_min (the rarest feature sets the batch (ZB13)).
    pub fn min_density(&self) -> f64 {
        self.p_min
    }

    /// Adds the gradient of Σᵢ Iᵢ(|xᵢ| − y′ᵢ)²·`scale` at one sample into `grad` (when given)
    /// and returns the unscaled loss Σᵢ Iᵢ(|xᵢ| − y′ᵢ)² (ZB3).
    fn sample_loss_grad(
        &self,
        theta: &[f64],
        buf: &mut Buffers,
        grad: Option<&mut [f64]>,
        scale: f64,
    ) -> f64 {
        let (n, d) = (self.n, self.d);
        let (w1, rest) = theta.split_at(n * d);
        let (w2t, rest) = rest.split_at(n * d);
        let (b, ln) = rest.split_at(n);
        // Hidden layer over the active inputs only.
        buf.z.clear();
        buf.z.resize(d, 0.0);
        for &(i, x) in &buf.active {
            for (z, &w) in buf.z.iter_mut().zip(&w1[i * d..(i + 1) * d]) {
                *z += w * x;
            }
        }
        buf.h.resize(d, 0.0);
        self.hidden.forward(&buf.z, ln, &mut buf.h, &mut buf.cache);
        // Rows of the backward pass: the live ReLU neurons, every neuron for SoLU (its
        // derivative does not vanish where h does).
        buf.live.clear();
        match self.hidden {
            Hidden::Relu => buf.live.extend((0..d).filter(|&r| buf.h[r] > 0.0)),
            _ => buf.live.extend(0..d),
        }
        // Output pre-activations o = W₂h + b.
        buf.o.clear();
        buf.o.extend_from_slice(b);
        for &r in &buf.live {
            let h = buf.h[r];
            for (o, &w) in buf.o.iter_mut().zip(&w2t[r * n..(r + 1) * n]) {
                *o += w * h;
            }
        }
        // Error e = y′ − |x|; g = ∂/∂o of scale·Σ I e² = 2·scale·I·e·[o > 0].
        buf.g.clear();
        buf.g.resize(n, 0.0);
        let mut loss = 0.0;
        for i in 0..n {
            let y = buf.o[i].max(0.0);
            loss += self.importance[i] * y * y;
            if buf.o[i] > 0.0 {
                buf.g[i] = 2.0 * scale * self.importance[i] * y;
            }
        }
        for &(i, x) in &buf.active {
            // Correct the error of the active outputs: e = y′ − |x|.
            let y = buf.o[i].max(0.0);
            let e = y - x.abs();
            loss += self.importance[i] * (e * e - y * y);
            buf.g[i] = if buf.o[i] > 0.0 {
                2.0 * scale * self.importance[i] * e
            } else {
                0.0
            };
        }
        let Some(grad) = grad else {
            return loss;
        };
        let (gw1, rest) = grad.split_at_mut(n * d);
        let (gw2t, rest) = rest.split_at_mut(n * d);
        let (gb, gln) = rest.split_at_mut(n);
        for (gb, &g) in gb.iter_mut().zip(&buf.g) {
            *gb += g;
        }
        // ∂/∂W₂[i, r] = gᵢ hᵣ; ∂/∂hᵣ = Σᵢ gᵢ W₂[i, r]; then ∂/∂z through the activation.
        buf.dh.clear();
        buf.dh.resize(d, 0.0);
        for &r in &buf.live {
            let h = buf.h[r];
            let row = &w2t[r * n..(r + 1) * n];
            let grow = &mut gw2t[r * n..(r + 1) * n];
            let mut dh = 0.0;
            for ((gw, &w), &g) in grow.iter_mut().zip(row).zip(&buf.g) {
                *gw += g * h;
                dh += g * w;
            }
            buf.dh[r] = dh;
        }
        buf.dz.resize(d, 0.0);
        self.hidden
            .backward(&buf.z, ln, &buf.cache, &buf.dh, &mut buf.dz, gln);
        for &(i, x) in &buf.active {
            let gcol = &mut gw1[i * d..(i + 1) * d];
            for &r in &buf.live {
                gcol[r] += buf.dz[r] * x;
            }
        }
        loss
    }

    /// Mean loss over `b` fresh samples from `rng`; the gradient of that mean goes into
    /// `grad` (zeroed first) when given (ZB3).
    ///
    /// The batch is drawn by [`Sampler::active`] (data.md (S7)): only the samples with a
    /// non-zero input are stored, each entry u ∈ [0, 1) becomes xᵢ = 2u − 1 ~ U[−1, 1) (ZB1),
    /// and the Z all-zero samples, which all give the same loss and gradient, are evaluated
    /// once and weighted by Z (ZB13).
    fn batch(
        &self,
        theta: &[f64],
        rng: &mut Xoshiro,
        b: usize,
        buf: &mut Buffers,
        mut grad: Option<&mut [f64]>,
    ) -> f64 {
        if let Some(g) = grad.as_deref_mut() {
            g.fill(0.0);
        }
        let scale = 1.0 / (b * self.n) as f64;
        let mut batch = std::mem::take(&mut buf.batch);
        self.sampler.active(b, rng, &mut batch);
        let mut total = 0.0;
        for row in batch.start.windows(2) {
            buf.active.clear();
            buf.active.extend(
                batch.index[row[0]..row[1]]
                    .iter()
                    .zip(&batch.value[row[0]..row[1]])
                    .map(|(&i, &u)| (i as usize, 2.0 * f64::from(u) - 1.0)),
            );
            total += self.sample_loss_grad(theta, buf, grad.as_deref_mut(), scale);
        }
        if batch.zeros > 0 {
            buf.active.clear();
            let z = batch.zeros as f64;
            total += z * self.sample_loss_grad(theta, buf, grad, z * scale);
        }
        buf.batch = batch;
        total * scale
    }

    /// Loss and gradient at θ for one given sample x (dense), for tests: the mean over
    /// features of Iᵢ(|xᵢ| − y′ᵢ)² and its gradient in the layout of [`AbsModel::unpack`].
    pub fn loss_grad_at(&self, theta: &[f64], x: &[f64]) -> (f64, Vec<f64>) {
        let mut buf = Buffers::new();
        buf.active = x
            .iter()
            .enumerate()
            .filter(|&(_, &v)| v != 0.0)
            .map(|(i, &v)| (i, v))
            .collect();
        let mut grad = vec![0.0; self.params()];
        let scale = 1.0 / self.n as f64;
        let l = self.sample_loss_grad(theta, &mut buf, Some(&mut grad), scale);
        (l * scale, grad)
    }

    /// θ from (W₁ D×N, W₂ N×D, b), the layout of the training loop; SoLU-LN's γ, β at
    /// their initial values.
    pub fn pack(&self, w1: &DMatrix<f64>, w2: &DMatrix<f64>, b: &[f64]) -> Vec<f64> {
        let (n, d) = (self.n, self.d);
        let mut theta = vec![0.0; self.params()];
        for i in 0..n {
            for r in 0..d {
                theta[i * d + r] = w1[(r, i)];
                theta[n * d + r * n + i] = w2[(i, r)];
            }
        }
        theta[2 * n * d..2 * n * d + n].copy_from_slice(b);
        theta[2 * n * d + n..].copy_from_slice(&self.hidden.init_params(d));
        theta
    }

    /// (W₁ D×N, W₂ N×D, b) from θ.
    pub fn unpack(&self, theta: &[f64]) -> (DMatrix<f64>, DMatrix<f64>, Vec<f64>) {
        let (n, d) = (self.n, self.d);
        let w1 = DMatrix::from_fn(d, n, |r, i| theta[i * d + r]);
        let w2 = DMatrix::from_fn(n, d, |i, r| theta[n * d + r * n + i]);
        (w1, w2, theta[2 * n * d..2 * n * d + n].to_vec())
    }

    /// Trains one instance with stream (`seed`, `index`) (ZB4).
    pub fn train(&self, cfg: &AbsConfig, seed: u64, index: u64) -> Result<AbsRun> {
        let start = Instant::now();
        cfg.validate()?;
        let (n, d) = (self.n, self.d);
        let bsz = cfg.batch_for(self.p_min);
        guard::check_sweep(n, d, cfg.steps, bsz, cfg.eval_batch, 1, 1)?;
        let mut rng = Xoshiro::new(seed, index);
        let mut theta = vec![0.0; self.params()];
        for (k, p) in theta[..2 * n * d].iter_mut().enumerate() {
            *p = cfg.init.draw(k < n * d, n, d, &mut rng);
        }
        if cfg.positive_w2 {
            // (ZB12): W₂ ≥ 0 makes oᵢ(±eᵢ) = Σᵣ W₂[i,r]·ReLU(±W₁[r,i]) ≥ 0 on both sides.
            for p in &mut theta[n * d..2 * n * d] {
                *p = p.abs();
            }
        }
        theta[2 * n * d + n..].copy_from_slice(&self.hidden.init_params(d));
        let mut grad = vec![0.0; theta.len()];
        let mut opt = OptState::new(cfg.optimizer, theta.len());
        let mut buf = Buffers::new();
        let mut ref_rng = Xoshiro::new(seed, index ^ 0x6A4D_0000_0000_0000);
        let l0 = self.batch(&theta, &mut ref_rng, bsz, &mut buf, None);
        let mut watch = guard::Divergence::with_reference(l0);
        let every = (cfg.steps / cfg.curve_points.max(1)).max(1);
        let mut curve = Vec::new();
        for t in 0..cfg.steps {
            let l = self.batch(&theta, &mut rng, bsz, &mut buf, Some(&mut grad));
            watch.check(t, l)?;
            if t % every == 0 || t + 1 == cfg.steps {
                curve.push((t, l));
            }
            opt.step(
                &mut theta,
                &grad,
                cfg.lr * cfg.schedule.factor(t, cfg.steps),
            );
        }
        let mut eval_rng = Xoshiro::new(seed, index ^ 0xE7A1_0000_0000_0000);
        let loss = self.batch(&theta, &mut eval_rng, cfg.eval_batch, &mut buf, None);
        watch.check_final(cfg.steps, loss)?;
        let (w1, w2, bias) = self.unpack(&theta);
        Ok(AbsRun {
            w1,
            w2,
            bias,
            hidden: self.hidden,
            hidden_params: theta[2 * n * d + n..].to_vec(),
            loss,
            loss_curve: curve,
            wall_seconds: start.elapsed().as_secs_f64(),
            seed,
        })
    }
}

impl Buffers {
    fn new() -> Self {
        Buffers {
            batch: SparseBatch::default(),
            active: Vec::new(),
            z: Vec::new(),
            h: Vec::new(),
            dh: Vec::new(),
            dz: Vec::new(),
            cache: HiddenCache::default(),
            live: Vec::new(),
            o: Vec::new(),
            g: Vec::new(),
        }
    }
}

/// Trains every instance with `seeds` seeds (`base_seed`, `base_seed` + 1, …) on D neurons,
/// in parallel over (instance, seed) on the current rayon pool; instance k with seed s uses
/// stream (s, k). Returns, per instance, its runs in seed order.
pub fn sweep(
    instances: &[FeatureSet],
    d: usize,
    cfg: &AbsConfig,
    seeds: usize,
    base_seed: u64,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<AbsRun>>> {
    let all: Vec<usize> = (0..instances.len()).collect();
    sweep_indices(instances, &all, d, cfg, seeds, base_seed, on_done)
}

/// [`sweep`] of the instances `indices` only (a shard of the sweep); instance k keeps its
/// stream (s, k), so its runs are those of the whole sweep. Returns, per index in the order
/// given, its runs in seed order.
pub fn sweep_indices(
    instances: &[FeatureSet],
    indices: &[usize],
    d: usize,
    cfg: &AbsConfig,
    seeds: usize,
    base_seed: u64,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<AbsRun>>> {
    if seeds == 0 {
        return Err(Error::Parameter("need at least 1 seed, got 0".into()));
    }
    if let Some(&k) = indices.iter().find(|&&k| k >= instances.len()) {
        return Err(Error::Parameter(format!(
            "instance {k} of a sweep of {} instances",
            instances.len()
        )));
    }
    cfg.validate()?;
    let models = indices
        .iter()
        .map(|&k| AbsModel::new(&instances[k], d, cfg.hidden))
        .collect::<Result<Vec<_>>>()?;
    let n = instances.iter().map(FeatureSet::len).max().unwrap_or(0);
    let jobs = indices.len().saturating_mul(seeds);
    let live = rayon::current_num_threads();
    let bsz = models
        .iter()
        .map(|m| cfg.batch_for(m.min_density()))
        .max()
        .unwrap_or(cfg.batch);
    guard::check_sweep(n, d, cfg.steps, bsz, cfg.eval_batch, jobs, live)?;
    let jobs: Vec<(usize, u64)> = (0..indices.len())
        .flat_map(|j| (0..seeds as u64).map(move |s| (j, base_seed.wrapping_add(s))))
        .collect();
    let runs: Vec<AbsRun> = jobs
        .par_iter()
        .with_max_len(1)
        .map(|&(j, seed)| {
            let r = models[j].train(cfg, seed, indices[j] as u64);
            on_done();
            r
        })
        .collect::<Result<_>>()?;
    let mut it = runs.into_iter();
    Ok((0..indices.len())
        .map(|_| it.by_ref().take(seeds).collect())
        .collect())
}

/// Feature i is computed when both y′ᵢ(+eᵢ) and y′ᵢ(−eᵢ) are ≥ `COMPUTED_AT` (Z12).
pub const COMPUTED_AT: f64 = 0.5;

impl AbsRun {
    /// (g⁺ᵢ, g⁻ᵢ) = (y′ᵢ(+eᵢ), y′ᵢ(−eᵢ)) per feature (Z12).
    pub fn responses(&self) -> Vec<(f64, f64)> {
        let n = self.w1.ncols();
        let mut x = vec![0.0; n];
        (0..n)
            .map(|i| {
                x[i] = 1.0;
                let gp = self.output(&x)[i];
                x[i] = -1.0;
                let gm = self.output(&x)[i];
                x[i] = 0.0;
                (gp, gm)
            })
            .collect()
    }

    /// Features computed in the sense of (Z12): g⁺ᵢ ≥ ½ and g⁻ᵢ ≥ ½.
    pub fn computed(&self) -> Vec<bool> {
        self.responses()
            .into_iter()
            .map(|(p, m)| p >= COMPUTED_AT && m >= COMPUTED_AT)
            .collect()
    }

    /// Whether feature i has a positive-side neuron r⁺ and a negative-side neuron r⁻ with
    /// dominant input i, W₁[r⁺,i] > 0 > W₁[r⁻,i], and W₂[i,r±] > 0 (Z12).
    /// `neurons` is [`readout::neurons`] of W₁.
    pub fn has_sign_pair(&self, i: usize, neurons: &[Neuron]) -> bool {
        let side = |positive: bool| {
            (0..self.w1.nrows()).any(|r| {
                let w = self.w1[(r, i)];
                !neurons[r].dead
                    && neurons[r].top == i
                    && (if positive { w > 0.0 } else { w < 0.0 })
                    && self.w2[(i, r)] > 0.0
            })
        };
        side(true) && side(false)
    }

    /// The asymmetric-superposition motifs (Z13): triples (r, i, j), 0-based, of a neuron r
    /// storing feature i strongly and j weakly, |W₁\[r,i\]| ≥ 3|W₁\[r,j\]| > 0, with reciprocal
    /// outputs W₂\[j,r\] ≥ 3·W₂\[i,r\] > 0, and an inhibiting neuron r′ ≠ r with
    /// sign W₁\[r′,i\] = sign W₁\[r,i\] and W₂\[j,r′\]·|W₁\[r′,i\]| ≤ −½·W₂\[j,r\]·|W₁\[r,i\]|.
    /// Dead neurons take no part. Each motif neuron r is counted once per (i, j).
    pub fn motifs(&self) -> Vec<(usize, usize, usize)> {
        let (d, n) = self.w1.shape();
        let neurons = readout::neurons(&self.w1, readout::MONO_TAU);
        let (w1, w2) = (&self.w1, &self.w2);
        let mut out = Vec::new();
        for r in (0..d).filter(|&r| !neurons[r].dead) {
            for i in 0..n {
                for j in (0..n).filter(|&j| j != i) {
                    let (a, c) = (w1[(r, i)].abs(), w1[(r, j)].abs());
                    let strong = c > 0.0 && a >= 3.0 * c;
                    let reciprocal = w2[(i, r)] > 0.0 && w2[(j, r)] >= 3.0 * w2[(i, r)];
                    if !(strong && reciprocal) {
                        continue;
                    }
                    let target = -0.5 * w2[(j, r)] * a;
                    let inhibitor = (0..d).any(|q| {
                        q != r
                            && !neurons[q].dead
                            && w1[(q, i)] != 0.0
                            && w1[(q, i)].signum() == w1[(r, i)].signum()
                            && w2[(j, q)] * w1[(q, i)].abs() <= target
                    });
                    if inhibitor {
                        out.push((r, i, j));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::Magnitude;

    /// (ZB13): a batch's loss and gradient, with the all-zero samples counted and evaluated
    /// once, equal the mean over its B samples taken one by one through the dense
    /// [`AbsModel::loss_grad_at`].
    #[test]
    fn batch_with_counted_zeros_is_the_mean_over_every_sample() {
        let (n, d, b) = (12, 4, 64);
        let imp: Vec<f64> = (0..n).map(|i| 0.9f64.powi(i as i32)).collect();
        let f = FeatureSet::from_densities(imp, &vec![0.05; n], Magnitude::Uniform)
            .expect("valid features");
        let model = AbsModel::new(&f, d, Hidden::Relu).expect("model");
        let mut init = Xoshiro::new(7, 0);
        // b > 0 on half the outputs, so the all-zero samples have a loss and a gradient.
        let theta: Vec<f64> = (0..model.params()).map(|_| 0.5 * init.normal()).collect();
        let mut rng = Xoshiro::new(3, 1);
        let mut again = rng.clone();
        let mut grad = vec![0.0; theta.len()];
        let loss = model.batch(&theta, &mut rng, b, &mut Buffers::new(), Some(&mut grad));
        let mut batch = SparseBatch::default();
        model.sampler.active(b, &mut again, &mut batch);
        assert!(batch.zeros > 0 && batch.rows() > 0, "zeros {}", batch.zeros);
        let mut xs: Vec<Vec<f64>> = vec![vec![0.0; n]; batch.zeros];
        for row in batch.start.windows(2) {
            let mut x = vec![0.0; n];
            for k in row[0]..row[1] {
                x[batch.index[k] as usize] = 2.0 * f64::from(batch.value[k]) - 1.0;
            }
            xs.push(x);
        }
        let (mut l2, mut g2) = (0.0, vec![0.0; theta.len()]);
        for x in &xs {
            let (l, g) = model.loss_grad_at(&theta, x);
            l2 += l / b as f64;
            for (a, v) in g2.iter_mut().zip(g) {
                *a += v / b as f64;
            }
        }
        assert!((loss - l2).abs() <= 1e-12 * l2.abs(), "{loss} vs {l2}");
        let scale = g2.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (k, (a, e)) in grad.iter().zip(&g2).enumerate() {
            assert!((a - e).abs() <= 1e-12 * scale, "θ[{k}]: {a} vs {e}");
        }
    }
}
