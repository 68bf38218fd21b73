//! theory::elhage (being written).
