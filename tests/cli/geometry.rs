//! CLI tests of polycap geometry.
