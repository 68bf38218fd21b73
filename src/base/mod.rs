//! Shared types: features, input distributions, the objective seam and the error type.
//! Imports nothing local.

mod distribution;
mod error;
mod features;
mod objective;

pub use distribution::{Magnitude, SparseInput};
pub use error::{Error, Result};
pub use features::FeatureSet;
pub use objective::Objective;
