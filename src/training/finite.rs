//! Finite training sets: memorisation and data double descent (Henighan et al. 2023).
//!
//! T points are drawn once (Z14): xᵢ = 0 with probability 1 − pᵢ, else U[0, 1], then x ← x/‖x‖₂
//! (an all-zero x stays 0). The autoencoder x′ = σ(WᵀWx + b) (E1) is trained full-batch on
//! L_train = (1/T) Σₜ Σᵢ Iᵢ(Xᵢₜ − x′ᵢ(Xₜ))² (Z16) with AdamW and warm-up + cosine (Z17);
//! L_test is the same loss on fresh points of (Z14).
//!
//! Points are stored sparse: a point costs |active|·D for h = Wx and N·D for the output, so
//! N = 1000 features at 10 active per point never build dense N-vectors of inputs.
//!
//! Derivation: derivations/zoo-b.md (ZB6)–(ZB9).

use std::time::Instant;

use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::base::{Error, FeatureSet, Result};

use super::guard;
use super::model::{Activation, Init};
use super::optim::{OptState, Optimizer, Schedule};
use super::rng::Xoshiro;
use super::simd::{Isa, Simd};

/// Largest training set accepted (points).
pub const MAX_POINTS: usize = 1 << 22;

/// Stream tags: the training set of data seed s is stream (s, k ^ `DATA_TAG`), its test set
/// (s, k ^ `TEST_TAG`) for instance k; the init uses (seed, k) as every other run.
const DATA_TAG: u64 = 0xDA7A_0000_0000_0000;
const TEST_TAG: u64 = 0x7E57_0000_0000_0000;

/// Features per lane group of the blocked kernel (ZB10).
const LANES: usize = 8;
/// Points per pass over the features of the blocked kernel (ZB10).
const BLOCK: usize = 4;

/// T fixed points in compressed sparse rows: point t has entries `start[t]..start[t+1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    n: usize,
    start: Vec<usize>,
    index: Vec<usize>,
    value: Vec<f64>,
}

impl Dataset {
    /// Draws `t` points of (Z14) for `features` (densities pᵢ) from `rng` (ZB6).
    pub fn draw(features: &FeatureSet, t: usize, rng: &mut Xoshiro) -> Result<Self> {
        let p = features.densities().ok_or_else(|| {
            Error::Parameter("a finite dataset needs feature densities p (Z14)".into())
        })?;
        if t == 0 || t > MAX_POINTS {
            return Err(Error::Parameter(format!(
                "a dataset needs 1 to {MAX_POINTS} points, got {t}"
            )));
        }
        let mut d = Dataset {
            n: p.len(),
            start: vec![0],
            index: Vec::new(),
            value: Vec::new(),
        };
        for _ in 0..t {
            let from = d.index.len();
            for (i, &pi) in p.iter().enumerate() {
                let u = rng.uniform();
                if u < pi {
                    // Given u < p, u/p is U[0, 1) (ZB6).
                    d.index.push(i);
                    d.value.push(u / pi);
                }
            }
            let norm = d.value[from..].iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                for v in &mut d.value[from..] {
                    *v /= norm;
                }
            }
            d.start.push(d.index.len());
        }
        Ok(d)
    }

    /// Number of points T.
    pub fn len(&self) -> usize {
        self.start.len() - 1
    }

    /// True for no points (never, for a drawn set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of features N.
    pub fn features(&self) -> usize {
        self.n
    }

    /// Point t as (feature indices, values).
    pub fn point(&self, t: usize) -> (&[usize], &[f64]) {
        let r = self.start[t]..self.start[t + 1];
        (&self.index[r.clone()], &self.value[r])
    }

    /// The points as a dense N×T matrix X (column t = point t).
    pub fn dense(&self) -> DMatrix<f64> {
        let mut x = DMatrix::zeros(self.n, self.len());
        for t in 0..self.len() {
            let (idx, val) = self.point(t);
            for (&i, &v) in idx.iter().zip(val) {
                x[(i, t)] = v;
            }
        }
        x
    }
}

