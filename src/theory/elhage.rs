//! The "toy model of the toy model" of Elhage et al. (spec §9.4): closed-form losses of a
//! few candidate configurations of the ReLU-output model x′ = ReLU(WᵀWx + b), the winning
//! configuration over (relative importance r, density p), and the boundary curves.
//!
//! Two models: n = 2 features in m = 1 dimension, and n = 3 in m = 2. Feature 1 (and 2)
//! have importance 1; the extra feature (the last one) has importance r. Each feature is 0
//! with probability 1 − p and U[0, 1] otherwise (E2).
//!
//! Spec (indexed in derivations/README.md): (E1)–(E3), (E9)–(E13). Derivation: derivations/elhage.md.
//!
//! # Example
//! ```
//! use polycap::theory::elhage::{best_configuration, Configuration, ToyModel};
//! // Dense inputs: the extra feature (r < 1) is dropped; sparse: it goes antipodal.
//! let dense = best_configuration(ToyModel::TwoInOne, 0.5, 0.9).expect("valid point");
//! let sparse = best_configuration(ToyModel::TwoInOne, 0.5, 0.05).expect("valid point");
//! assert_eq!(dense, Configuration::ExtraIgnored);
//! assert_eq!(sparse, Configuration::ExtraAntipodal);
//! ```

use nalgebra::{DMatrix, DVector};

use crate::base::{Error, Result};

/// Density at the top of the antipodal region, reached at r = 1 (E11): p = 4/7.
pub const ANTIPODAL_PEAK_DENSITY: f64 = 4.0 / 7.0;

/// Default range of the relative importance r (spec §11, E3): 0.1 to 10.
pub const DEFAULT_RATIO_RANGE: (f64, f64) = (0.1, 10.0);
/// Default range of the density p = 1 − S (spec §11, E3): 0.01 to 1.
pub const DEFAULT_DENSITY_RANGE: (f64, f64) = (0.01, 1.0);

/// Which small model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToyModel {
    /// n = 2 features in m = 1 dimension; feature 1 importance 1, feature 2 (extra) r.
    TwoInOne,
    /// n = 3 features in m = 2 dimensions; features 1, 2 importance 1, feature 3 (extra) r.
    ThreeInTwo,
}

/// A candidate configuration of W and b (spec §9.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Configuration {
    /// The extra feature is not represented (W ⟂ extra); the others are dedicated.
    ExtraIgnored,
    /// Feature 1 is not represented; the extra feature (and feature 2) are dedicated.
    FirstIgnored,
    /// The extra feature is antipodal with its partner (feature 1 for n = 2, feature 2 for
    /// n = 3, W ⟂ \[0,1,1\]); any remaining feature is dedicated.
    ExtraAntipodal,
    /// n = 3 only: features 1 and 2 are antipodal and the extra is dedicated (W ⟂ \[1,1,0\]).
    PairAntipodal,
}

/// The four colours of the E3 theory panel: what happens to the extra feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// Extra not represented (grey).
    NotRepresented,
    /// Extra in superposition (red).
    Superposition,
    /// Extra dedicated (blue).
    Dedicated,
    /// Extra dedicated, feature 1 not represented (dark blue; n = 3 only).
    DedicatedFirstIgnored,
}

impl Region {
    /// Short name for outputs.
    pub fn name(&self) -> &'static str {
        match self {
            Region::NotRepresented => "extra not represented",
            Region::Superposition => "extra in superposition",
            Region::Dedicated => "extra dedicated",
            Region::DedicatedFirstIgnored => "extra dedicated, feature 1 not represented",
        }
    }
}

impl ToyModel {
    /// Number of features n.
    pub fn features(&self) -> usize {
        match self {
            ToyModel::TwoInOne => 2,
            ToyModel::ThreeInTwo => 3,
        }
    }

    /// Number of dimensions m.
    pub fn dims(&self) -> usize {
        match self {
            ToyModel::TwoInOne => 1,
            ToyModel::ThreeInTwo => 2,
        }
    }

