//! theory::equalize (being written).
