//! The quadratic model's exact expected loss E\[(ỹ − y)²\] as a function of W (and b), its
//! gradient, and the same loss written in capacities and squared lengths.
//!
//! Model ỹ = ‖Wx‖² + b, target y = Σᵢ vᵢ xᵢ², inputs independent with E xᵢ = 0, E xᵢ² = 1,
//! E xᵢ⁴ = kᵢ (spec (Q1)–(Q3)). With G = WᵀW, nᵢ = Gᵢᵢ and Δ = G − diag(v):
//!
//! E\[L\] = Σᵢ (kᵢ−1) Δᵢᵢ² + (b + Σᵢ Δᵢᵢ)² + 2 Σ_{i≠j} Gᵢⱼ²    (ordered pairs i ≠ j).
//!
//! Spec: (Q6)–(Q12), per-feature kᵢ (B1), (B2). Derivation: derivations/quadratic-model.md.

use nalgebra::DMatrix;

use crate::base::{Error, FeatureSet, Objective, Result};

/// The exact expected loss of the quadratic model for fixed features (vᵢ, kᵢ) and embedding
/// dimension D; W is D×N with columns as features.
///
/// Implements [`Objective`] with the loss at the optimal bias b* (Q8)/(B1) and its gradient
/// (Q9), so a deterministic trainer can minimise E\[L\] directly (spec (T4)).
///
/// # Example
/// ```
/// use nalgebra::DMatrix;
/// use polycap::base::{FeatureSet, Objective};
/// use polycap::theory::quadratic::ExpectedLoss;
///
/// let f = FeatureSet::from_kurtosis(vec![1.0, 0.5], vec![18.0, 18.0]).expect("valid");
/// let el = ExpectedLoss::new(&f, 2).expect("D ≥ 1");
/// // Two orthogonal features of the right lengths: a perfect fit.
/// let w = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 0.5f64.sqrt()]);
/// assert!(el.loss(&w).abs() < 1e-14);
/// // Nothing represented: the baseline Σ (kᵢ − 1) vᵢ².
/// let zero = DMatrix::zeros(2, 2);
/// assert!((el.loss(&zero) - 17.0 * 1.25).abs() < 1e-12);
/// assert_eq!(el.shape(), (2, 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedLoss {
    importance: Vec<f64>,
    kurtosis: Vec<f64>,
    dims: usize,
}

impl ExpectedLoss {
    /// The expected loss of `features` embedded in `dims` dimensions.
    ///
    /// # Errors
    /// [`Error::Dims`] if `dims` = 0. (The features are already validated: vᵢ ≥ 0, kᵢ ≥ 1.)
    pub fn new(features: &FeatureSet, dims: usize) -> Result<Self> {
        if dims == 0 {
            return Err(Error::Dims(dims));
        }
        Ok(ExpectedLoss {
            importance: features.importance().to_vec(),
            kurtosis: features.kurtosis().to_vec(),
            dims,
        })
    }

    /// Importances vᵢ.
    pub fn importance(&self) -> &[f64] {
        &self.importance
    }

    /// Kurtoses kᵢ = E\[xᵢ⁴\].
    pub fn kurtosis(&self) -> &[f64] {
        &self.kurtosis
    }

    /// Embedding dimension D (rows of W).
    pub fn dims(&self) -> usize {
        self.dims
    }

    fn check(&self, w: &DMatrix<f64>) {
        assert_eq!(
            w.shape(),
            (self.dims, self.importance.len()),
            "W must be D×N = {}×{}",
            self.dims,
            self.importance.len()
        );
    }

    /// Σᵢ Δᵢᵢ = Σᵢ (nᵢ − vᵢ) from the diagonal of G.
    fn trace_delta(&self, g: &DMatrix<f64>) -> f64 {
        (0..g.nrows()).map(|i| g[(i, i)] - self.importance[i]).sum()
    }