    /// The candidate configurations compared, in tie-breaking order.
    pub fn configurations(&self) -> &'static [Configuration] {
        match self {
            ToyModel::TwoInOne => &[
                Configuration::ExtraIgnored,
                Configuration::FirstIgnored,
                Configuration::ExtraAntipodal,
            ],
            ToyModel::ThreeInTwo => &[
                Configuration::ExtraIgnored,
                Configuration::FirstIgnored,
                Configuration::ExtraAntipodal,
                Configuration::PairAntipodal,
            ],
        }
    }

    /// Importances (1, r) or (1, 1, r).
    pub fn importance(&self, ratio: f64) -> Vec<f64> {
        let mut v = vec![1.0; self.features()];
        v[self.features() - 1] = ratio;
        v
    }
}

impl Configuration {
    /// The E3 colour class of this configuration in `model`.
    pub fn region(&self, model: ToyModel) -> Region {
        match (self, model) {
            (Configuration::ExtraIgnored, _) => Region::NotRepresented,
            (Configuration::ExtraAntipodal, _) => Region::Superposition,
            (Configuration::FirstIgnored, ToyModel::TwoInOne) => Region::Dedicated,
            (Configuration::FirstIgnored, ToyModel::ThreeInTwo) => Region::DedicatedFirstIgnored,
            (Configuration::PairAntipodal, _) => Region::Dedicated,
        }
    }

    /// Short name for outputs.
    pub fn name(&self) -> &'static str {
        match self {
            Configuration::ExtraIgnored => "extra ignored",
            Configuration::FirstIgnored => "feature 1 ignored, extra dedicated",
            Configuration::ExtraAntipodal => "extra antipodal",
            Configuration::PairAntipodal => "features 1, 2 antipodal, extra dedicated",
        }
    }
}

fn check_point(ratio: f64, density: f64) -> Result<()> {
    if !(ratio.is_finite() && ratio > 0.0) {
        return Err(Error::Importance {
            index: 0,
            value: ratio,
        });
    }
    if !(density.is_finite() && density > 0.0 && density <= 1.0) {
        return Err(Error::Density {
            index: 0,
            value: density,
        });
    }
    Ok(())
}

/// (E9) Variance of one feature, V_x = p/3 − p²/4: the loss per unit importance of a feature
/// that is not represented (its best bias is E x = p/2).
///
/// Spec: (E9). Derivation: derivations/elhage.md (EL1).
pub fn ignored_cost(density: f64) -> f64 {
    density / 3.0 - density * density / 4.0
}

/// (E10) Loss of an antipodal pair with unit weights and b = 0: (I₁ + I₂) p²/6 — both err by
/// min(x₁, x₂) when both are active, and E[min(U, U′)²] = 1/6.
///
/// Spec: (E10). Derivation: derivations/elhage.md (EL2), (EL3).
pub fn antipodal_cost(importance_a: f64, importance_b: f64, density: f64) -> f64 {
    (importance_a + importance_b) * density * density / 6.0
}

/// Loss (E3) of a configuration at relative importance r and density p, from (E9)/(E10):
///
/// | model | configuration | loss |
/// |---|---|---|
/// | n=2 | extra ignored | r V_x |
/// | n=2 | feature 1 ignored | V_x |
/// | n=2 | antipodal | (1 + r) p²/6 |
/// | n=3 | extra ignored | r V_x |
/// | n=3 | feature 1 ignored, extra dedicated | V_x |
/// | n=3 | extra antipodal with 2 | (1 + r) p²/6 |
/// | n=3 | 1, 2 antipodal, extra dedicated | p²/3 |
///
/// Spec: (E9)–(E12). Derivation: derivations/elhage.md (EL4), (EL7).
pub fn configuration_loss(
    model: ToyModel,
    configuration: Configuration,
    ratio: f64,
    density: f64,
) -> Result<f64> {
    check_point(ratio, density)?;
    let vx = ignored_cost(density);
    Ok(match (model, configuration) {
        (_, Configuration::ExtraIgnored) => ratio * vx,
        (_, Configuration::FirstIgnored) => vx,
        (_, Configuration::ExtraAntipodal) => antipodal_cost(1.0, ratio, density),
        (ToyModel::ThreeInTwo, Configuration::PairAntipodal) => antipodal_cost(1.0, 1.0, density),
        (ToyModel::TwoInOne, Configuration::PairAntipodal) => {
            return Err(Error::Parameter(
                "configuration 'features 1, 2 antipodal' needs the n = 3 model".into(),
            ));
        }
    })
}

