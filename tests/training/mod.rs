//! Tests of training (mirrors src/training).

mod data;
mod exact;
mod gradients;
mod optim;
mod run;
