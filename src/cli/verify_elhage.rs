//! `polycap verify --model tms-relu`: the ReLU-output model of Elhage et al. against its own
//! closed forms (E11)/(E12) and the dense loss (E13), over an (r, p) grid; the same flags,
//! JSON summary keys, sharding and exit codes as the quadratic verify.

use std::path::PathBuf;

use anyhow::Context;
use polycap::theory::elhage::ToyModel;
use polycap::verify::elhage::{Classified, ElhageReport, ElhageVerdict, ElhageVerifier};

use super::output::{ReportFormat, emit, num, progress, table, usage};
use super::phase::parse_grid;
use super::verify::{Flags, parse_range, parse_shard};

/// The models with a closed form, as `N in D` (for errors).
const SUPPORTED: &str = "--features 2 --dims 1 or --features 3 --dims 2";

/// Runs a tms-relu verification from the verify flags.
pub(super) fn run(f: &Flags) -> anyhow::Result<()> {
    match f.model.trim() {
        "tms-relu" => {}
        other => {
            return Err(usage(format!(
                "--model {other}: no closed-form theory (only tms-relu has one, for {SUPPORTED}: spec (E11), (E12)); see `polycap reproduce` fig7"
            )));
        }
    }
    for (flag, given) in [
        ("--importance", f.importance.is_some()),
        ("--density", f.density.is_some()),
        ("--tolerance", f.tolerance.is_some()),
        ("--band-k", f.band_k.is_some()),
        ("--active", f.active.is_some()),
        ("--input", f.input.trim() != "uniform"),
    ] {
        if given {
            return Err(usage(format!(
                "{flag} does not apply to --model tms-relu (a grid over r and p with x ~ U[0, 1] inputs)"
            )));
        }
    }
    let n = f.features.unwrap_or(2);
    let d = f.dims.unwrap_or(if n == 3 { 2 } else { 1 });
    let model = match (n, d) {
        (2, 1) => ToyModel::TwoInOne,
        (3, 2) => ToyModel::ThreeInTwo,
        _ => {
            return Err(usage(format!(
                "--model tms-relu has a closed-form theory for {SUPPORTED} only, got N = {n}, D = {d}"
            )));
        }
    };
    let (w, h) = parse_grid(f.grid.as_deref().unwrap_or("25x25"))?;
    let r_range = parse_range("--v-range", f.v_range.as_deref().unwrap_or("0.1:10"))?;
    let p_range = parse_range("--p-range", f.p_range.as_deref().unwrap_or("0.01:1"))?;
    if p_range.1 > 1.0 {
        return Err(usage(format!(
            "--p-range: the density p = 1 − S must be in (0, 1], got {}:{}",
            p_range.0, p_range.1
        )));
    }
    let seeds = f.seeds.unwrap_or(5);
    if seeds == 0 {
        return Err(usage("--seeds must be ≥ 1, got 0"));
    }
    let mut verifier = ElhageVerifier::new(model, seeds, f.seed)?;
    if let Some(s) = f.steps {
        if s == 0 {
            return Err(usage("--steps must be ≥ 1, got 0"));
        }
        verifier.training.steps = s;
    }
    if let Some(lr) = f.lr {
        verifier.training.lr = lr;
    }
    verifier.band = f.band_v.unwrap_or(0.1);
    if !(verifier.band.is_finite() && verifier.band >= 0.0) {
        return Err(usage(format!(
            "--band-v must be finite and ≥ 0, got {}",
            verifier.band
        )));
    }
    let shard = f.shard.as_deref().map(parse_shard).transpose()?;
    let count = (0..w * h)
        .filter(|&i| shard.is_none_or(|s| s.contains(i)))
        .count();
    let bar = progress((count * seeds) as u64, "verify");
    let report = verifier.run(r_range, p_range, w, h, shard, &|k| bar.inc(k as u64))?;
    bar.finish_and_clear();
    finish(&report, f.format, f.out.as_deref(), f.exit_zero)
}

fn finish(
    report: &ElhageReport,
    format: ReportFormat,
    out: Option<&std::path::Path>,
    exit_zero: bool,
) -> anyhow::Result<()> {
    let text = match format {
        ReportFormat::Json => {
            serde_json::to_string_pretty(report).context("serialising the report")? + "\n"
        }
        ReportFormat::Table => grid_table(report),
    };
    emit(out, &text)?;
    if exit_zero || report.passed() {
        return Ok(());
    }
    let s = &report.summary;
    let worst = report
        .points
        .iter()
        .find(|p| p.verdict == ElhageVerdict::Disagree)
        .map(|p| {
            format!(
                "; first at r = {}, p = {}: {}",
                num(p.ratio),
                num(p.density),
                p.reasons.join(", ")
            )
        })
        .unwrap_or_default();
    anyhow::bail!(
        "disagreement: {} of {} points off the boundaries differ, {} of {} dense losses outside (E13) ± {}{worst}",
        s.checked - s.agree,
        s.checked,
        s.loss_checked - s.loss_agree,
        s.loss_checked,
        report.settings.loss_relative
    )
}

