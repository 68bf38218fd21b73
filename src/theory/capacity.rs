//! theory::capacity (being written).