/// Hyper-parameters of full-batch training on a finite set.
#[derive(Debug, Clone, PartialEq)]
pub struct FiniteConfig {
    /// Number of training points T.
    pub points: usize,
    /// Fresh points of the test loss.
    pub test_points: usize,
    /// Full-batch updates.
    pub steps: usize,
    /// Base learning rate η₀.
    pub lr: f64,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Initialisation of W (b = 0).
    pub init: Init,
    /// Points kept on the loss curve.
    pub curve_points: usize,
}

impl FiniteConfig {
    /// (Z17) for T points: AdamW (wd 1e-2, on W and b), η = 1e-3 with 2 500 warm-up steps then
    /// the full cosine to 0, 50 000 updates; per-model Xavier (Z15); 10 000 test points (Z16).
    pub fn defaults(points: usize) -> Self {
        FiniteConfig {
            points,
            test_points: 10_000,
            steps: 50_000,
            lr: 1e-3,
            optimizer: Optimizer::AdamW { weight_decay: 1e-2 },
            schedule: Schedule::WarmupCosine(2_500),
            init: Init::Xavier,
            curve_points: 100,
        }
    }

    /// (Z17) for T points and `steps` updates: [`FiniteConfig::defaults`] with the 2 500
    /// warm-up steps shortened to a quarter of the run when the run is shorter than 10 000
    /// updates (so that a short run still decays).
    pub fn with_steps(points: usize, steps: usize) -> Self {
        FiniteConfig {
            steps,
            schedule: Schedule::WarmupCosine(2_500.min(steps.div_ceil(4))),
            ..Self::defaults(points)
        }
    }

    /// Checks T and the test set in 1..=[`MAX_POINTS`], steps ≥ 1, η finite > 0, the optimiser
    /// and the init.
    pub fn validate(&self) -> Result<()> {
        for (what, v) in [("--dataset", self.points), ("test set", self.test_points)] {
            if v == 0 || v > MAX_POINTS {
                return Err(Error::Parameter(format!(
                    "{what}: needs 1 to {MAX_POINTS} points, got {v}"
                )));
            }
        }
        if self.steps == 0 {
            return Err(Error::Parameter(
                "training needs at least 1 step, got 0".into(),
            ));
        }
        super::optim::check_lr(self.lr)?;
        self.optimizer.validate()?;
        self.init.validate()
    }
}

/// One model trained on a finite set.
#[derive(Debug, Clone, PartialEq)]
pub struct FiniteRun {
    /// Trained W, D×N.
    pub w: DMatrix<f64>,
    /// Bias b ∈ ℝᴺ.
    pub bias: Vec<f64>,
    /// Hidden vectors of the training points, H = W X (D×T) (Z18).
    pub hidden: DMatrix<f64>,
    /// L_train of (Z16) at the end.
    pub train_loss: f64,
    /// L_test of (Z16) on fresh points.
    pub test_loss: f64,
    /// (step, L_train) pairs.
    pub loss_curve: Vec<(usize, f64)>,
    /// Wall time, seconds.
    pub wall_seconds: f64,
    /// Init seed.
    pub seed: u64,
    /// Data seed.
    pub data_seed: u64,
}

/// The autoencoder x′ = σ(WᵀWx + b) on a finite set: θ = (W feature-major: θ[i·D + r] =
/// W[r, i]; b).
#[derive(Debug, Clone)]
pub struct FiniteModel {
    act: Activation,
    n: usize,
    d: usize,
    importance: Vec<f64>,
}

impl FiniteModel {
    /// The model with output activation `act`, importances from `features`, D ≥ 1 dims.
    pub fn new(act: Activation, features: &FeatureSet, d: usize) -> Result<Self> {
        if d == 0 {
            return Err(Error::Dims(d));
        }
        Ok(FiniteModel {
            act,
            n: features.len(),
            d,
            importance: features.importance().to_vec(),
        })
    }

