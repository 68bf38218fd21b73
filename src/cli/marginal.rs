//! `polycap marginal`: marginal-benefit curves m_i(C) = −dL_i*/dC (Q16) of every feature, the
//! equal-returns threshold μ and the optimal allocation on the curves (spec Fig. 2 with
//! `--lambda`, the A–F panels of Fig. 4 with `--dims`).

use std::path::PathBuf;

use polycap::base::{FeatureSet, Magnitude, resources};
use polycap::theory::phase::{Budget, MarginalCurves, marginal_curves};
use serde_json::{Value, json};

use super::output::{Format, check_out, csv_text, emit, num, table, usage};
use super::spec::{ValueSpec, feature_count};

/// Flags of `polycap marginal`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Importances vᵢ: a list `0.5,1,1`, `geom:R`, `const:X` or `first:V`.
    #[arg(long, allow_hyphen_values = true)]
    importance: String,
    /// Kurtoses kᵢ = E[xᵢ⁴] (same SPEC forms); alternative to --density.
    #[arg(long, allow_hyphen_values = true)]
    kurtosis: Option<String>,
    /// Densities pᵢ = 1 − Sᵢ (same SPEC forms), with --input; alternative to --kurtosis.
    #[arg(long, allow_hyphen_values = true)]
    density: Option<String>,
    /// Magnitude law with --density: uniform (default), gaussian, laplace, rademacher,
    /// student-t:NU.
    #[arg(long)]
    input: Option<String>,
    /// Number of features N (needed by geom:/const:/first: SPECs without a list).
    #[arg(long)]
    features: Option<usize>,
    /// Embedding dimension D: the optimal allocation Σ Cᵢ = D (alternative to --lambda).
    #[arg(long)]
    dims: Option<usize>,
    /// Prescribed λ = √(μ/2) and no D (A8): Σ Cᵢ need not be an integer.
    #[arg(long, allow_negative_numbers = true)]
    lambda: Option<f64>,
    /// Number of capacity points from 0 to 1 (≥ 2).
    #[arg(long, default_value_t = 101)]
    points: usize,
    /// Output format (features numbered from 1; JSON: "index_base": 1).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs `polycap marginal`.
pub fn run(args: Args) -> anyhow::Result<()> {
    check_out(args.out.as_deref(), args.format)?;
    if args.input.is_some() && args.density.is_none() {
        return Err(usage("--input only applies with --density"));
    }
    let imp = ValueSpec::parse("--importance", &args.importance)?;
    let (law_flag, law) = match (&args.kurtosis, &args.density) {
        (Some(k), None) => ("--kurtosis", ValueSpec::parse("--kurtosis", k)?),
        (None, Some(p)) => ("--density", ValueSpec::parse("--density", p)?),
        (Some(_), Some(_)) => {
            return Err(usage(
                "give either --kurtosis or --density (with --input), not both",
            ));
        }
        (None, None) => {
            return Err(usage(
                "give the input law: --kurtosis SPEC or --density SPEC (with --input)",
            ));
        }
    };
    let budget = match (args.dims, args.lambda) {
        (Some(d), None) => Budget::Dims(d),
        (None, Some(l)) => Budget::Lambda(l),
        (Some(_), Some(_)) => return Err(usage("give either --dims or --lambda, not both")),
        (None, None) => {
            return Err(usage(
                "give the budget: --dims D (optimal allocation) or --lambda L (prescribed λ)",
            ));
        }
    };
    if args.points < 2 {
        return Err(usage(format!("--points must be ≥ 2, got {}", args.points)));
    }
    let n = feature_count(args.features, &[("--importance", &imp), (law_flag, &law)])?;
    let v = imp.expand("--importance", n)?;
    let values = law.expand(law_flag, n)?;
    let features = if args.density.is_some() {
        let input = Magnitude::parse(args.input.as_deref().unwrap_or("uniform"))?;
        FeatureSet::from_densities(v, &values, input)?
    } else {
        FeatureSet::from_kurtosis(v, values)?
    };
    // The rendered text: about 350 bytes per (feature, point) as CSV rows, 40 as JSON.
    let per_value = match args.format {
        Format::Csv => 350.0,
        Format::Json => 40.0,
        Format::Table => 0.0,
    };
    let values = args.points as f64 * n as f64;
    resources::check_memory("--points", args.points, per_value * values)?;
    let curves = marginal_curves(&features, budget, args.points)?;
    let text = match args.format {
        Format::Table => render_table(&features, budget, &curves),
        Format::Json => {
            serde_json::to_string_pretty(&render_json(&features, budget, &curves))? + "\n"
        }
        Format::Csv => render_csv(&curves)?,
    };
    emit(args.out.as_deref(), &text)
}

