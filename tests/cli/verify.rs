//! CLI tests of polycap verify.
