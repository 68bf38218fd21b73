//! polycap's own training files: what `polycap train --save FILE` writes, and reading back
//! its `.safetensors`, `.npz` and `--format json` outputs.
//!
//! Tensors (float64), one row per instance (a density of the sweep), as the JAX reproduction
//! of the toy models stores its runs:
//!
//! | name | shape | content |
//! |---|---|---|
//! | `W` | `[instances, features, hidden]` | trained embedding, one feature per row (Wᵀ of D×N) |
//! | `b_final` | `[instances, biases]` | output bias (N for the autoencoders, 1 for the quadratic models) |
//! | `loss` | `[instances]` | final loss of the reported seed |
//! | `losses` | `[instances, points]` | loss curve at the steps `loss_steps` |
//! | `loss_steps` | `[points]` | optimisation steps of the curve |
//! | `seed` | `[instances]` | the reported (best) seed |
//! | `importance`, `density` | `[instances, features]` | the feature set of each instance |
//!
//! Metadata: `format` = `polycap-train`, `w_layout` = `[instances, features, hidden]`, and
//! `settings`: a JSON object of the run's settings (model, dims, steps, …).

use std::collections::BTreeMap;
use std::path::Path;

use nalgebra::DMatrix;
use serde_json::Value;

use super::{Archive, Array};
use crate::base::{Error, Result};

/// The `format` metadata of a polycap train file.
pub const FORMAT: &str = "polycap-train";
/// Name of the weights tensor.
pub const W_KEY: &str = "W";
/// The `w_layout` metadata.
pub const W_LAYOUT: &str = "[instances, features, hidden]";

/// One trained instance, as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedInstance {
    /// Trained W, D×N (columns = features).
    pub w: DMatrix<f64>,
    /// Output bias b_final.
    pub bias: Vec<f64>,
    /// Final loss of the reported seed.
    pub loss: f64,
    /// (step, loss) points of the loss curve.
    pub loss_curve: Vec<(usize, f64)>,
    /// The reported seed.
    pub seed: u64,
    /// Importances vᵢ.
    pub importance: Vec<f64>,
    /// Densities pᵢ = 1 − Sᵢ (empty when the feature set has none).
    pub density: Vec<f64>,
}

/// The arrays and metadata of a train file (see the module docs).
///
/// # Errors
/// [`Error::Format`] if there are no instances, or the instances differ in shape (W, bias,
/// loss-curve steps).
pub fn archive(instances: &[TrainedInstance], settings: &Value) -> Result<Archive> {
    let first = instances
        .first()
        .ok_or_else(|| Error::Format("no trained instances to save".into()))?;
    let k = instances.len();
    let ws: Vec<DMatrix<f64>> = instances.iter().map(|r| r.w.clone()).collect();
    let rows = |what: &str, f: &dyn Fn(&TrainedInstance) -> Vec<f64>| -> Result<Array> {
        let first_len = f(first).len();
        let mut data = Vec::with_capacity(k * first_len);
        for r in instances {
            let v = f(r);
            if v.len() != first_len {
                return Err(Error::Format(format!(
                    "{what}: instances differ in length ({} and {first_len})",
                    v.len()
                )));
            }
            data.extend(v);
        }
        Array::new(vec![k, first_len], data)
    };
    let steps: Vec<usize> = first.loss_curve.iter().map(|&(s, _)| s).collect();
    if instances.iter().any(|r| {
        r.loss_curve
            .iter()
            .map(|&(s, _)| s)
            .ne(steps.iter().copied())
    }) {
        return Err(Error::Format(
            "loss curves of the instances are taken at different steps".into(),
        ));
    }
    let mut arrays = vec![
        (W_KEY.to_string(), Array::stack(&ws, true)?),
        ("b_final".into(), rows("b_final", &|r| r.bias.clone())?),
        (
            "loss".into(),
            Array::new(vec![k], instances.iter().map(|r| r.loss).collect())?,
        ),
        (
            "losses".into(),
            rows("losses", &|r| {
                r.loss_curve.iter().map(|&(_, l)| l).collect()
            })?,
        ),
        (
            "loss_steps".into(),
            Array::new(vec![steps.len()], steps.iter().map(|&s| s as f64).collect())?,
        ),
        (
            "seed".into(),
            Array::new(vec![k], instances.iter().map(|r| r.seed as f64).collect())?,
        ),
        (
            "importance".into(),
            rows("importance", &|r| r.importance.clone())?,
        ),
    ];
    if instances.iter().all(|r| r.density.len() == r.w.ncols()) {
        arrays.push(("density".into(), rows("density", &|r| r.density.clone())?));
    }
    let metadata = BTreeMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("w_layout".to_string(), W_LAYOUT.to_string()),
        ("settings".to_string(), settings.to_string()),
    ]);
    Ok(Archive {
        arrays,
        skipped: Vec::new(),
        metadata,
    })
}

