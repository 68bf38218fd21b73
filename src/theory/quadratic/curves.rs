//! Per-feature closed forms of the quadratic model as functions of capacity, with the
//! feature's length already optimised: n*(C), L*(C), m(C) = −dL*/dC and d²L*/dC².
//!
//! Spec: (Q13)–(Q17), per-feature kᵢ (B3). Derivation: derivations/quadratic-model.md.

/// One feature of the quadratic model: importance v and kurtosis k = E\[x⁴\].
///
/// # Example
/// ```
/// use polycap::theory::quadratic::FeatureCurve;
/// let f = FeatureCurve { importance: 1.0, kurtosis: 18.0 };
/// assert!((f.loss(0.0) - 17.0).abs() < 1e-12);      // ignored: (k − 1) v²
/// assert!(f.loss(1.0).abs() < 1e-12);                // monosemantic: 0
/// assert!((f.marginal_benefit(1.0) - 2.0).abs() < 1e-12); // m(1) = 2v²
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureCurve {
    /// Importance vᵢ (S eq. 9, spec (Q1)).
    pub importance: f64,
    /// Kurtosis kᵢ = E\[xᵢ⁴\] (Pearson, spec §1).
    pub kurtosis: f64,
}

impl FeatureCurve {
    /// Optimal squared length at capacity C: n*(C) = (k−1) v C / ((k−3) C + 2).
    ///
    /// Spec (Q13)/(B3). Derivation: derivations/quadratic-model.md (QM7).
    pub fn sq_norm(&self, c: f64) -> f64 {
        let (v, k) = (self.importance, self.kurtosis);
        if k <= 1.0 {
            // k = 1 (x = ±1): the bias absorbs the feature; n* ≡ 0 (spec §12.1).
            return 0.0;
        }
        (k - 1.0) * v * c / ((k - 3.0) * c + 2.0)
    }

    /// Loss contribution at capacity C with optimal length:
    /// L*(C) = 2 (k−1) v² (1 − C) / ((k−3) C + 2); L*(0) = (k−1) v², L*(1) = 0.
    ///
    /// Spec (Q15)/(B3). Derivation: derivations/quadratic-model.md (QM8).
    pub fn loss(&self, c: f64) -> f64 {
        let (v, k) = (self.importance, self.kurtosis);
        if k <= 1.0 {
            // k = 1: L* ≡ 0 (the 0/0 at C = 1 has limit 0; spec §12.1).
            return 0.0;
        }
        2.0 * (k - 1.0) * v * v * (1.0 - c) / ((k - 3.0) * c + 2.0)
    }

    /// Marginal benefit m(C) = −dL*/dC = 2 (k−1)² v² / ((k−3) C + 2)².
    ///
    /// Spec (Q16)/(B3). Derivation: derivations/quadratic-model.md (QM9).
    ///
    /// At C = 1 the ratio (k−1)/((k−3)C + 2) is exactly 1, so m(1) = 2v² for every k, also in
    /// the limit k → 1 where the formula reads 0/0.
    pub fn marginal_benefit(&self, c: f64) -> f64 {
        let (v, k) = (self.importance, self.kurtosis);
        if c >= 1.0 {
            return 2.0 * v * v;
        }
        let d = (k - 3.0) * c + 2.0;
        2.0 * (k - 1.0) * (k - 1.0) * v * v / (d * d)
    }

    /// Curvature d²L*/dC² = 4 (k−1)² (k−3) v² / ((k−3) C + 2)³ = −dm/dC; its sign is
    /// sign(k − 3): diminishing returns for k > 3, increasing for k < 3.
    ///
    /// Spec (Q17)/(B3). Derivation: derivations/quadratic-model.md (QM10).
    pub fn loss_curvature(&self, c: f64) -> f64 {
        let (v, k) = (self.importance, self.kurtosis);
        let d = (k - 3.0) * c + 2.0;
        4.0 * (k - 1.0) * (k - 1.0) * (k - 3.0) * v * v / (d * d * d)
    }
}
