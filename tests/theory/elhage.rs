//! Tests of theory::elhage.
