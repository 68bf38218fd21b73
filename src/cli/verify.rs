//! `polycap verify`: theory against training at one point or over a V × p grid, with the
//! (T5) tolerances; `polycap verify merge` joins the JSON reports of `--shard` runs.
//!
//! Exit code 0 when every point off the phase boundaries agrees, 1 when one disagrees
//! (one-line summary on stderr), 2 for usage errors.

use std::path::PathBuf;

use anyhow::Context;
use polycap::base::{FeatureSet, Magnitude};
use polycap::theory::phase::PhaseSetting;
use polycap::training::Model;
use polycap::verify::{
    Bands, GridReport, GridSpec, PointReport, Protocol, QuadraticTheory, Shard, Summary, Verifier,
    verify_grid,
};

use super::output::{ReportFormat, check_out, emit, num, progress, table, usage};
use super::phase::parse_grid;
use super::spec::{ValueSpec, feature_count};

/// Flags of `polycap verify` (or its `merge` subcommand).
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    #[command(flatten)]
    flags: Box<Flags>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Join the JSON reports of `--shard i/N` runs into the full report (the same JSON as
    /// the unsharded run). Errors if the shards' settings differ or points overlap or miss.
    Merge {
        /// Shard reports (JSON written by `polycap verify --shard i/N --format json`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
        /// Write to FILE instead of stdout (atomically).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The flags of a verification run.
#[derive(Debug, clap::Args)]
pub(super) struct Flags {
    /// Training: quadratic-exact ((T4), exact expected loss), quadratic ((T3), sampled), or
    /// tms-relu (the ReLU-output model against (E11)/(E12), 2 in 1 or 3 in 2 only).
    #[arg(long, default_value = "quadratic-exact")]
    pub(super) model: String,
    /// Number of features N (grid: feature 1 varied, the others importance 1).
    #[arg(long)]
    pub(super) features: Option<usize>,
    /// Embedding dimension D (default 3; tms-relu: 1 for 2 features, 2 for 3).
    #[arg(long)]
    pub(super) dims: Option<usize>,
    /// Single point instead of a grid: importances SPEC (`0.5,1,1`, `first:V`, `const:X`,
    /// `geom:R`).
    #[arg(long, allow_hyphen_values = true)]
    pub(super) importance: Option<String>,
    /// Single point: densities p = 1 − S, SPEC (default 1 with --importance).
    #[arg(long, allow_hyphen_values = true)]
    pub(super) density: Option<String>,
    /// Magnitude law of the non-zero inputs: uniform, gaussian, laplace, rademacher,
    /// student-t:NU.
    #[arg(long, default_value = "uniform")]
    pub(super) input: String,
    /// Grid W×H: W importances V (columns) by H densities p (rows), log-spaced, ends included
    /// (default 25x25).
    #[arg(long)]
    pub(super) grid: Option<String>,
    /// Range of V, A:B (default 0.01:100; tms-relu: the relative importance r of the extra
    /// feature, default 0.1:10).
    #[arg(long)]
    pub(super) v_range: Option<String>,
    /// Range of the density p = 1 − S, A:B (default 0.001:1; tms-relu 0.01:1).
    #[arg(long)]
    pub(super) p_range: Option<String>,
    /// Seeds per point, best (lowest exact loss) kept (default: 5 quadratic-exact, 3 quadratic,
    /// 5 tms-relu).
    #[arg(long)]
    pub(super) seeds: Option<usize>,
    /// Base seed; point i uses seeds derived from (base, i).
    #[arg(long, default_value_t = 0)]
    pub(super) seed: u64,
    /// Optimisation steps (default: 20 000 quadratic-exact, 10 000 quadratic, 5000 tms-relu);
    /// quadratic: a law heavier than the Gaussian trains more, by its kurtosis and the density
    /// (Laplace 2× at p ≥ 0.016, up to 8× at p ≤ 0.0018; Student-t ν = 5 3×, up to 8×;
    /// derivations/verify.md (V9)).
    #[arg(long)]
    pub(super) steps: Option<usize>,
    /// Peak learning rate η₀ (default: the protocol's, 10⁻² for (T3) and (T4), 10⁻³ for
    /// tms-relu).
    #[arg(long)]
    pub(super) lr: Option<f64>,
    /// quadratic: expected active entries per feature and step, m (batch ⌈m / p⌉, capped at
    /// 2¹⁸; default 256).
    #[arg(long)]
    pub(super) active: Option<usize>,
    /// quadratic: single-entry samples contribute their expectation over the magnitude
    /// (quadratic.md (QT7)).
    #[arg(long)]
    pub(super) expected_singles: bool,
    /// Tolerance on |ΔCᵢ| (default 0.02: (T5) for quadratic-exact, and for quadratic with the
    /// density-sized batch of (T3)).
    #[arg(long)]
    pub(super) tolerance: Option<f64>,
    /// Half-width in log₁₀ V of the band around V_ign, V_full and V = 1 whose points are
    /// reported separately (default 0.05; tms-relu: decades in the (log r, log p) plane
    /// around (E11)/(E12), default 0.1).
    #[arg(long)]
    pub(super) band_v: Option<f64>,
    /// Half-width in log₁₀ k of the band around the critical kurtosis k = 3 (default 0.05).
    #[arg(long)]
    pub(super) band_k: Option<f64>,
    /// Run every N-th point: `i/N` runs points i, i+N, i+2N, … (0-based i < N).
    #[arg(long)]
    pub(super) shard: Option<String>,
    /// Output format: table or json.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub(super) format: ReportFormat,
    /// Write to FILE instead of stdout (atomically).
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Exit 0 even when a point disagrees (the verdicts stay in the report).
    #[arg(long)]
    pub(super) exit_zero: bool,
}

/// Runs `polycap verify`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Some(Sub::Merge { files, format, out }) => merge(&files, format, out),
        None => run_flags(*args.flags),
    }
}

