//! Optimal capacity allocation of the quadratic model: given importances vᵢ, kurtoses kᵢ
//! and D dimensions, the capacities Cᵢ ∈ [0, 1] with Σ Cᵢ = D that minimise
//! L* = Σᵢ Lᵢ*(Cᵢ) (spec (K1)–(K3), (Q15)).
//!
//! Four exact algorithms, chosen by [`Allocator`] from the kurtoses of the features that can
//! use capacity (vᵢ > 0 and kᵢ > 1):
//!
//! * D ≥ #such features: every one is monosemantic ([`Method::AllFull`]);
//! * all kᵢ > 3 (diminishing returns): the O(N log N) breakpoint sweep (A7), generalised to
//!   per-feature kurtosis (B5) ([`Method::Sweep`]);
//! * all kᵢ ≤ 3 (increasing or constant returns): the TOP_D rule (A9) by (kᵢ−1)vᵢ²
//!   ([`Method::TopD`]);
//! * mixed: the exact enumeration (B7) — never a local 1-D minimiser, see (B6.v)
//!   ([`Method::Mixed`]).
//!
//! λ comes from the segment formula (A6)/(B5), the lengths from (Q13)/(A3), μ = 2λ² (A4) and
//! the loss from (Q15) (never (Q11), which divides by Cᵢ). Every solve fills the KKT
//! self-test (A11) in O(N).
//!
//! Derivation: derivations/allocation.md.
//!
//! # Example
//! The worked example of spec §6.6:
//! ```
//! use polycap::base::FeatureSet;
//! use polycap::theory::allocation::allocate;
//! let f = FeatureSet::from_kurtosis(vec![0.5, 1.0, 1.0, 1.0, 1.0, 1.0], vec![18.0; 6])?;
//! let a = allocate(&f, 3)?;
//! assert!((a.lambda.unwrap_or(0.0) - 187.0 / 114.0).abs() < 1e-12);
//! assert!((a.capacity[0] - 7.0 / 33.0).abs() < 1e-12);
//! a.check_kkt(1e-10)?;
//! # Ok::<(), polycap::base::Error>(())
//! ```

use serde::Serialize;

use crate::base::{Error, FeatureSet, Result};
use crate::theory::quadratic::FeatureCurve;

/// Relative tolerance under which two losses (or two keys of the TOP_D order) count as tied.
const TIE_TOL: f64 = 1e-12;

/// Phase of one feature at the optimum (spec (A5), (K3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Cᵢ = 0: not represented.
    Ignored,
    /// 0 < Cᵢ < 1: shares dimensions with other features.
    Polysemantic,
    /// Cᵢ = 1: a dimension of its own.
    Monosemantic,
}

impl Phase {
    /// Lower-case name ("ignored", "polysemantic", "monosemantic").
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Ignored => "ignored",
            Phase::Polysemantic => "polysemantic",
            Phase::Monosemantic => "monosemantic",
        }
    }

    /// The phase of a capacity value: 0 ignored, 1 monosemantic, in between polysemantic.
    pub fn of_capacity(c: f64) -> Phase {
        if c <= 0.0 {
            Phase::Ignored
        } else if c >= 1.0 {
            Phase::Monosemantic
        } else {
            Phase::Polysemantic
        }
    }
}

/// Which algorithm produced an [`Allocation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// D ≥ number of features with vᵢ > 0, kᵢ > 1: all monosemantic (spec §6.3).
    #[default]
    AllFull,
    /// Breakpoint sweep (A7)/(B5): every usable feature has kᵢ > 3.
    Sweep,
    /// TOP_D rule (A9) by (kᵢ−1)vᵢ²: every usable feature has kᵢ ≤ 3.
    TopD,
    /// Exact enumeration (B7): some kᵢ ≤ 3 and some kᵢ > 3.
    Mixed,
    /// Prescribed λ, no D (A8).
    PrescribedLambda,
}

impl Method {
    /// Kebab-case name, as serialised.
    pub fn name(&self) -> &'static str {
        match self {
            Method::AllFull => "all-full",
            Method::Sweep => "sweep",
            Method::TopD => "top-d",
            Method::Mixed => "mixed",
            Method::PrescribedLambda => "prescribed-lambda",
        }
    }
}

