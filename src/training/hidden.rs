//! Hidden-layer activations of the privileged-basis models: ReLU, SoLU and SoLU followed by
//! a trainable LayerNorm. SoLU is not elementwise: every unit of a hidden vector depends on
//! all D of them through a softmax.
//!
//! * ReLU: h = max(z, 0).
//! * SoLU (Z20): h = z ⊙ softmax(z), the softmax over the D hidden units of one example.
//! * SoLU-LN (Z20): h = γ ⊙ (u − ū)/√(Var u + 10⁻⁵) + β with u = SoLU(z); γ, β ∈ ℝᴰ trainable
//!   (γ = 1, β = 0 at initialisation). Neurons are read before the LN (spec §14.6).
//!
//! Derivation: derivations/zoo-a.md (ZA1)–(ZA4).
//!
//! # Example
//!
//! ```
//! use polycap::training::Hidden;
//!
//! let mut h = [0.0; 4];
//! Hidden::Solu.forward(&[4.0, 1.0, 4.0, 1.0], &[], &mut h, &mut Default::default());
//! assert!((h[0] - 1.905).abs() < 1e-3 && (h[1] - 0.024).abs() < 1e-3);
//! ```

use crate::base::{Error, Result};

/// The LayerNorm's ε, added to the variance (PyTorch's default, spec (Z20)).
pub const LN_EPS: f64 = 1e-5;

/// Smallest hidden dimension for SoLU-LN: with D = 1 the LN outputs β, with D = 2 it outputs
/// ±γ whatever the input (spec §14.6).
pub const SOLU_LN_MIN_DIMS: usize = 4;

/// Activation of a hidden layer h = act(z), z ∈ ℝᴰ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hidden {
    /// h = max(z, 0) elementwise.
    #[default]
    Relu,
    /// h = z ⊙ softmax(z) (Z20).
    Solu,
    /// h = LN(z ⊙ softmax(z)) with trainable gain γ and shift β (Z20).
    SoluLn,
}

/// Intermediate values of one forward pass, kept for the backward pass.
#[derive(Debug, Clone, Default)]
pub struct HiddenCache {
    /// softmax(z) (SoLU, SoLU-LN).
    soft: Vec<f64>,
    /// SoLU output u before the LN.
    pre: Vec<f64>,
    /// Normalised n̂ = (u − ū)/σ (SoLU-LN).
    norm: Vec<f64>,
    /// σ = √(Var u + ε) (SoLU-LN).
    sigma: f64,
}

impl Hidden {
    /// Every activation, in CLI order.
    pub const ALL: [Hidden; 3] = [Hidden::Relu, Hidden::Solu, Hidden::SoluLn];

