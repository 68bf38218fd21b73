//! `polycap geometry`: block structure (tegum factors) of a user's embedding matrix, or of
//! every trained W in the JSON output of `polycap train`.

use std::path::PathBuf;

use anyhow::Context;
use polycap::theory::geometry::{
    BlockDecomposition, DEFAULT_TOLERANCE, decompose, dimensions_per_feature, nearest_fraction,
    polytope, superposition,
};
use serde::Serialize;

use polycap::verify::geometry::{TRAINED_TOLERANCE, decompose_trained};

use super::matrix::read_matrices;
use super::output::{Format, csv_text, emit, num, table, usage};

/// Flags of `polycap geometry`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Splits W (D×N, columns = features) into blocks: the connected components of the graph with an \
edge between features i and j wherever |cos∠(W_i, W_j)| > TOL. Features with ‖W_i‖² ≤ 1e-10 \
are ignored (capacity 0). Per block: its dimension D_b (numerical rank, singular values > \
TOL·σ_max), its features, its scale γ_b = Σn_i/ΣC_i (= n_i/C_i for every feature of an \
efficient block), the capacities C_i (computed on the whole W), and whether it is efficient \
(ΣC_i = D_b within TOL·N_b and its non-zero squared singular values equal within TOL). The blocks' column spaces are checked for mutual orthogonality \
(largest principal cosine ≤ TOL): only then is W the tegum product of its blocks. Each C_i is \
matched to the nearest fraction p/q (q ≤ --max-denominator) within --fraction-tolerance and \
named when it is a polytope value (1, 3/4 tetrahedron, 2/3 triangle, 1/2 digon, 2/5 pentagon, \
3/8 square antiprism, 0).

TOL defaults to 1e-9 with --matrix (matrices built from exact structure) and to 1e-2 with \
--from-train or a --matrix that is a polycap train file (trained matrices: Adam leaves cosines of order 1e-3 between features that \
theory puts at exactly 0, and capacities within about 1e-3 of their fractions). With \
trained matrices, features with ‖W_i‖² ≤ TOL·max_j ‖W_j‖² count as not learned (Adam never \
drives a dropped feature exactly to 0, and its leftover direction would join every block).

Input: --matrix FILE (any format `polycap capacity` reads; a stack gives one report per \
instance, 0-based) or --from-train RUN.json (the output of `polycap train --format json`: every \
instance's \"w\", D×N as rows, decomposed as trained matrices; all instances, or only \
--instance K, 0-based). Exit codes: 0 success; 1 the file cannot be read \
or written; 2 malformed input or a bad flag value.")]
pub struct Args {
    /// Matrix file (CSV, NPY, NPZ, safetensors, a train output); rows = embedding
    /// dimensions, columns = features.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "from_train",
        required_unless_present = "from_train"
    )]
    pub matrix: Option<PathBuf>,
    /// JSON output of `polycap train --format json`: decompose the W of each instance.
    #[arg(long, value_name = "RUN.json")]
    pub from_train: Option<PathBuf>,
    /// With --from-train: only instance K (0-based, in file order).
    #[arg(long, value_name = "K")]
    pub instance: Option<usize>,
    /// The file stores one feature per row (N×D, e.g. the Anthropic notebook layout).
    #[arg(long)]
    pub features_as_rows: bool,
    /// With --matrix: the array to read from an NPZ or safetensors file holding several.
    #[arg(long, value_name = "NAME", requires = "matrix")]
    pub key: Option<String>,
    /// Tolerance TOL in (0, 1): cosines ≤ TOL count as orthogonal; also the relative rank
    /// threshold and the tolerance of the efficiency tests (default 1e-9 with --matrix,
    /// 1e-2 with --from-train).
    #[arg(long, value_name = "TOL", allow_negative_numbers = true)]
    pub tolerance: Option<f64>,
    /// Largest denominator of a recognised fraction.
    #[arg(long, value_name = "Q", default_value_t = 12)]
    pub max_denominator: u32,
    /// Largest |C_i − p/q| for a recognised fraction (default: TOL).
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub fraction_tolerance: Option<f64>,
    /// Output format (csv: one row per feature).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `polycap geometry`.