/// The explicit weights of a configuration: W (m × n, columns = features) and b (n), so that
/// the loss (E3) of x′ = ReLU(WᵀWx + b) at density p equals [`configuration_loss`].
/// Unrepresented features have W_i = 0 and b_i = E x = p/2.
///
/// Spec: (E1), §9.4. Derivation: derivations/elhage.md (EL4), (EL7).
pub fn configuration_weights(
    model: ToyModel,
    configuration: Configuration,
    density: f64,
) -> Result<(DMatrix<f64>, DVector<f64>)> {
    check_point(1.0, density)?;
    let (m, n) = (model.dims(), model.features());
    let mut w = DMatrix::zeros(m, n);
    let mut b = DVector::zeros(n);
    let mean = density / 2.0;
    match (model, configuration) {
        (ToyModel::TwoInOne, Configuration::ExtraIgnored) => {
            w[(0, 0)] = 1.0;
            b[1] = mean;
        }
        (ToyModel::TwoInOne, Configuration::FirstIgnored) => {
            w[(0, 1)] = 1.0;
            b[0] = mean;
        }
        (ToyModel::TwoInOne, Configuration::ExtraAntipodal) => {
            w[(0, 0)] = 1.0;
            w[(0, 1)] = -1.0;
        }
        (ToyModel::ThreeInTwo, Configuration::ExtraIgnored) => {
            w[(0, 0)] = 1.0;
            w[(1, 1)] = 1.0;
            b[2] = mean;
        }
        (ToyModel::ThreeInTwo, Configuration::FirstIgnored) => {
            w[(0, 1)] = 1.0;
            w[(1, 2)] = 1.0;
            b[0] = mean;
        }
        (ToyModel::ThreeInTwo, Configuration::ExtraAntipodal) => {
            w[(0, 0)] = 1.0;
            w[(1, 1)] = 1.0;
            w[(1, 2)] = -1.0;
        }
        (ToyModel::ThreeInTwo, Configuration::PairAntipodal) => {
            w[(0, 0)] = 1.0;
            w[(0, 1)] = -1.0;
            w[(1, 2)] = 1.0;
        }
        (ToyModel::TwoInOne, Configuration::PairAntipodal) => {
            return Err(Error::Parameter(
                "configuration 'features 1, 2 antipodal' needs the n = 3 model".into(),
            ));
        }
    }
    Ok((w, b))
}

/// The configuration of least loss at (r, p); ties go to the first in
/// [`ToyModel::configurations`] order.
///
/// Spec: (E11), (E12). Derivation: derivations/elhage.md (EL5), (EL8).
pub fn best_configuration(model: ToyModel, ratio: f64, density: f64) -> Result<Configuration> {
    let mut best = (f64::INFINITY, Configuration::ExtraIgnored);
    for &c in model.configurations() {
        let l = configuration_loss(model, c, ratio, density)?;
        if l < best.0 {
            best = (l, c);
        }
    }
    Ok(best.1)
}

/// (E11) Antipodal beats "extra ignored" (r < 1) iff p < 4r/(2 + 5r).
///
/// Spec: (E11), (E12). Derivation: derivations/elhage.md (EL5).
pub fn superposition_density_below(ratio: f64) -> f64 {
    4.0 * ratio / (2.0 + 5.0 * ratio)
}

/// (E11) Antipodal beats "feature 1 ignored" (r > 1, n = 2) iff p < 4/(5 + 2r).
///
/// Spec: (E11). Derivation: derivations/elhage.md (EL5).
pub fn superposition_density_above(ratio: f64) -> f64 {
    4.0 / (5.0 + 2.0 * ratio)
}

/// One boundary of the (r, p) diagram as a polyline of (r, p) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Polyline {
    /// The formula of the curve, e.g. `p = 4r/(2+5r)`.
    pub formula: &'static str,
    /// Points (r, p), in order along the curve.
    pub points: Vec<(f64, f64)>,
}

/// The winning configuration over a grid of relative importance r (columns) × density p
/// (rows), with the closed-form boundary curves inside the grid's range.
#[derive(Debug, Clone, PartialEq)]
pub struct ElhageGrid {
    /// Which model.
    pub model: ToyModel,
    /// Relative importance r of the extra feature, one per column.
    pub ratio: Vec<f64>,
    /// Density p = 1 − S, one per row.
    pub density: Vec<f64>,
    /// Winning configuration, row-major: `configuration[row * ratio.len() + col]`.
    pub configuration: Vec<Configuration>,
    /// Boundary curves (E11)/(E12) clipped to the grid's ranges.
    pub boundaries: Vec<Polyline>,
}

