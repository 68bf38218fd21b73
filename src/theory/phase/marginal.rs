//! Marginal-benefit curves m_i(C) (Q16) with the optimal allocation on them: the data of
//! spec Figure 2 (prescribed λ, (A8)) and of the six panels A–F under the phase diagram
//! (spec §7.4).
//!
//! Spec: (Q16), (K3), (A4), (A7), (A8), §7.4. Derivation: derivations/phase.md (PH13).

use super::PhaseSetting;
use crate::base::{Error, FeatureSet, Result, resources};
use crate::theory::allocation::{Allocation, Phase, allocate, allocate_prescribed_lambda};
use crate::theory::quadratic::FeatureCurve;

/// How the total capacity is fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// Σ Cᵢ = D (the optimal allocation (A7)).
    Dims(usize),
    /// A prescribed λ = √(μ/2) and no D (A8); Σ Cᵢ = D_eff is then in general not an integer.
    Lambda(f64),
}

/// Marginal-benefit curves of every feature on a capacity grid, the optimum on them and the
/// threshold μ.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginalCurves {
    /// Capacity grid C ∈ [0, 1], both ends included.
    pub capacity: Vec<f64>,
    /// The features (importance, kurtosis).
    pub features: Vec<FeatureCurve>,
    /// `benefit[i][j]` = m_i(capacity\[j\]) = 2(kᵢ−1)²vᵢ²/((kᵢ−3)C + 2)² (Q16).
    pub benefit: Vec<Vec<f64>>,
    /// The allocation whose dots are drawn (from [`allocate`] or [`allocate_prescribed_lambda`]).
    pub allocation: Allocation,
    /// m_i(C_i*) at the optimum: the dots' heights.
    pub optimum_benefit: Vec<f64>,
    /// Admissible multipliers μ of (K3): [max over ignored mᵢ(0), min over full mᵢ(1)],
    /// narrowed to the common value mᵢ(Cᵢ) = μ = 2λ² when a feature is fractional or λ is
    /// prescribed. Equal ends: μ is unique. The lower end is 0 with no ignored feature and
    /// the upper end +∞ with no full one.
    pub threshold: (f64, f64),
}

impl MarginalCurves {
    /// The unique threshold μ, when there is one.
    pub fn mu(&self) -> Option<f64> {
        self.allocation.mu
    }
}

/// Curves m_i(C) of (Q16) on `points` capacities from 0 to 1 for every feature, the optimal
/// allocation for the budget (dots at (Cᵢ, mᵢ(Cᵢ))) and the threshold μ.
///
/// Spec: (Q16), (K3), (A4), (A7), (A8). Derivation: derivations/phase.md (PH13).
pub fn marginal_curves(
    features: &FeatureSet,
    budget: Budget,
    points: usize,
) -> Result<MarginalCurves> {
    if points < 2 {
        return Err(Error::Parameter(format!(
            "marginal curves need at least 2 capacity points, got {points}"
        )));
    }
    // The curves: `points` values per feature, plus the capacity grid.
    let values = points as f64 * (features.len() as f64 + 1.0);
    resources::check_memory("capacity points", points, 8.0 * values)?;
    let allocation = match budget {
        Budget::Dims(d) => allocate(features, d)?,
        Budget::Lambda(l) => allocate_prescribed_lambda(features, l)?,
    };
    let capacity: Vec<f64> = (0..points)
        .map(|j| j as f64 / (points - 1) as f64)
        .collect();
    let curves: Vec<FeatureCurve> = features
        .importance()
        .iter()
        .zip(features.kurtosis())
        .map(|(&importance, &kurtosis)| FeatureCurve {
            importance,
            kurtosis,
        })
        .collect();
    let benefit = curves
        .iter()
        .map(|f| capacity.iter().map(|&c| f.marginal_benefit(c)).collect())
        .collect();
    let optimum_benefit: Vec<f64> = curves
        .iter()
        .zip(&allocation.capacity)
        .map(|(f, &c)| f.marginal_benefit(c))
        .collect();
    let threshold = match allocation.mu {
        Some(mu) => (mu, mu),
        None => {
            let mut lo: f64 = 0.0;
            let mut hi = f64::INFINITY;
            for (f, ph) in curves.iter().zip(&allocation.phase) {
                // Features that cannot use capacity (v = 0 or k = 1) have m ≡ 0.
                match ph {
                    Phase::Ignored => lo = lo.max(f.marginal_benefit(0.0)),
                    Phase::Monosemantic => hi = hi.min(f.marginal_benefit(1.0)),
                    Phase::Polysemantic => {}
                }
            }
            (lo, hi)
        }
    };
    Ok(MarginalCurves {
        capacity,
        features: curves,
        benefit,
        allocation,
        optimum_benefit,
        threshold,
    })
}

/// One of the six marginal-benefit panels of spec §7.4.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelPoint {
    /// Panel label, 'A' to 'F'.
    pub label: char,
    /// Importance V of the varied ("blue") feature.
    pub importance: f64,
    /// Kurtosis k at the point (2.25 for A, B; 3 for C; 18 for D–F).
    pub kurtosis: f64,
    /// Density p = Kurt\[z\]/k for the setting's magnitude, if ≤ 1 (0.8, 0.6, 0.1 for uniform).
    pub density: Option<f64>,
}

/// The six points A–F of spec §7.4, fixed by (V, k) as in the table there; their density
/// follows from the setting's magnitude law (sparse uniform gives the table's p).
///
/// Spec: §7.4. Derivation: derivations/phase.md (PH13).
pub fn points_a_to_f(setting: &PhaseSetting) -> [PanelPoint; 6] {
    let table = [
        ('A', 0.75, 2.25),
        ('B', 1.4, 2.25),
        ('C', 1.0, 3.0),
        ('D', 0.036, 18.0),
        ('E', 0.5, 18.0),
        ('F', 27.5, 18.0),
    ];
    table.map(|(label, importance, kurtosis)| {
        let p = setting.density_at(kurtosis);
        PanelPoint {
            label,
            importance,
            kurtosis,
            density: (p <= 1.0).then_some(p),
        }
    })
}

/// The curves of one panel: the setting's features at (V, k) of `point` (feature 0 is the
/// "blue" one, feature 1 a "black" reference), allocated in the setting's D dimensions.
///
/// Spec: §7.4, (Q16), (A7). Derivation: derivations/phase.md (PH13).
pub fn panel_curves(
    setting: &PhaseSetting,
    point: &PanelPoint,
    points: usize,
) -> Result<MarginalCurves> {
    let features = setting.feature_set_kurtosis(point.importance, point.kurtosis)?;
    marginal_curves(&features, Budget::Dims(setting.dims()), points)
}
