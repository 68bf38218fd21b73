//! CLI tests of polycap allocate.
