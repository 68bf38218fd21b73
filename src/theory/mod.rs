//! The capacity theory: capacity of a matrix, the quadratic model's closed forms, optimal
//! allocation, realisation of an allocation as a matrix, block (tegum) geometry of embeddings,
//! phase diagrams, the Elhage "toy model of the toy model", and (feature `exact`) exact
//! rational arithmetic.
//! Never imports `training`.

pub mod allocation;
pub mod capacity;
pub mod elhage;
pub mod equalize;
#[cfg(feature = "exact")]
pub mod exact;
pub mod geometry;
pub mod phase;
pub mod quadratic;
pub mod realization;
mod svd;