    /// (1/T) Σₜ Σᵢ Iᵢ(Xᵢₜ − x′ᵢₜ)² over `data` (Z16), and its gradient written into `grad`
    /// when given (ZB7), by the blocked kernel of (ZB10): W as one contiguous row per hidden
    /// dimension, every feature first treated as inactive (target 0) in a branch-free loop
    /// over 8 features at a time and 4 points at a time, then the ~N·p active entries of each
    /// point corrected. Single-threaded and in a fixed order, so bit-reproducible.
    ///
    /// # Panics
    /// If `theta` is not N·D + N long, `grad` not as long as `theta`, or `data` has another N.
    pub fn loss_grad(&self, theta: &[f64], data: &Dataset, grad: Option<&mut [f64]>) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = Isa::select(Simd::Auto).v3 {
            // Compiled a second time with AVX2 (pulp detected it): the same operations in the
            // same order, no FMA contraction, so the same bits as the baseline copy (SD3).
            return v3.vectorize(Avx2LossGrad {
                model: self,
                theta,
                data,
                grad,
            });
        }
        self.by_activation(theta, data, grad)
    }

    /// [`FiniteModel::loss_grad`] with the activation resolved outside the loops.
    #[inline(always)]
    fn by_activation(&self, theta: &[f64], data: &Dataset, grad: Option<&mut [f64]>) -> f64 {
        match self.act {
            Activation::Relu => self.blocked(theta, data, grad, |z| Activation::Relu.eval(z)),
            Activation::Gelu => self.blocked(theta, data, grad, |z| Activation::Gelu.eval(z)),
            Activation::Square => self.blocked(theta, data, grad, |z| Activation::Square.eval(z)),
            Activation::Identity => {
                self.blocked(theta, data, grad, |z| Activation::Identity.eval(z))
            }
        }
    }

    /// The kernel of (ZB10) for one activation `act` (inlined per activation).
    #[inline(always)]
    fn blocked<F: Fn(f64) -> (f64, f64) + Copy>(
        &self,
        theta: &[f64],
        data: &Dataset,
        grad: Option<&mut [f64]>,
        act: F,
    ) -> f64 {
        let (n, d) = (self.n, self.d);
        assert_eq!(theta.len(), n * d + n, "θ must hold W (N·D) and b (N)");
        assert_eq!(
            data.features(),
            n,
            "the dataset must have the model's N features"
        );
        if let Some(g) = grad.as_deref() {
            assert_eq!(g.len(), theta.len(), "the gradient must be as long as θ");
        }
        let want = grad.is_some();
        // Padded to whole lanes: a padding feature has W = 0, b = 0 and I = 0, so it adds
        // nothing to the loss or the gradient for any σ.
        let np = n.div_ceil(LANES) * LANES;
        let (w, b) = theta.split_at(n * d);
        let mut rows = vec![0.0; d * np];
        for i in 0..n {
            for r in 0..d {
                rows[r * np + i] = w[i * d + r];
            }
        }
        let mut bias = vec![0.0; np];
        bias[..n].copy_from_slice(b);
        let mut imp = vec![0.0; np];
        imp[..n].copy_from_slice(&self.importance);
        let scale = 1.0 / data.len() as f64;
        let c = 2.0 * scale;
        let mut gw = vec![0.0; if want { d * np } else { 0 }];
        let mut gb = vec![0.0; if want { np } else { 0 }];
        // h[p·D + r] of the points of a block; dh lanes[(p·D + r)·LANES + l].
        let mut h = vec![0.0; BLOCK * d];
        let mut dh_lanes = vec![0.0; BLOCK * d * LANES];
        let mut dh = vec![0.0; d];
        let mut total = 0.0;
        for t0 in (0..data.len()).step_by(BLOCK) {
            let pe = BLOCK.min(data.len() - t0);
            h.fill(0.0);
            for p in 0..pe {
                let (idx, val) = data.point(t0 + p);
                for (&i, &v) in idx.iter().zip(val) {
                    for r in 0..d {
                        h[p * d + r] += rows[r * np + i] * v;
                    }
                }
            }
            dh_lanes.fill(0.0);
            let mut loss_lanes = [[0.0; LANES]; BLOCK];
            let mut g = [[0.0; LANES]; BLOCK];
            for k in (0..np).step_by(LANES) {
                let bl: [f64; LANES] = bias[k..k + LANES].try_into().expect("invariant: a lane");
                let il: [f64; LANES] = imp[k..k + LANES].try_into().expect("invariant: a lane");
                for p in 0..pe {
                    let mut z = [0.0; LANES];
                    for r in 0..d {
                        let hr = h[p * d + r];
                        let row = &rows[r * np + k..r * np + k + LANES];
                        for l in 0..LANES {
                            z[l] += row[l] * hr;
                        }
                    }
                    for l in 0..LANES {
                        // Target 0: e = y (ZB10).
                        let (y, dy) = act(bl[l] + z[l]);
                        loss_lanes[p][l] += il[l] * y * y;
                        g[p][l] = c * il[l] * y * dy;
                    }
                    if want {
                        for r in 0..d {
                            let row = &rows[r * np + k..r * np + k + LANES];
                            let acc = &mut dh_lanes[(p * d + r) * LANES..(p * d + r + 1) * LANES];
                            for l in 0..LANES {
                                acc[l] += g[p][l] * row[l];
                            }
                        }
                    }
                }
                if want {
                    let gbl = &mut gb[k..k + LANES];
                    for gp in &g[..pe] {
                        for l in 0..LANES {
                            gbl[l] += gp[l];
                        }
                    }
                    for r in 0..d {
                        let gr = &mut gw[r * np + k..r * np + k + LANES];
                        let mut acc: [f64; LANES] = (&*gr).try_into().expect("invariant: a lane");
                        for (p, gp) in g[..pe].iter().enumerate() {
                            let hr = h[p * d + r];
                            for l in 0..LANES {
                                acc[l] += gp[l] * hr;
                            }
                        }
                        gr.copy_from_slice(&acc);
                    }
                }
            }
            for p in 0..pe {
                let (idx, val) = data.point(t0 + p);
                let hp = &h[p * d..(p + 1) * d];
                let mut loss = loss_lanes[p].iter().sum::<f64>();
                for (r, dhr) in dh.iter_mut().enumerate() {
                    *dhr = dh_lanes[(p * d + r) * LANES..(p * d + r + 1) * LANES]
                        .iter()
                        .sum();
                }
                // The active entries: target v instead of 0 (ZB10).
                for (&j, &v) in idx.iter().zip(val) {
                    let mut z = 0.0;
                    for (r, &hr) in hp.iter().enumerate() {
                        z += rows[r * np + j] * hr;
                    }
                    let (y, dy) = act(bias[j] + z);
                    loss += imp[j] * ((y - v) * (y - v) - y * y);
                    if want {
                        let dg = -c * imp[j] * v * dy;
                        gb[j] += dg;
                        for (r, (&hr, dhr)) in hp.iter().zip(dh.iter_mut()).enumerate() {
                            gw[r * np + j] += dg * hr;
                            *dhr += dg * rows[r * np + j];
                        }
                    }
                }
                total += loss;
                if want {
                    // The encoder: ∂/∂Wⱼ += xⱼ·∂L/∂h for the active j.
                    for (&j, &v) in idx.iter().zip(val) {
                        for (r, &dhr) in dh.iter().enumerate() {
                            gw[r * np + j] += v * dhr;
                        }
                    }
                }
            }
        }
        if let Some(grad) = grad {
            for i in 0..n {
                for r in 0..d {
                    grad[i * d + r] = gw[r * np + i];
                }
            }
            grad[n * d..].copy_from_slice(&gb[..n]);
        }
        total * scale
    }

    /// The same loss and gradient as [`FiniteModel::loss_grad`], computed entry by entry with
    /// a dense x per point: the reference the fast kernel is tested against, and the "old"
    /// side of `polycap bench finite` (ZB7).
    pub fn loss_grad_reference(
        &self,
        theta: &[f64],
        data: &Dataset,
        mut grad: Option<&mut [f64]>,
    ) -> f64 {
        let (n, d) = (self.n, self.d);
        let (w, b) = theta.split_at(n * d);
        if let Some(g) = grad.as_deref_mut() {
            g.fill(0.0);
        }
        let scale = 1.0 / data.len() as f64;
        let mut h = vec![0.0; d];
        let mut dh = vec![0.0; d];
        let mut x = vec![0.0; n];
        let mut total = 0.0;
        for t in 0..data.len() {
            let (idx, val) = data.point(t);
            h.fill(0.0);
            for (&i, &v) in idx.iter().zip(val) {
                x[i] = v;
                for (hr, &wr) in h.iter_mut().zip(&w[i * d..(i + 1) * d]) {
                    *hr += wr * v;
                }
            }
            dh.fill(0.0);
            for i in 0..n {
                let wi = &w[i * d..(i + 1) * d];
                let z = b[i] + wi.iter().zip(&h).map(|(a, c)| a * c).sum::<f64>();
                let (y, dy) = self.act.eval(z);
                let e = y - x[i];
                total += self.importance[i] * e * e;
                let g = 2.0 * scale * self.importance[i] * e * dy;
                if let (Some(grad), true) = (grad.as_deref_mut(), g != 0.0) {
                    // ∂/∂Wᵢ through the decoder: g·h; ∂/∂bᵢ: g; back to h: g·Wᵢ.
                    for ((gw, &hr), (dhr, &wr)) in grad[i * d..(i + 1) * d]
                        .iter_mut()
                        .zip(&h)
                        .zip(dh.iter_mut().zip(wi))
                    {
                        *gw += g * hr;
                        *dhr += g * wr;
                    }
                    grad[n * d + i] += g;
                }
            }
            for (&i, &v) in idx.iter().zip(val) {
                x[i] = 0.0;
                if let Some(grad) = grad.as_deref_mut() {
                    // ∂/∂Wⱼ through the encoder: xⱼ·∂L/∂h.
                    for (gw, &dhr) in grad[i * d..(i + 1) * d].iter_mut().zip(&dh) {
                        *gw += v * dhr;
                    }
                }
            }
        }
        total * scale
    }

    /// Trains from init stream (`seed`, `index`) on the training set of data seed
    /// `data_seed`, and evaluates on that data seed's test set (ZB8).
    pub fn train(
        &self,
        features: &FeatureSet,
        cfg: &FiniteConfig,
        seed: u64,
        data_seed: u64,
        index: u64,
    ) -> Result<FiniteRun> {
        let start = Instant::now();
        cfg.validate()?;
        let (n, d) = (self.n, self.d);
        guard::check_sweep(n, d, cfg.steps, cfg.points, cfg.test_points, 1, 1)?;
        let train = Dataset::draw(
            features,
            cfg.points,
            &mut Xoshiro::new(data_seed, index ^ DATA_TAG),
        )?;
        let mut rng = Xoshiro::new(seed, index);
        let std = cfg.init.std(n, d);
        let mut theta: Vec<f64> = (0..n * d).map(|_| std * rng.normal()).collect();
        theta.resize(n * d + n, 0.0);
        let mut grad = vec![0.0; theta.len()];
        let mut opt = OptState::new(cfg.optimizer, theta.len());
        let mut watch = guard::Divergence::new();
        let every = (cfg.steps / cfg.curve_points.max(1)).max(1);
        let mut curve = Vec::new();
        for t in 0..cfg.steps {
            let l = self.loss_grad(&theta, &train, Some(&mut grad));
            watch.check(t, l)?;
            if t % every == 0 {
                curve.push((t, l));
            }
            opt.step(
                &mut theta,
                &grad,
                cfg.lr * cfg.schedule.factor(t, cfg.steps),
            );
        }
        let train_loss = self.loss_grad(&theta, &train, None);
        curve.push((cfg.steps, train_loss));
        watch.check_final(cfg.steps, train_loss)?;
        let test = Dataset::draw(
            features,
            cfg.test_points,
            &mut Xoshiro::new(data_seed, index ^ TEST_TAG),
        )?;
        let test_loss = self.loss_grad(&theta, &test, None);
        let w = DMatrix::from_fn(d, n, |r, i| theta[i * d + r]);
        let hidden = &w * train.dense();
        Ok(FiniteRun {
            w,
            bias: theta[n * d..].to_vec(),
            hidden,
            train_loss,
            test_loss,
            loss_curve: curve,
            wall_seconds: start.elapsed().as_secs_f64(),
            seed,
            data_seed,
        })
    }
}

