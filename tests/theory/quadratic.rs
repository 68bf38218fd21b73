//! Tests of theory::quadratic.
