//! Tests of theory::allocation.
