//! Command-line interface: parse flags with clap, validate into library types, run, render.

mod output;
mod spec;

mod allocate;
mod capacity;

use clap::{Parser, Subcommand};

pub use output::{exit_code, is_broken_pipe};

/// polycap — capacity theory of polysemanticity and toy models of superposition.
#[derive(Debug, Parser)]
#[command(name = "polycap", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Optimal capacity allocation of the quadratic model (equal marginal returns).
    Allocate(allocate::Args),
    /// Capacities of your own embedding matrix (CSV or NPY).
    Capacity(capacity::Args),
}

/// Parses the command line and runs the chosen subcommand.
pub fn run() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and succeed; real usage errors exit 2 (clap's code).
            if !e.use_stderr() {
                e.print()?;
                return Ok(());
            }
            e.exit();
        }
    };
    match cli.command {
        Command::Allocate(a) => allocate::run(a),
        Command::Capacity(a) => capacity::run(a),
    }
}
