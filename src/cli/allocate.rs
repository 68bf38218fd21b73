//! `polycap allocate`: the optimal capacity allocation of the quadratic model for given
//! importances and densities (or kurtoses), as a table, JSON or CSV; `--exact` adds exact
//! fractions and certifies the floats (needs the `exact` feature).

use std::path::PathBuf;

use anyhow::Context;
use polycap::base::{FeatureSet, Magnitude};
use polycap::theory::allocation::{Allocation, Method, allocate};
use polycap::theory::quadratic::FeatureCurve;
use serde_json::{Value, json};

use super::output::{Format, check_out, csv_text, emit, num, table, usage};
use super::spec::{ValueSpec, feature_count};

/// Flags of `polycap allocate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Embedding dimension D (number of hidden neurons), ≥ 1. D ≥ N makes every feature
    /// monosemantic.
    #[arg(long, value_name = "D")]
    dims: usize,
    /// Importances vᵢ ≥ 0: `0.5,1,1` (one per feature, or one for all), `geom:R`,
    /// `const:X` or `first:V`.
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true)]
    importance: String,
    /// Densities p = 1 − S in (0, 1] (probability a feature is non-zero), same SPEC forms;
    /// kᵢ = Kurt[z]/pᵢ. Exclusive with --kurtosis.
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true)]
    density: Option<String>,
    /// Shape of the non-zero part with --density: uniform (default), gaussian, laplace,
    /// rademacher or student-t:NU.
    #[arg(long, value_name = "DIST")]
    input: Option<String>,
    /// Kurtoses kᵢ = E[xᵢ⁴] in [1, 1e12] directly, same SPEC forms. Exclusive with --density.
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true)]
    kurtosis: Option<String>,
    /// Number of features N (needed when no SPEC is an explicit list).
    #[arg(long, value_name = "N")]
    features: Option<usize>,
    /// Also print exact fractions and certify the floats against them (build with
    /// `--features exact`).
    #[arg(long)]
    exact: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Where the kurtoses came from.
enum Source {
    Density(Vec<f64>, Magnitude),
    Kurtosis,
}

/// Exact fractions for display (decimal inputs as typed) and the certificate of the floats
/// (against the exact solution of the very f64 inputs).
struct ExactView {
    capacity: Vec<String>,
    sq_norm: Vec<String>,
    lambda: Option<String>,
    mu: Option<String>,
    loss: String,
    max_capacity_error: f64,
    loss_rel_error: f64,
}

/// Runs `polycap allocate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    check_out(args.out.as_deref(), args.format)?;
    let importance = ValueSpec::parse("--importance", &args.importance)?;
    let (flag, spec_text) = match (&args.density, &args.kurtosis) {
        (Some(_), Some(_)) => {
            return Err(usage(
                "--density and --kurtosis are mutually exclusive: give one of them",
            ));
        }
        (None, None) => return Err(usage("give --density SPEC or --kurtosis SPEC")),
        (Some(d), None) => ("--density", d),
        (None, Some(k)) => ("--kurtosis", k),
    };
    if args.input.is_some() && args.density.is_none() {
        return Err(usage("--input only applies with --density"));
    }
    let per_feature = ValueSpec::parse(flag, spec_text)?;
    let n = feature_count(
        args.features,
        &[("--importance", &importance), (flag, &per_feature)],
    )?;
    let v = importance.expand("--importance", n)?;
    let values = per_feature.expand(flag, n)?;
    let (features, source) = if args.density.is_some() {
        let magnitude = Magnitude::parse(args.input.as_deref().unwrap_or("uniform"))?;
        let f = FeatureSet::from_densities(v, &values, magnitude)?;
        (f, Source::Density(values, magnitude))
    } else {
        (FeatureSet::from_kurtosis(v, values)?, Source::Kurtosis)
    };
    let alloc = allocate(&features, args.dims)?;
    alloc
        .check_kkt(1e-9)
        .context("the allocation failed its KKT self-test")?;
    let exact = if args.exact {
        Some(exact_view(&features, &source, &alloc, args.dims)?)
    } else {
        None
    };
    let text = render(&features, &source, &alloc, exact.as_ref(), args.format)?;
    emit(args.out.as_deref(), &text)
}