/// Residuals of the KKT self-test (A11) with per-feature mᵢ (B3), all ≥ 0.
///
/// With μ reported: interior |mᵢ(Cᵢ) − μ|/μ, full max(0, μ − mᵢ(1))/μ, ignored
/// max(0, mᵢ(0) − μ)/μ. Without μ (it is not unique, e.g. kᵢ < 3 or D ≥ N) the test is
/// that *some* multiplier exists: `ignored` holds max(0, max_ign mᵢ(0) − min_full mᵢ(1)) /
/// min_full mᵢ(1), and `full` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Kkt {
    /// Max relative |mᵢ(Cᵢ) − μ|/μ over fractional features (equal marginal returns).
    pub interior: f64,
    /// Max relative violation of mᵢ(1) ≥ μ over monosemantic features.
    pub full: f64,
    /// Max relative violation of mᵢ(0) ≤ μ over ignored features.
    pub ignored: f64,
    /// |Σ Cᵢ − D| when the capacity constraint binds, max(0, Σ Cᵢ − D) otherwise, 0 in
    /// prescribed-λ mode.
    pub capacity_sum: f64,
    /// Max relative |nᵢ/Cᵢ − λ|/λ over fractional features (nᵢ from (Q13)).
    pub ratio: f64,
    /// The largest of the above.
    pub max_residual: f64,
}

/// An optimal capacity allocation of the quadratic model.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Allocation {
    /// Capacities Cᵢ ∈ [0, 1] (spec (C1), (A2)/(B5)).
    pub capacity: Vec<f64>,
    /// Squared lengths nᵢ = ‖Wᵢ‖² = nᵢ*(Cᵢ) (spec (Q13)/(A3)).
    pub sq_norm: Vec<f64>,
    /// Common ratio λ = nᵢ/Cᵢ of the fractional features (A6). When every feature is
    /// integral the multipliers satisfying (K3) form an interval [max_ign mᵢ(0),
    /// min_full mᵢ(1)]: λ is then `Some` only if that interval is one point (a k = 3 tie,
    /// λ = vᵢ of the binding full feature) and `None` otherwise (k < 3, D ≥ N, or D landing
    /// on a flat stretch of the sweep). In prescribed-λ mode, the given λ.
    pub lambda: Option<f64>,
    /// Lagrange multiplier of Σ Cᵢ = D, μ = 2λ² (A4) = the common marginal benefit.
    pub mu: Option<f64>,
    /// Optimal loss L* = Σᵢ Lᵢ*(Cᵢ) (Q15), including (kᵢ−1)vᵢ² for each ignored feature.
    pub loss: f64,
    /// Phase of each feature, read off Cᵢ.
    pub phase: Vec<Phase>,
    /// Σ Cᵢ: D when the constraint binds, D_eff in prescribed-λ mode (A8).
    pub total_capacity: f64,
    /// The embedding dimension D (`None` in prescribed-λ mode).
    pub dims: Option<usize>,
    /// KKT self-test residuals (A11).
    pub kkt: Kkt,
    /// The algorithm used.
    pub method: Method,
    /// True when the optimum is not unique (k = 3, or equal (kᵢ−1)vᵢ² at the cut for
    /// kᵢ ≤ 3, or two mixed candidates of equal loss): ties were broken by lower index.
    pub ties: bool,
}

impl Allocation {
    /// Fails with [`Error::Certificate`] if the KKT self-test (A11) has a residual above
    /// `tol` (the spec uses 1e-10 for the relative marginal benefits).
    ///
    /// The residual |ΣC − D| is absolute, and rounding alone makes it grow with N and ΣC: it
    /// is compared against max(`tol`, N·ε·max(ΣC, 1)), the rounding bound of a sum of N
    /// non-negative terms (derivations/allocation.md §8), so the test holds for N up to 10⁷
    /// and beyond. The other residuals are relative and compared against `tol`.
    pub fn check_kkt(&self, tol: f64) -> Result<()> {
        let k = &self.kkt;
        let n = self.capacity.len() as f64;
        let sum_tol = tol.max(n * f64::EPSILON * self.total_capacity.max(1.0));
        let relative = k.interior.max(k.full).max(k.ignored).max(k.ratio);
        if relative <= tol && k.capacity_sum <= sum_tol {
            return Ok(());
        }
        Err(Error::Certificate(format!(
            "KKT residual {:.3e} > {tol:.1e} (interior {:.3e}, full {:.3e}, ignored {:.3e}, \
             n/C {:.3e}) or |ΣC − D| {:.3e} > {sum_tol:.1e}",
            relative, k.interior, k.full, k.ignored, k.ratio, k.capacity_sum
        )))
    }
}

