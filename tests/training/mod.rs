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
