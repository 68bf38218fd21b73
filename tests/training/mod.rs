//! Tests of training (mirrors src/training).

mod data;
mod deterministic;
mod gradients;
mod hidden;
mod lanes;
mod optim;
mod quadratic_lanes;
mod run;
mod simd;
mod zoo;
mod zoo_b;

use polycap::training::Run;

/// W, b, loss, loss curve and batch of a run, as bits.
pub type RunBits = (Vec<u64>, Vec<u64>, u64, Vec<(usize, u64)>, usize);

/// Everything of a run that training determines (not its wall time), as bits.
pub fn bits(r: &Run) -> RunBits {
    (
        r.w.iter().map(|x| x.to_bits()).collect(),
        r.bias.iter().map(|x| x.to_bits()).collect(),
        r.loss.to_bits(),
        r.loss_curve
            .iter()
            .map(|&(t, l)| (t, l.to_bits()))
            .collect(),
        r.batch,
    )
}