    /// Expected loss at bias b:
    /// E\[L\] = Σᵢ (kᵢ−1)(nᵢ − vᵢ)² + (b + Σᵢ (nᵢ − vᵢ))² + 2 Σ_{i≠j} (Wᵢ·Wⱼ)².
    ///
    /// Spec (indexed in derivations/README.md): (Q6), (B1). Derivation: derivations/quadratic-model.md (QM1)–(QM3).
    ///
    /// # Panics
    /// If W is not D×N.
    pub fn loss_with_bias(&self, w: &DMatrix<f64>, b: f64) -> f64 {
        self.check(w);
        let g = w.tr_mul(w);
        self.fit_term(&g) + (b + self.trace_delta(&g)).powi(2) + 2.0 * interference(&g)
    }

    fn fit_term(&self, g: &DMatrix<f64>) -> f64 {
        (0..g.nrows())
            .map(|i| {
                let d = g[(i, i)] - self.importance[i];
                (self.kurtosis[i] - 1.0) * d * d
            })
            .sum()
    }

    /// Optimal bias b* = −Σᵢ Δᵢᵢ = Σᵢ (vᵢ − nᵢ).
    ///
    /// Spec (indexed in derivations/README.md): (Q7), (B1). Derivation: derivations/quadratic-model.md (Q7).
    ///
    /// # Panics
    /// If W is not D×N.
    pub fn optimal_bias(&self, w: &DMatrix<f64>) -> f64 {
        self.check(w);
        w.column_iter()
            .zip(&self.importance)
            .map(|(c, &v)| v - c.norm_squared())
            .sum()
    }

    /// Expected loss at the optimal bias:
    /// E\[L\]|_{b*} = Σᵢ (kᵢ−1)(nᵢ − vᵢ)² + 2 Σ_{i≠j} (Wᵢ·Wⱼ)².
    ///
    /// Spec (indexed in derivations/README.md): (Q8), (B1). Derivation: derivations/quadratic-model.md (Q8).
    ///
    /// # Panics
    /// If W is not D×N.
    pub fn loss(&self, w: &DMatrix<f64>) -> f64 {
        self.check(w);
        let g = w.tr_mul(w);
        self.fit_term(&g) + 2.0 * interference(&g)
    }

    /// Gradient of the loss at the optimal bias (envelope: b* needs no derivative):
    /// ∂E\[L\]/∂W = 2 W Γ,  Γᵢᵢ = 2(kᵢ−1)(nᵢ − vᵢ),  Γᵢⱼ = 4 Gᵢⱼ (i ≠ j).
    ///
    /// Spec (indexed in derivations/README.md): (Q9), (B1). Derivation: derivations/quadratic-model.md (Q9).
    ///
    /// # Panics
    /// If W is not D×N.
    pub fn grad(&self, w: &DMatrix<f64>) -> DMatrix<f64> {
        self.check(w);
        let g = w.tr_mul(w);
        2.0 * w * self.gamma(g)
    }

    /// Γ of (Q9) from G (consumed).
    fn gamma(&self, mut g: DMatrix<f64>) -> DMatrix<f64> {
        g *= 4.0;
        for i in 0..g.nrows() {
            let n_i = g[(i, i)] / 4.0;
            g[(i, i)] = 2.0 * (self.kurtosis[i] - 1.0) * (n_i - self.importance[i]);
        }
        g
    }

    /// Gradient in W of the loss at a fixed bias b, (Q6):
    /// ∂E\[L\]/∂W = 2 W Γ + 4 (b + Σᵢ Δᵢᵢ) W.
    ///
    /// Spec (indexed in derivations/README.md): (Q9), (B1). Derivation: derivations/quadratic-model.md (Q9).
    ///
    /// # Panics
    /// If W is not D×N.
    pub fn grad_with_bias(&self, w: &DMatrix<f64>, b: f64) -> DMatrix<f64> {
        let r = b - self.optimal_bias(w);
        let mut out = self.grad(w);
        out += 4.0 * r * w;
        out
    }