impl Allocation {
    /// (K1) as an error, never a result: every Cᵢ in \[0, 1\], Σ Cᵢ ≤ D up to the rounding
    /// bound N·ε·max(ΣC, 1) of [`Allocation::check_kkt`], finite lengths and loss. The sweep's
    /// f64 arithmetic can lose these for importances spanning dozens of decades (e.g. 10⁻³⁰
    /// next to 10³); such inputs get [`Error::Invariant`] naming the violation.
    fn check_invariants(&self) -> Result<()> {
        let n = self.capacity.len() as f64;
        let slack = 1e-9_f64.max(n * f64::EPSILON * self.total_capacity.max(1.0));
        if let Some(i) = self
            .capacity
            .iter()
            .position(|c| !(c.is_finite() && (0.0..=1.0).contains(c)))
        {
            return Err(Error::Invariant(format!(
                "allocation: C_{} = {} is outside [0, 1]; the inputs span too many decades for \
                 f64",
                i + 1,
                self.capacity[i]
            )));
        }
        if let Some(d) = self.dims
            && self.total_capacity > d as f64 + slack
        {
            return Err(Error::Invariant(format!(
                "allocation: ΣC = {} exceeds D = {d}; the importances and kurtoses span too many \
                 decades for f64 (narrow their range)",
                self.total_capacity
            )));
        }
        if !(self.loss.is_finite() && self.sq_norm.iter().all(|x| x.is_finite())) {
            return Err(Error::Invariant(
                "allocation: a length or the loss is not finite".into(),
            ));
        }
        Ok(())
    }
}

/// One breakpoint of the sweep in u = 1/λ: feature `i` enters (u = 2/((kᵢ−1)vᵢ)) or
/// saturates (u = 1/vᵢ). Spec (A7), (B5).
#[derive(Debug, Clone, Copy)]
struct Event {
    u: f64,
    i: usize,
    enter: bool,
}

/// State of a feature during a sweep.
const OUT: u8 = 0;
const ACTIVE: u8 = 1;
const FULL: u8 = 2;

/// A reusable workspace for repeated allocations (e.g. a phase diagram): buffers are kept
/// between calls, so a solve with N features does no heap allocation once warmed up.
///
/// # Example
/// ```
/// use polycap::theory::allocation::Allocator;
/// let mut ws = Allocator::new();
/// for v1 in [0.1, 1.0, 10.0] {
///     let a = ws.allocate_slices(&[v1, 1.0, 1.0, 1.0, 1.0, 1.0], &[18.0; 6], 3)?;
///     assert!((a.total_capacity - 3.0).abs() < 1e-12);
/// }
/// # Ok::<(), polycap::base::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Allocator {
    events: Vec<Event>,
    state: Vec<u8>,
    order: Vec<usize>,
    cand: Vec<f64>,
    best: Vec<f64>,
    out: Allocation,
}

impl Allocator {
    /// An empty workspace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Optimal allocation of a validated feature set in `dims` dimensions.
    pub fn allocate(&mut self, features: &FeatureSet, dims: usize) -> Result<&Allocation> {
        self.solve(features.importance(), features.kurtosis(), dims)?;
        Ok(&self.out)
    }

    /// Optimal allocation from raw slices: validates in O(N) (vᵢ finite ≥ 0, kᵢ finite
    /// ≥ 1, equal lengths, N ≥ 1, D ≥ 1) without building a [`FeatureSet`].
    pub fn allocate_slices(
        &mut self,
        importance: &[f64],
        kurtosis: &[f64],
        dims: usize,
    ) -> Result<&Allocation> {
        validate(importance, kurtosis)?;
        self.solve(importance, kurtosis, dims)?;
        Ok(&self.out)
    }