pub fn run(args: Args) -> anyhow::Result<()> {
    // Read first: a polycap train file holds trained matrices, decomposed as --from-train's.
    let weights = match &args.matrix {
        Some(path) => Some(read_matrices(
            path,
            args.key.as_deref(),
            args.features_as_rows,
        )?),
        None => None,
    };
    let trained = args.from_train.is_some() || weights.as_ref().is_some_and(|w| w.trained);
    let tol = args.tolerance.unwrap_or(if trained {
        TRAINED_TOLERANCE
    } else {
        DEFAULT_TOLERANCE
    });
    if !(tol.is_finite() && tol > 0.0 && tol < 1.0) {
        return Err(usage(format!("--tolerance must be in (0, 1), got {tol}")));
    }
    if args.instance.is_some() && args.from_train.is_none() {
        return Err(usage("--instance K needs --from-train RUN.json"));
    }
    if args.max_denominator == 0 {
        return Err(usage("--max-denominator must be ≥ 1, got 0"));
    }
    let ftol = args.fraction_tolerance.unwrap_or(tol);
    if !(ftol.is_finite() && ftol >= 0.0) {
        return Err(usage(format!(
            "--fraction-tolerance must be finite and ≥ 0, got {ftol}"
        )));
    }
    let text = match (&args.matrix, &args.from_train) {
        (Some(path), _) => {
            let ws = weights.map(|w| w.matrices).unwrap_or_default();
            let stacked = ws.len() > 1;
            let mut reports = Vec::with_capacity(ws.len());
            for (k, w) in ws.iter().enumerate() {
                let dec = if trained {
                    decompose_trained(w, tol)
                } else {
                    decompose(w, tol)
                };
                let dec = dec.with_context(|| {
                    if stacked {
                        format!("geometry of instance {} of {}", k + 1, path.display())
                    } else {
                        format!("geometry of {}", path.display())
                    }
                })?;
                reports.push(InstanceReport {
                    instance: k,
                    density: None,
                    report: Report::new(&dec, w, args.max_denominator, ftol),
                });
            }
            match (stacked, reports.pop()) {
                (false, Some(one)) => {
                    let report = one.report;
                    match args.format {
                        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
                        Format::Csv => render_csv(&report, None)?,
                        Format::Table => render_table(&report),
                    }
                }
                (_, last) => {
                    reports.extend(last);
                    render_instances(&reports, args.format)?
                }
            }
        }
        (None, Some(path)) => {
            let runs = read_train_json(path, args.instance)?;
            let mut reports = Vec::with_capacity(runs.len());
            for run in runs {
                let w = if args.features_as_rows {
                    run.w.transpose()
                } else {
                    run.w
                };
                let dec = decompose_trained(&w, tol).with_context(|| {
                    format!(
                        "geometry of instance {} of {}",
                        run.instance,
                        path.display()
                    )
                })?;
                reports.push(InstanceReport {
                    instance: run.instance,
                    density: run.density,
                    report: Report::new(&dec, &w, args.max_denominator, ftol),
                });
            }
            render_instances(&reports, args.format)?
        }
        (None, None) => return Err(usage("give --matrix FILE or --from-train RUN.json")),
    };
    emit(args.out.as_deref(), &text)
}

/// The reports of several instances (a `--from-train` run or a stacked `--matrix`).
fn render_instances(reports: &[InstanceReport], format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(&reports)? + "\n",
        Format::Csv => {
            let mut all = String::new();
            for (k, r) in reports.iter().enumerate() {
                let text = render_csv(&r.report, Some(r.instance))?;
                // One header for the whole file.
                let skip = if k == 0 {
                    0
                } else {
                    text.find('\n').map_or(0, |e| e + 1)
                };
                all.push_str(&text[skip..]);
            }
            all
        }
        Format::Table => reports
            .iter()
            .map(|r| {
                let p = r
                    .density
                    .map_or_else(String::new, |p| format!(", density p = 1 − S = {}", num(p)));
                format!("instance {}{p}\n{}", r.instance, render_table(&r.report))
            })
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// One instance's W read from `polycap train --format json`.
struct TrainedW {
    instance: usize,
    density: Option<f64>,
    w: nalgebra::DMatrix<f64>,
}

/// Reads the "w" (D×N as rows) of every instance, or of instance `only`.
fn read_train_json(path: &std::path::Path, only: Option<usize>) -> anyhow::Result<Vec<TrainedW>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read training output {}", path.display()))?;
    let shown = path.display();
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| usage(format!("{shown}: not JSON ({e})")))?;
    let instances = doc
        .get("instances")
        .and_then(|v| v.as_array())
        .ok_or_else(|| {
            usage(format!(
                "{shown}: no \"instances\" array (expected the output of `polycap train --format json`)"
            ))
        })?;
    if instances.is_empty() {
        return Err(usage(format!("{shown}: \"instances\" is empty")));
    }
    let picked: Vec<usize> = match only {
        Some(k) if k >= instances.len() => {
            return Err(usage(format!(
                "--instance {k} out of range: {shown} has {} instance(s) (0-based)",
                instances.len()
            )));
        }
        Some(k) => vec![k],
        None => (0..instances.len()).collect(),
    };
    picked
        .into_iter()
        .map(|k| {
            let inst = &instances[k];
            let rows = inst.get("w").and_then(|v| v.as_array()).ok_or_else(|| {
                usage(format!("{shown}: instance {k} has no \"w\" array of rows"))
            })?;
            let d = rows.len();
            let mut cells: Vec<f64> = Vec::new();
            let mut n = None;
            for (r, row) in rows.iter().enumerate() {
                let row = row.as_array().ok_or_else(|| {
                    usage(format!("{shown}: instance {k}, w row {}: not an array", r + 1))
                })?;
                if *n.get_or_insert(row.len()) != row.len() {
                    return Err(usage(format!(
                        "{shown}: instance {k}, w row {} has {} entries, row 1 has {}",
                        r + 1,
                        row.len(),
                        n.unwrap_or(0)
                    )));
                }
                for (c, x) in row.iter().enumerate() {
                    match x.as_f64() {
                        Some(v) if v.is_finite() => cells.push(v),
                        _ => {
                            return Err(usage(format!(
                                "{shown}: instance {k}, w row {}, column {} is {x} (entries must be finite numbers)",
                                r + 1,
                                c + 1
                            )));
                        }
                    }
                }
            }
            let n = n.unwrap_or(0);
            if d == 0 || n == 0 {
                return Err(usage(format!("{shown}: instance {k}: w is empty ({d}×{n})")));
            }
            Ok(TrainedW {
                instance: k,
                density: inst.get("density").and_then(serde_json::Value::as_f64),
                w: nalgebra::DMatrix::from_row_slice(d, n, &cells),
            })
        })
        .collect()
}

