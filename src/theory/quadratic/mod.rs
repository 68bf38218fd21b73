//! The quadratic (Redwood) toy model ỹ = ‖Wx‖² + b against y = Σ vᵢ xᵢ² (spec §5):
//! per-feature closed forms in capacity, and the exact expected loss in W.

mod curves;
mod loss;

pub use curves::FeatureCurve;
pub use loss::{ExpectedLoss, loss_in_capacity, loss_in_capacity_grad};
