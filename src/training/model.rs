//! The trainable toy models, their activations and their initialisations.
//!
//! * Quadratic family (spec §5.1, §10.4): ỹ = Σ_r σ((Wx)_r) + b against y = Σᵢ vᵢ σ(xᵢ), a
//!   scalar bias b; σ = square gives the Redwood model (Q1)–(Q3).
//! * Autoencoder family (spec (E1)–(E3)): x′ = σ(WᵀWx + b), b ∈ ℝᴺ, importance-weighted squared
//!   error; σ = identity is the linear model.
//!
//! Derivation: derivations/model.md (M1)–(M6).

use crate::base::{Error, Result};

/// An activation σ with its derivative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// σ(z) = z², σ′(z) = 2z.
    Square,
    /// σ(z) = max(z, 0), σ′(z) = \[z > 0\].
    Relu,
    /// GeLU, tanh form (JAX's default): σ(z) = ½ z (1 + tanh(c (z + 0.044715 z³))), c = √(2/π).
    Gelu,
    /// σ(z) = z (the linear model).
    Identity,
}

/// c = √(2/π) of the GeLU tanh form (M1).
pub(crate) const GELU_C: f64 = 0.797_884_560_802_865_4;
/// a of the GeLU tanh form (M1).
pub(crate) const GELU_A: f64 = 0.044_715;

impl Activation {
    /// (σ(z), σ′(z)) in f64. Derivation: derivations/model.md (M1).
    #[inline(always)]
    pub fn eval(self, z: f64) -> (f64, f64) {
        match self {
            Activation::Square => (z * z, 2.0 * z),
            Activation::Relu => {
                // (z, 1) for z > 0, else (0, 0), without a branch: the sign of h is a coin
                // flip for the quadratic family's ReLU, so a branch mispredicts half the time
                // (derivations/quadratic.md (QT8)). The mask keeps every bit of z or none.
                let on = u64::from(z > 0.0);
                (f64::from_bits(z.to_bits() & on.wrapping_neg()), on as f64)
            }
            Activation::Gelu => {
                // (M1) tanh u = 1 − 2/(e^{2u} + 1): one `exp` (±∞ give ±1).
                let u = GELU_C * (z + GELU_A * z * z * z);
                let t = 1.0 - 2.0 / ((2.0 * u).exp() + 1.0);
                let dt = GELU_C * (1.0 + 3.0 * GELU_A * z * z);
                (
                    0.5 * z * (1.0 + t),
                    0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * dt,
                )
            }
            Activation::Identity => (z, 1.0),
        }
    }
}

/// Which toy model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Redwood quadratic model ỹ = ‖Wx‖² + b, y = Σ vᵢ xᵢ² (spec (Q1)–(Q3)).
    Quadratic,
    /// Quadratic model with ReLU in place of the square (spec §10.4).
    QuadraticRelu,
    /// Quadratic model with GeLU in place of the square (spec §10.4).
    QuadraticGelu,
    /// ReLU-output autoencoder x′ = ReLU(WᵀWx + b) (spec (E1)).
    TmsRelu,
    /// GeLU-output autoencoder x′ = GeLU(WᵀWx + b) (\[S\] Fig. 7).
    TmsGelu,
    /// Square-output autoencoder x′ = (WᵀWx + b)² (\[S\] Fig. 7).
    TmsSquare,
    /// Linear autoencoder x′ = WᵀWx + b (spec (E1), linear variant).
    Linear,
    /// Neuron model h = act(Wx), x′ = ReLU(Wᵀh + b): a privileged hidden basis, no hidden bias
    /// (spec (Z8)); the hidden activation is [`crate::training::TrainConfig::hidden`].
    TmsNeuron,
    /// Computation in superposition: y′ = ReLU(W₂ ReLU(W₁x) + b) against |x| (Z10), trained
    /// by [`super::abs::AbsModel`].
    Abs,
}

/// The two model families, sharing data, optimisers and runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Scalar output Σ_r σ((Wx)_r) + b against Σᵢ vᵢ σ(xᵢ); inputs (Q4).
    Quadratic(Activation),
    /// Vector output σ(WᵀWx + b) against x; inputs (E2).
    Autoencoder(Activation),
    /// Vector output ReLU(Wᵀ act(Wx) + b) against x (Z8); inputs (E2), trained by the zoo
    /// engine (zoo.rs).
    Neuron,
    /// Two layers, hidden activation σ: ReLU(W₂σ(W₁x) + b) against |x|; signed inputs (Z10).
    Abs(Activation),
}