/// The report of one trained instance.
#[derive(Serialize)]
struct InstanceReport {
    /// 0-based index in the training output.
    instance: usize,
    /// Shared density p of the instance (null if the file has none).
    density: Option<f64>,
    #[serde(flatten)]
    report: Report,
}

/// Everything printed, computed once and rendered to every format.
#[derive(Serialize)]
struct Report {
    blocks: Vec<JsonBlock>,
    ignored: Vec<usize>,
    /// [D, N].
    shape: [usize; 2],
    rank: usize,
    total_capacity: f64,
    efficient: bool,
    tegum: bool,
    max_cross_overlap: f64,
    capacity_leak: f64,
    /// D* = D/‖W‖²_F (E7); null for W = 0.
    dims_per_feature: Option<f64>,
    tolerance: f64,
    fraction_tolerance: f64,
    max_denominator: u32,
}

#[derive(Serialize)]
struct JsonBlock {
    dims: usize,
    features: Vec<usize>,
    scale: f64,
    capacities: Vec<f64>,
    efficient: bool,
    capacity_sum: f64,
    scale_spread: f64,
    sq_norms: Vec<f64>,
    /// "p/q" or null per feature.
    fractions: Vec<Option<String>>,
    /// Polytope name or null per feature.
    polytopes: Vec<Option<&'static str>>,
    /// Superposition score (E8) per feature.
    superposition: Vec<f64>,
}

impl Report {
    fn new(dec: &BlockDecomposition, w: &nalgebra::DMatrix<f64>, max_den: u32, ftol: f64) -> Self {
        let sup = superposition(w);
        let dstar = dimensions_per_feature(w);
        let blocks = dec
            .blocks
            .iter()
            .map(|b| {
                let fr: Vec<Option<(u32, u32)>> = b
                    .capacities
                    .iter()
                    .map(|&c| nearest_fraction(c, max_den, ftol))
                    .collect();
                JsonBlock {
                    dims: b.dims,
                    features: b.features.clone(),
                    scale: b.scale,
                    capacities: b.capacities.clone(),
                    efficient: b.efficient,
                    capacity_sum: b.capacity_sum,
                    scale_spread: b.scale_spread,
                    sq_norms: b.sq_norms.clone(),
                    fractions: fr
                        .iter()
                        .map(|f| f.map(|(p, q)| format!("{p}/{q}")))
                        .collect(),
                    polytopes: fr
                        .iter()
                        .map(|f| f.and_then(|(p, q)| polytope(p, q)).map(|t| t.name))
                        .collect(),
                    superposition: b.features.iter().map(|&i| sup[i]).collect(),
                }
            })
            .collect();
        Report {
            blocks,
            ignored: dec.ignored.clone(),
            shape: [dec.embedding_dims, dec.feature_count],
            rank: dec.rank,
            total_capacity: dec.total_capacity,
            efficient: dec.efficient,
            tegum: dec.tegum,
            max_cross_overlap: dec.max_cross_overlap,
            capacity_leak: dec.capacity_leak,
            dims_per_feature: dstar.is_finite().then_some(dstar),
            tolerance: dec.tolerance,
            fraction_tolerance: ftol,
            max_denominator: max_den,
        }
    }

