//! Tests of verify (theory against training).
