//! Per-feature parameters shared by theory and training: importances vᵢ and the input
//! law of each feature (density pᵢ and magnitude shape), or directly its kurtosis kᵢ.

use super::{Error, Magnitude, Result, SparseInput};

/// Largest admissible importance vᵢ. The closed forms square products like (kᵢ − 1)vᵢ, and
/// the allocation sweep (A7) compares breakpoints 2/((kᵢ−1)vᵢ) and 1/vᵢ of all features on
/// one axis: property tests with vᵢ up to 10¹⁶ and kᵢ up to 10¹⁶ pass, while vᵢ ~ 10²⁵ with
/// kᵢ ~ 10⁵⁵ broke the sweep's f64 arithmetic (derivations/allocation.md §8). 10¹² leaves
/// margin on both sides.
pub const MAX_IMPORTANCE: f64 = 1e12;

/// Largest admissible kurtosis kᵢ = E\[xᵢ⁴\] (also when it comes from a density, k = Kurt/p:
/// densities below Kurt\[z\]/1e12 are rejected through it).
pub const MAX_KURTOSIS: f64 = 1e12;

/// The bound text of an out-of-range kurtosis given directly.
const KURTOSIS_RANGE: &str = "in [1, 1e12]";

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
    /// Features given by their importances vᵢ ∈ \[0, [`MAX_IMPORTANCE`]\] and kurtoses
    /// k = E\[x⁴\] ∈ \[1, [`MAX_KURTOSIS`]\].
    pub fn from_kurtosis(importance: Vec<f64>, kurtosis: Vec<f64>) -> Result<Self> {
        check_slices(&importance, &kurtosis)?;
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
        let kurtosis: Vec<f64> = inputs.iter().map(SparseInput::kurtosis).collect();
        for (index, &value) in kurtosis.iter().enumerate() {
            if !(value.is_finite() && value <= MAX_KURTOSIS) {
                return Err(Error::Kurtosis {
                    index,
                    value,
                    bound: "≤ 1e12 (k = Kurt[z]/p: raise the density p)",
                });
            }
        }
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

/// The one check of importances: N ≥ 1 and every vᵢ in \[0, [`MAX_IMPORTANCE`]\].
pub(crate) fn check_importance(importance: &[f64]) -> Result<()> {
    if importance.is_empty() {
        return Err(Error::NoFeatures);
    }
    for (index, &value) in importance.iter().enumerate() {
        if !(value.is_finite() && (0.0..=MAX_IMPORTANCE).contains(&value)) {
            return Err(Error::Importance { index, value });
        }
    }
    Ok(())
}

/// The one check of (importance, kurtosis) slices, shared by [`FeatureSet::from_kurtosis`]
/// and the slice entry points of the solvers: [`check_importance`], equal lengths, and every
/// kᵢ in \[1, [`MAX_KURTOSIS`]\].
pub(crate) fn check_slices(importance: &[f64], kurtosis: &[f64]) -> Result<()> {
    check_importance(importance)?;
    if kurtosis.len() != importance.len() {
        return Err(Error::Length {
            what: "kurtosis",
            expected: importance.len(),
            got: kurtosis.len(),
        });
    }
    for (index, &value) in kurtosis.iter().enumerate() {
        if !(value.is_finite() && (1.0..=MAX_KURTOSIS).contains(&value)) {
            return Err(Error::Kurtosis {
                index,
                value,
                bound: KURTOSIS_RANGE,
            });
        }
    }
    Ok(())
}
