//! Tests of theory::phase.
