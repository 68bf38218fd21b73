//! CLI tests of polycap bench.
