//! Tests of theory::exact.
