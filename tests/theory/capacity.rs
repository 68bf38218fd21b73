//! Tests of theory::capacity.
