//! The analytic phase diagram of one varied feature's capacity (spec §7; \[S\] Fig. 4 left).
//!
//! N features share D dimensions; feature 0 has importance V, the other N − 1 have
//! importance 1, and every feature has the same input law, so the same kurtosis
//! k = Kurt\[z\]/p (spec (Q4)). The colour of the diagram is the varied feature's optimal
//! capacity C₁(V, p).
//!
//! * [`phase_grid`] / [`phase_grid_kurtosis`]: C₁ on a (V, p) or (V, k) grid, evaluated
//!   pointwise with the general allocation solver (A7)/(A9) in parallel over rows.
//! * [`allocate_grouped`]: an independent O(groups) form of the same sweep for *groups of
//!   identical features* (N − 1 identical references give four breakpoints whatever N is),
//!   used to cross-check the solver and for very large N.
//! * Closed forms (P1)–(P6): [`importance_ignored`], [`importance_full`],
//!   [`importance_at_capacity`], [`capacity_closed_form`], [`lambda_closed_form`],
//!   [`other_capacity`], the [`critical_point`] and [`boundary_curve`] for drawing.
//! * [`symbolic_phase`]: the same boundaries *derived by the program* as exact rational
//!   functions of k (and of p), printed as text and LaTeX.
//! * [`marginal_curves`] and [`points_a_to_f`]: the marginal-benefit panels (Fig. 2, Fig. 4 A–F).
//!
//! Spec (indexed in derivations/README.md): §7, (P1)–(P6), (A2), (A6), (A7), (A9).
//! Derivation: derivations/phase.md.
//!
//! # Example
//! ```
//! use polycap::theory::phase::{phase_grid, importance_ignored, PhaseSetting};
//! let s = PhaseSetting::default(); // 6 features in 3 dimensions, sparse uniform inputs
//! // At p = 0.1 (k = 18) the varied feature is ignored up to V = 10/55.
//! let v_ign = importance_ignored(&s, 18.0).expect("1 ≤ D ≤ N − 1");
//! assert!((v_ign - 10.0 / 55.0).abs() < 1e-15);
//! let g = phase_grid(&s, &[0.5 * v_ign, 1.0, 100.0], &[0.1]).expect("valid axes");
//! assert!(g.capacity_at(0, 0) <= 0.0);                 // ignored
//! assert!((g.capacity_at(0, 1) - 0.5).abs() < 1e-12);  // V = 1: C₁ = D/N
//! assert!(g.capacity_at(0, 2) >= 1.0);                 // monosemantic
//! ```

mod marginal;
mod symbolic;

pub use marginal::{
    Budget, MarginalCurves, PanelPoint, marginal_curves, panel_curves, points_a_to_f,
};
pub use symbolic::{
    Fraction, Polynomial, RationalFunction, SymbolicBoundary, SymbolicPhase,
    magnitude_kurtosis_exact, symbolic_phase,
};

use rayon::prelude::*;

use crate::base::{Error, FeatureSet, Magnitude, Result, resources};
use crate::theory::allocation::Allocator;

/// Default range of the relative importance V (spec §7.1): 10⁻² to 10².
pub const DEFAULT_IMPORTANCE_RANGE: (f64, f64) = (1e-2, 1e2);
/// Default range of the density p = 1 − S (spec §7.1): 10⁻³ to 1.
pub const DEFAULT_DENSITY_RANGE: (f64, f64) = (1e-3, 1.0);
/// The iso-capacity levels drawn as contours (spec §11, S4): 0.1, 0.2, …, 0.9.
pub const CONTOUR_LEVELS: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// The set-up of the phase diagram (spec §7.1): N features in D dimensions, feature 0 with
/// importance V and the others with importance 1, all with density p and one magnitude law.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseSetting {
    features: usize,
    dims: usize,
    magnitude: Magnitude,
}

