//! `polycap capacity`: capacities of the features of a user's embedding matrix.

use std::path::PathBuf;

use anyhow::Context;
use polycap::theory::capacity::{CapacityReport, analyze};
use serde::Serialize;

use super::matrix::read_matrix;
use super::output::{Format, check_out, csv_text, emit, num, table};

/// Flags of `polycap capacity`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Reports, for W (D×N, columns = features): the capacity Cᵢ = (Wᵢ·Wᵢ)² / Σⱼ (Wᵢ·Wⱼ)² of each \
feature (0 for a column with ‖Wᵢ‖² ≤ 1e-10·maxⱼ ‖Wⱼ‖²: the cut-off is relative, so W and c·W \
get the same capacities), its squared length ‖Wᵢ‖², the total ΣC, rank W (singular values \
above σ_max·max(D, N)·2.2e-16), and whether W is efficient (ΣC = D within 1e-9·N and rank W = \
D). Features are numbered from 1 (JSON: \"index_base\": 1). A result that breaks 0 ≤ Cᵢ ≤ 1 \
or ΣC ≤ rank W is an error, never output.

Input: CSV (comma-separated numbers, one matrix row per line; whitespace-separated if the file \
has no comma; an optional first line with no numbers is a header; '#' lines are comments) or NPY (float32/float64, 2-D, C or Fortran \
order), detected from the file's content.

Exit codes: 0 success; 1 the file cannot be read or written (I/O); 2 malformed input (ragged \
CSV, a cell that is not a number, a non-finite entry or one beyond 1e154, NPY with a wrong \
dtype, shape or length).")]
pub struct Args {
    /// Matrix file (CSV or NPY); rows = embedding dimensions, columns = features.
    #[arg(long, value_name = "FILE")]
    pub matrix: PathBuf,
    /// The file stores one feature per row (N×D, e.g. the Anthropic notebook layout).
    #[arg(long)]
    pub features_as_rows: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `polycap capacity`.
pub fn run(args: Args) -> anyhow::Result<()> {
    check_out(args.out.as_deref(), args.format)?;
    let w = read_matrix(&args.matrix, args.features_as_rows)?;
    let report =
        analyze(&w).with_context(|| format!("capacity analysis of {}", args.matrix.display()))?;
    let (d, n) = w.shape();
    let text = match args.format {
        Format::Json => render_json(&report)?,
        Format::Csv => render_csv(&report)?,
        Format::Table => render_table(&report, d, n),
    };
    emit(args.out.as_deref(), &text)
}

/// The JSON document, fields in this order.
#[derive(Serialize)]
struct JsonReport {
    index_base: usize,
    total_capacity: f64,
    rank: usize,
    efficient: bool,
    features: Vec<JsonFeature>,
}

#[derive(Serialize)]
struct JsonFeature {
    feature: usize,
    capacity: f64,
    sq_norm: f64,
}

fn render_json(r: &CapacityReport) -> anyhow::Result<String> {
    let doc = JsonReport {
        index_base: 1,
        total_capacity: r.total_capacity,
        rank: r.rank,
        efficient: r.efficient,
        features: r
            .capacity
            .iter()
            .zip(&r.sq_norm)
            .enumerate()
            .map(|(i, (&capacity, &sq_norm))| JsonFeature {
                feature: i + 1,
                capacity,
                sq_norm,
            })
            .collect(),
    };
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

fn render_csv(r: &CapacityReport) -> anyhow::Result<String> {
    let rows: Vec<Vec<String>> = r
        .capacity
        .iter()
        .zip(&r.sq_norm)
        .enumerate()
        .map(|(i, (c, s))| vec![(i + 1).to_string(), c.to_string(), s.to_string()])
        .collect();
    csv_text(&["feature", "capacity", "sq_norm"], &rows)
}

fn render_table(r: &CapacityReport, d: usize, n: usize) -> String {
    let rows: Vec<Vec<String>> = r
        .capacity
        .iter()
        .zip(&r.sq_norm)
        .enumerate()
        .map(|(i, (&c, &s))| vec![(i + 1).to_string(), num(c), num(s)])
        .collect();
    let mut text = table(&["feature", "capacity C_i", "‖W_i‖²"], &rows);
    let verdict = efficiency_verdict(r.efficient, r.rank, d);
    text.push_str(&format!(
        "D = {d}, N = {n}: ΣC = {}, rank W = {}, {verdict}\n",
        num(r.total_capacity),
        r.rank
    ));
    text
}

/// The efficiency verdict of the tables of `capacity` and `geometry` (spec (C5), (C6)).
pub(super) fn efficiency_verdict(efficient: bool, rank: usize, d: usize) -> String {
    if efficient {
        "efficient (ΣC = D)".to_string()
    } else if rank < d {
        format!("not efficient (rank W = {rank} < D = {d})")
    } else {
        format!("not efficient (ΣC < D = {d})")
    }
}
