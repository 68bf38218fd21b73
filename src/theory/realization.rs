//! theory::realization (being written).