impl ElhageGrid {
    /// The E3 region at (row, column).
    pub fn region_at(&self, row: usize, col: usize) -> Region {
        self.configuration[row * self.ratio.len() + col].region(self.model)
    }
}

/// Winning configurations on the grid `r_axis` × `p_axis` (rows = densities) plus the
/// boundary polylines over the axes' ranges (200 points per curve; use
/// [`boundary_polylines`] for another resolution).
///
/// Spec: (E11), (E12), §11 E3. Derivation: derivations/elhage.md (EL5), (EL8).
pub fn elhage_grid(model: ToyModel, r_axis: &[f64], p_axis: &[f64]) -> Result<ElhageGrid> {
    if r_axis.is_empty() || p_axis.is_empty() {
        return Err(Error::Parameter(
            "Elhage grid axes must not be empty".into(),
        ));
    }
    let mut configuration = Vec::with_capacity(r_axis.len() * p_axis.len());
    for &p in p_axis {
        for &r in r_axis {
            configuration.push(best_configuration(model, r, p)?);
        }
    }
    let range = |a: &[f64]| {
        a.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            })
    };
    let boundaries = boundary_polylines(model, range(r_axis), range(p_axis), 200)?;
    Ok(ElhageGrid {
        model,
        ratio: r_axis.to_vec(),
        density: p_axis.to_vec(),
        configuration,
        boundaries,
    })
}

/// The closed-form boundaries (E11)/(E12) inside r ∈ [r_lo, r_hi], p ∈ [p_lo, p_hi], each
/// curve sampled at `samples` log-spaced values of r (vertical lines: their two ends).
///
/// * n = 2: p = 4r/(2+5r) for r ≤ 1; p = 4/(5+2r) for r ≥ 1; r = 1 for p ≥ 4/7.
/// * n = 3: p = 4r/(2+5r) for r ≤ 1; p = 4/7 for r ≥ 1; r = 1 over the full height.
///
/// Spec: (E11), (E12). Derivation: derivations/elhage.md (EL5), (EL8).
pub fn boundary_polylines(
    model: ToyModel,
    ratio_range: (f64, f64),
    density_range: (f64, f64),
    samples: usize,
) -> Result<Vec<Polyline>> {
    let (r_lo, r_hi) = ratio_range;
    let (p_lo, p_hi) = density_range;
    if !(r_lo > 0.0 && r_lo <= r_hi && r_hi.is_finite()) {
        return Err(Error::Parameter(format!(
            "importance ratio range must satisfy 0 < lo ≤ hi, got {r_lo}:{r_hi}"
        )));
    }
    if !(p_lo > 0.0 && p_lo <= p_hi && p_hi <= 1.0) {
        return Err(Error::Parameter(format!(
            "density range must satisfy 0 < lo ≤ hi ≤ 1, got {p_lo}:{p_hi}"
        )));
    }
    let samples = samples.max(2);
    let curve =
        |formula: &'static str, a: f64, b: f64, f: &dyn Fn(f64) -> f64| -> Option<Polyline> {
            if a > b {
                return None;
            }
            let points: Vec<(f64, f64)> = (0..samples)
                .map(|i| {
                    let t = i as f64 / (samples - 1) as f64;
                    let r = match i {
                        0 => a,
                        _ if i == samples - 1 => b,
                        _ => (a.ln() + (b.ln() - a.ln()) * t).exp(),
                    };
                    (r, f(r))
                })
                .filter(|&(_, p)| p >= p_lo && p <= p_hi)
                .collect();
            (points.len() >= 2).then_some(Polyline { formula, points })
        };
    let vertical = |formula: &'static str, lo: f64, hi: f64| -> Option<Polyline> {
        let (lo, hi) = (lo.max(p_lo), hi.min(p_hi));
        (r_lo <= 1.0 && 1.0 <= r_hi && lo < hi).then(|| Polyline {
            formula,
            points: vec![(1.0, lo), (1.0, hi)],
        })
    };
    let below = curve(
        "p = 4r/(2+5r)",
        r_lo,
        r_hi.min(1.0),
        &superposition_density_below,
    );
    let out = match model {
        ToyModel::TwoInOne => vec![
            below,
            curve(
                "p = 4/(5+2r)",
                r_lo.max(1.0),
                r_hi,
                &superposition_density_above,
            ),
            vertical("r = 1", ANTIPODAL_PEAK_DENSITY, p_hi),
        ],
        ToyModel::ThreeInTwo => vec![
            below,
            curve("p = 4/7", r_lo.max(1.0), r_hi, &|_| ANTIPODAL_PEAK_DENSITY),
            vertical("r = 1", p_lo, p_hi),
        ],
    };
    Ok(out.into_iter().flatten().collect())
}