/// True when `text` is the JSON of a tms-relu report (for `verify merge`).
pub(super) fn is_report(text: &str) -> bool {
    serde_json::from_str::<ElhageReport>(text).is_ok()
}

/// `polycap verify merge` of tms-relu shard reports.
pub(super) fn merge(
    files: &[PathBuf],
    format: ReportFormat,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut shards = Vec::with_capacity(files.len());
    for path in files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let r: ElhageReport = serde_json::from_str(&text).map_err(|e| {
            usage(format!(
                "{}: not a tms-relu verify report: {e}",
                path.display()
            ))
        })?;
        shards.push(r);
    }
    let report = ElhageReport::merge(shards)?;
    finish(&report, format, out.as_deref(), false)
}

fn verdict_text(v: ElhageVerdict) -> &'static str {
    match v {
        ElhageVerdict::Agree => "agree",
        ElhageVerdict::Disagree => "DISAGREE",
        ElhageVerdict::Boundary => "boundary",
        ElhageVerdict::Outside => "outside closed form",
    }
}

fn grid_table(r: &ElhageReport) -> String {
    let s = &r.settings;
    let mut out = format!(
        "polycap verify: {} vs {}, n = {} features in m = {} dims, best of {} seeds × {} steps ({} lr {}, batch {}); band {} decades; dense loss within {} of (E13); density p = 1 − S, r = importance of the extra feature\n",
        s.model,
        s.theory,
        s.features,
        s.dims,
        s.seeds,
        s.steps,
        s.optimizer,
        s.lr,
        s.batch,
        s.band,
        s.loss_relative
    );
    if let Some(sh) = r.shard {
        out += &format!("shard {}/{} (0-based)\n", sh.index, sh.count);
    }
    let rows: Vec<Vec<String>> = r
        .points
        .iter()
        .map(|p| {
            vec![
                p.index.to_string(),
                num(p.ratio),
                num(p.density),
                p.theory.name().into(),
                p.trained.name().into(),
                format!(
                    "{}/{}",
                    p.votes[Classified::ALL
                        .iter()
                        .position(|c| *c == p.trained)
                        .unwrap_or(0)],
                    s.seeds
                ),
                format!("{:.3}", p.extra_sq_norm),
                p.loss_relative.map_or("-".into(), |x| format!("{x:.2e}")),
                format!("{:.3}", p.boundary_distance),
                verdict_text(p.verdict).into(),
            ]
        })
        .collect();
    out += &table(
        &[
            "point",
            "r",
            "p",
            "theory",
            "trained",
            "votes",
            "‖W_extra‖²",
            "ΔL/L(E13)",
            "boundary dist",
            "verdict",
        ],
        &rows,
    );
    out += &summary_text(r);
    out
}

fn summary_text(r: &ElhageReport) -> String {
    let s = &r.summary;
    let mut out = format!(
        "{} of {} points off the boundaries agree ({:.1} %; of the {} that differ, {} stopped in a local minimum worse than the predicted configuration); {} within {} decades of a boundary reported separately ({} of them agree anyway); {} outside the closed form (n = 3, r > 1, p > 4/7)",
        s.agree,
        s.checked,
        100.0 * s.fraction,
        s.checked - s.agree,
        s.disagree_stuck,
        s.boundary,
        r.settings.band,
        s.boundary_within,
        s.outside
    );
    if s.outside > 0 {
        let parts: Vec<String> = Classified::ALL
            .iter()
            .zip(&s.outside_classes)
            .filter(|(_, k)| **k > 0)
            .map(|(c, k)| format!("{k} {}", c.name()))
            .collect();
        out += &format!(" trained as: {}", parts.join(", "));
    }
    out += &format!(
        "; dense losses: {} of {} within (E13) ± {} (max {:.2e})\n",
        s.loss_agree, s.loss_checked, r.settings.loss_relative, s.max_loss_relative
    );
    let fmt = |o: Option<f64>| o.map_or("-".to_string(), |x| format!("{x:+.3}"));
    out += &format!(
        "empirical boundary (step fit of the best seeds' classes) offset log₁₀(p_trained / p_theory), median: {} decades for r < 1, {} for r > 1; seeds reaching the predicted configuration: {:.1} % (checked points)\n",
        fmt(s.median_offset_below),
        fmt(s.median_offset_above),
        100.0 * s.seed_share
    );
    out
}
