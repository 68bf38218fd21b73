//! Deterministic training on an exact expected loss: Adam on W alone over any
//! [`Objective`] (spec (T4); for the quadratic model the objective is (Q8) with gradient (Q9),
//! supplied by the caller from `theory`).
//!
//! Derivation: derivations/deterministic.md (X1)–(X3).

use std::time::Instant;

use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::base::{Error, Objective, Result, resources};

use super::guard;
use super::optim::{OptState, Optimizer, Schedule};
use super::rng::Xoshiro;

/// Hyper-parameters of deterministic training.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactConfig {
    /// Steps T.
    pub steps: usize,
    /// Base learning rate η₀.
    pub lr: f64,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Schedule.
    pub schedule: Schedule,
    /// Standard deviation of the N(0, std²) initial W.
    pub init_std: f64,
    /// Number of points kept on the loss curve.
    pub curve_points: usize,
}

impl Default for ExactConfig {
    /// (T4): Adam, η = 1e-2 with cosine decay, 20 000 steps, N(0, 0.3²).
    fn default() -> Self {
        ExactConfig {
            steps: 20_000,
            lr: 1e-2,
            optimizer: Optimizer::Adam,
            schedule: Schedule::Cosine,
            init_std: 0.3,
            curve_points: 100,
        }
    }
}

/// The outcome of one deterministic run.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactRun {
    /// Trained W, D×N (columns = features).
    pub w: DMatrix<f64>,
    /// Final objective value L(W).
    pub loss: f64,
    /// ‖Wᵢ‖² per feature.
    pub sq_norm: Vec<f64>,
    /// (step, L) pairs.
    pub loss_curve: Vec<(usize, f64)>,
    /// Wall time, seconds.
    pub wall_seconds: f64,
    /// The seed of the initial W.
    pub seed: u64,
}

/// Adam (or another optimiser) on W over an exact objective.
#[derive(Debug, Clone)]
pub struct ExactTrainer {
    config: ExactConfig,
}

impl ExactTrainer {
    /// Validates steps ≥ 1, η > 0, std ≥ 0 and the optimiser.
    pub fn new(config: ExactConfig) -> Result<Self> {
        if config.steps == 0 {
            return Err(Error::Parameter(
                "training needs at least 1 step, got 0".into(),
            ));
        }
        super::optim::check_lr(config.lr)?;
        if !(config.init_std.is_finite() && config.init_std >= 0.0) {
            return Err(Error::Parameter(format!(
                "initial standard deviation must be finite and ≥ 0, got {}",
                config.init_std
            )));
        }
        config.optimizer.validate()?;
        Ok(ExactTrainer { config })
    }

    /// One run from W₀ ~ N(0, std²) drawn from stream (seed, 0) (X1)–(X2). Fails with
    /// [`Error::Diverged`] if the loss becomes non-finite or far above its start (RN6).
    pub fn train(&self, objective: &dyn Objective, seed: u64) -> Result<ExactRun> {
        let start = Instant::now();
        let cfg = &self.config;
        let (d, n) = objective.shape();
        // Memory: W, its gradient and two optimiser moments; work: O(N²D) per step.
        let size = format!("{n}×{d}");
        resources::check_memory("features N × dims D", &size, 48.0 * n as f64 * d as f64)?;
        let work = cfg.steps as f64 * (n as f64).powi(2) * d as f64 * 4.0;
        resources::check_work("features N × dims D", &size, work)?;
        let mut rng = Xoshiro::new(seed, 0);
        let mut w = DMatrix::from_fn(d, n, |_, _| 0.0);
        for c in 0..n {
            for r in 0..d {
                w[(r, c)] = cfg.init_std * rng.normal();
            }
        }
        let mut g = DMatrix::zeros(d, n);
        let mut opt = OptState::new(cfg.optimizer, d * n);
        let every = (cfg.steps / cfg.curve_points.max(1)).max(1);
        let mut curve = Vec::new();
        // (RN6): stop when the loss becomes non-finite or far above its start.
        let mut watch = guard::Divergence::new();
        for t in 0..cfg.steps {
            let l = objective.loss_grad(&w, &mut g);
            watch.check(t, l)?;
            if t % every == 0 {
                curve.push((t, l));
            }
            let lr = cfg.lr * cfg.schedule.factor(t, cfg.steps);
            opt.step(w.as_mut_slice(), g.as_slice(), lr);
        }
        let loss = objective.loss(&w);
        watch.check_final(cfg.steps, loss)?;
        curve.push((cfg.steps, loss));
        let sq_norm = w.column_iter().map(|c| c.norm_squared()).collect();
        Ok(ExactRun {
            w,
            loss,
            sq_norm,
            loss_curve: curve,
            wall_seconds: start.elapsed().as_secs_f64(),
            seed,
        })
    }

    /// `seeds` runs (seeds `base_seed`, `base_seed` + 1, …) in parallel; returns the one
    /// with the lowest final loss (X3), the earliest seed on ties.
    pub fn train_best(
        &self,
        objective: &dyn Objective,
        seeds: usize,
        base_seed: u64,
    ) -> Result<ExactRun> {
        if seeds == 0 {
            return Err(Error::Parameter("need at least 1 seed, got 0".into()));
        }
        let runs: Vec<ExactRun> = (0..seeds as u64)
            .into_par_iter()
            .map(|s| self.train(objective, base_seed.wrapping_add(s)))
            .collect::<Result<_>>()?;
        let mut best: Option<ExactRun> = None;
        for r in runs {
            if best.as_ref().is_none_or(|b| r.loss < b.loss) {
                best = Some(r);
            }
        }
        best.ok_or_else(|| Error::Parameter("no runs".into()))
    }
}