/// (E13) Loss of the dense reference configuration: the top-m features by importance on
/// orthonormal directions with b = 0, the rest with W_i = 0 and b_i = E x = p/2, so
/// L = V_x · Σ_{ignored} I_i (= Σ_{ignored} I_i/12 at p = 1). Summed over features as in
/// (E3); divide by n for the notebook's normalisation. Ties go to the lower index.
///
/// Spec: (E13), (E9). Derivation: derivations/elhage.md (EL9).
pub fn dense_reference_loss(importance: &[f64], dims: usize, density: f64) -> Result<f64> {
    check_point(1.0, density)?;
    for (index, &value) in importance.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0) {
            return Err(Error::Importance { index, value });
        }
    }
    let mut order: Vec<usize> = (0..importance.len()).collect();
    order.sort_by(|&a, &b| importance[b].total_cmp(&importance[a]).then(a.cmp(&b)));
    let ignored: f64 = order.iter().skip(dims).map(|&i| importance[i]).sum();
    Ok(ignored * ignored_cost(density))
}

/// (E3) Expected loss of the ReLU-output model x′ = ReLU(WᵀWx + b) at given (W, b), summed
/// over features: Σ_S p^|S| (1 − p)^(n−|S|) ∫ over \[0, 1\]^S of Σᵢ Iᵢ (xᵢ − x′ᵢ)² over the active sets S
/// (E5), each integral by the midpoint rule with `points` nodes per active coordinate.
///
/// The integrand is piecewise quadratic with kinks where a ReLU switches, so the error
/// falls like `points`⁻² (derivations/elhage.md (EL10)).
///
/// # Errors
/// [`Error::Parameter`] for mismatched sizes, more than 8 features, or `points` = 0 or so
/// large that `points`ⁿ exceeds 10⁸ nodes; a bad density or importance as in
/// [`dense_reference_loss`].
pub fn model_loss(
    w: &DMatrix<f64>,
    b: &[f64],
    importance: &[f64],
    density: f64,
    points: usize,
) -> Result<f64> {
    check_point(1.0, density)?;
    let n = w.ncols();
    if b.len() != n || importance.len() != n || n == 0 || n > 8 {
        return Err(Error::Parameter(format!(
            "model loss needs 1 ≤ n ≤ 8 features with n biases and importances, got W with {n} columns, {} biases, {} importances",
            b.len(),
            importance.len()
        )));
    }
    if points == 0 || (points as f64).powi(n as i32) > 1e8 {
        return Err(Error::Parameter(format!(
            "model loss: {points} quadrature points per coordinate for {n} features is out of range"
        )));
    }
    let g = w.transpose() * w;
    let mut total = 0.0;
    let mut x = vec![0.0; n];
    for set in 0u32..(1 << n) {
        let active: Vec<usize> = (0..n).filter(|&i| set & (1 << i) != 0).collect();
        let k = active.len();
        let prob = density.powi(k as i32) * (1.0 - density).powi((n - k) as i32);
        if prob == 0.0 {
            continue;
        }
        let nodes = points.pow(k as u32);
        let mut sum = 0.0;
        for node in 0..nodes {
            let mut rest = node;
            x.iter_mut().for_each(|v| *v = 0.0);
            for &i in &active {
                x[i] = ((rest % points) as f64 + 0.5) / points as f64;
                rest /= points;
            }
            for j in 0..n {
                let y: f64 = (0..n).map(|i| g[(j, i)] * x[i]).sum::<f64>() + b[j];
                let e = x[j] - y.max(0.0);
                sum += importance[j] * e * e;
            }
        }
        total += prob * sum / nodes as f64;
    }
    Ok(total)
}
