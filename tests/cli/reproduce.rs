//! CLI tests of polycap reproduce.