    /// Prescribed-λ allocation (A8), reusing the workspace; see
    /// [`allocate_prescribed_lambda`].
    pub fn allocate_prescribed_lambda(
        &mut self,
        features: &FeatureSet,
        lambda: f64,
    ) -> Result<&Allocation> {
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(Error::Parameter(format!(
                "prescribed λ must be finite and > 0, got {lambda}"
            )));
        }
        let (v, k) = (features.importance(), features.kurtosis());
        self.reset(v.len());
        let mut ties = false;
        for i in 0..v.len() {
            if !usable(v[i], k[i]) {
                continue;
            }
            self.out.capacity[i] = if k[i] > 3.0 {
                // (A2)/(B5) at the given λ.
                (((k[i] - 1.0) * v[i] / lambda - 2.0) / (k[i] - 3.0)).clamp(0.0, 1.0)
            } else {
                // Concave (or linear) Lᵢ*: the minimiser of Lᵢ*(C) + μC over [0, 1] is an
                // endpoint; C = 1 iff Lᵢ*(0) = (k−1)v² > μ = 2λ² (ties → 1, flagged).
                let gain = (k[i] - 1.0) * v[i] * v[i];
                let mu = 2.0 * lambda * lambda;
                if (gain - mu).abs() <= TIE_TOL * mu {
                    ties = true;
                }
                if gain >= mu { 1.0 } else { 0.0 }
            };
        }
        self.out.method = Method::PrescribedLambda;
        self.out.lambda = Some(lambda);
        self.out.ties = ties;
        self.out.dims = None;
        self.finish(v, k, None);
        Ok(&self.out)
    }

    /// The last result.
    pub fn result(&self) -> &Allocation {
        &self.out
    }

    /// Consumes the workspace, returning the last result.
    pub fn into_allocation(self) -> Allocation {
        self.out
    }

    fn reset(&mut self, n: usize) {
        let out = &mut self.out;
        out.capacity.clear();
        out.capacity.resize(n, 0.0);
        out.sq_norm.clear();
        out.sq_norm.resize(n, 0.0);
        out.phase.clear();
        out.phase.resize(n, Phase::Ignored);
        out.lambda = None;
        out.mu = None;
        out.ties = false;
        self.state.clear();
        self.state.resize(n, OUT);
    }

    fn solve(&mut self, v: &[f64], k: &[f64], dims: usize) -> Result<()> {
        if dims == 0 {
            return Err(Error::Dims(dims));
        }
        let n = v.len();
        self.reset(n);
        self.out.dims = Some(dims);
        let (mut usable_count, mut n_inc, mut n_dim) = (0usize, 0usize, 0usize);
        for i in 0..n {
            if usable(v[i], k[i]) {
                usable_count += 1;
                if k[i] > 3.0 {
                    n_dim += 1;
                } else {
                    n_inc += 1;
                }
            }
        }
        if dims >= usable_count {
            for i in 0..n {
                if usable(v[i], k[i]) {
                    self.out.capacity[i] = 1.0;
                }
            }
            self.out.method = Method::AllFull;
        } else if n_inc == 0 {
            self.build_events(v, k);
            let lam = self.sweep(v, k, dims as f64);
            self.out.lambda = Some(lam);
            self.out.method = Method::Sweep;
        } else if n_dim == 0 {
            self.top_d(v, k, dims);
            self.out.method = Method::TopD;
        } else {
            self.mixed(v, k, dims);
            self.out.method = Method::Mixed;
        }
        self.finish(v, k, Some(dims));
        self.out.check_invariants()
    }

    /// Sorted sweep breakpoints u = 2/((kᵢ−1)vᵢ) (enter) and u = 1/vᵢ (saturate) of the
    /// usable features with kᵢ > 3. Spec (A7), (B5).
    fn build_events(&mut self, v: &[f64], k: &[f64]) {
        self.events.clear();
        for i in 0..v.len() {
            if usable(v[i], k[i]) && k[i] > 3.0 {
                self.events.push(Event {
                    u: 2.0 / ((k[i] - 1.0) * v[i]),
                    i,
                    enter: true,
                });
                self.events.push(Event {
                    u: 1.0 / v[i],
                    i,
                    enter: false,
                });
            }
        }
        self.events.sort_unstable_by(|a, b| a.u.total_cmp(&b.u));
    }

    /// The sweep (A7)/(B5) over `self.events` for Σ Cⱼ = `target`, 0 < target < #members:
    /// finds the first segment [b′, b] with S(b′) < target ≤ S(b), reads off F and P, sets
    /// the members' capacities and returns λ from the segment formula (A6)/(B5).
    fn sweep(&mut self, v: &[f64], k: &[f64], target: f64) -> f64 {
        // Running sums compensated: features of very different scales enter and leave, and
        // a plain σ = a₁ + a₃ − a₃ with a₃ = 10³⁹·a₁ would lose a₁ entirely.
        let (mut full, mut sigma, mut beta) = (0.0, Neumaier::default(), Neumaier::default());
        for e in &self.events {
            // On the current segment S(u) = |F| + σu − Σ_P βᵢ (B5).
            let (sg, bt) = (sigma.sum(), beta.sum());
            if sg > 0.0 && full + sg * e.u - bt >= target {
                break;
            }
            let (a, b) = slope_terms(v[e.i], k[e.i]);
            if e.enter {
                self.state[e.i] = ACTIVE;
                sigma.add(a);
                beta.add(b);
            } else {
                self.state[e.i] = FULL;
                full += 1.0;
                sigma.add(-a);
                beta.add(-b);
            }
        }
        // Recompute the segment sums from the sets: no cancellation from the running sums,
        // and compensated sums, so λ carries O(ε) rounding whatever N (a naive sum of N terms
        // errs by up to Nε, which the cancellation in (A2) near the entry point amplifies:
        // N = 30 000 equal features missed ΣC = D by 3.5e-9).
        let (mut num, mut den) = (Neumaier::default(), Neumaier::default());
        den.add(target);
        for e in &self.events {
            if e.enter {
                match self.state[e.i] {
                    ACTIVE => {
                        let (a, b) = slope_terms(v[e.i], k[e.i]);
                        num.add(a);
                        den.add(b);
                    }
                    FULL => den.add(-1.0),
                    _ => {}
                }
            }
        }
        let lam = num.sum() / den.sum();
        for e in &self.events {
            if e.enter {
                let i = e.i;
                self.out.capacity[i] = match self.state[i] {
                    ACTIVE => interior_capacity(v[i], k[i], lam),
                    FULL => 1.0,
                    _ => 0.0,
                };
            }
        }
        lam
    }

    /// TOP_D (A9): the `dims` usable features with the largest (kᵢ−1)vᵢ² are full, ties by
    /// lower index.
    fn top_d(&mut self, v: &[f64], k: &[f64], dims: usize) {
        self.order.clear();
        self.order
            .extend((0..v.len()).filter(|&i| usable(v[i], k[i])));
        sort_by_gain(&mut self.order, v, k);
        for &i in self.order.iter().take(dims) {
            self.out.capacity[i] = 1.0;
        }
        if dims < self.order.len() {
            let last = gain(v, k, self.order[dims - 1]);
            let next = gain(v, k, self.order[dims]);
            self.out.ties = (last - next).abs() <= TIE_TOL * last;
        }
    }

    /// The exact mixed-returns solver (B7): enumerate q (number of full features of
    /// I = {kᵢ ≤ 3}) and the fractional f ∈ {none} ∪ I, solve each candidate's shared-λ
    /// equation in closed form on every affine segment, keep the least loss.
    fn mixed(&mut self, v: &[f64], k: &[f64], dims: usize) {
        let n = v.len();
        self.order.clear();
        self.order
            .extend((0..n).filter(|&i| usable(v[i], k[i]) && k[i] <= 3.0));
        sort_by_gain(&mut self.order, v, k);
        self.build_events(v, k);
        let n_i = self.order.len();
        let n_j = self.events.len() / 2;
        let baseline: f64 = (0..n).map(|i| gain(v, k, i)).sum();
        let mut best = Best {
            loss: f64::INFINITY,
            lambda: None,
            ties: false,
            tol: TIE_TOL * baseline.max(f64::MIN_POSITIVE),
        };
        self.best.clear();
        self.best.resize(n, 0.0);
        self.cand.clear();
        self.cand.resize(n, 0.0);
        for q in 0..=n_i.min(dims) {
            let t = (dims - q) as f64;
            // f = none: q full of I, the rest of I empty, J gets T = D − q by (B5).
            if dims - q <= n_j {
                self.set_integral_i(q, None);
                let lam = if dims - q == 0 || dims - q == n_j {
                    let fill = if dims - q == 0 { 0.0 } else { 1.0 };
                    for e in &self.events {
                        self.cand[e.i] = fill;
                    }
                    None
                } else {
                    self.state.iter_mut().for_each(|s| *s = OUT);
                    let lam = self.sweep(v, k, t);
                    for e in &self.events {
                        self.cand[e.i] = self.out.capacity[e.i];
                    }
                    Some(lam)
                };
                best.offer(&self.cand, &mut self.best, lam, v, k);
            }
            // f given: fractional increasing-returns feature sharing λ with J (B6.iii).
            // (I \ {f} must hold the q full features.)
            if q < n_i {
                for fi in 0..n_i {
                    let f = self.order[fi];
                    self.set_integral_i(q, Some(fi));
                    self.fractional_candidates(v, k, f, t, &mut best);
                }
            }
        }
        self.out.capacity.copy_from_slice(&self.best);
        self.out.lambda = best.lambda;
        self.out.ties = best.ties;
    }

    /// Sets the I part of the candidate: the top `q` of I (skipping position `skip`) full,
    /// the others 0.
    fn set_integral_i(&mut self, q: usize, skip: Option<usize>) {
        let mut taken = 0;
        for (pos, &i) in self.order.iter().enumerate() {
            if Some(pos) == skip {
                self.cand[i] = 0.0;
                continue;
            }
            self.cand[i] = if taken < q { 1.0 } else { 0.0 };
            taken += 1;
        }
    }

    /// Candidates of (B7) with fractional f: roots of S_J(u) + c_f(u) = T in the window
    /// u ∈ (1/v_f, 2/((k_f−1)v_f)) (B6.iii), one affine segment at a time; k_f = 3 forces
    /// λ = v_f.
    fn fractional_candidates(&mut self, v: &[f64], k: &[f64], f: usize, t: f64, best: &mut Best) {
        let (vf, kf) = (v[f], k[f]);
        let (u_lo, u_hi) = if kf < 3.0 {
            (1.0 / vf, 2.0 / ((kf - 1.0) * vf))
        } else {
            (1.0 / vf, 1.0 / vf)
        };
        // J's sets just right of u_lo.
        let (mut full, mut sigma, mut beta) = (0.0, Neumaier::default(), Neumaier::default());
        let mut pos = 0;
        self.state.iter_mut().for_each(|s| *s = OUT);
        let step = |e: &Event,
                    state: &mut [u8],
                    full: &mut f64,
                    sigma: &mut Neumaier,
                    beta: &mut Neumaier| {
            let (a, b) = slope_terms(v[e.i], k[e.i]);
            if e.enter {
                state[e.i] = ACTIVE;
                sigma.add(a);
                beta.add(b);
            } else {
                state[e.i] = FULL;
                *full += 1.0;
                sigma.add(-a);
                beta.add(-b);
            }
        };
        while pos < self.events.len() && self.events[pos].u <= u_lo {
            let e = self.events[pos];
            step(&e, &mut self.state, &mut full, &mut sigma, &mut beta);
            pos += 1;
        }
        if kf >= 3.0 {
            // k_f = 3: m_f ≡ 2v_f² = μ = 2λ², so λ = v_f and c_f = T − S_J(1/v_f).
            let u = u_lo;
            let (full, sigma, beta) = self.segment_sums(v, k);
            let cf = t - (full + sigma * u - beta);
            if cf > 0.0 && cf < 1.0 {
                self.cand[f] = cf;
                self.fill_j(v, k, 1.0 / u);
                best.offer(&self.cand, &mut self.best, Some(vf), v, k);
            }
            return;
        }
        let (af, bf) = (
            (kf - 1.0) / (kf - 3.0) * vf, // a_f v_f < 0
            2.0 / (kf - 3.0),             // β_f < 0
        );
        let mut s0 = u_lo;
        loop {
            let s1 = if pos < self.events.len() && self.events[pos].u < u_hi {
                self.events[pos].u
            } else {
                u_hi
            };
            // On [s0, s1]: S_J(u) + c_f(u) = full − β + σu + a_f v_f u − β_f.
            let slope = sigma.sum() + af;
            if slope != 0.0 {
                // A root within rounding of a segment end belongs to this segment too (the
                // neighbour may miss it by the same rounding): accept and clamp.
                let slack = 1e-12 * s1;
                let u = (t - full + beta.sum() + bf) / slope;
                if u >= s0 - slack && u <= s1 + slack {
                    // Re-solve with the segment sums recomputed from the sets (the running
                    // sums may carry cancellation), as the sweep does for (A6).
                    let (full, sigma, beta) = self.segment_sums(v, k);
                    let u = ((t - full + beta + bf) / (sigma + af)).clamp(s0, s1);
                    let cf = af * u - bf;
                    if cf > 0.0 && cf < 1.0 {
                        self.cand[f] = cf;
                        self.fill_j(v, k, 1.0 / u);
                        best.offer(&self.cand, &mut self.best, Some(1.0 / u), v, k);
                    }
                }
            }
            if s1 >= u_hi {
                break;
            }
            let e = self.events[pos];
            step(&e, &mut self.state, &mut full, &mut sigma, &mut beta);
            pos += 1;
            s0 = s1;
        }
        self.cand[f] = 0.0;
    }

    /// (|F|, Σ_P aⱼvⱼ, Σ_P βⱼ) of J from the current sets, summed afresh (B5).
    fn segment_sums(&self, v: &[f64], k: &[f64]) -> (f64, f64, f64) {
        let (mut full, mut sigma, mut beta) = (0.0, Neumaier::default(), Neumaier::default());
        for e in &self.events {
            if e.enter {
                match self.state[e.i] {
                    ACTIVE => {
                        let (a, b) = slope_terms(v[e.i], k[e.i]);
                        sigma.add(a);
                        beta.add(b);
                    }
                    FULL => full += 1.0,
                    _ => {}
                }
            }
        }
        (full, sigma.sum(), beta.sum())
    }

    /// J's capacities at λ from the current sets (B5).
    fn fill_j(&mut self, v: &[f64], k: &[f64], lam: f64) {
        for e in &self.events {
            if e.enter {
                let i = e.i;
                self.cand[i] = match self.state[i] {
                    ACTIVE => interior_capacity(v[i], k[i], lam),
                    FULL => 1.0,
                    _ => 0.0,
                };
            }
        }
    }

    /// Phases, lengths (Q13), μ = 2λ² (A4), loss (Q15), ΣC and the KKT residuals (A11).
    fn finish(&mut self, v: &[f64], k: &[f64], dims: Option<usize>) {
        let out = &mut self.out;
        let n = v.len();
        let mut loss = 0.0;
        let mut total = Neumaier::default();
        let mut usable_count = 0usize;
        for i in 0..n {
            let curve = FeatureCurve {
                importance: v[i],
                kurtosis: k[i],
            };
            let c = out.capacity[i];
            out.phase[i] = Phase::of_capacity(c);
            out.sq_norm[i] = if c <= 0.0 { 0.0 } else { curve.sq_norm(c) };
            loss += curve.loss(c);
            total.add(c);
            usable_count += usize::from(usable(v[i], k[i]));
        }
        out.loss = loss;
        let total = total.sum();
        out.total_capacity = total;
        if out.method != Method::PrescribedLambda && !out.phase.contains(&Phase::Polysemantic) {
            out.lambda = None;
        }
        if out.lambda.is_none() {
            // With every feature integral the multipliers satisfying (K3) form the interval
            // [max_ign mᵢ(0), min_full mᵢ(1)]; one is reported only when it is a point.
            let (lo, hi) = mu_interval(v, k, &out.capacity);
            if hi.is_finite() && lo > 0.0 && (hi - lo).abs() <= TIE_TOL * hi {
                out.lambda = Some((hi / 2.0).sqrt());
            }
        }
        out.mu = out.lambda.map(|l| 2.0 * l * l);
        let mut kkt = Kkt::default();
        match (out.mu, out.lambda) {
            (Some(mu), Some(lam)) => {
                for i in 0..n {
                    let curve = FeatureCurve {
                        importance: v[i],
                        kurtosis: k[i],
                    };
                    let c = out.capacity[i];
                    match out.phase[i] {
                        Phase::Ignored => {
                            let r = (curve.marginal_benefit(0.0) - mu).max(0.0) / mu;
                            kkt.ignored = kkt.ignored.max(r);
                        }
                        Phase::Monosemantic => {
                            let r = (mu - curve.marginal_benefit(1.0)).max(0.0) / mu;
                            kkt.full = kkt.full.max(r);
                        }
                        Phase::Polysemantic => {
                            let r = (curve.marginal_benefit(c) - mu).abs() / mu;
                            kkt.interior = kkt.interior.max(r);
                            let r = (out.sq_norm[i] / c - lam).abs() / lam;
                            kkt.ratio = kkt.ratio.max(r);
                        }
                    }
                }
            }
            _ => {
                let (lo, hi) = mu_interval(v, k, &out.capacity);
                if hi.is_finite() && hi > 0.0 {
                    kkt.ignored = (lo - hi).max(0.0) / hi;
                }
                // Fractional features need a multiplier: flag any (cannot happen by
                // construction, but the self-test must not trust that).
                for &p in &out.phase {
                    if p == Phase::Polysemantic {
                        kkt.interior = f64::INFINITY;
                    }
                }
            }
        }
        kkt.capacity_sum = match dims {
            None => 0.0,
            Some(d) if d < usable_count => (total - d as f64).abs(),
            Some(d) => (total - d as f64).max(0.0),
        };
        kkt.max_residual = kkt
            .interior
            .max(kkt.full)
            .max(kkt.ignored)
            .max(kkt.capacity_sum)
            .max(kkt.ratio);
        out.kkt = kkt;
    }
}