    /// Derivative of (Q6) in the bias: ∂E\[L\]/∂b = 2 (b + Σᵢ Δᵢᵢ) = 2 (b − b*).
    ///
    /// Spec (indexed in derivations/README.md): (Q9). Derivation: derivations/quadratic-model.md (Q9).
    ///
    /// # Panics
    /// If W is not D×N.
    pub fn bias_grad(&self, w: &DMatrix<f64>, b: f64) -> f64 {
        2.0 * (b - self.optimal_bias(w))
    }
}

impl Objective for ExpectedLoss {
    fn shape(&self) -> (usize, usize) {
        (self.dims, self.importance.len())
    }

    /// (Q8)/(B1) at the optimal bias, with the gradient (Q9).
    fn loss_grad(&self, w: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        self.check(w);
        let g = w.tr_mul(w);
        let loss = self.fit_term(&g) + 2.0 * interference(&g);
        let gamma = self.gamma(g);
        grad.gemm(2.0, w, &gamma, 0.0);
        loss
    }

    fn loss(&self, w: &DMatrix<f64>) -> f64 {
        ExpectedLoss::loss(self, w)
    }
}

/// Σ_{i≠j} Gᵢⱼ² over ordered pairs (spec pitfall 9), summed entry by entry (no cancellation).
fn interference(g: &DMatrix<f64>) -> f64 {
    let mut off = 0.0;
    for j in 0..g.ncols() {
        for i in 0..g.nrows() {
            if i != j {
                off += g[(i, j)] * g[(i, j)];
            }
        }
    }
    off
}

fn check_lengths(features: &FeatureSet, c: &[f64], n: &[f64]) -> Result<()> {
    let expected = features.len();
    for (what, got) in [("capacity", c.len()), ("squared norm", n.len())] {
        if got != expected {
            return Err(Error::Length {
                what,
                expected,
                got,
            });
        }
    }
    Ok(())
}

/// The loss at the optimal bias written in capacities and squared lengths:
/// L(C, n) = Σᵢ [ (kᵢ−1)(nᵢ − vᵢ)² − 2nᵢ² + 2nᵢ²/Cᵢ ].
///
/// Equals (Q8) for any W when nᵢ = ‖Wᵢ‖² and Cᵢ = Cᵢ(W). A term with nᵢ = 0 has
/// nᵢ²/Cᵢ = 0 (an ignored feature); nᵢ > 0 with Cᵢ = 0 gives +∞. To evaluate an allocation,
/// prefer [`super::FeatureCurve::loss`] (spec pitfall 16).
///
/// Spec (indexed in derivations/README.md): (Q11), (B2). Derivation: derivations/quadratic-model.md (Q11).
///
/// # Errors
/// [`Error::Length`] if `c` or `n` does not have one entry per feature.
pub fn loss_in_capacity(features: &FeatureSet, c: &[f64], n: &[f64]) -> Result<f64> {
    check_lengths(features, c, n)?;
    let mut total = 0.0;
    for i in 0..c.len() {
        let (v, k) = (features.importance()[i], features.kurtosis()[i]);
        let ratio = if n[i] == 0.0 { 0.0 } else { n[i] * n[i] / c[i] };
        total += (k - 1.0) * (n[i] - v).powi(2) - 2.0 * n[i] * n[i] + 2.0 * ratio;
    }
    Ok(total)
}

/// Partial derivatives of (Q11) in the capacities at fixed n: ∂L/∂Cᵢ = −2 nᵢ²/Cᵢ²
/// (0 when nᵢ = 0). Their negatives are the marginal benefits at fixed length.
///
/// Spec (indexed in derivations/README.md): (Q12), (B2). Derivation: derivations/quadratic-model.md (Q12).
///
/// # Errors
/// [`Error::Length`] if `c` or `n` does not have one entry per feature.
pub fn loss_in_capacity_grad(features: &FeatureSet, c: &[f64], n: &[f64]) -> Result<Vec<f64>> {
    check_lengths(features, c, n)?;
    Ok(c.iter()
        .zip(n)
        .map(|(&ci, &ni)| {
            if ni == 0.0 {
                0.0
            } else {
                -2.0 * ni * ni / (ci * ci)
            }
        })
        .collect())
}
