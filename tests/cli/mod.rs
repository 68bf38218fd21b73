//! End-to-end runs of the real binary.

mod allocate;
mod bench;
mod capacity;
mod files;
mod geometry;
mod marginal;
mod phase;
mod reproduce;
mod train;
mod verify;

use std::process::{Command, Output};

/// Runs `polycap ARGS…` and returns its output.
pub fn polycap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polycap"))
        .args(args)
        .output()
        .expect("invariant: the polycap binary runs")
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
