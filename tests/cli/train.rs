//! CLI tests of polycap train.