/// Keeps the best (B7) candidate: least loss; within the tie tolerance, fewest fractional
/// features, then capacity given to lower indices first.
#[derive(Debug)]
struct Best {
    loss: f64,
    lambda: Option<f64>,
    ties: bool,
    tol: f64,
}

impl Best {
    fn offer(&mut self, cand: &[f64], best: &mut [f64], lambda: Option<f64>, v: &[f64], k: &[f64]) {
        let loss: f64 = (0..v.len())
            .map(|i| {
                FeatureCurve {
                    importance: v[i],
                    kurtosis: k[i],
                }
                .loss(cand[i])
            })
            .sum();
        let take = if loss < self.loss - self.tol {
            self.ties = false;
            true
        } else if loss <= self.loss + self.tol {
            // A materially different candidate of equal loss is a tie; a near-duplicate
            // (e.g. a fractional root within rounding of 0 or 1) is not, but the tie-break
            // still prefers its integral twin, whose multiplier is the honest one.
            if cand
                .iter()
                .zip(best.iter())
                .any(|(a, b)| (a - b).abs() > 1e-9)
            {
                self.ties = true;
            }
            prefer(cand, best)
        } else {
            false
        };
        if take {
            self.loss = loss;
            self.lambda = lambda;
            best.copy_from_slice(cand);
        }
    }
}

