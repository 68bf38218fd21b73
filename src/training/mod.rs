//! Training the real toy models: data sampling, models, optimisers, runs and sweeps.
//! Never imports `theory`; closed-form objectives arrive through [`crate::base::Objective`].
//!
//! | module | purpose |
//! |---|---|
//! | [`rng`] | xoshiro256++ streams seeded by (seed, instance) |
//! | [`abs`] | computation in superposition: the two-layer absolute-value model (Z10) and its neuron read-outs |
//! | [`finite`] | finite datasets: memorisation and double descent (Z14)–(Z18) |
//! | [`data`] | dense and sparse batches: (E2) and (Q4) inputs, geometric skips |
//! | [`model`] | the models, activations and initialisations |
//! | [`quadratic`] | loss and gradient of the quadratic family (Q10) |
//! | [`quadratic_group`] | the quadratic family's kernel for instances sharing one batch, four per f64 lane block (RN9) |
//! | [`quadratic_lanes`] | many quadratic-family instances at once, one per SIMD lane (QL1)–(QL5) |
//! | [`hidden`] | hidden-layer activations of the privileged-basis models: ReLU, SoLU, SoLU-LN (Z20) |
//! | [`pairs`] | correlated and anticorrelated feature pairs (Z4)–(Z6) |
//! | [`zoo`] | the zoo engine: autoencoders on pairs, the neuron model (Z8), on active entries |
//! | [`readout`] | read-outs of trained weights: cosines, represented/ignored, neurons (Z3) |
//! | [`tms`] | loss and gradient of the autoencoders (E1)–(E3): dense and Gram kernels |
//! | [`optim`] | Adam, AdamW, SGD; constant, cosine and warm-up schedules |
//! | [`run`] | one run, parallel sweeps, best-of-seeds |
//! | [`lanes`] | thousands of tiny ReLU autoencoders at once, one instance per SIMD lane |
//! | [`simd`] | eight-lane vectors; portable or AVX2 kernels chosen at run time |
//! | [`guard`] | size checks before a run, divergence checks during it (RN6) |
//! | [`deterministic`] | deterministic Adam on an exact [`crate::base::Objective`] (T4) |
//!
//! # Example
//!
//! ```
//! use polycap::base::{FeatureSet, Magnitude};
//! use polycap::training::{Model, TrainConfig, Trainer};
//!
//! let features = FeatureSet::from_densities(vec![1.0, 0.9, 0.8], &[1.0; 3], Magnitude::Uniform)?;
//! let mut cfg = TrainConfig::defaults(Model::TmsRelu);
//! cfg.steps = 200;
//! cfg.eval_batch = 1024;
//! let run = Trainer::new(Model::TmsRelu, 2, cfg)?.train(&features, 0, 0)?;
//! assert_eq!(run.w.shape(), (2, 3));
//! # Ok::<(), polycap::base::Error>(())
//! ```

pub mod abs;
pub mod data;
pub mod deterministic;
pub mod finite;
pub mod guard;
pub mod hidden;
pub mod lanes;
pub mod model;
pub mod optim;
pub mod pairs;
pub mod quadratic;
pub mod quadratic_group;
pub mod quadratic_lanes;
pub mod readout;
pub mod rng;
pub mod run;
pub mod simd;
pub mod tms;
pub mod zoo;

pub use deterministic::{ExactConfig, ExactRun, ExactTrainer};
pub use hidden::Hidden;
pub use model::{Activation, Family, Init, Model};
pub use optim::{Optimizer, Schedule};
pub use pairs::Pairs;
pub use run::{Kernel, Run, TrainConfig, Trainer, best_by, best_of};
pub use simd::Simd;
