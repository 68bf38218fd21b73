//! First-order optimisers (Adam, AdamW, SGD) and learning-rate schedules.
//!
//! Derivation: derivations/optim.md (O1)–(O6).

use crate::base::{Error, Result};

/// Adam's β₁ (spec (T3)).
pub const BETA1: f64 = 0.9;
/// Adam's β₂ (spec (T3)).
pub const BETA2: f64 = 0.999;
/// Adam's ε, added outside the square root (optax and PyTorch) (spec (T3)).
pub const EPS: f64 = 1e-8;

/// An optimiser.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// Adam (O1)–(O3).
    Adam,
    /// AdamW: Adam plus decoupled weight decay θ ← θ − η·wd·θ (O4).
    AdamW {
        /// Weight decay wd (PyTorch default 0.01, spec (T1)).
        weight_decay: f64,
    },
    /// Plain gradient descent θ ← θ − η g (O5).
    Sgd,
}

/// Checks a base learning rate η₀: finite and > 0 (every training configuration's rule).
pub fn check_lr(lr: f64) -> Result<()> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(Error::Parameter(format!(
            "learning rate must be finite and > 0, got {lr}"
        )))
    }
}

impl Optimizer {
    /// Parses `adam`, `adamw` (with the given decay), `sgd`.
    pub fn parse(s: &str, weight_decay: f64) -> Result<Self> {
        let o = match s.trim() {
            "adam" => Optimizer::Adam,
            "adamw" => Optimizer::AdamW { weight_decay },
            "sgd" => Optimizer::Sgd,
            other => {
                return Err(Error::Parameter(format!(
                    "unknown optimizer '{other}' (expected adam, adamw or sgd)"
                )));
            }
        };
        o.validate()?;
        Ok(o)
    }

    /// CLI name.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Adam => "adam",
            Optimizer::AdamW { .. } => "adamw",
            Optimizer::Sgd => "sgd",
        }
    }

    /// Checks the weight decay is finite and ≥ 0.
    pub fn validate(&self) -> Result<()> {
        if let Optimizer::AdamW { weight_decay } = *self
            && !(weight_decay.is_finite() && weight_decay >= 0.0)
        {
            return Err(Error::Parameter(format!(
                "weight decay must be finite and ≥ 0, got {weight_decay}"
            )));
        }
        Ok(())
    }
}

/// A learning-rate schedule η(t) = η₀·f(t) over T steps, t = 0..T−1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// f = 1.
    Constant,
    /// f = ½(1 + cos(π t/T)), from 1 down towards 0 (O6).
    Cosine,
    /// Linear warm-up: f = min(1, (t + 1)/n), then constant (O6).
    Warmup(usize),
    /// Linear warm-up over n steps, then the cosine ½(1 + cos(π s′/S′)) with s′ = t − n,
    /// S′ = T − n, down towards 0: the double-descent protocol (Z17) of \[H\] (O7).
    WarmupCosine(usize),
    /// Linear warm-up over n steps, then ARENA's quarter-cosine cos(½π s′/(S′ − 1)), reaching
    /// 0 at the last step (the (Z17) option of \[A\]) (O7).
    WarmupQuarterCosine(usize),
}

impl Schedule {
    /// Parses `constant`, `cosine`, `warmup:N`, `warmup-cosine:N`, `warmup-quarter-cosine:N`
    /// (N ≥ 1).
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let with_n = |prefix: &str| match s.strip_prefix(prefix).map(str::parse::<usize>) {
            Some(Ok(n)) if n >= 1 => Some(n),
            _ => None,
        };
        match s {
            "constant" => Ok(Schedule::Constant),
            "cosine" => Ok(Schedule::Cosine),
            _ => {
                if let Some(n) = with_n("warmup:") {
                    Ok(Schedule::Warmup(n))
                } else if let Some(n) = with_n("warmup-cosine:") {
                    Ok(Schedule::WarmupCosine(n))
                } else if let Some(n) = with_n("warmup-quarter-cosine:") {
                    Ok(Schedule::WarmupQuarterCosine(n))
                } else {
                    Err(Error::Parameter(format!(
                        "unknown schedule '{s}' (expected constant, cosine, warmup:N, warmup-cosine:N or warmup-quarter-cosine:N with N ≥ 1)"
                    )))
                }
            }
        }
    }

    /// CLI name.
    pub fn name(&self) -> String {
        match self {
            Schedule::Constant => "constant".into(),
            Schedule::Cosine => "cosine".into(),
            Schedule::Warmup(n) => format!("warmup:{n}"),
            Schedule::WarmupCosine(n) => format!("warmup-cosine:{n}"),
            Schedule::WarmupQuarterCosine(n) => format!("warmup-quarter-cosine:{n}"),
        }
    }

    /// Factor f(t) at step t of `total` (O6), (O7).
    pub fn factor(&self, t: usize, total: usize) -> f64 {
        match *self {
            Schedule::Constant => 1.0,
            Schedule::Cosine => {
                0.5 * (1.0 + (std::f64::consts::PI * t as f64 / total.max(1) as f64).cos())
            }
            Schedule::Warmup(n) => ((t + 1) as f64 / n as f64).min(1.0),
            Schedule::WarmupCosine(n) | Schedule::WarmupQuarterCosine(n) if t < n => {
                (t + 1) as f64 / n as f64
            }
            Schedule::WarmupCosine(n) => {
                let (s, span) = ((t - n) as f64, total.saturating_sub(n).max(1) as f64);
                0.5 * (1.0 + (std::f64::consts::PI * s / span).cos())
            }
            Schedule::WarmupQuarterCosine(n) => {
                let (s, span) = ((t - n) as f64, total.saturating_sub(n + 1).max(1) as f64);
                (std::f64::consts::FRAC_PI_2 * (s / span).min(1.0)).cos()
            }
        }
    }
}

/// Optimiser state over a flat parameter vector θ.
#[derive(Debug, Clone)]
pub struct OptState {
    opt: Optimizer,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl OptState {
    /// Fresh state (moments 0, step 0) for `len` parameters.
    pub fn new(opt: Optimizer, len: usize) -> Self {
        OptState {
            opt,
            m: vec![0.0; len],
            v: vec![0.0; len],
            t: 0,
        }
    }

    /// One update of θ with gradient g and learning rate η (O1)–(O5).
    ///
    /// Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η m̂/(√v̂ + ε) with
    /// m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ). AdamW first shrinks θ ← θ(1 − η·wd).
    pub fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        self.t += 1;
        match self.opt {
            Optimizer::Sgd => {
                for (p, g) in theta.iter_mut().zip(grad) {
                    *p -= lr * g;
                }
            }
            Optimizer::Adam | Optimizer::AdamW { .. } => {
                let wd = match self.opt {
                    Optimizer::AdamW { weight_decay } => weight_decay,
                    _ => 0.0,
                };
                let c1 = 1.0 / (1.0 - BETA1.powi(self.t));
                let c2 = 1.0 / (1.0 - BETA2.powi(self.t));
                for ((p, g), (m, v)) in theta
                    .iter_mut()
                    .zip(grad)
                    .zip(self.m.iter_mut().zip(self.v.iter_mut()))
                {
                    *m = BETA1 * *m + (1.0 - BETA1) * g;
                    *v = BETA2 * *v + (1.0 - BETA2) * g * g;
                    *p -= lr * wd * *p;
                    *p -= lr * (*m * c1) / ((*v * c2).sqrt() + EPS);
                }
            }
        }
    }
}