fn finite(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

fn budget_text(budget: Budget, c: &MarginalCurves) -> String {
    match budget {
        Budget::Dims(d) => format!(
            "optimal allocation in D = {d} dimensions ({})",
            c.allocation.method.name()
        ),
        Budget::Lambda(l) => format!(
            "prescribed λ = {} (A8): total capacity D_eff = {}",
            num(l),
            num(c.allocation.total_capacity)
        ),
    }
}

fn render_table(features: &FeatureSet, budget: Budget, c: &MarginalCurves) -> String {
    let mut out = format!(
        "Marginal benefit m_i(C) = 2(k−1)²v²/((k−3)C + 2)² of {} features; {}\n",
        features.len(),
        budget_text(budget, c)
    );
    let dens = features.densities();
    let mut rows = Vec::new();
    for (i, f) in c.features.iter().enumerate() {
        rows.push(vec![
            (i + 1).to_string(),
            num(f.importance),
            dens.as_ref().map_or("-".into(), |d| num(d[i])),
            num(f.kurtosis),
            c.allocation.phase[i].name().to_string(),
            num(c.allocation.capacity[i]),
            num(c.optimum_benefit[i]),
            num(f.marginal_benefit(0.0)),
            num(f.marginal_benefit(1.0)),
        ]);
    }
    out.push_str(&table(
        &[
            "feature",
            "importance v",
            "density p",
            "kurtosis k",
            "phase",
            "C_i",
            "m_i(C_i)",
            "m_i(0)",
            "m_i(1)",
        ],
        &rows,
    ));
    match (c.allocation.mu, c.allocation.lambda) {
        (Some(mu), Some(l)) => out.push_str(&format!(
            "threshold μ = 2λ² = {} (λ = {})\n",
            num(mu),
            num(l)
        )),
        _ => out.push_str(&format!(
            "threshold μ not unique: any μ in [{}, {}] satisfies the KKT conditions (K3)\n",
            num(c.threshold.0),
            num(c.threshold.1)
        )),
    }
    out.push_str(&format!(
        "total capacity = {}, optimal loss L* = {}{}\n",
        num(c.allocation.total_capacity),
        num(c.allocation.loss),
        if c.allocation.ties {
            " (ties broken by lower index)"
        } else {
            ""
        }
    ));
    out.push_str(&format!(
        "curves: {} capacity points per feature (use --format json or csv)\n",
        c.capacity.len()
    ));
    out
}

fn render_json(features: &FeatureSet, budget: Budget, c: &MarginalCurves) -> Value {
    let dens = features.densities();
    let feats: Vec<Value> = c
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            json!({
                "feature": i + 1,
                "importance": f.importance,
                "kurtosis": f.kurtosis,
                "density": dens.as_ref().map(|d| d[i]),
                "capacity": c.allocation.capacity[i],
                "phase": c.allocation.phase[i].name(),
                "benefit_at_optimum": c.optimum_benefit[i],
                "benefit": c.benefit[i],
            })
        })
        .collect();
    json!({
        "index_base": 1,
        "budget": match budget {
            Budget::Dims(d) => json!({"dims": d}),
            Budget::Lambda(l) => json!({"lambda": l}),
        },
        "method": c.allocation.method.name(),
        "capacity_grid": c.capacity,
        "features": feats,
        "mu": c.allocation.mu,
        "lambda": c.allocation.lambda,
        "threshold_range": [finite(c.threshold.0), finite(c.threshold.1)],
        "total_capacity": c.allocation.total_capacity,
        "loss": c.allocation.loss,
        "ties": c.allocation.ties,
    })
}

fn render_csv(c: &MarginalCurves) -> anyhow::Result<String> {
    let mut rows = Vec::new();
    for (i, f) in c.features.iter().enumerate() {
        for (j, &cap) in c.capacity.iter().enumerate() {
            rows.push(vec![
                "curve".into(),
                (i + 1).to_string(),
                format!("{}", f.importance),
                format!("{}", f.kurtosis),
                format!("{cap}"),
                format!("{}", c.benefit[i][j]),
            ]);
        }
    }
    for (i, f) in c.features.iter().enumerate() {
        rows.push(vec![
            "optimum".into(),
            (i + 1).to_string(),
            format!("{}", f.importance),
            format!("{}", f.kurtosis),
            format!("{}", c.allocation.capacity[i]),
            format!("{}", c.optimum_benefit[i]),
        ]);
    }
    if let Some(mu) = c.allocation.mu {
        rows.push(vec![
            "threshold".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format!("{mu}"),
        ]);
    }
    csv_text(
        &[
            "kind",
            "feature",
            "importance",
            "kurtosis",
            "capacity",
            "marginal_benefit",
        ],
        &rows,
    )
}
