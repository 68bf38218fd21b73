//! Tests of theory::geometry.