impl Default for PhaseSetting {
    /// The diagram of \[S\] Fig. 4: N = 6, D = 3, sparse uniform inputs (k = 9/(5p)).
    fn default() -> Self {
        PhaseSetting {
            features: 6,
            dims: 3,
            magnitude: Magnitude::Uniform,
        }
    }
}

impl PhaseSetting {
    /// Validated set-up: N ≥ 2 features (one varied, at least one reference) and D ≥ 1.
    ///
    /// D ≥ N is allowed: every feature is then monosemantic and C₁ = 1 for all V > 0; the
    /// closed-form boundaries do not apply ([`PhaseSetting::closed_form_applies`]).
    pub fn new(features: usize, dims: usize, magnitude: Magnitude) -> Result<Self> {
        if features < 2 {
            return Err(Error::Parameter(format!(
                "the phase diagram needs N ≥ 2 features (one varied, one reference), got N = {features}"
            )));
        }
        if dims == 0 {
            return Err(Error::Dims(dims));
        }
        Ok(PhaseSetting {
            features,
            dims,
            magnitude,
        })
    }

    /// Number of features N.
    pub fn features(&self) -> usize {
        self.features
    }

    /// Embedding dimension D.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Magnitude law of the non-zero part of every feature.
    pub fn magnitude(&self) -> Magnitude {
        self.magnitude
    }

    /// Kurtosis at density p: k = Kurt\[z\]/p (spec (Q4); sparse uniform 9/(5p), (Q5)).
    pub fn kurtosis_at(&self, density: f64) -> f64 {
        self.magnitude.kurtosis() / density
    }

    /// Density with kurtosis k: p = Kurt\[z\]/k (may exceed 1: no density reaches that k).
    pub fn density_at(&self, kurtosis: f64) -> f64 {
        self.magnitude.kurtosis() / kurtosis
    }

    /// True when the closed forms (P2)–(P6) describe the diagram: 1 ≤ D ≤ N − 1.
    ///
    /// The spec states 2 ≤ D ≤ N − 2, where λ is unique in every regime; derivations/phase.md
    /// (PH9) shows that the boundary formulas hold unchanged at D = 1 and D = N − 1 (tests
    /// check them against the solver there). For D ≥ N nothing is ever traded off.
    pub fn closed_form_applies(&self) -> bool {
        self.dims < self.features
    }

    /// The feature set at one point of the diagram: v = (V, 1, …, 1), all with density p.
    pub fn feature_set(&self, importance: f64, density: f64) -> Result<FeatureSet> {
        let mut v = vec![1.0; self.features];
        v[0] = importance;
        FeatureSet::from_densities(v, &vec![density; self.features], self.magnitude)
    }

    /// The feature set at one point given by its kurtosis directly.
    pub fn feature_set_kurtosis(&self, importance: f64, kurtosis: f64) -> Result<FeatureSet> {
        let mut v = vec![1.0; self.features];
        v[0] = importance;
        FeatureSet::from_kurtosis(v, vec![kurtosis; self.features])
    }

    fn require_closed_form(&self) -> Result<()> {
        if self.closed_form_applies() {
            Ok(())
        } else {
            Err(Error::Parameter(format!(
                "closed-form phase boundaries need 1 ≤ D ≤ N − 1, got D = {}, N = {} (with D ≥ N every feature is monosemantic)",
                self.dims, self.features
            )))
        }
    }
}

/// `n` log-spaced values from `lo` to `hi`, both ends included (`n = 1`: just `lo`).
///
/// Errors unless 0 < lo < hi are finite and n ≥ 1 (lo = hi is allowed with n = 1).
pub fn log_axis(lo: f64, hi: f64, n: usize) -> Result<Vec<f64>> {
    if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi > 0.0) {
        return Err(Error::Parameter(format!(
            "axis range must be finite and > 0, got {lo}:{hi}"
        )));
    }
    if n == 0 {
        return Err(Error::Parameter(
            "axis needs at least 1 point, got 0".into(),
        ));
    }
    if n == 1 {
        return Ok(vec![lo]);
    }
    if lo >= hi {
        return Err(Error::Parameter(format!(
            "axis range must be increasing (lo < hi), got {lo}:{hi}"
        )));
    }
    // Base 10, so that decades (e.g. V = 1 on 0.01:100) come out exact.
    let (a, b) = (lo.log10(), hi.log10());
    let mut out: Vec<f64> = (0..n)
        .map(|i| 10f64.powf(a + (b - a) * i as f64 / (n - 1) as f64))
        .collect();
    // Both ends exactly as given.
    out[0] = lo;
    out[n - 1] = hi;
    Ok(out)
}