#[cfg(not(feature = "exact"))]
fn exact_view(
    _features: &FeatureSet,
    _source: &Source,
    _alloc: &Allocation,
    _dims: usize,
) -> anyhow::Result<ExactView> {
    Err(usage(
        "--exact needs exact rational arithmetic, which this binary was built without: \
         rebuild with `cargo build --release --features exact`",
    ))
}

#[cfg(feature = "exact")]
fn exact_view(
    features: &FeatureSet,
    source: &Source,
    alloc: &Allocation,
    dims: usize,
) -> anyhow::Result<ExactView> {
    use polycap::theory::exact::{
        allocate_exact, certify, from_decimal, from_f64, sparse_kurtosis,
    };
    let v = features.importance();
    let k = features.kurtosis();
    // Certificate: the exact solution of exactly the f64 inputs the float solver saw.
    let ve = v
        .iter()
        .map(|&x| from_f64(x))
        .collect::<Result<Vec<_>, _>>()?;
    let ke = k
        .iter()
        .map(|&x| from_f64(x))
        .collect::<Result<Vec<_>, _>>()?;
    let dyadic = allocate_exact(&ve, &ke, dims)?;
    let d = certify(alloc, &dyadic, 1e-12).context("exact certification of the f64 result")?;
    // Display: the decimal inputs as typed (p = 0.1 is 1/10, so k = 9/(5p) = 18).
    let vd = v
        .iter()
        .map(|&x| from_decimal(x))
        .collect::<Result<Vec<_>, _>>()?;
    let kd = match source {
        Source::Density(p, m) => p
            .iter()
            .map(|&x| from_decimal(x).and_then(|p| sparse_kurtosis(&p, *m)))
            .collect::<Result<Vec<_>, _>>()?,
        Source::Kurtosis => k
            .iter()
            .map(|&x| from_decimal(x))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let shown = allocate_exact(&vd, &kd, dims)?;
    Ok(ExactView {
        capacity: shown.capacity.iter().map(ToString::to_string).collect(),
        sq_norm: shown.sq_norm.iter().map(ToString::to_string).collect(),
        lambda: shown.lambda.as_ref().map(ToString::to_string),
        mu: shown.mu.as_ref().map(ToString::to_string),
        loss: shown.loss.to_string(),
        max_capacity_error: d.capacity,
        loss_rel_error: d.loss,
    })
}

/// Marginal benefit mᵢ(Cᵢ) (Q16) at the optimum.
fn marginal(features: &FeatureSet, alloc: &Allocation, i: usize) -> f64 {
    FeatureCurve {
        importance: features.importance()[i],
        kurtosis: features.kurtosis()[i],
    }
    .marginal_benefit(alloc.capacity[i])
}

fn render(
    features: &FeatureSet,
    source: &Source,
    alloc: &Allocation,
    exact: Option<&ExactView>,
    format: Format,
) -> anyhow::Result<String> {
    let n = features.len();
    let density = |i: usize| match source {
        Source::Density(p, _) => Some(p[i]),
        Source::Kurtosis => None,
    };
    match format {
        Format::Json => {
            let rows: Vec<Value> = (0..n)
                .map(|i| {
                    let mut row = json!({
                        "importance": features.importance()[i],
                        "density": density(i),
                        "kurtosis": features.kurtosis()[i],
                        "capacity": alloc.capacity[i],
                        "sq_norm": alloc.sq_norm[i],
                        "phase": alloc.phase[i].name(),
                        "marginal_benefit": marginal(features, alloc, i),
                    });
                    if let Some(e) = exact {
                        row["capacity_exact"] = json!(e.capacity[i]);
                        row["sq_norm_exact"] = json!(e.sq_norm[i]);
                    }
                    row
                })
                .collect();
            let mut doc = json!({
                "lambda": alloc.lambda,
                "mu": alloc.mu,
                "loss": alloc.loss,
                "total_capacity": alloc.total_capacity,
                "dims": alloc.dims,
                "method": alloc.method.name(),
                "ties": alloc.ties,
                "kkt_max_residual": alloc.kkt.max_residual,
                "features": rows,
            });
            if let Source::Density(_, m) = source {
                doc["input"] = json!(m.name());
            }
            if let Some(e) = exact {
                doc["lambda_exact"] = json!(e.lambda);
                doc["mu_exact"] = json!(e.mu);
                doc["loss_exact"] = json!(e.loss);
                doc["certified"] = json!(true);
                doc["certificate"] = json!({
                    "max_capacity_error": e.max_capacity_error,
                    "loss_relative_error": e.loss_rel_error,
                });
            }
            Ok(format!("{}\n", serde_json::to_string_pretty(&doc)?))
        }
        Format::Csv => {
            let mut header = vec![
                "feature",
                "importance",
                "density",
                "kurtosis",
                "capacity",
                "sq_norm",
                "phase",
                "marginal_benefit",
            ];
            if exact.is_some() {
                header.extend(["capacity_exact", "sq_norm_exact"]);
            }
            let rows: Vec<Vec<String>> = (0..n)
                .map(|i| {
                    let mut row = vec![
                        (i + 1).to_string(),
                        features.importance()[i].to_string(),
                        density(i).map(|p| p.to_string()).unwrap_or_default(),
                        features.kurtosis()[i].to_string(),
                        alloc.capacity[i].to_string(),
                        alloc.sq_norm[i].to_string(),
                        alloc.phase[i].name().to_string(),
                        marginal(features, alloc, i).to_string(),
                    ];
                    if let Some(e) = exact {
                        row.push(e.capacity[i].clone());
                        row.push(e.sq_norm[i].clone());
                    }
                    row
                })
                .collect();
            csv_text(&header, &rows)
        }
        Format::Table => {
            let mut header = vec![
                "feature",
                "v",
                "p = 1 − S",
                "k",
                "C",
                "n = ‖W‖²",
                "phase",
                "m(C)",
            ];
            if exact.is_some() {
                header.extend(["C exact", "n exact"]);
            }
            let rows: Vec<Vec<String>> = (0..n)
                .map(|i| {
                    let mut row = vec![
                        (i + 1).to_string(),
                        num(features.importance()[i]),
                        density(i).map(num).unwrap_or_else(|| "-".into()),
                        num(features.kurtosis()[i]),
                        num(alloc.capacity[i]),
                        num(alloc.sq_norm[i]),
                        alloc.phase[i].name().to_string(),
                        num(marginal(features, alloc, i)),
                    ];
                    if let Some(e) = exact {
                        row.push(e.capacity[i].clone());
                        row.push(e.sq_norm[i].clone());
                    }
                    row
                })
                .collect();
            let mut s = table(&header, &rows);
            let opt = |x: Option<f64>| x.map(num).unwrap_or_else(|| "not unique".into());
            let with_exact = |x: String, e: Option<&String>| match e {
                Some(e) => format!("{x}  (exact {e})"),
                None => x,
            };
            s.push('\n');
            s.push_str(&format!(
                "λ = n/C of fractional features: {}\n",
                with_exact(opt(alloc.lambda), exact.and_then(|e| e.lambda.as_ref()))
            ));
            s.push_str(&format!(
                "μ = 2λ² (common marginal benefit): {}\n",
                with_exact(opt(alloc.mu), exact.and_then(|e| e.mu.as_ref()))
            ));
            s.push_str(&format!(
                "L* = Σ Lᵢ*(Cᵢ): {}\n",
                with_exact(num(alloc.loss), exact.map(|e| &e.loss))
            ));
            s.push_str(&format!(
                "ΣC = {} (D = {}), method {}, KKT residual {:.1e}\n",
                num(alloc.total_capacity),
                alloc.dims.unwrap_or(0),
                alloc.method.name(),
                alloc.kkt.max_residual
            ));
            if let Source::Density(_, m) = source {
                s.push_str(&format!(
                    "p = density = 1 − S: probability that a feature is non-zero; non-zero \
                     part {}, k = Kurt/p\n",
                    m.name()
                ));
            }
            if alloc.mu.is_none() && alloc.method != Method::AllFull {
                s.push_str(
                    "note: every feature is integral and the multipliers μ satisfying the KKT \
                     conditions form an interval, so λ and μ are not unique\n",
                );
            }
            if alloc.ties {
                s.push_str(
                    "note: the optimum is not unique (k = 3 or tied (k−1)v² at the cut); \
                     ties were broken by lower feature index\n",
                );
            }
            if let Some(e) = exact {
                s.push_str(&format!(
                    "exact: fractions for the decimal inputs as typed; f64 certified against \
                     the exact solution (max |ΔC| {:.1e}, relative ΔL* {:.1e})\n",
                    e.max_capacity_error, e.loss_rel_error
                ));
            }
            Ok(s)
        }
    }
}
