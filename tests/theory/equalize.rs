//! Tests of theory::equalize.
