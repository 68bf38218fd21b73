//! Shared types: features, input distributions, the objective seam and the error type.
//! Imports nothing local.

mod distribution;
mod error;
mod features;
mod objective;
pub mod resources;

pub use distribution::{Magnitude, SparseInput};
pub use error::{Error, Result};
pub(crate) use features::check_slices;
pub use features::{FeatureSet, MAX_IMPORTANCE, MAX_KURTOSIS};
pub use objective::Objective;