impl Model {
    /// Every model, in CLI order.
    pub const ALL: [Model; 9] = [
        Model::Quadratic,
        Model::QuadraticRelu,
        Model::QuadraticGelu,
        Model::TmsRelu,
        Model::TmsGelu,
        Model::TmsSquare,
        Model::Linear,
        Model::TmsNeuron,
        Model::Abs,
    ];

    /// CLI name: `quadratic`, `quadratic-relu`, `quadratic-gelu`, `tms-relu`, `tms-gelu`,
    /// `tms-square`, `linear`, `tms-neuron`, `abs`.
    pub fn name(self) -> &'static str {
        match self {
            Model::Quadratic => "quadratic",
            Model::QuadraticRelu => "quadratic-relu",
            Model::QuadraticGelu => "quadratic-gelu",
            Model::TmsRelu => "tms-relu",
            Model::TmsGelu => "tms-gelu",
            Model::TmsSquare => "tms-square",
            Model::Linear => "linear",
            Model::TmsNeuron => "tms-neuron",
            Model::Abs => "abs",
        }
    }

    /// Inverse of [`Model::name`].
    pub fn parse(s: &str) -> Result<Self> {
        Model::ALL
            .into_iter()
            .find(|m| m.name() == s.trim())
            .ok_or_else(|| Error::Parameter(format!("unknown model '{s}'")))
    }

    /// The family and activation.
    pub fn family(self) -> Family {
        match self {
            Model::Quadratic => Family::Quadratic(Activation::Square),
            Model::QuadraticRelu => Family::Quadratic(Activation::Relu),
            Model::QuadraticGelu => Family::Quadratic(Activation::Gelu),
            Model::TmsRelu => Family::Autoencoder(Activation::Relu),
            Model::TmsGelu => Family::Autoencoder(Activation::Gelu),
            Model::TmsSquare => Family::Autoencoder(Activation::Square),
            Model::Linear => Family::Autoencoder(Activation::Identity),
            Model::TmsNeuron => Family::Neuron,
            Model::Abs => Family::Abs(Activation::Relu),
        }
    }

    /// True for the quadratic family.
    pub fn is_quadratic(self) -> bool {
        matches!(self.family(), Family::Quadratic(_))
    }
}

/// Initialisation of W (b always starts at 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Per-model Xavier normal: std √(2/(N + D)) (spec (T1), polycap default). (M5)
    Xavier,
    /// The notebook's joint-tensor Xavier normal over `instances` instances:
    /// std √(2/(D (N + instances))) (spec (T1), pitfall 11). (M6)
    Notebook {
        /// Number of instances in the notebook's joint tensor.
        instances: usize,
    },
    /// N(0, std²) entries, e.g. 0.3 for the quadratic model (spec (T3), (T4)).
    Normal {
        /// Standard deviation.
        std: f64,
    },
}

impl Init {
    /// Standard deviation of the entries of W for N features and D dimensions.
    ///
    /// Derivation: derivations/model.md (M5), (M6).
    pub fn std(self, n: usize, d: usize) -> f64 {
        match self {
            Init::Xavier => (2.0 / (n + d) as f64).sqrt(),
            Init::Notebook { instances } => (2.0 / (d * (n + instances)) as f64).sqrt(),
            Init::Normal { std } => std,
        }
    }

    /// Checks the standard deviation is finite and ≥ 0 and the instance count ≥ 1.
    pub fn validate(self) -> Result<()> {
        match self {
            Init::Notebook { instances: 0 } => Err(Error::Parameter(
                "notebook initialisation needs at least 1 instance, got 0".into(),
            )),
            Init::Normal { std } if !(std.is_finite() && std >= 0.0) => Err(Error::Parameter(
                format!("initial standard deviation must be finite and ≥ 0, got {std}"),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (M1): the one-`exp` tanh of the f64 GeLU is within 4 · 10⁻¹⁶ of `f64::tanh`.
    #[test]
    fn gelu_tanh_matches_libm() {
        for k in 0..=200_000 {
            let z = -30.0 + k as f64 * 3e-4;
            let (o, _) = Activation::Gelu.eval(z);
            let u = GELU_C * (z + GELU_A * z * z * z);
            let reference = 0.5 * z * (1.0 + u.tanh());
            assert!((o - reference).abs() <= 4e-16 * z.abs().max(1.0), "z = {z}");
        }
    }
}