/// The default axes of spec §7.1: `width` importances V ∈ [10⁻², 10²] and `height`
/// densities p ∈ [10⁻³, 1], log-spaced with both ends included.
pub fn default_axes(width: usize, height: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    Ok((
        log_axis(
            DEFAULT_IMPORTANCE_RANGE.0,
            DEFAULT_IMPORTANCE_RANGE.1,
            width,
        )?,
        log_axis(DEFAULT_DENSITY_RANGE.0, DEFAULT_DENSITY_RANGE.1, height)?,
    ))
}

/// `count` identical features of one importance (a run of consecutive feature indices).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureGroup {
    /// Common importance vᵢ of the group's members.
    pub importance: f64,
    /// Number of members (≥ 1).
    pub count: usize,
}

/// Capacities of one group in an optimal allocation: the first `full` members (lowest
/// indices) have C = 1 and the remaining ones have `capacity`.
///
/// For k > 3 all members are equal (`full = 0` and `capacity` ∈ [0, 1]); `full > 0` only
/// occurs under the TOP_D rule (A9) when the cut falls inside a group of tied features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupCapacity {
    /// Members (the first ones by index) with C = 1.
    pub full: usize,
    /// Capacity of the other members.
    pub capacity: f64,
}

/// The optimal allocation (A7)/(A9) of features given as groups of identical members with a
/// common kurtosis k, without expanding the groups: the (A7) sweep has two breakpoints per
/// *group*, so N − 1 identical reference features cost as much as one.
///
/// Groups are consecutive index ranges in the given order; ties under TOP_D (k ≤ 3) go to
/// the lower index, as in (A9). Features with v ≤ 0 get C = 0, and so does every feature
/// when k = 1 (then Lᵢ* ≡ 0).
///
/// Spec: (A2), (A6), (A7), (A9). Derivation: derivations/phase.md (PH1), (PH2).
pub fn allocate_grouped(
    groups: &[FeatureGroup],
    kurtosis: f64,
    dims: usize,
) -> Result<Vec<GroupCapacity>> {
    if groups.is_empty() {
        return Err(Error::NoFeatures);
    }
    for (index, g) in groups.iter().enumerate() {
        if !(g.importance.is_finite() && g.importance >= 0.0) {
            return Err(Error::Importance {
                index,
                value: g.importance,
            });
        }
        if g.count == 0 {
            return Err(Error::Parameter(format!("group {index} has no members")));
        }
    }
    if !(kurtosis.is_finite() && kurtosis >= 1.0) {
        return Err(Error::Kurtosis {
            index: 0,
            value: kurtosis,
            bound: "≥ 1",
        });
    }
    let mut out = vec![
        GroupCapacity {
            full: 0,
            capacity: 0.0
        };
        groups.len()
    ];
    let mut scratch = Scratch::default();
    sweep_groups(groups, kurtosis, dims, &mut scratch, &mut out);
    Ok(out)
}

/// Reusable buffers of the grouped sweep.
#[derive(Debug, Default)]
struct Scratch {
    /// (u, group, saturates?) breakpoints.
    events: Vec<(f64, usize, bool)>,
    /// State per group: 0 not entered, 1 interior, 2 saturated.
    state: Vec<u8>,
    /// Group order for TOP_D.
    order: Vec<usize>,
}

