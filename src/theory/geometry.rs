//! theory::geometry (being written).
