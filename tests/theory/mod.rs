mod allocation;
mod capacity;
mod equalize;
#[cfg(feature = "exact")]
mod exact;
mod quadratic;
mod realization;
