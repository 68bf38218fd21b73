//! Tests of verify (theory against training).
mod geometry;
