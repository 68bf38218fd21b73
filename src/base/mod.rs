//! Shared types: features, input distributions, the objective seam, the error type and
//! sharded sweeps.
//! Imports nothing local.

mod distribution;
mod error;
mod features;
mod objective;
pub mod resources;
mod shard;

pub use distribution::{Magnitude, SparseInput};
pub use error::{Error, Result};
pub(crate) use features::check_slices;
pub use features::{FeatureSet, MAX_IMPORTANCE, MAX_KURTOSIS};
pub use objective::Objective;
pub use shard::{Shard, ShardResults, collect_indexed, merge_shards, nonfinite, run_jobs};