    /// CLI name: `relu`, `solu`, `solu_ln`.
    pub fn name(self) -> &'static str {
        match self {
            Hidden::Relu => "relu",
            Hidden::Solu => "solu",
            Hidden::SoluLn => "solu_ln",
        }
    }

    /// Inverse of [`Hidden::name`].
    pub fn parse(s: &str) -> Result<Self> {
        Hidden::ALL
            .into_iter()
            .find(|h| h.name() == s.trim())
            .ok_or_else(|| {
                Error::Parameter(format!(
                    "unknown hidden activation '{}' (expected relu, solu or solu_ln)",
                    s.trim()
                ))
            })
    }

    /// Checks the activation fits D hidden units (SoLU-LN needs D ≥ [`SOLU_LN_MIN_DIMS`]).
    pub fn validate(self, dims: usize) -> Result<()> {
        if self == Hidden::SoluLn && dims < SOLU_LN_MIN_DIMS {
            return Err(Error::Parameter(format!(
                "solu_ln needs at least {SOLU_LN_MIN_DIMS} hidden dimensions (its LayerNorm is degenerate below), got {dims}"
            )));
        }
        Ok(())
    }

    /// Number of trainable parameters of the activation: 2D (γ then β) for SoLU-LN, else 0.
    pub fn params(self, dims: usize) -> usize {
        match self {
            Hidden::SoluLn => 2 * dims,
            _ => 0,
        }
    }

    /// Initial values of the activation's parameters: γ = 1, β = 0.
    pub fn init_params(self, dims: usize) -> Vec<f64> {
        match self {
            Hidden::SoluLn => [vec![1.0; dims], vec![0.0; dims]].concat(),
            _ => Vec::new(),
        }
    }

    /// h = act(z) (ZA1), (ZA2); `ln` holds γ then β for SoLU-LN (empty otherwise). `z`, `h`
    /// have the same length D.
    pub fn forward(self, z: &[f64], ln: &[f64], h: &mut [f64], cache: &mut HiddenCache) {
        match self {
            Hidden::Relu => {
                for (o, &x) in h.iter_mut().zip(z) {
                    *o = x.max(0.0);
                }
            }
            Hidden::Solu => solu(z, h, &mut cache.soft),
            Hidden::SoluLn => {
                let d = z.len();
                let mut pre = std::mem::take(&mut cache.pre);
                pre.resize(d, 0.0);
                solu(z, &mut pre, &mut cache.soft);
                let mean = pre.iter().sum::<f64>() / d as f64;
                let var = pre.iter().map(|u| (u - mean) * (u - mean)).sum::<f64>() / d as f64;
                let sigma = (var + LN_EPS).sqrt();
                cache.norm.clear();
                cache.norm.extend(pre.iter().map(|u| (u - mean) / sigma));
                let (gamma, beta) = ln.split_at(d);
                for (r, o) in h.iter_mut().enumerate() {
                    *o = gamma[r] * cache.norm[r] + beta[r];
                }
                cache.sigma = sigma;
                cache.pre = pre;
            }
        }
    }

    /// Backward pass (ZA3), (ZA4): from ∂L/∂h (`dh`) writes ∂L/∂z into `dz` and adds ∂L/∂(γ, β)
    /// into `dln`. `cache` must come from [`Hidden::forward`] on the same `z`.
    pub fn backward(
        self,
        z: &[f64],
        ln: &[f64],
        cache: &HiddenCache,
        dh: &[f64],
        dz: &mut [f64],
        dln: &mut [f64],
    ) {
        match self {
            Hidden::Relu => {
                for ((o, &x), &g) in dz.iter_mut().zip(z).zip(dh) {
                    *o = if x > 0.0 { g } else { 0.0 };
                }
            }
            Hidden::Solu => solu_backward(z, &cache.soft, dh, dz),
            Hidden::SoluLn => {
                let d = z.len();
                let (gamma, _) = ln.split_at(d);
                let (dgamma, dbeta) = dln.split_at_mut(d);
                // (ZA4) dn̂ = γ ⊙ dh; du = (dn̂ − mean dn̂ − n̂ · mean(dn̂ ⊙ n̂))/σ.
                let mut mean_dn = 0.0;
                let mut mean_dnn = 0.0;
                for r in 0..d {
                    dgamma[r] += dh[r] * cache.norm[r];
                    dbeta[r] += dh[r];
                    let dn = gamma[r] * dh[r];
                    mean_dn += dn;
                    mean_dnn += dn * cache.norm[r];
                }
                mean_dn /= d as f64;
                mean_dnn /= d as f64;
                let du: Vec<f64> = (0..d)
                    .map(|r| (gamma[r] * dh[r] - mean_dn - cache.norm[r] * mean_dnn) / cache.sigma)
                    .collect();
                solu_backward(z, &cache.soft, &du, dz);
            }
        }
    }
}

/// h = z ⊙ softmax(z), softmax computed with the maximum subtracted (ZA1).
fn solu(z: &[f64], h: &mut [f64], soft: &mut Vec<f64>) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    soft.clear();
    soft.extend(z.iter().map(|&x| (x - m).exp()));
    let sum: f64 = soft.iter().sum();
    for ((o, s), &x) in h.iter_mut().zip(soft.iter_mut()).zip(z) {
        *s /= sum;
        *o = x * *s;
    }
}

/// ∂L/∂z_k = s_k (dh_k (1 + z_k) − Σⱼ dhⱼ zⱼ sⱼ) for h = z ⊙ s, s = softmax(z) (ZA3).
fn solu_backward(z: &[f64], soft: &[f64], dh: &[f64], dz: &mut [f64]) {
    let dot: f64 = dh
        .iter()
        .zip(z)
        .zip(soft)
        .map(|((g, x), s)| g * x * s)
        .sum();
    for (k, o) in dz.iter_mut().enumerate() {
        *o = soft[k] * (dh[k] * (1.0 + z[k]) - dot);
    }
}
