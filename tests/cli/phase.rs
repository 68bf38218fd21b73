//! CLI tests of polycap phase.
