//! Theory against training: the only room that sees both.
pub mod geometry;
