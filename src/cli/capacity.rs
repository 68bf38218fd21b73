//! `polycap capacity`: capacities of the features of a user's embedding matrix.

use std::path::PathBuf;

use anyhow::Context;
use polycap::theory::capacity::{CapacityReport, analyze};
use serde::Serialize;

use super::matrix::read_matrices;
use super::output::{Format, csv_text, emit, num, table};

/// Flags of `polycap capacity`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Reports, for W (D×N, columns = features): the capacity Cᵢ = (Wᵢ·Wᵢ)² / Σⱼ (Wᵢ·Wⱼ)² of each \
feature (0 for a column with ‖Wᵢ‖² ≤ 1e-10), its squared length ‖Wᵢ‖², the total ΣC, rank W, \
and whether W is efficient (ΣC = D within 1e-9·N and rank W = D).

Input (detected from the file's content): CSV (comma-separated numbers, one matrix row per \
line; whitespace-separated if the file has no comma; an optional first line with no numbers is \
a header; '#' lines are comments); NPY (float32/float64, C or Fortran order); NPZ (numpy.savez \
or savez_compressed); safetensors (F64/F32/F16/BF16); the JSON, .safetensors or .npz output of \
`polycap train` (its W); an SAE synthetic-model folder (its feature_vectors). Choose an array \
with --key when a file holds several. A 3-D array (instances×D×N) gives one result per \
instance (numbered from 0, like the features).

Exit codes: 0 success; 1 the file cannot be read or written (I/O); 2 malformed input (ragged \
CSV, a cell that is not a number, a non-finite entry, NPY with a wrong dtype, shape or length, \
a missing or ambiguous --key).")]
pub struct Args {
    /// Matrix file (CSV, NPY, NPZ, safetensors, a train output); rows = embedding
    /// dimensions, columns = features.
    #[arg(long, value_name = "FILE")]
    pub matrix: PathBuf,
    /// The file stores one feature per row (N×D, e.g. the Anthropic notebook layout).
    #[arg(long)]
    pub features_as_rows: bool,
    /// The array to read from an NPZ or safetensors file holding several.
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `polycap capacity`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let ws = read_matrices(&args.matrix, args.key.as_deref(), args.features_as_rows)?.matrices;
    let stacked = ws.len() > 1;
    let mut reports = Vec::with_capacity(ws.len());
    for (k, w) in ws.iter().enumerate() {
        let report = analyze(w).with_context(|| {
            if stacked {
                format!(
                    "capacity analysis of instance {k} of {}",
                    args.matrix.display()
                )
            } else {
                format!("capacity analysis of {}", args.matrix.display())
            }
        })?;
        reports.push((report, w.shape()));
    }
    let text = match (stacked, args.format) {
        (false, Format::Json) => render_json(&reports[0].0)?,
        (false, Format::Csv) => render_csv(&reports[0].0)?,
        (false, Format::Table) => render_table(&reports[0].0, reports[0].1.0, reports[0].1.1),
        (true, Format::Json) => {
            let docs = reports
                .iter()
                .enumerate()
                .map(|(k, (r, _))| InstanceJson {
                    instance: k,
                    report: json_report(r),
                })
                .collect::<Vec<_>>();
            serde_json::to_string_pretty(&serde_json::json!({ "instances": docs }))? + "\n"
        }
        (true, Format::Csv) => {
            let rows: Vec<Vec<String>> = reports
                .iter()
                .enumerate()
                .flat_map(|(k, (r, _))| {
                    r.capacity
                        .iter()
                        .zip(&r.sq_norm)
                        .enumerate()
                        .map(move |(i, (c, s))| {
                            vec![k.to_string(), i.to_string(), c.to_string(), s.to_string()]
                        })
                })
                .collect();
            csv_text(&["instance", "feature", "capacity", "sq_norm"], &rows)?
        }
        (true, Format::Table) => reports
            .iter()
            .enumerate()
            .map(|(k, (r, (d, n)))| format!("instance {k}\n{}", render_table(r, *d, *n)))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    emit(args.out.as_deref(), &text)
}

/// One instance of a stacked input in the JSON document.
#[derive(Serialize)]
struct InstanceJson {
    /// 0-based position in the stack.
    instance: usize,
    #[serde(flatten)]
    report: JsonReport,
}

/// The JSON document, fields in this order.
#[derive(Serialize)]
struct JsonReport {
    total_capacity: f64,
    rank: usize,
    efficient: bool,
    features: Vec<JsonFeature>,
}

#[derive(Serialize)]
struct JsonFeature {
    capacity: f64,
    sq_norm: f64,
}

fn render_json(r: &CapacityReport) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(&json_report(r))? + "\n")
}

fn json_report(r: &CapacityReport) -> JsonReport {
    JsonReport {
        total_capacity: r.total_capacity,
        rank: r.rank,
        efficient: r.efficient,
        features: r
            .capacity
            .iter()
            .zip(&r.sq_norm)
            .map(|(&capacity, &sq_norm)| JsonFeature { capacity, sq_norm })
            .collect(),
    }
}

fn render_csv(r: &CapacityReport) -> anyhow::Result<String> {
    let rows: Vec<Vec<String>> = r
        .capacity
        .iter()
        .zip(&r.sq_norm)
        .enumerate()
        .map(|(i, (c, s))| vec![i.to_string(), c.to_string(), s.to_string()])
        .collect();
    csv_text(&["feature", "capacity", "sq_norm"], &rows)
}

fn render_table(r: &CapacityReport, d: usize, n: usize) -> String {
    let rows: Vec<Vec<String>> = r
        .capacity
        .iter()
        .zip(&r.sq_norm)
        .enumerate()
        .map(|(i, (&c, &s))| vec![i.to_string(), num(c), num(s)])
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