/// Tie-break of (B7): fewer fractional features, then the larger capacity at the first
/// index where the two differ.
fn prefer(cand: &[f64], best: &[f64]) -> bool {
    let frac = |c: &[f64]| c.iter().filter(|&&x| x > 0.0 && x < 1.0).count();
    let (fc, fb) = (frac(cand), frac(best));
    if fc != fb {
        return fc < fb;
    }
    for (a, b) in cand.iter().zip(best) {
        if (a - b).abs() > 1e-12 {
            return a > b;
        }
    }
    false
}

/// [max over ignored usable features of mᵢ(0), min over full features of mᵢ(1)]: the
/// multipliers μ for which the integral features satisfy (K3).
fn mu_interval(v: &[f64], k: &[f64], capacity: &[f64]) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    for i in 0..v.len() {
        let curve = FeatureCurve {
            importance: v[i],
            kurtosis: k[i],
        };
        let c = capacity[i];
        if c <= 0.0 {
            lo = lo.max(curve.marginal_benefit(0.0));
        } else if c >= 1.0 {
            hi = hi.min(curve.marginal_benefit(1.0));
        }
    }
    (lo, hi)
}

/// A feature that can use capacity: vᵢ > 0 and kᵢ > 1 (kᵢ = 1 costs nothing, spec §12.1).
fn usable(v: f64, k: f64) -> bool {
    v > 0.0 && k > 1.0
}

