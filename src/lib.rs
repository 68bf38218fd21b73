//! # polycap
//!
//! The capacity theory of polysemanticity (Scherlis et al. 2022) and toy models of
//! superposition (Elhage et al. 2022), as a library.
//!
//! A feature's *capacity* Cᵢ ∈ [0, 1] is the fraction of an embedding dimension it
//! occupies; a network of D dimensions spends at most D in total. polycap derives optimal
//! allocations in closed form (or by equalising marginal returns), trains the toy models, and
//! checks the two against each other.
//!
//! | module | purpose |
//! |---|---|
//! | [`base`] | shared types: features, input distributions, the objective seam, errors |
//! | [`theory`] | capacity, quadratic-model closed forms, allocation, realisation, exact arithmetic |
//! | [`training`] | the real toy models, optimisers, many instances at once |
//! | [`verify`] | theory against training, within stated tolerances |
//! | [`figures`] | every figure as SVG plus the CSV behind it |
//! | [`io`] | file formats: npy, npz, safetensors, CSV, train files, SAE synthetic models |
//!
//! Every formula cites its label in the specification (e.g. (C1), (Q15)) and a file in
//! `derivations/` that derives it.

pub mod base;
pub mod figures;
pub mod io;
pub mod theory;
pub mod training;
pub mod verify;
