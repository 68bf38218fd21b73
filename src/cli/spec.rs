//! Per-feature value lists on the command line (`--importance`, `--density`, `--kurtosis`):
//!
//! * `0.5,1,1,1,1,1` — one value per feature, or a single value for all;
//! * `geom:R` — Rⁱ for i = 0..N−1 (needs N from `--features` or another list);
//! * `const:X` — X for every feature;
//! * `first:V` — V for the first feature, 1 for the others.

use polycap::base::resources;

use super::output::usage;

/// A parsed SPEC, not yet expanded to a length.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueSpec {
    /// Explicit values (length 1 means "all features").
    List(Vec<f64>),
    /// Rⁱ, i = 0..N−1.
    Geom(f64),
    /// One constant.
    Const(f64),
    /// First V, the others 1.
    First(f64),
}

impl ValueSpec {
    /// Parses a SPEC; `flag` names the flag in error messages.
    pub fn parse(flag: &str, s: &str) -> anyhow::Result<Self> {
        let num = |t: &str| -> anyhow::Result<f64> {
            t.trim()
                .parse::<f64>()
                .map_err(|_| usage(format!("{flag}: '{t}' is not a number (in '{s}')")))
        };
        let s = s.trim();
        if s.is_empty() {
            return Err(usage(format!("{flag}: empty value list")));
        }
        if let Some(r) = s.strip_prefix("geom:") {
            return Ok(ValueSpec::Geom(num(r)?));
        }
        if let Some(r) = s.strip_prefix("const:") {
            return Ok(ValueSpec::Const(num(r)?));
        }
        if let Some(r) = s.strip_prefix("first:") {
            return Ok(ValueSpec::First(num(r)?));
        }
        let values = s.split(',').map(num).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(ValueSpec::List(values))
    }

    /// The number of features this SPEC fixes by itself (a list of more than one value).
    pub fn implied_len(&self) -> Option<usize> {
        match self {
            ValueSpec::List(v) if v.len() > 1 => Some(v.len()),
            _ => None,
        }
    }

    /// Expands to exactly `n` values.
    pub fn expand(&self, flag: &str, n: usize) -> anyhow::Result<Vec<f64>> {
        Ok(match self {
            ValueSpec::List(v) if v.len() == 1 => vec![v[0]; n],
            ValueSpec::List(v) => {
                if v.len() != n {
                    return Err(usage(format!(
                        "{flag}: expected {n} values (one per feature), got {}",
                        v.len()
                    )));
                }
                v.clone()
            }
            ValueSpec::Geom(r) => (0..n).map(|i| r.powi(i as i32)).collect(),
            ValueSpec::Const(x) => vec![*x; n],
            ValueSpec::First(v) => (0..n).map(|i| if i == 0 { *v } else { 1.0 }).collect(),
        })
    }
}

/// Resolves the feature count N from `--features` and the SPECs: every explicit list must
/// agree with it; without any, N is an error.
pub fn feature_count(
    features: Option<usize>,
    specs: &[(&str, &ValueSpec)],
) -> anyhow::Result<usize> {
    let mut n = features;
    if n == Some(0) {
        return Err(usage("--features must be ≥ 1, got 0"));
    }
    for (flag, spec) in specs {
        if let Some(m) = spec.implied_len() {
            match n {
                None => n = Some(m),
                Some(k) if k != m => {
                    return Err(usage(format!(
                        "{flag}: expected {k} values (one per feature), got {m}"
                    )));
                }
                _ => {}
            }
        }
    }
    let n = n.ok_or_else(|| {
        usage("cannot tell the number of features: give --features N or a list with one value per feature")
    })?;
    // Per feature: its parameters, the solver's work arrays and a line of output.
    resources::check_memory("--features", n, 256.0 * n as f64)?;
    Ok(n)
}

/// `logspace:HI:LO:K` — K values log-spaced from HI to LO inclusive.
#[allow(dead_code)]
pub fn parse_logspace(flag: &str, s: &str) -> anyhow::Result<Vec<f64>> {
    let parts: Vec<&str> = s
        .strip_prefix("logspace:")
        .ok_or_else(|| usage(format!("{flag}: expected logspace:HI:LO:K, got '{s}'")))?
        .split(':')
        .collect();
    if parts.len() != 3 {
        return Err(usage(format!(
            "{flag}: expected logspace:HI:LO:K, got '{s}'"
        )));
    }
    let hi: f64 = parts[0]
        .parse()
        .map_err(|_| usage(format!("{flag}: '{}' is not a number", parts[0])))?;
    let lo: f64 = parts[1]
        .parse()
        .map_err(|_| usage(format!("{flag}: '{}' is not a number", parts[1])))?;
    let k: usize = parts[2]
        .parse()
        .map_err(|_| usage(format!("{flag}: '{}' is not a count", parts[2])))?;
    if !(hi > 0.0 && lo > 0.0 && hi.is_finite() && lo.is_finite()) || k == 0 {
        return Err(usage(format!(
            "{flag}: need HI, LO > 0 and K ≥ 1, got '{s}'"
        )));
    }
    resources::check_memory(flag, s, 8.0 * k as f64)?;
    if k == 1 {
        return Ok(vec![hi]);
    }
    let (a, b) = (hi.ln(), lo.ln());
    Ok((0..k)
        .map(|i| (a + (b - a) * i as f64 / (k - 1) as f64).exp())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_each_form() {
        let e = |s: &str, n| ValueSpec::parse("--x", s).and_then(|v| v.expand("--x", n));
        assert_eq!(e("0.5,1,1", 3).ok(), Some(vec![0.5, 1.0, 1.0]));
        assert_eq!(e("2", 3).ok(), Some(vec![2.0; 3]));
        assert_eq!(e("geom:0.5", 3).ok(), Some(vec![1.0, 0.5, 0.25]));
        assert_eq!(e("const:3", 2).ok(), Some(vec![3.0; 2]));
        assert_eq!(e("first:7", 3).ok(), Some(vec![7.0, 1.0, 1.0]));
        assert!(e("1,2", 3).is_err());
        assert!(e("1,x", 2).is_err());
        let l = parse_logspace("--d", "logspace:1:0.001:4")
            .ok()
            .unwrap_or_default();
        assert_eq!(l.len(), 4);
        assert!((l[3] - 0.001).abs() < 1e-15 && (l[1] - 0.1).abs() < 1e-15);
    }
}
