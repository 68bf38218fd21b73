//! Per-feature parameters shared by theory and training: importances vᵢ and the input
//! law of each feature (density pᵢ and magnitude shape), or directly its kurtosis kᵢ.

use super::{Error, Magnitude, Result, SparseInput};

/// A validated set of N features: importance vᵢ ≥ 0 and kurtosis kᵢ ≥ 1 for each, and —
/// when the features were given as distributions — the input law behind each kᵢ.
///
/// Densities and kurtoses may differ per feature (spec §12.1).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSet {
    importance: Vec<f64>,
    kurtosis: Vec<f64>,
    inputs: Option<Vec<SparseInput>>,
}

impl FeatureSet {
    /// Features given by their importances and kurtoses k = E\[x⁴\] (finite, ≥ 1).
    pub fn from_kurtosis(importance: Vec<f64>, kurtosis: Vec<f64>) -> Result<Self> {
        check_importance(&importance)?;
        if kurtosis.len() != importance.len() {
            return Err(Error::Length {
                what: "kurtosis",
                expected: importance.len(),
                got: kurtosis.len(),
            });
        }
        for (index, &value) in kurtosis.iter().enumerate() {
            if !(value.is_finite() && value >= 1.0) {
                return Err(Error::Kurtosis {
                    index,
                    value,
                    bound: "≥ 1",
                });
            }
        }
        Ok(FeatureSet {
            importance,
            kurtosis,
            inputs: None,
        })
    }

    /// Features given by their importances and input laws; kᵢ = Kurt\[zᵢ\]/pᵢ (spec (Q4)).
    pub fn from_inputs(importance: Vec<f64>, inputs: Vec<SparseInput>) -> Result<Self> {
        check_importance(&importance)?;
        if inputs.len() != importance.len() {
            return Err(Error::Length {
                what: "density",
                expected: importance.len(),
                got: inputs.len(),
            });
        }
        for (index, input) in inputs.iter().enumerate() {
            if !(input.density.is_finite() && input.density > 0.0 && input.density <= 1.0) {
                return Err(Error::Density {
                    index,
                    value: input.density,
                });
            }
        }
        let kurtosis = inputs.iter().map(SparseInput::kurtosis).collect();
        Ok(FeatureSet {
            importance,
            kurtosis,
            inputs: Some(inputs),
        })
    }

    /// Sparse features with per-feature densities and one magnitude shape.
    pub fn from_densities(
        importance: Vec<f64>,
        density: &[f64],
        magnitude: Magnitude,
    ) -> Result<Self> {
        let inputs = density
            .iter()
            .map(|&p| SparseInput {
                density: p,
                magnitude,
            })
            .collect();
        Self::from_inputs(importance, inputs)
    }

    /// Number of features N.
    pub fn len(&self) -> usize {
        self.importance.len()
    }

    /// True when there are no features (never for a validated set).
    pub fn is_empty(&self) -> bool {
        self.importance.is_empty()
    }

    /// Importances vᵢ (spec (Q1)).
    pub fn importance(&self) -> &[f64] {
        &self.importance
    }

    /// Kurtoses kᵢ = E\[xᵢ⁴\] (Pearson; spec §1).
    pub fn kurtosis(&self) -> &[f64] {
        &self.kurtosis
    }

    /// Input laws, when the features were given as distributions.
    pub fn inputs(&self) -> Option<&[SparseInput]> {
        self.inputs.as_deref()
    }

    /// Densities pᵢ = 1 − Sᵢ, when known.
    pub fn densities(&self) -> Option<Vec<f64>> {
        self.inputs
            .as_ref()
            .map(|v| v.iter().map(|x| x.density).collect())
    }
}

fn check_importance(importance: &[f64]) -> Result<()> {
    if importance.is_empty() {
        return Err(Error::NoFeatures);
    }
    for (index, &value) in importance.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0) {
            return Err(Error::Importance { index, value });
        }
    }
    Ok(())
}