/// The sweep behind [`allocate_grouped`], on validated input, writing into `out`.
fn sweep_groups(
    groups: &[FeatureGroup],
    k: f64,
    dims: usize,
    scratch: &mut Scratch,
    out: &mut [GroupCapacity],
) {
    for o in out.iter_mut() {
        *o = GroupCapacity {
            full: 0,
            capacity: 0.0,
        };
    }
    let positive: usize = groups
        .iter()
        .filter(|g| g.importance > 0.0)
        .map(|g| g.count)
        .sum();
    // k = 1 (x² ≡ 1): Lᵢ* ≡ 0, nothing is worth representing (spec §12.1).
    if dims == 0 || k <= 1.0 {
        return;
    }
    if dims >= positive || k <= 3.0 {
        // (A9) TOP_D (also covers D ≥ |P+|): most important first, ties by lower index.
        scratch.order.clear();
        scratch.order.extend(0..groups.len());
        scratch.order.sort_by(|&a, &b| {
            groups[b]
                .importance
                .total_cmp(&groups[a].importance)
                .then(a.cmp(&b))
        });
        let mut left = dims;
        for &g in &scratch.order {
            if left == 0 || groups[g].importance <= 0.0 {
                break;
            }
            let take = groups[g].count.min(left);
            out[g].full = take;
            left -= take;
        }
        for (g, o) in out.iter_mut().enumerate() {
            if o.full == groups[g].count {
                // Whole group full: state it as a common capacity.
                *o = GroupCapacity {
                    full: 0,
                    capacity: 1.0,
                };
            }
        }
        return;
    }
    // (A7) sweep in u = 1/λ, k > 3.
    let a = (k - 1.0) / (k - 3.0);
    let d = dims as f64;
    scratch.events.clear();
    scratch.state.clear();
    scratch.state.resize(groups.len(), 0);
    for (g, grp) in groups.iter().enumerate() {
        if grp.importance > 0.0 {
            scratch
                .events
                .push((2.0 / ((k - 1.0) * grp.importance), g, false));
            scratch.events.push((1.0 / grp.importance, g, true));
        }
    }
    scratch
        .events
        .sort_by(|x, y| x.0.total_cmp(&y.0).then(x.2.cmp(&y.2)));
    let (mut s, mut sigma, mut prev) = (0.0_f64, 0.0_f64, 0.0_f64);
    for &(u, g, saturates) in &scratch.events {
        let s_next = s + sigma * (u - prev);
        if sigma > 0.0 && s_next >= d {
            break;
        }
        s = s_next;
        prev = u;
        let grp = groups[g];
        let m = grp.count as f64;
        if saturates {
            sigma -= a * grp.importance * m;
            scratch.state[g] = 2;
        } else {
            sigma += a * grp.importance * m;
            scratch.state[g] = 1;
        }
    }
    // (A6) on the segment found, with the sets recounted (no running-sum residue).
    let (mut n_full, mut n_int, mut sum_v) = (0usize, 0usize, 0.0_f64);
    for (g, grp) in groups.iter().enumerate() {
        match scratch.state[g] {
            2 => n_full += grp.count,
            1 => {
                n_int += grp.count;
                sum_v += grp.importance * grp.count as f64;
            }
            _ => {}
        }
    }
    // (A2) with λ from (A6), rearranged without the cancellation a·v/λ − β (β ~ 1/(k−3)):
    // C = v·R/Σv + 2(|P|·v − Σv)/((k−3)·Σv),  R = D − |F|.  Exact 1 when P is one group
    // that fills the remaining room, exact 0 when it is empty of room.
    let room = d - n_full as f64;
    for (g, grp) in groups.iter().enumerate() {
        out[g].capacity = match scratch.state[g] {
            2 => 1.0,
            1 => {
                let v = grp.importance;
                (v * room / sum_v + 2.0 * (n_int as f64 * v - sum_v) / ((k - 3.0) * sum_v))
                    .clamp(0.0, 1.0)
            }
            _ => 0.0,
        };
    }
}