/// Lᵢ*(0) = (kᵢ−1)vᵢ², the TOP_D key (A9), (B6.ii).
fn gain(v: &[f64], k: &[f64], i: usize) -> f64 {
    (k[i] - 1.0) * v[i] * v[i]
}

/// Sorts indices by (kᵢ−1)vᵢ² descending, ties by lower index.
fn sort_by_gain(order: &mut [usize], v: &[f64], k: &[f64]) {
    order.sort_unstable_by(|&a, &b| gain(v, k, b).total_cmp(&gain(v, k, a)).then(a.cmp(&b)));
}

/// Slope and offset of an active feature in u = 1/λ: Cᵢ = aᵢvᵢu − βᵢ with
/// aᵢ = (kᵢ−1)/(kᵢ−3), βᵢ = 2/(kᵢ−3) (B5). Returns (aᵢvᵢ, βᵢ).
fn slope_terms(v: f64, k: f64) -> (f64, f64) {
    ((k - 1.0) / (k - 3.0) * v, 2.0 / (k - 3.0))
}

/// Cᵢ = clip(((kᵢ−1)vᵢ/λ − 2)/(kᵢ−3), 0, 1) (A2)/(B5).
///
/// A value within its own rounding error of 0 or 1 (64 ε (kᵢ−1)/(kᵢ−3)) is snapped to the
/// end: at a breakpoint the exact value is the end itself, and a spurious "fractional"
/// feature would make the multiplier look determined when it is not.
fn interior_capacity(v: f64, k: f64, lam: f64) -> f64 {
    let c = ((k - 1.0) * v / lam - 2.0) / (k - 3.0);
    let slack = 64.0 * f64::EPSILON * (k - 1.0) / (k - 3.0);
    if c <= slack {
        0.0
    } else if c >= 1.0 - slack {
        1.0
    } else {
        c
    }
}

