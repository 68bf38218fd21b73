//! Tests of figures (mirrors src/figures).