/// Which quantity the vertical axis of a [`PhaseGrid`] was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerticalAxis {
    /// Density p = 1 − S (k = Kurt\[z\]/p).
    Density,
    /// Kurtosis k = E\[x⁴\] directly.
    Kurtosis,
}

/// C₁ over a grid of importance V (columns) × density p or kurtosis k (rows).
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseGrid {
    /// The set-up.
    pub setting: PhaseSetting,
    /// Importance V of the varied feature, one per column.
    pub importance: Vec<f64>,
    /// Density p = Kurt\[z\]/k, one per row (may exceed 1 on a kurtosis axis).
    pub density: Vec<f64>,
    /// Kurtosis k = Kurt\[z\]/p, one per row.
    pub kurtosis: Vec<f64>,
    /// Which of the two the rows were given in.
    pub axis: VerticalAxis,
    /// C₁, row-major: `capacity[row * importance.len() + col]`.
    pub capacity: Vec<f64>,
}

impl PhaseGrid {
    /// C₁ at (row, column) = (density/kurtosis index, importance index).
    pub fn capacity_at(&self, row: usize, col: usize) -> f64 {
        self.capacity[row * self.importance.len() + col]
    }

    /// Number of grid points with C₁ = 0 (ignored), 0 < C₁ < 1 (polysemantic) and C₁ = 1
    /// (monosemantic).
    pub fn phase_counts(&self) -> [usize; 3] {
        let mut c = [0usize; 3];
        for &x in &self.capacity {
            if x <= 0.0 {
                c[0] += 1;
            } else if x >= 1.0 {
                c[2] += 1;
            } else {
                c[1] += 1;
            }
        }
        c
    }
}

/// C₁ on the grid importance V × density p, both given in increasing order or not (any
/// positive values; densities in (0, 1]). Rows are densities, columns importances.
///
/// Evaluated in parallel over rows with the general allocation solver
/// ([`Allocator`], one reusable workspace per worker): any magnitude law, k = Kurt\[z\]/p per row.
/// About 70 ms for 1000 × 1000 points of the 6-in-3 diagram on two cores.
///
/// Spec: §7.1, (A7). Derivation: derivations/phase.md (PH2).
pub fn phase_grid(setting: &PhaseSetting, v_axis: &[f64], p_axis: &[f64]) -> Result<PhaseGrid> {
    check_axis("importance V", v_axis, 0.0, f64::INFINITY)?;
    if let Some(&p) = p_axis
        .iter()
        .find(|&&p| !(p.is_finite() && p > 0.0 && p <= 1.0))
    {
        return Err(Error::Parameter(format!(
            "density axis: p = 1 − S must be in (0, 1], got {p}"
        )));
    }
    if p_axis.is_empty() {
        return Err(Error::Parameter("density axis is empty".into()));
    }
    let k: Vec<f64> = p_axis.iter().map(|&p| setting.kurtosis_at(p)).collect();
    fill_grid(setting, v_axis, p_axis.to_vec(), k, VerticalAxis::Density)
}

/// C₁ on the grid importance V × kurtosis k (k ≥ 1), the alternative vertical axis.
///
/// Spec: §7.1, (A7). Derivation: derivations/phase.md (PH2).
pub fn phase_grid_kurtosis(
    setting: &PhaseSetting,
    v_axis: &[f64],
    k_axis: &[f64],
) -> Result<PhaseGrid> {
    check_axis("importance V", v_axis, 0.0, f64::INFINITY)?;
    // Any k in [1, 1e12] is a valid axis value; below Kurt[z] no density p ≤ 1 realises it
    // (`PhaseGrid::density` is then above 1, and outputs show no density there).
    if let Some(&k) = k_axis
        .iter()
        .find(|&&k| !(k.is_finite() && (1.0..=crate::base::MAX_KURTOSIS).contains(&k)))
    {
        return Err(Error::Parameter(format!(
            "kurtosis axis: k = E[x⁴] must be in [1, 1e12], got {k}"
        )));
    }
    if k_axis.is_empty() {
        return Err(Error::Parameter("kurtosis axis is empty".into()));
    }
    let p: Vec<f64> = k_axis.iter().map(|&k| setting.density_at(k)).collect();
    fill_grid(setting, v_axis, p, k_axis.to_vec(), VerticalAxis::Kurtosis)
}

