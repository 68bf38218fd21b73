//! The zoo engine: the autoencoders (E1) on correlated-pair data (Z4)–(Z6) and the neuron
//! model (Z8) with a ReLU, SoLU or SoLU-LN hidden layer (Z20), trained on active entries.
//!
//! * (E1) x′ = σ(WᵀWx + b), W tied.
//! * (Z8) h = act(Wx), x′ = ReLU(Wᵀh + b), W tied, no hidden bias.
//!
//! Parameters θ = (W feature-major: θ\[i·D + r\] = W\[r, i\]; b ∈ ℝᴺ; γ, β ∈ ℝᴰ for SoLU-LN).
//! A sample costs O(kD) for Wx with k active features and O(ND) for the output; all-zero
//! samples share one forward and backward pass weighted by their count (ZA7), so sparse data
//! costs O(active rows · N·D) per step, not O(B·N·D). Arithmetic is f64 and sequential per
//! run: a run depends only on (seed, instance index), bit for bit.
//!
//! The final loss is measured on one fixed batch per instance (Z2): the evaluation stream
//! depends on the instance index, not on the seed, so best-of-K compares the K seeds on the
//! same samples.
//!
//! Derivation: derivations/zoo-a.md (ZA6), (ZA7).

use std::time::Instant;

use nalgebra::DMatrix;

use crate::base::{FeatureSet, Result};

use super::data::SparseBatch;
use super::guard;
use super::hidden::{Hidden, HiddenCache};
use super::model::Activation;
use super::optim::OptState;
use super::pairs::{PairSampler, Pairs};
use super::rng::Xoshiro;
use super::run::{Run, TrainConfig};

/// Seed of the fixed evaluation batch of every instance (Z2); the stream is the instance index.
pub const EVAL_SEED: u64 = 0x5A00_E7A1;

/// The network the zoo engine trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZooNet {
    /// (E1) x′ = σ(WᵀWx + b) with output activation σ.
    Autoencoder(Activation),
    /// (Z8) h = act(Wx), x′ = ReLU(Wᵀh + b).
    Neuron(Hidden),
}

/// One network of N features in D dimensions with importances Iᵢ: its loss and gradient on a
/// batch of active entries.
#[derive(Debug, Clone)]
pub struct ZooModel {
    /// The network.
    pub net: ZooNet,
    /// Features N.
    pub n: usize,
    /// Hidden dimensions D.
    pub d: usize,
    /// Importances Iᵢ.
    pub importance: Vec<f64>,
}

/// Per-sample buffers of [`ZooModel::loss_grad`].
#[derive(Debug, Clone, Default)]
pub struct ZooScratch {
    z: Vec<f64>,
    h: Vec<f64>,
    dh: Vec<f64>,
    dz: Vec<f64>,
    cache: HiddenCache,
}

impl ZooModel {
    /// Length of θ: N·D + N, plus 2D for SoLU-LN.
    pub fn params(&self) -> usize {
        let extra = match self.net {
            ZooNet::Neuron(h) => h.params(self.d),
            ZooNet::Autoencoder(_) => 0,
        };
        self.n * self.d + self.n + extra
    }

    /// Initial θ: W entries std·N(0, 1) from `rng` (feature-major, as (RN1)), b = 0, γ = 1,
    /// β = 0.
    pub fn init(&self, std: f64, rng: &mut Xoshiro) -> Vec<f64> {
        let (n, d) = (self.n, self.d);
        let mut theta: Vec<f64> = (0..n * d).map(|_| std * rng.normal()).collect();
        theta.resize(n * d + n, 0.0);
        if let ZooNet::Neuron(h) = self.net {
            theta.extend(h.init_params(d));
        }
        theta
    }

