//! theory::allocation (being written).