/// [`FiniteModel::loss_grad`] inlined into pulp's AVX2 function (SD2).
#[cfg(target_arch = "x86_64")]
struct Avx2LossGrad<'a> {
    model: &'a FiniteModel,
    theta: &'a [f64],
    data: &'a Dataset,
    grad: Option<&'a mut [f64]>,
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for Avx2LossGrad<'_> {
    type Output = f64;

    #[inline(always)]
    fn call(self) -> f64 {
        self.model.by_activation(self.theta, self.data, self.grad)
    }
}

/// Trains, for every instance k and data seed s (`base_data_seed` + 0, 1, …), `seeds` inits
/// (`base_seed` + 0, 1, …) in parallel; instance k uses streams indexed k. Returns, per
/// (instance, data seed), the runs in seed order, instance-major.
#[allow(clippy::too_many_arguments)]
pub fn sweep(
    act: Activation,
    instances: &[FeatureSet],
    d: usize,
    cfg: &FiniteConfig,
    seeds: usize,
    base_seed: u64,
    data_seeds: usize,
    base_data_seed: u64,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<FiniteRun>>> {
    let all: Vec<usize> = (0..instances.len()).collect();
    sweep_indices(
        act,
        instances,
        &all,
        d,
        cfg,
        (seeds, base_seed),
        (data_seeds, base_data_seed),
        on_done,
    )
}

/// [`sweep`] of the instances `indices` only (a shard of the sweep); instance k keeps its
/// streams indexed k, so its runs are those of the whole sweep. `seeds` and `data_seeds` are
/// (count, first seed). Returns, per (index in the order given, data seed), the runs in seed
/// order.
#[allow(clippy::too_many_arguments)]
pub fn sweep_indices(
    act: Activation,
    instances: &[FeatureSet],
    indices: &[usize],
    d: usize,
    cfg: &FiniteConfig,
    (seeds, base_seed): (usize, u64),
    (data_seeds, base_data_seed): (usize, u64),
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<FiniteRun>>> {
    if seeds == 0 || data_seeds == 0 {
        return Err(Error::Parameter(format!(
            "need at least 1 seed and 1 data seed, got {seeds} and {data_seeds}"
        )));
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
        .map(|&k| FiniteModel::new(act, &instances[k], d))
        .collect::<Result<Vec<_>>>()?;
    let n = instances.iter().map(FeatureSet::len).max().unwrap_or(0);
    let jobs = indices
        .len()
        .saturating_mul(seeds)
        .saturating_mul(data_seeds);
    let live = rayon::current_num_threads();
    guard::check_sweep(n, d, cfg.steps, cfg.points, cfg.test_points, jobs, live)?;
    let jobs: Vec<(usize, u64, u64)> = (0..indices.len())
        .flat_map(|j| {
            (0..data_seeds as u64).flat_map(move |ds| {
                (0..seeds as u64).map(move |s| {
                    (
                        j,
                        base_seed.wrapping_add(s),
                        base_data_seed.wrapping_add(ds),
                    )
                })
            })
        })
        .collect();
    let runs: Vec<FiniteRun> = jobs
        .par_iter()
        .with_max_len(1)
        .map(|&(j, seed, ds)| {
            let k = indices[j];
            let r = models[j].train(&instances[k], cfg, seed, ds, k as u64);
            on_done();
            r
        })
        .collect::<Result<_>>()?;
    let mut it = runs.into_iter();
    Ok((0..indices.len() * data_seeds)
        .map(|_| it.by_ref().take(seeds).collect())
        .collect())
}
