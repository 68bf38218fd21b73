//! Tests of training (mirrors src/training).