/// Writes a train file (`.safetensors`, `.npz`; see [`super::save`]).
///
/// # Errors
/// As [`archive`] and [`super::save`].
pub fn save(path: &Path, instances: &[TrainedInstance], settings: &Value) -> Result<()> {
    let a = archive(instances, settings)?;
    super::save(path, &a.arrays, &a.metadata)
}

/// Writes each trained instance as an SAE synthetic-model folder ([`super::synthetic`]):
/// `dir` itself for one instance, `dir/instance-K` (K from 1, as instances are numbered in every printed table) for several. The magnitude of a
/// firing feature is U\[0, 1) for the autoencoders (spec (E2): mean 1/2, standard deviation
/// 1/√12) and the standardised magnitude of the quadratic models (mean 0, variance 1).
///
/// # Errors
/// As [`super::synthetic::export`].
pub fn export_synthetic(
    dir: &Path,
    instances: &[TrainedInstance],
    unit_uniform_inputs: bool,
) -> Result<()> {
    let (mean, std) = if unit_uniform_inputs {
        (0.5, (1.0f64 / 12.0).sqrt())
    } else {
        (0.0, 1.0)
    };
    for (k, t) in instances.iter().enumerate() {
        let target = if instances.len() == 1 {
            dir.to_path_buf()
        } else {
            dir.join(format!("instance-{}", k + 1))
        };
        let world = super::synthetic::SyntheticModel {
            w: t.w.clone(),
            firing_probabilities: t.density.clone(),
            mean_magnitude: mean,
            std_magnitude: std,
            seed: Some(t.seed),
        };
        super::synthetic::export(&target, &world)?;
    }
    Ok(())
}

/// `Some("W")` for a polycap train file.
pub(crate) fn weights_key(archive: &Archive) -> Option<&'static str> {
    is_train_file(archive).then_some(W_KEY)
}

/// True for the `W` of a polycap train file: it stores one feature per row.
pub(crate) fn declares_features_as_rows(archive: &Archive, name: &str) -> bool {
    is_train_file(archive) && name == W_KEY
}

fn is_train_file(archive: &Archive) -> bool {
    archive.metadata.get("format").map(String::as_str) == Some(FORMAT)
}

/// Reads the `--format json` output of `polycap train` (its `instances[].w`, D×N rows) as a
/// train file holding `W`.
pub(crate) fn parse_json(bytes: &[u8]) -> std::result::Result<Archive, String> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not a JSON document: {e}"))?;
    let not_ours = || "JSON file is not a polycap train output (no instances[].w)".to_string();
    let instances = doc
        .get("instances")
        .and_then(Value::as_array)
        .ok_or_else(not_ours)?;
    let mut ws = Vec::with_capacity(instances.len());
    for (k, inst) in instances.iter().enumerate() {
        let rows = inst
            .get("w")
            .and_then(Value::as_array)
            .ok_or_else(not_ours)?;
        let mut data = Vec::new();
        let mut ncols = None;
        for row in rows {
            let row = row.as_array().ok_or_else(not_ours)?;
            if *ncols.get_or_insert(row.len()) != row.len() {
                return Err(format!("instance {}: ragged w", k + 1));
            }
            for x in row {
                data.push(
                    x.as_f64()
                        .ok_or_else(|| format!("instance {}: w holds {x}, not a number", k + 1))?,
                );
            }
        }
        ws.push(DMatrix::from_row_slice(
            rows.len(),
            ncols.unwrap_or(0),
            &data,
        ));
    }
    if ws.is_empty() {
        return Err("the train output has no instances".into());
    }
    let w = Array::stack(&ws, true).map_err(|e| e.to_string())?;
    Ok(Archive {
        arrays: vec![(W_KEY.to_string(), w)],
        skipped: Vec::new(),
        metadata: BTreeMap::from([("format".to_string(), FORMAT.to_string())]),
    })
}
