//! Guards of a training run: its size is checked before anything is allocated, and its loss
//! is watched at every step, so a run that becomes non-finite or diverges stops with an error
//! naming the step instead of reporting weights that are NaN or meaningless.
//!
//! Divergence (derivations/run.md (RN6)): with L_ref the loss at the initial parameters, a
//! run has diverged when a loss is not finite, or when the moving average of the minibatch
//! losses (weight 1/10 on the newest) or the final evaluation loss exceeds [`FACTOR`]·L_ref.
//! A converging run only lowers its expected loss; the average damps the heavy tail of single
//! sparse minibatches.

use crate::base::{Error, Result, resources};

/// A loss above `FACTOR`·L_ref is divergence.
pub const FACTOR: f64 = 1e3;

/// Weight of the newest minibatch loss in the moving average.
const SMOOTHING: f64 = 0.1;

/// Watches the loss of one run (RN6).
#[derive(Debug, Clone, Default)]
pub struct Divergence {
    reference: Option<f64>,
    average: f64,
}

impl Divergence {
    /// A watch whose reference L_ref is the first loss it is shown (for a deterministic loss,
    /// the loss at the initial parameters).
    pub fn new() -> Self {
        Self::default()
    }

    /// A watch with reference L_ref = `reference` (e.g. the loss of the initial parameters
    /// on an independent sample).
    pub fn with_reference(reference: f64) -> Self {
        Divergence {
            reference: Some(reference),
            average: reference,
        }
    }

    fn diverged(&self, step: usize, loss: f64) -> Error {
        Error::Diverged {
            step,
            loss,
            start: self.reference.unwrap_or(f64::NAN),
        }
    }

    /// Fails with [`Error::Diverged`] when the loss at `step` is not finite, or the moving
    /// average of the losses exceeds [`FACTOR`]·L_ref.
    pub fn check(&mut self, step: usize, loss: f64) -> Result<()> {
        if !loss.is_finite() {
            return Err(self.diverged(step, loss));
        }
        let Some(reference) = self.reference else {
            *self = Self::with_reference(loss);
            return Ok(());
        };
        self.average += SMOOTHING * (loss - self.average);
        if reference > 0.0 && self.average > FACTOR * reference {
            return Err(self.diverged(step, self.average));
        }
        Ok(())
    }

    /// Fails with [`Error::Diverged`] when the final (evaluation) loss is not finite or
    /// exceeds [`FACTOR`]·L_ref.
    pub fn check_final(&self, step: usize, loss: f64) -> Result<()> {
        let far = self.reference.is_some_and(|r| r > 0.0 && loss > FACTOR * r);
        if !loss.is_finite() || far {
            return Err(self.diverged(step, loss));
        }
        Ok(())
    }
}

/// Checks a sweep of `jobs` runs of N = `n` features in D = `d` dimensions, `steps` steps of
/// `batch` samples plus `eval_batch` evaluation samples each, `concurrent` of them at once,
/// against the memory and work limits of [`resources`].
///
/// Memory per live run: θ, its gradient and two optimiser moments in f64 plus an f32 copy
/// (40·N·D bytes) and a batch of inputs and activations (16·b·(N + D) bytes); every finished
/// run keeps W (8·N·D bytes). Work: about 6 multiply-adds per weight and sample.
pub fn check_sweep(
    n: usize,
    d: usize,
    steps: usize,
    batch: usize,
    eval_batch: usize,
    jobs: usize,
    concurrent: usize,
) -> Result<()> {
    let (n, d, jobs) = (n as f64, d as f64, jobs as f64);
    let live = (concurrent.max(1) as f64).min(jobs);
    let chunk = batch.max(eval_batch.min(8192)) as f64;
    let bytes = live * (40.0 * n * d + 16.0 * chunk * (n + d)) + jobs * 8.0 * n * d;
    let size = format!("{n}×{d}");
    resources::check_memory("features N × dims D", &size, bytes)?;
    let samples = steps as f64 * batch as f64 + eval_batch as f64;
    resources::check_work(
        "features N × dims D",
        format!("{size}, {jobs} runs of {steps} steps of batch {batch}"),
        6.0 * jobs * samples * n * d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_is_non_finite_or_far_above_the_start() {
        let mut g = Divergence::with_reference(2.0);
        // A single spike of 10⁴·L_ref is damped by the average; a sustained climb is not.
        assert!(g.check(0, 2.0e4).is_ok());
        assert!(g.check(1, 2.0).is_ok());
        let mut t = 2;
        while g.check(t, 1e5).is_ok() {
            t += 1;
            assert!(t < 100, "a sustained loss of 5·10⁴·L_ref is never flagged");
        }
        // The average passes 2000 on the 5th step of 1e5: 1e5·(1 − 0.9⁵) + … > 2000 earlier.
        assert!(t < 10, "flagged only at step {t}");
        assert!(Divergence::new().check(0, f64::NAN).is_err());
        assert!(g.check_final(10, 2001.0).is_err());
        assert!(
            Divergence::with_reference(2.0)
                .check_final(10, 1999.0)
                .is_ok()
        );
    }

    #[test]
    fn sweep_sizes_beyond_memory_are_rejected() {
        assert!(check_sweep(6, 3, 100, 1024, 65_536, 1, 2).is_ok());
        assert!(check_sweep(10_000_000, 1_000, 1, 1, 1, 1, 1).is_err());
        assert!(check_sweep(usize::MAX, usize::MAX, 1, 1, 1, 1, 1).is_err());
    }
}