fn protocol_of(f: &Flags) -> anyhow::Result<(Protocol, usize)> {
    let mut protocol = match f.model.trim() {
        "quadratic-exact" => Protocol::exact(),
        "quadratic" => Protocol::sampled(Model::Quadratic),
        other => {
            return Err(usage(format!(
                "--model: expected quadratic-exact, quadratic or tms-relu, got '{other}' (other models have no closed-form theory; see `polycap reproduce` fig7)"
            )));
        }
    };
    if let Some(s) = f.steps {
        if s == 0 {
            return Err(usage("--steps must be ≥ 1, got 0"));
        }
        protocol.set_steps(s);
    }
    if let Some(lr) = f.lr {
        protocol.set_lr(lr);
    }
    if let Some(m) = f.active {
        match &mut protocol {
            Protocol::Sampled { config, .. } => config.active_per_feature = Some(m),
            Protocol::Exact(_) => {
                return Err(usage(
                    "--active applies to --model quadratic (sampled training), not quadratic-exact",
                ));
            }
        }
    }
    if f.expected_singles {
        match &mut protocol {
            Protocol::Sampled { config, .. } => config.expected_singles = true,
            Protocol::Exact(_) => {
                return Err(usage(
                    "--expected-singles applies to --model quadratic, not quadratic-exact",
                ));
            }
        }
    }
    let seeds = f.seeds.unwrap_or(match protocol {
        Protocol::Exact(_) => 5,
        Protocol::Sampled { .. } => 3,
    });
    if seeds == 0 {
        return Err(usage("--seeds must be ≥ 1, got 0"));
    }
    Ok((protocol, seeds))
}

pub(super) fn parse_range(flag: &str, s: &str) -> anyhow::Result<(f64, f64)> {
    let bad = || usage(format!("{flag}: expected A:B with 0 < A ≤ B, got '{s}'"));
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let a: f64 = a.trim().parse().map_err(|_| bad())?;
    let b: f64 = b.trim().parse().map_err(|_| bad())?;
    if !(a.is_finite() && b.is_finite() && a > 0.0 && a <= b) {
        return Err(bad());
    }
    Ok((a, b))
}

