//! End-to-end runs of the real binary.

mod allocate;
mod bad_inputs;
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

/// The arguments of a figure's equivalent command: `COMMAND --NAME VALUE …`.
pub fn invocation_args(c: &polycap::figures::Invocation) -> Vec<String> {
    let mut args = vec![c.command.to_string()];
    for (name, value) in &c.options {
        args.push(format!("--{name}"));
        args.extend(value.clone());
    }
    args
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
