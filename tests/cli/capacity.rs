//! CLI tests of polycap capacity.