pub(super) fn parse_shard(s: &str) -> anyhow::Result<Shard> {
    let bad = || usage(format!("--shard: expected i/N with 0 ≤ i < N, got '{s}'"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    Shard::new(i, n).map_err(|_| bad())
}

fn run_flags(f: Flags) -> anyhow::Result<()> {
    check_out(f.out.as_deref(), f.format.into())?;
    if f.model.trim().starts_with("tms-") {
        return super::verify_elhage::run(&f);
    }
    let (protocol, seeds) = protocol_of(&f)?;
    let mut tolerance = protocol.tolerance();
    if let Some(t) = f.tolerance {
        tolerance.capacity = t;
    }
    let verifier = Verifier::new(Box::new(QuadraticTheory), protocol, seeds, f.seed)?
        .with_tolerance(tolerance)?
        .with_bands(Bands {
            log_importance: f.band_v.unwrap_or(0.05),
            log_kurtosis: f.band_k.unwrap_or(0.05),
        })?;
    let magnitude = Magnitude::parse(&f.input)?;
    if f.importance.is_some() || f.density.is_some() {
        if f.shard.is_some() {
            return Err(usage("--shard applies to grids, not to a single point"));
        }
        return run_point(&f, &verifier, magnitude);
    }
    let (w, h) = parse_grid(f.grid.as_deref().unwrap_or("25x25"))?;
    let v_range = parse_range("--v-range", f.v_range.as_deref().unwrap_or("0.01:100"))?;
    let p_range = parse_range("--p-range", f.p_range.as_deref().unwrap_or("0.001:1"))?;
    let setting = PhaseSetting::new(f.features.unwrap_or(6), f.dims.unwrap_or(3), magnitude)?;
    let grid = GridSpec::new(setting, v_range, p_range, w, h)?;
    let shard = f.shard.as_deref().map(parse_shard).transpose()?;
    let count = (0..grid.len())
        .filter(|&i| shard.is_none_or(|s| s.contains(i)))
        .count();
    let bar = progress(count as u64, "verify");
    let report = verify_grid(&verifier, &grid, shard, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let text = match f.format {
        ReportFormat::Json => json_text(&report)?,
        ReportFormat::Table => grid_table(&report),
    };
    emit(f.out.as_deref(), &text)?;
    if f.exit_zero {
        return Ok(());
    }
    verdict(&report.summary)
}

fn run_point(f: &Flags, verifier: &Verifier, magnitude: Magnitude) -> anyhow::Result<()> {
    let imp = ValueSpec::parse("--importance", f.importance.as_deref().unwrap_or("1"))?;
    let den = ValueSpec::parse("--density", f.density.as_deref().unwrap_or("1"))?;
    let n = feature_count(f.features, &[("--importance", &imp), ("--density", &den)])?;
    let v = imp.expand("--importance", n)?;
    let p = den.expand("--density", n)?;
    let features = FeatureSet::from_densities(v, &p, magnitude)?;
    let r = verifier.point(&features, f.dims.unwrap_or(3), 0)?;
    let text = match f.format {
        ReportFormat::Json => {
            serde_json::to_string_pretty(&r).context("serialising the report")? + "\n"
        }
        ReportFormat::Table => point_table(&r, verifier),
    };
    emit(f.out.as_deref(), &text)?;
    if f.exit_zero {
        return Ok(());
    }
    verdict(&Summary::of(std::slice::from_ref(&r)))
}

fn merge(files: &[PathBuf], format: ReportFormat, out: Option<PathBuf>) -> anyhow::Result<()> {
    check_out(out.as_deref(), format.into())?;
    if let Some(first) = files.first() {
        let text = std::fs::read_to_string(first)
            .with_context(|| format!("reading {}", first.display()))?;
        if super::verify_elhage::is_report(&text) {
            return super::verify_elhage::merge(files, format, out);
        }
    }
    let mut shards = Vec::with_capacity(files.len());
    for path in files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let r: GridReport = serde_json::from_str(&text)
            .map_err(|e| usage(format!("{}: not a verify report: {e}", path.display())))?;
        shards.push(r);
    }
    let report = GridReport::merge(shards)?;
    let text = match format {
        ReportFormat::Json => json_text(&report)?,
        ReportFormat::Table => grid_table(&report),
    };
    emit(out.as_deref(), &text)?;
    verdict(&report.summary)
}

fn json_text(r: &GridReport) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(r).context("serialising the report")? + "\n")
}

/// Exit 1 with a one-line summary when a checked point disagrees.
pub(super) fn verdict(s: &Summary) -> anyhow::Result<()> {
    if s.agree == s.checked {
        return Ok(());
    }
    let worst = s
        .worst
        .first()
        .map(|w| format!("; worst point {}: {}", w.index, w.reasons.join(", ")))
        .unwrap_or_default();
    anyhow::bail!(
        "disagreement: {} of {} points off the boundaries are outside tolerance{worst}",
        s.checked - s.agree,
        s.checked
    )
}

fn summary_line(s: &Summary) -> String {
    format!(
        "{} of {} points off the boundaries agree ({:.1} %); {} near a boundary reported separately ({} of them within tolerance anyway); max |ΔCᵢ| off the boundaries {}",
        s.agree,
        s.checked,
        100.0 * s.fraction,
        s.boundary,
        s.boundary_within,
        num(s.max_capacity_diff)
    )
}

fn boundary_text(p: &PointReport) -> String {
    match p.boundary {
        Some(b) => {
            let kind = match b.kind {
                polycap::verify::BoundaryKind::VIgn => "V_ign",
                polycap::verify::BoundaryKind::VFull => "V_full",
                polycap::verify::BoundaryKind::FirstOrder => "V=1",
                polycap::verify::BoundaryKind::Critical => "k=3",
            };
            format!("{kind} {:.3}", b.distance)
        }
        None => "-".into(),
    }
}

