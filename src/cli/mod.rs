//! Command-line interface: parse flags with clap, validate into library types, run, render.

mod output;
mod spec;

mod allocate;
mod bench;
mod capacity;
mod geometry;
mod marginal;
mod matrix;
mod phase;
mod reproduce;
mod save;
mod train;
mod verify;

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
    /// Analytic phase diagram of a varied feature's capacity over (importance V, density p).
    Phase(phase::Args),
    /// Marginal-benefit curves m(C) = −dL*/dC and the equal-returns threshold.
    Marginal(marginal::Args),
    /// Train the toy models (quadratic, ReLU/GeLU variants, TMS autoencoder, linear).
    Train(train::Args),
    /// Benchmarks of the hot kernels (timings for people, never in tests).
    Bench(bench::Args),
    /// Block structure of an embedding: orthogonal blocks, scales, capacities, fractions.
    Geometry(geometry::Args),
    /// Theory against training: train at points or over a grid and check agreement.
    Verify(verify::Args),
    /// Regenerate every figure (SVG + CSV) and its index: the main job.
    Reproduce(reproduce::Args),
}

/// Parses the command line and runs the chosen subcommand.
pub fn run() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and succeed.
            if !e.use_stderr() {
                e.print()?;
                return Ok(());
            }
            // A usage error: clap's first line (without its "error: "), exit 2.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            return Err(output::usage(format!("{first} (see 'polycap --help')")));
        }
    };
    match cli.command {
        Command::Allocate(a) => allocate::run(a),
        Command::Capacity(a) => capacity::run(a),
        Command::Phase(a) => phase::run(a),
        Command::Marginal(a) => marginal::run(a),
        Command::Train(a) => train::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Reproduce(a) => reproduce::run(a),
        Command::Geometry(a) => geometry::run(a),
        Command::Verify(a) => verify::run(a),
    }
}
