//! CLI tests of polycap marginal.
