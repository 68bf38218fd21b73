mod allocation;
mod capacity;
mod elhage;
mod equalize;
#[cfg(feature = "exact")]
mod exact;
mod geometry;
mod phase;
mod quadratic;
mod realization;
mod robustness;
