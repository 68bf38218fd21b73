//! The quadratic (Redwood) toy model ỹ = ‖Wx‖² + b against y = Σ vᵢ xᵢ² (spec §5):
//! per-feature closed forms in capacity, and the exact expected loss in W.

mod curves;

pub use curves::FeatureCurve;