    /// Mean over the batch's samples and the N features of Iᵢ(x′ᵢ − xᵢ)² (notebook
    /// normalisation (Z1)), and its gradient with respect to θ written into `grad` (ZA6),
    /// (ZA7).
    pub fn loss_grad(
        &self,
        theta: &[f64],
        batch: &SparseBatch,
        grad: &mut [f64],
        sc: &mut ZooScratch,
    ) -> f64 {
        let (n, d) = (self.n, self.d);
        grad.iter_mut().for_each(|g| *g = 0.0);
        for v in [&mut sc.z, &mut sc.h, &mut sc.dh, &mut sc.dz] {
            v.clear();
            v.resize(d, 0.0);
        }
        let mut total = 0.0;
        for r in 0..batch.rows() {
            let (a, b) = (batch.start[r], batch.start[r + 1]);
            total += self.sample(theta, &batch.index[a..b], &batch.value[a..b], 1.0, grad, sc);
        }
        if batch.zeros > 0 {
            total += self.sample(theta, &[], &[], batch.zeros as f64, grad, sc);
        }
        let scale = 1.0 / (batch.len().max(1) * n) as f64;
        grad.iter_mut().for_each(|g| *g *= scale);
        total * scale
    }

    /// One sample x (active entries `idx`, `val`) counted `weight` times: adds weight·ΣIᵢeᵢ²
    /// to the returned loss and its gradient to `grad` (unscaled).
    fn sample(
        &self,
        theta: &[f64],
        idx: &[u32],
        val: &[f32],
        weight: f64,
        grad: &mut [f64],
        sc: &mut ZooScratch,
    ) -> f64 {
        let (n, d) = (self.n, self.d);
        let (w, rest) = theta.split_at(n * d);
        let (bias, ln) = rest.split_at(n);
        // z = Wx over the active features only.
        sc.z.iter_mut().for_each(|v| *v = 0.0);
        for (&i, &x) in idx.iter().zip(val) {
            let col = &w[i as usize * d..(i as usize + 1) * d];
            for (zr, &wr) in sc.z.iter_mut().zip(col) {
                *zr += x as f64 * wr;
            }
        }
        let out_act = match self.net {
            ZooNet::Autoencoder(act) => {
                sc.h.copy_from_slice(&sc.z);
                act
            }
            ZooNet::Neuron(hidden) => {
                hidden.forward(&sc.z, ln, &mut sc.h, &mut sc.cache);
                Activation::Relu
            }
        };
        // Per feature: output oᵢ, error eᵢ, δᵢ = 2 w Iᵢ eᵢ σ′(oᵢ); then the output side
        // ∂/∂Wᵢ += δᵢ h, ∂/∂bᵢ += δᵢ, ∂/∂h += δᵢ Wᵢ in the same pass over W.
        let mut loss = 0.0;
        let mut k = 0;
        sc.dh.iter_mut().for_each(|v| *v = 0.0);
        let (gw, grest) = grad.split_at_mut(n * d);
        let (gb, gln) = grest.split_at_mut(n);
        for ((i, col), gcol) in w.chunks_exact(d).enumerate().zip(gw.chunks_exact_mut(d)) {
            let o = col.iter().zip(&sc.h).map(|(a, b)| a * b).sum::<f64>() + bias[i];
            let (y, dy) = out_act.eval(o);
            let x = if k < idx.len() && idx[k] as usize == i {
                k += 1;
                f64::from(val[k - 1])
            } else {
                0.0
            };
            let e = y - x;
            loss += self.importance[i] * e * e;
            let di = 2.0 * weight * self.importance[i] * e * dy;
            if di == 0.0 {
                continue;
            }
            gb[i] += di;
            for ((g, dhr), (&hr, &wr)) in gcol
                .iter_mut()
                .zip(sc.dh.iter_mut())
                .zip(sc.h.iter().zip(col))
            {
                *g += di * hr;
                *dhr += di * wr;
            }
        }
        // Input side: ∂/∂z through the hidden activation, then ∂/∂Wⱼ += xⱼ ∂/∂z.
        if !idx.is_empty() || !gln.is_empty() {
            match self.net {
                ZooNet::Autoencoder(_) => sc.dz.copy_from_slice(&sc.dh),
                ZooNet::Neuron(hidden) => {
                    hidden.backward(&sc.z, ln, &sc.cache, &sc.dh, &mut sc.dz, gln)
                }
            }
            for (&j, &x) in idx.iter().zip(val) {
                let gcol = &mut gw[j as usize * d..(j as usize + 1) * d];
                for (g, &dzr) in gcol.iter_mut().zip(&sc.dz) {
                    *g += x as f64 * dzr;
                }
            }
        }
        weight * loss
    }
}

