//! Theory against training: the only room that sees both (spec §10.4, (T5)).
//!
//! | module | purpose |
//! |---|---|
//! | [`theory`] | the pluggable [`Theory`] (default [`QuadraticTheory`], the (A7) allocation) |
//! | [`point`] | train best-of-seeds, compare per-feature C, ‖W‖², ΣC, loss, phases; boundaries |
//! | [`grid`] | the same over a V × p grid, in parallel, sharded and merged |
//! | [`elhage`] | the ReLU-output model: classify trained (W, b), compare with (E11)/(E12), fit the boundary |
//! | [`qualitative`] | models without a closed form: where their C₁ departs from the theory |
//! | [`zoo`] | acceptance checks of the zoo reproductions: pairs (Z7), neurons (Z9), non-uniform pentagon (Z22) |
//!
//! Derivation: derivations/verify.md.
//!
//! # Example
//!
//! ```
//! use polycap::theory::phase::PhaseSetting;
//! use polycap::verify::{Protocol, QuadraticTheory, Verifier};
//!
//! // (T4) at V = 0.5, p = 0.1 (k = 18), 6 features in 3 dimensions.
//! let mut protocol = Protocol::exact();
//! protocol.set_steps(5000);
//! let verifier = Verifier::new(Box::new(QuadraticTheory), protocol, 2, 0)?;
//! let features = PhaseSetting::default().feature_set(0.5, 0.1)?;
//! let report = verifier.point(&features, 3, 0)?;
//! assert!(report.within, "{:?}", report.reasons);
//! # Ok::<(), polycap::base::Error>(())
//! ```

pub mod elhage;
pub mod geometry;
pub mod grid;
pub mod point;
pub mod qualitative;
pub mod theory;
pub mod zoo;

pub use grid::{
    GridReport, GridSpec, Settings, Shard, Summary, grid_report, verify_grid, verify_point,
};
pub use point::{
    Bands, Boundary, BoundaryKind, PointReport, Protocol, Regime, Tolerance, Trained, Verdict,
    Verifier, best_sampled, boundary_of, compare, point_seed,
};
pub use qualitative::{Departure, TrainedGrid, departure, train_grid, train_point, train_points};
pub use theory::{Prediction, QuadraticTheory, Theory};
