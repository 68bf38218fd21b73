//! polycap's one integration-test binary; modules mirror src/.

mod base;
mod cli;
mod figures;
mod spec_labels;
mod theory;
mod training;
mod verify;