fn verdict_text(p: &PointReport) -> String {
    match p.verdict {
        polycap::verify::Verdict::Agree => "agree".into(),
        polycap::verify::Verdict::Disagree => format!("DISAGREE: {}", p.reasons.join(", ")),
        polycap::verify::Verdict::Boundary => {
            format!("boundary ({})", if p.within { "within" } else { "outside" })
        }
    }
}

fn grid_table(r: &GridReport) -> String {
    let s = &r.settings;
    let mut out = format!(
        "polycap verify: {} vs {}, N = {} features in D = {} dims, sparse {} inputs, {} seeds × T₀ = {} steps (per point: column steps); tolerance |ΔCᵢ| ≤ {}, |ΔΣC| ≤ {}{}; bands {} decades in V, {} in k; density p = 1 − S\n",
        s.model,
        s.theory,
        s.features,
        s.dims,
        s.input,
        s.seeds,
        s.steps,
        s.tolerance.capacity,
        s.tolerance.total,
        s.tolerance
            .loss_relative
            .map(|l| format!(", |ΔL|/L* ≤ {l}"))
            .unwrap_or_default(),
        s.bands.log_importance,
        s.bands.log_kurtosis
    );
    if let Some(sh) = r.shard {
        out += &format!("shard {}/{} (0-based)\n", sh.index, sh.count);
    }
    let rows: Vec<Vec<String>> = r
        .points
        .iter()
        .map(|p| {
            let v = p.importance[0] / p.importance[1];
            vec![
                p.index.to_string(),
                num(v),
                p.density.as_ref().map_or("-".into(), |d| num(d[0])),
                num(p.kurtosis[0]),
                p.steps.to_string(),
                format!("{:?}", p.regime).to_lowercase(),
                format!("{:.3}", p.theory_capacity[0]),
                format!("{:.3}", p.trained_capacity[0]),
                format!("{:.2e}", p.max_capacity_diff),
                format!("{:.2e}", p.total_diff),
                format!("{:.2e}", p.loss_relative),
                boundary_text(p),
                verdict_text(p),
            ]
        })
        .collect();
    out += &table(
        &[
            "point",
            "V",
            "p",
            "k",
            "steps",
            "regime",
            "C₁ theory",
            "C₁ trained",
            "max|ΔCᵢ|",
            "|ΔΣC|",
            "ΔL/L*",
            "nearest",
            "verdict",
        ],
        &rows,
    );
    out += &summary_line(&r.summary);
    out.push('\n');
    out
}

fn point_table(r: &PointReport, verifier: &Verifier) -> String {
    let mut out = format!(
        "polycap verify: {} vs {}, D = {}, best of {} seeds × {} steps (seed {}); density p = 1 − S\n",
        verifier.protocol().name(),
        verifier.theory_name(),
        r.dims,
        verifier.seeds(),
        r.steps,
        r.seed
    );
    let rows: Vec<Vec<String>> = (0..r.importance.len())
        .map(|i| {
            vec![
                (i + 1).to_string(),
                num(r.importance[i]),
                r.density.as_ref().map_or("-".into(), |d| num(d[i])),
                num(r.kurtosis[i]),
                format!("{:.4}", r.theory_capacity[i]),
                format!("{:.4}", r.trained_capacity[i]),
                format!("{:.2e}", r.capacity_diff[i]),
                num(r.theory_sq_norm[i]),
                num(r.trained_sq_norm[i]),
                r.theory_phase[i].clone(),
                r.trained_phase[i].clone(),
            ]
        })
        .collect();
    out += &table(
        &[
            "i",
            "vᵢ",
            "pᵢ",
            "kᵢ",
            "Cᵢ theory",
            "Cᵢ trained",
            "|ΔCᵢ|",
            "nᵢ theory",
            "nᵢ trained",
            "phase theory",
            "phase trained",
        ],
        &rows,
    );
    let t = verifier.tolerance();
    out += &format!(
        "ΣC theory {} trained {} (|Δ| = {:.2e}, tolerance {}); loss L* {} trained {} (ΔL/L* = {:.2e}{}); max |ΔCᵢ| = {:.2e} (tolerance {}); regime {:?}; nearest boundary {}\n",
        num(r.theory_capacity.iter().sum()),
        num(r.trained_capacity.iter().sum()),
        r.total_diff,
        t.total,
        num(r.theory_loss),
        num(r.trained_loss),
        r.loss_relative,
        t.loss_relative
            .map(|l| format!(", tolerance {l}"))
            .unwrap_or_else(|| ", reported only".into()),
        r.max_capacity_diff,
        t.capacity,
        r.regime,
        boundary_text(r)
    );
    out += &format!("verdict: {}\n", verdict_text(r));
    out
}
