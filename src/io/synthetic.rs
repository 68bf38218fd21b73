//! The synthetic-model folder of the SAE libraries (SAELens' `SyntheticModel.save` /
//! `load_from_disk`): a toy world of known features, for training sparse autoencoders against
//! ground truth.
//!
//! The folder holds
//! * `synthetic_model.safetensors` (float32): `feature_vectors` `[features, hidden]` (row i is
//!   feature i's embedding Wᵢ, the i-th column of W), `bias` `[hidden]` (added to every hidden
//!   vector; zero for the toy models, whose hidden layer has none) and `firing_probabilities`
//!   `[features]` (the densities pᵢ);
//! * `synthetic_model_config.json`: `num_features`, `hidden_dim`, a `firing_probability`
//!   generator (`constant` when all pᵢ agree, else `linear` between the extremes; the loader
//!   replaces its values by the saved tensor), the magnitudes' mean and standard deviation
//!   when a feature fires, `bias: false`, `dtype: "float32"`, `seed`, and the optional parts
//!   (`hierarchy`, `orthogonalization`, `correlation`) as `null`.
//!
//! A hidden vector is h = Σᵢ xᵢ Wᵢ + bias, the same map as the toy models' h = W x.

use std::collections::BTreeMap;
use std::path::Path;

use nalgebra::DMatrix;
use serde_json::json;

use super::safetensors::Precision;
use super::{Archive, Array};
use crate::base::{Error, Result};

/// The config file of the folder.
pub const CONFIG_FILE: &str = "synthetic_model_config.json";
/// The weights file of the folder.
pub const WEIGHTS_FILE: &str = "synthetic_model.safetensors";
/// Name of the feature-vector tensor.
pub const FEATURES_KEY: &str = "feature_vectors";

/// A toy world of features, as the SAE libraries load it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticModel {
    /// Embedding W, D×N: column i is feature i's vector.
    pub w: DMatrix<f64>,
    /// Firing probability (density) pᵢ of each feature.
    pub firing_probabilities: Vec<f64>,
    /// Mean of a feature's magnitude when it fires.
    pub mean_magnitude: f64,
    /// Standard deviation of a feature's magnitude when it fires.
    pub std_magnitude: f64,
    /// The seed that produced W, if any.
    pub seed: Option<u64>,
}

/// Writes the folder `dir` (created if missing; each file written atomically).
///
/// # Errors
/// [`Error::Format`] if the probabilities do not match W's columns or lie outside (0, 1], or
/// W has a non-finite entry; [`Error::Io`] if the folder or files cannot be written.
pub fn export(dir: &Path, model: &SyntheticModel) -> Result<()> {
    let (d, n) = model.w.shape();
    let p = &model.firing_probabilities;
    if p.len() != n {
        return Err(Error::Format(format!(
            "{} firing probabilities for {n} features",
            p.len()
        )));
    }
    if let Some(&bad) = p.iter().find(|&&x| !(x > 0.0 && x <= 1.0)) {
        return Err(Error::Format(format!(
            "firing probability must be in (0, 1], got {bad}"
        )));
    }
    if model.w.iter().any(|x| !x.is_finite()) {
        return Err(Error::Format("W has a non-finite entry".into()));
    }
    let (lo, hi) = p.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    });
    let firing = if hi - lo <= 1e-15 * hi {
        json!({"generator_name": "constant", "probability": hi})
    } else {
        json!({"generator_name": "linear", "max_prob": hi, "min_prob": lo})
    };
    let config = json!({
        "num_features": n,
        "hidden_dim": d,
        "firing_probability": firing,
        "hierarchy": null,
        "orthogonalization": null,
        "correlation": null,
        "std_firing_magnitudes": model.std_magnitude,
        "mean_firing_magnitudes": model.mean_magnitude,
        "bias": false,
        "dtype": "float32",
        "seed": model.seed,
    });
    let arrays = vec![
        (
            FEATURES_KEY.to_string(),
            Array::stack(std::slice::from_ref(&model.w), true)
                .and_then(|a| Array::new(vec![n, d], a.data().to_vec()))?,
        ),
        ("bias".to_string(), Array::new(vec![d], vec![0.0; d])?),
        (
            "firing_probabilities".to_string(),
            Array::new(vec![n], p.clone())?,
        ),
    ];
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Io(format!("cannot create {}: {e}", dir.display())))?;
    let weights = dir.join(WEIGHTS_FILE);
    let bytes = super::encode(&weights, &arrays, &BTreeMap::new(), Precision::F32)?;
    super::write_atomic(&weights, &bytes)?;
    let text = serde_json::to_string_pretty(&config)
        .map_err(|e| Error::Format(format!("config: {e}")))?
        + "\n";
    super::write_atomic(&dir.join(CONFIG_FILE), text.as_bytes())
}

/// `Some("feature_vectors")` for a synthetic model's weights.
pub(crate) fn weights_key(archive: &Archive) -> Option<&'static str> {
    is_synthetic(archive).then_some(FEATURES_KEY)
}

/// True for `feature_vectors` of a synthetic model: `[features, hidden]`.
pub(crate) fn declares_features_as_rows(archive: &Archive, name: &str) -> bool {
    is_synthetic(archive) && name == FEATURES_KEY
}

fn is_synthetic(archive: &Archive) -> bool {
    archive.get(FEATURES_KEY).is_some() && archive.get("firing_probabilities").is_some()
}