fn check_axis(what: &str, axis: &[f64], lo: f64, hi: f64) -> Result<()> {
    if axis.is_empty() {
        return Err(Error::Parameter(format!("{what} axis is empty")));
    }
    for &x in axis {
        if !(x.is_finite() && x > lo && x < hi) {
            return Err(Error::Parameter(format!(
                "{what} axis values must be finite and > {lo}, got {x}"
            )));
        }
    }
    Ok(())
}

fn fill_grid(
    setting: &PhaseSetting,
    v_axis: &[f64],
    density: Vec<f64>,
    kurtosis: Vec<f64>,
    axis: VerticalAxis,
) -> Result<PhaseGrid> {
    let width = v_axis.len();
    let n = setting.features;
    let cells = width as f64 * kurtosis.len() as f64;
    let size = format!("{width}x{}", kurtosis.len());
    resources::check_memory("grid W×H", &size, 8.0 * cells)?;
    // One allocation per cell: O(N log N) with a sort of 2N events.
    resources::check_work("grid W×H", &size, cells * 64.0 * n as f64)?;
    let mut capacity = vec![0.0; width * kurtosis.len()];
    // One solver workspace and one (v, k) buffer per rayon job, reused across the row.
    capacity
        .par_chunks_mut(width)
        .zip(kurtosis.par_iter())
        .try_for_each_init(
            || (Allocator::new(), vec![1.0; n], vec![0.0; n]),
            |(solver, v, k), (row, &kr)| -> Result<()> {
                k.fill(kr);
                for (cell, &vi) in row.iter_mut().zip(v_axis) {
                    v[0] = vi;
                    *cell = solver.allocate_slices(v, k, setting.dims)?.capacity[0];
                }
                Ok(())
            },
        )?;
    Ok(PhaseGrid {
        setting: *setting,
        importance: v_axis.to_vec(),
        density,
        kurtosis,
        axis,
        capacity,
    })
}

/// (P4) The varied feature is ignored (C₁ = 0) iff V ≤ V_ign(k):
///
/// V_ign(k) = 2(N−1) / ((k−3)D + 2(N−1))  for k > 3;   V_ign = 1 for k ≤ 3 (first-order line).
///
/// Spec: (P4). Derivation: derivations/phase.md (PH4).
pub fn importance_ignored(setting: &PhaseSetting, kurtosis: f64) -> Result<f64> {
    importance_at_capacity(setting, 0.0, kurtosis)
}

/// (P3) The varied feature is monosemantic (C₁ = 1) iff V ≥ V_full(k):
///
/// V_full(k) = (k−1)(N−1) / ((k−3)(D−1) + 2(N−1))  for k > 3;   V_full = 1 for k ≤ 3.
///
/// Spec: (P3). Derivation: derivations/phase.md (PH5).
pub fn importance_full(setting: &PhaseSetting, kurtosis: f64) -> Result<f64> {
    importance_at_capacity(setting, 1.0, kurtosis)
}