    /// One row per non-ignored feature, in block order: (block, feature index, position).
    fn feature_rows(&self) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for (k, b) in self.blocks.iter().enumerate() {
            for (j, &i) in b.features.iter().enumerate() {
                rows.push(vec![
                    i.to_string(),
                    k.to_string(),
                    num(b.capacities[j]),
                    b.fractions[j].clone().unwrap_or_else(|| "-".into()),
                    b.polytopes[j].unwrap_or("-").to_string(),
                    num(b.sq_norms[j]),
                    num(b.superposition[j]),
                ]);
            }
        }
        rows
    }
}

fn render_csv(r: &Report, instance: Option<usize>) -> anyhow::Result<String> {
    let mut rows = Vec::new();
    for (k, b) in r.blocks.iter().enumerate() {
        for (j, &i) in b.features.iter().enumerate() {
            rows.push(vec![
                i.to_string(),
                k.to_string(),
                b.dims.to_string(),
                b.scale.to_string(),
                b.efficient.to_string(),
                b.capacities[j].to_string(),
                b.fractions[j].clone().unwrap_or_default(),
                b.polytopes[j].unwrap_or_default().to_string(),
                b.sq_norms[j].to_string(),
                b.superposition[j].to_string(),
            ]);
        }
    }
    for &i in &r.ignored {
        let mut row = vec![i.to_string()];
        row.extend(std::iter::repeat_n(String::new(), 4));
        row.extend(["0".to_string(), "0/1".into(), "not learned".into()]);
        row.extend(std::iter::repeat_n(String::new(), 2));
        rows.push(row);
    }
    let mut header = vec![
        "feature",
        "block",
        "block_dims",
        "block_scale",
        "block_efficient",
        "capacity",
        "fraction",
        "polytope",
        "sq_norm",
        "superposition",
    ];
    if let Some(k) = instance {
        header.insert(0, "instance");
        for row in &mut rows {
            row.insert(0, k.to_string());
        }
    }
    csv_text(&header, &rows)
}

fn render_table(r: &Report) -> String {
    let [d, n] = r.shape;
    if r.blocks.is_empty() {
        return format!(
            "D = {d}, N = {n}: no blocks, every feature has ‖W_i‖² ≤ 1e-10 (ignored, C = 0)\n"
        );
    }
    let block_rows: Vec<Vec<String>> = r
        .blocks
        .iter()
        .enumerate()
        .map(|(k, b)| {
            vec![
                k.to_string(),
                b.dims.to_string(),
                b.features.len().to_string(),
                num(b.scale),
                num(b.scale_spread),
                num(b.capacity_sum),
                if b.efficient { "yes" } else { "no" }.to_string(),
                list(&b.features),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "block",
            "D_b",
            "N_b",
            "scale γ_b",
            "γ spread",
            "ΣC_b",
            "efficient",
            "features",
        ],
        &block_rows,
    );
    text.push('\n');
    text.push_str(&table(
        &[
            "feature",
            "block",
            "C_i",
            "fraction",
            "polytope",
            "‖W_i‖²",
            "superposition",
        ],
        &r.feature_rows(),
    ));
    if !r.ignored.is_empty() {
        text.push_str(&format!(
            "ignored (‖W_i‖² ≤ 1e-10, C = 0): {}\n",
            list(&r.ignored)
        ));
    }
    let verdict = super::capacity::efficiency_verdict(r.efficient, r.rank, d);
    text.push_str(&format!(
        "D = {d}, N = {n}: blocks {}, ΣC = {}, rank W = {}, {verdict}; D* = D/‖W‖²_F = {}\n",
        r.blocks.len(),
        num(r.total_capacity),
        r.rank,
        r.dims_per_feature.map_or_else(|| "inf".into(), num),
    ));
    if r.tegum {
        text.push_str(&format!(
            "blocks span mutually orthogonal subspaces (largest cross cosine {}): W is their \
             tegum product; tolerance {:e}\n",
            num(r.max_cross_overlap),
            r.tolerance
        ));
    } else {
        text.push_str(&format!(
            "WARNING: the blocks' subspaces are NOT orthogonal (largest cross cosine {} > \
             tolerance {:e}): W is not a tegum product of these blocks\n",
            num(r.max_cross_overlap),
            r.tolerance
        ));
    }
    text
}

fn list(v: &[usize]) -> String {
    v.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
}
