//! Tests of theory::realization.
