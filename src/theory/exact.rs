//! theory::exact (being written).