/// (P5) Iso-capacity line C₁ = c, c ∈ [0, 1]:
///
/// V_c(k) = (c(k−3) + 2)(N−1) / ((k−3)(D−c) + 2(N−1))  for k > 3;  V_c = 1 for k ≤ 3.
///
/// c = 0 gives V_ign (P4), c = 1 gives V_full (P3). Errors unless 1 ≤ D ≤ N − 1.
///
/// Spec: (P5). Derivation: derivations/phase.md (PH6).
pub fn importance_at_capacity(setting: &PhaseSetting, level: f64, kurtosis: f64) -> Result<f64> {
    setting.require_closed_form()?;
    if !(0.0..=1.0).contains(&level) {
        return Err(Error::Parameter(format!(
            "capacity level must be in [0, 1], got {level}"
        )));
    }
    check_kurtosis(kurtosis)?;
    if kurtosis <= 3.0 {
        return Ok(1.0);
    }
    let (n1, d, e) = (
        (setting.features - 1) as f64,
        setting.dims as f64,
        kurtosis - 3.0,
    );
    Ok((level * e + 2.0) * n1 / (e * (d - level) + 2.0 * n1))
}

fn check_kurtosis(k: f64) -> Result<()> {
    if k.is_finite() && k >= 1.0 {
        Ok(())
    } else {
        Err(Error::Kurtosis {
            index: 0,
            value: k,
            bound: "≥ 1",
        })
    }
}

/// (P2) C₁ in closed form, clipped by (P3)/(P4):
///
/// C₁ = ((k−3)D + 2N) V / ((k−3)(N−1+V)) − 2/(k−3)  for V_ign < V < V_full (k > 3),
/// 0 below V_ign, 1 above V_full; for 1 < k ≤ 3 (A9): C₁ = 1 if V ≥ 1 (ties to the lower
/// index) else 0; for D ≥ N: C₁ = 1 for V > 0; for k = 1 (Lᵢ* ≡ 0): C₁ = 0.
///
/// Spec: (P2)–(P4), (A9). Derivation: derivations/phase.md (PH3).
pub fn capacity_closed_form(setting: &PhaseSetting, importance: f64, kurtosis: f64) -> Result<f64> {
    check_kurtosis(kurtosis)?;
    if !(importance.is_finite() && importance >= 0.0) {
        return Err(Error::Importance {
            index: 0,
            value: importance,
        });
    }
    if importance <= 0.0 || kurtosis <= 1.0 {
        // v = 0, or k = 1 where Lᵢ* ≡ 0: not represented.
        return Ok(0.0);
    }
    if !setting.closed_form_applies() {
        return Ok(1.0);
    }
    if kurtosis <= 3.0 {
        return Ok(if importance >= 1.0 { 1.0 } else { 0.0 });
    }
    if importance <= importance_ignored(setting, kurtosis)? {
        return Ok(0.0);
    }
    if importance >= importance_full(setting, kurtosis)? {
        return Ok(1.0);
    }
    let (n, d, e) = (setting.features as f64, setting.dims as f64, kurtosis - 3.0);
    let c = (e * d + 2.0 * n) * importance / (e * (n - 1.0 + importance)) - 2.0 / e;
    Ok(c.clamp(0.0, 1.0))
}

/// (P1) and its neighbours: λ = n_i/C_i of the interior features, for k > 3 and
/// 1 ≤ D ≤ N − 1, or `None` where λ is not unique (a vertex of the simplex: k ≤ 3, or the
/// reference features all full/ignored).
///
/// * all interior: λ = (k−1)(N−1+V) / ((k−3)D + 2N)                        (P1)
/// * feature 1 ignored: λ = (k−1)(N−1) / ((k−3)D + 2(N−1))
/// * feature 1 full:    λ = (k−1)(N−1) / ((k−3)(D−1) + 2(N−1))
///
/// Spec: (P1), (A6). Derivation: derivations/phase.md (PH3)–(PH5).
pub fn lambda_closed_form(
    setting: &PhaseSetting,
    importance: f64,
    kurtosis: f64,
) -> Result<Option<f64>> {
    let c1 = capacity_closed_form(setting, importance, kurtosis)?;
    if kurtosis <= 3.0 || !setting.closed_form_applies() {
        return Ok(None);
    }
    let (n, d, e, k) = (
        setting.features as f64,
        setting.dims as f64,
        kurtosis - 3.0,
        kurtosis,
    );
    let n1 = n - 1.0;
    Ok(if c1 <= 0.0 {
        // Reference features share D: interior unless D = N − 1.
        (setting.dims < setting.features - 1).then(|| (k - 1.0) * n1 / (e * d + 2.0 * n1))
    } else if c1 >= 1.0 {
        (setting.dims > 1).then(|| (k - 1.0) * n1 / (e * (d - 1.0) + 2.0 * n1))
    } else {
        Some((k - 1.0) * (n1 + importance) / (e * d + 2.0 * n))
    })
}