/// Neumaier's compensated sum: the rounding error of a sum of N terms is O(ε), not O(Nε).
#[derive(Debug, Clone, Copy, Default)]
struct Neumaier {
    sum: f64,
    carry: f64,
}

impl Neumaier {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.carry += (self.sum - t) + x;
        } else {
            self.carry += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn sum(self) -> f64 {
        self.sum + self.carry
    }
}

fn validate(importance: &[f64], kurtosis: &[f64]) -> Result<()> {
    crate::base::check_slices(importance, kurtosis)
}

/// Optimal capacity allocation of the quadratic model in `dims` dimensions
/// (spec (K1)–(K3), (A7), (A9), (B5), (B7)); see the module docs for the dispatch.
///
/// Errors: [`Error::Dims`] for `dims == 0`. D ≥ N is valid (every usable feature full).
pub fn allocate(features: &FeatureSet, dims: usize) -> Result<Allocation> {
    let mut ws = Allocator::new();
    ws.allocate(features, dims)?;
    Ok(ws.into_allocation())
}

/// Prescribed-λ mode (A8): no D; Cᵢ from (A2)/(B5) at the given λ (features with kᵢ ≤ 3
/// take the endpoint minimising Lᵢ*(C) + 2λ²C), and the effective dimension
/// D_eff = Σ Cᵢ in [`Allocation::total_capacity`]. Needed for spec Figure 2.
///
/// Errors: [`Error::Parameter`] unless λ is finite and > 0.
pub fn allocate_prescribed_lambda(features: &FeatureSet, lambda: f64) -> Result<Allocation> {
    let mut ws = Allocator::new();
    ws.allocate_prescribed_lambda(features, lambda)?;
    Ok(ws.into_allocation())
}
