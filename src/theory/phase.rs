//! theory::phase (being written).