/// (P6) Capacity of each reference feature: C_j = (D − C₁)/(N − 1) (when 1 ≤ D ≤ N − 1);
/// D/(N−1) when feature 1 is ignored, (D−1)/(N−1) when it is full.
///
/// Spec: (P6). Derivation: derivations/phase.md (PH7).
pub fn other_capacity(setting: &PhaseSetting, c1: f64) -> f64 {
    if !setting.closed_form_applies() {
        return 1.0;
    }
    (setting.dims as f64 - c1) / (setting.features - 1) as f64
}

/// The critical point (V, p) = (1, Kurt\[z\]/3) where k = 3 and V_ign = V_full = 1 (spec §7.2;
/// (1, 0.6) for sparse uniform). `None` if no density in (0, 1] has k = 3 (Kurt\[z\] > 3, e.g.
/// Laplace) or the closed forms do not apply (D ≥ N).
///
/// Spec: §7.2, (P3), (P4). Derivation: derivations/phase.md (PH8).
pub fn critical_point(setting: &PhaseSetting) -> Option<(f64, f64)> {
    let p = setting.density_at(3.0);
    (setting.closed_form_applies() && p <= 1.0).then_some((1.0, p))
}

/// The iso-capacity line C₁ = `level` as (V, p) points, one per density of `p_axis`
/// (closed form (P5) with k = Kurt\[z\]/p). Densities with k ≤ 3 give V = 1: every level line
/// runs into the first-order line there ([`first_order_line`] draws that part on its own).
///
/// Spec: (P3)–(P5). Derivation: derivations/phase.md (PH6).
pub fn boundary_curve(
    setting: &PhaseSetting,
    level: f64,
    p_axis: &[f64],
) -> Result<Vec<(f64, f64)>> {
    p_axis
        .iter()
        .enumerate()
        .map(|(index, &p)| {
            if !(p.is_finite() && p > 0.0 && p <= 1.0) {
                return Err(Error::Density { index, value: p });
            }
            Ok((
                importance_at_capacity(setting, level, setting.kurtosis_at(p))?,
                p,
            ))
        })
        .collect()
}

/// The iso-capacity line C₁ = `level` as (V, k) points, one per kurtosis of `k_axis`.
///
/// Spec: (P3)–(P5). Derivation: derivations/phase.md (PH6).
pub fn boundary_curve_kurtosis(
    setting: &PhaseSetting,
    level: f64,
    k_axis: &[f64],
) -> Result<Vec<(f64, f64)>> {
    k_axis
        .iter()
        .map(|&k| Ok((importance_at_capacity(setting, level, k)?, k)))
        .collect()
}

/// The first-order line of the diagram (spec §7.3): the points (1, p) of `p_axis` with
/// k = Kurt\[z\]/p ≤ 3 (1 < k), where C₁ jumps from 0 to 1 at V = 1. Empty when the closed forms
/// do not apply (D ≥ N).
///
/// Spec: §7.2, §7.3, (A9). Derivation: derivations/phase.md (PH8).
pub fn first_order_line(setting: &PhaseSetting, p_axis: &[f64]) -> Vec<(f64, f64)> {
    if !setting.closed_form_applies() {
        return Vec::new();
    }
    p_axis
        .iter()
        .filter(|&&p| {
            let k = setting.kurtosis_at(p);
            k > 1.0 && k <= 3.0
        })
        .map(|&p| (1.0, p))
        .collect()
}
