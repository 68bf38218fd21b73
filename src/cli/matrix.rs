//! Reading a user's embedding matrix from CSV or NPY (being written).