/// Trains one instance on the zoo engine: `features` (importances, densities), `pairs`, seed
/// and stream index as in [`super::Trainer::train`]: (RN1) init, (RN2) steps, (RN6) divergence
/// guard; the final loss on the instance's fixed batch (Z2).
pub(crate) fn train(
    net: ZooNet,
    dims: usize,
    cfg: &TrainConfig,
    pairs: Pairs,
    features: &FeatureSet,
    seed: u64,
    index: u64,
) -> Result<Run> {
    let start = Instant::now();
    let n = features.len();
    let model = ZooModel {
        net,
        n,
        d: dims,
        importance: features.importance().to_vec(),
    };
    let mut sampler = PairSampler::new(features, pairs)?;
    let mut rng = Xoshiro::new(seed, index);
    let mut theta = model.init(cfg.init.std(n, dims), &mut rng);
    let mut grad = vec![0.0; theta.len()];
    let mut opt = OptState::new(cfg.optimizer, theta.len());
    let mut batch = SparseBatch::default();
    let mut sc = ZooScratch::default();
    let bsz = cfg.batch;

    let mut ref_rng = Xoshiro::new(seed, index ^ 0x6A4D_0000_0000_0000);
    sampler.sample(cfg.eval_batch.min(8192), &mut ref_rng, &mut batch);
    let l0 = model.loss_grad(&theta, &batch, &mut grad, &mut sc);
    let mut watch = guard::Divergence::with_reference(l0);
    let every = (cfg.steps / cfg.curve_points.max(1)).max(1);
    let mut curve = Vec::new();
    for t in 0..cfg.steps {
        sampler.sample(bsz, &mut rng, &mut batch);
        let l = model.loss_grad(&theta, &batch, &mut grad, &mut sc);
        watch.check(t, l)?;
        if t % every == 0 || t + 1 == cfg.steps {
            curve.push((t, l));
        }
        let lr = cfg.lr * cfg.schedule.factor(t, cfg.steps);
        opt.step(&mut theta, &grad, lr);
    }

    // (Z2) the instance's fixed evaluation batch, in chunks.
    let mut eval_rng = Xoshiro::new(EVAL_SEED, index);
    let mut remaining = cfg.eval_batch;
    let mut total = 0.0;
    while remaining > 0 {
        let c = remaining.min(8192);
        sampler.sample(c, &mut eval_rng, &mut batch);
        total += c as f64 * model.loss_grad(&theta, &batch, &mut grad, &mut sc);
        remaining -= c;
    }
    let loss = total / cfg.eval_batch as f64;
    watch.check_final(cfg.steps, loss)?;

    let d = dims;
    let w = DMatrix::from_fn(d, n, |r, c| theta[c * d + r]);
    let sq_norm = (0..n)
        .map(|i| theta[i * d..(i + 1) * d].iter().map(|x| x * x).sum())
        .collect();
    Ok(Run {
        w,
        bias: theta[n * d..n * d + n].to_vec(),
        hidden_params: theta[n * d + n..].to_vec(),
        loss,
        sq_norm,
        loss_curve: curve,
        wall_seconds: start.elapsed().as_secs_f64(),
        seed,
        sparse_kernel: true,
        batch: bsz,
    })
}
