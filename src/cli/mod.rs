//! Command-line interface: parse flags with clap, validate into library types, run, render.

mod output;
mod spec;

mod allocate;
mod bench;
mod bench_tiny;
mod capacity;
mod geometry;
mod marginal;
mod matrix;
mod phase;
mod reproduce;
mod save;
mod train;
mod verify;
mod verify_elhage;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

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
    Train(Box<train::Args>),
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
    let matches = match negative_numbers(Cli::command()).try_get_matches() {
        Ok(m) => m,
        Err(e) => return usage_or_help(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_or_help(e),
    };
    match cli.command {
        Command::Allocate(a) => allocate::run(a),
        Command::Capacity(a) => capacity::run(a),
        Command::Phase(a) => phase::run(a),
        Command::Marginal(a) => marginal::run(a),
        Command::Train(a) => train::run(*a),
        Command::Bench(a) => bench::run(a),
        Command::Reproduce(a) => reproduce::run(a),
        Command::Geometry(a) => geometry::run(a),
        Command::Verify(a) => verify::run(a),
    }
}

/// Every flag that takes a value accepts a negative number as that value (`--lr -1`), so the
/// flag's own check rejects it with its own message instead of clap calling `-1` an unknown
/// argument.
fn negative_numbers(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|a| {
        if a.get_action().takes_values() && !a.is_positional() {
            a.allow_negative_numbers(true)
        } else {
            a
        }
    })
    .mut_subcommands(negative_numbers)
}

/// `--help` and `--version` print and succeed; any other clap error is a usage error (exit 2)
/// keeping clap's whole message (missing argument names, "similar argument" tips) on one line.
fn usage_or_help(e: clap::Error) -> anyhow::Result<()> {
    if !e.use_stderr() {
        e.print()?;
        return Ok(());
    }
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // Which command lacks its subcommand: the words of clap's usage line.
        let text = e.to_string();
        let path: Vec<&str> = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Usage: "))
            .map(|u| {
                u.split_whitespace()
                    .take_while(|w| !w.starts_with(['-', '[', '<']))
                    .collect()
            })
            .unwrap_or_default();
        let mut cmd = Cli::command();
        for name in path.iter().skip(1) {
            match cmd.find_subcommand(name) {
                Some(c) => cmd = c.clone(),
                None => break,
            }
        }
        let names: Vec<&str> = cmd
            .get_subcommands()
            .map(clap::Command::get_name)
            .filter(|n| *n != "help")
            .collect();
        let shown = if path.is_empty() {
            "polycap".to_string()
        } else {
            path.join(" ")
        };
        return Err(output::usage(format!(
            "'{shown}' needs a subcommand: one of {} (see '{shown} --help')",
            names.join(", ")
        )));
    }
    Err(output::usage(clap_message(&e.to_string())))
}

/// clap's rendered error without its "error: " prefix, usage block and "For more
/// information" line, joined into one line.
fn clap_message(text: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut help = "polycap --help".to_string();
    for line in lines.by_ref() {
        if let Some(u) = line.strip_prefix("Usage: ") {
            // "Usage: polycap allocate [OPTIONS] …" names the subcommand whose help to see.
            let words: Vec<&str> = u
                .split_whitespace()
                .take_while(|w| !w.starts_with(['-', '[', '<']))
                .collect();
            help = format!("{} --help", words.join(" "));
            continue;
        }
        if line.starts_with("For more information") {
            continue;
        }
        let line = line.strip_prefix("error: ").unwrap_or(line);
        match parts.last_mut() {
            Some(last) if line.starts_with("tip:") => {
                last.push_str("; ");
                last.push_str(line);
            }
            Some(last) if last.ends_with(':') => {
                last.push(' ');
                last.push_str(line);
            }
            Some(last) => {
                last.push_str(", ");
                last.push_str(line);
            }
            None => parts.push(line.to_string()),
        }
    }
    let mut msg = if parts.is_empty() {
        "invalid arguments".to_string()
    } else {
        parts.join(" ")
    };
    msg.push_str(&format!(" (see '{help}')"));
    msg
}
