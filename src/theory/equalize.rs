//! The general equal-marginal-returns solver: for any features with diminishing returns
//! (non-increasing marginal benefit mᵢ(C) on [0, 1]), find the multiplier μ and capacities
//! with mᵢ(Cᵢ) = μ for fractional features, Cᵢ = 1 where mᵢ(1) ≥ μ, Cᵢ = 0 where
//! mᵢ(0) ≤ μ, and Σ Cᵢ = D (spec (K2)–(K3), (B4)).
//!
//! Nested root finding with argmin's Brent method (kept behind a private adapter): the
//! inner root inverts each mᵢ, the outer root solves Σ Cᵢ(μ) = D in log μ. Every run checks
//! that Brent reported convergence. For the quadratic model the exact solver
//! [`crate::theory::allocation`] is preferable; this one serves other marginal curves and
//! cross-checks it.
//!
//! Derivation: derivations/equalize.md.
//!
//! # Example
//! ```
//! use polycap::theory::equalize::equalize;
//! use polycap::theory::quadratic::FeatureCurve;
//! let curves: Vec<FeatureCurve> = [0.5, 1.0, 1.0, 1.0, 1.0, 1.0]
//!     .iter()
//!     .map(|&v| FeatureCurve { importance: v, kurtosis: 18.0 })
//!     .collect();
//! let eq = equalize(&curves, 3.0)?;
//! assert!((eq.capacity[0] - 7.0 / 33.0).abs() < 1e-9);
//! # Ok::<(), polycap::base::Error>(())
//! ```

use std::cell::{Cell, RefCell};

use argmin::core::{CostFunction, Executor, State, TerminationReason};
use argmin::solver::brent::BrentRoot;
use serde::Serialize;

use crate::base::{Error, Result};
use crate::theory::quadratic::FeatureCurve;

/// Points at which [`equalize`] checks that a curve is non-increasing.
const MONOTONE_GRID: usize = 64;
/// Brent tolerance on C ∈ [0, 1] (inner) and on ln μ (outer).
const BRENT_TOL: f64 = 1e-15;
/// Iteration cap of each Brent run.
const MAX_ITERS: u64 = 200;
/// Accepted |Σ Cᵢ − D| at the final μ.
const SUM_TOL: f64 = 1e-9;

/// A feature's marginal benefit m(C) = −dL*/dC on C ∈ [0, 1].
///
/// Requirement: diminishing returns, i.e. m is non-increasing (and continuous) on [0, 1].
/// [`equalize`] checks monotonicity on a grid and rejects increasing returns.
pub trait MarginalCurve {
    /// m(C) for C ∈ [0, 1].
    fn marginal_benefit(&self, c: f64) -> f64;
}

/// The quadratic model's m(C) = 2(k−1)²v²/((k−3)C + 2)² (spec (Q16)/(B3)).
///
/// Non-increasing only for k ≥ 3: for k > 3 it is strictly decreasing (diminishing
/// returns), for k = 3 it is constant (flat: [`equalize`] rejects it because the split is
/// not unique), for k < 3 it increases and [`equalize`] rejects it (use
/// [`crate::theory::allocation::allocate`], which handles every k).
impl MarginalCurve for FeatureCurve {
    fn marginal_benefit(&self, c: f64) -> f64 {
        FeatureCurve::marginal_benefit(self, c)
    }
}

/// Convergence report of [`equalize`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Convergence {
    /// Iterations of the outer Brent root on ln μ.
    pub outer_iterations: u64,
    /// Total iterations of all inner Brent roots (every evaluation of Σ Cᵢ(μ)).
    pub inner_iterations: u64,
    /// Final |Σ Cᵢ − D|.
    pub sum_residual: f64,
    /// Max over fractional features of |mᵢ(Cᵢ) − μ|/μ at the returned capacities.
    pub max_inner_residual: f64,
}

/// Result of [`equalize`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Equalized {
    /// Capacities Cᵢ ∈ [0, 1].
    pub capacity: Vec<f64>,
    /// The common marginal benefit μ; `None` when D ≥ the number of curves with positive
    /// benefit (everything full, the constraint does not bind).
    pub mu: Option<f64>,
    /// How the roots converged.
    pub report: Convergence,
}

/// Equalises marginal returns: capacities Cᵢ(μ) with Σ Cᵢ = `dims` (any real D > 0).
///
/// For a multiplier μ: Cᵢ(μ) = 1 if mᵢ(1) ≥ μ, 0 if mᵢ(0) ≤ μ, else the root of mᵢ(C) = μ
/// (Brent). Σ Cᵢ(μ) is continuous and non-increasing; μ is its root in ln μ on
/// [ln min mᵢ(1), ln max mᵢ(0)] over the curves with positive benefit (Brent). Curves with
/// mᵢ(0) ≤ 0 get Cᵢ = 0.
///
/// Errors: [`Error::Parameter`] for D not finite and > 0, a non-finite or negative m, an
/// increasing curve (increasing returns) or a flat positive one (constant returns: the
/// split is not unique); [`Error::NotConverged`] when a Brent run stops without
/// converging or Σ Cᵢ misses D by more than 1e-9 (a curve flat at μ).
pub fn equalize<M: MarginalCurve>(curves: &[M], dims: f64) -> Result<Equalized> {
    if !(dims.is_finite() && dims > 0.0) {
        return Err(Error::Parameter(format!(
            "equalize: D must be finite and > 0, got {dims}"
        )));
    }
    if curves.is_empty() {
        return Err(Error::NoFeatures);
    }
    let mut ends = Vec::with_capacity(curves.len());
    for (i, curve) in curves.iter().enumerate() {
        ends.push(check_curve(i, curve)?);
    }
    let positive: Vec<usize> = (0..curves.len()).filter(|&i| ends[i].0 > 0.0).collect();
    let mut capacity = vec![0.0; curves.len()];
    if dims >= positive.len() as f64 {
        for &i in &positive {
            capacity[i] = 1.0;
        }
        let sum: f64 = capacity.iter().sum();
        return Ok(Equalized {
            capacity,
            mu: None,
            report: Convergence {
                sum_residual: (sum - dims).max(0.0),
                ..Convergence::default()
            },
        });
    }
    let lo = positive
        .iter()
        .map(|&i| ends[i].1)
        .fold(f64::INFINITY, f64::min);
    let hi = positive
        .iter()
        .map(|&i| ends[i].0)
        .fold(f64::NEG_INFINITY, f64::max);
    let problem = Outer {
        curves,
        ends: &ends,
        positive: &positive,
        dims,
        inner_iterations: Cell::new(0),
        failure: RefCell::new(None),
    };
    // A positive curve may reach m(1) = 0: then bracket from below by a tiny μ.
    let lo = if lo > 0.0 { lo } else { hi * 1e-300 };
    let ln_mu = problem.root(lo.ln(), hi.ln())?;
    let mu = ln_mu.0.exp();
    let mut max_inner = 0.0f64;
    for &i in &positive {
        let (c, _) = problem.capacity_at(i, mu)?;
        capacity[i] = c;
        if c > 0.0 && c < 1.0 {
            let r = (curves[i].marginal_benefit(c) - mu).abs() / mu;
            max_inner = max_inner.max(r);
        }
    }
    let sum: f64 = capacity.iter().sum();
    let sum_residual = (sum - dims).abs();
    let report = Convergence {
        outer_iterations: ln_mu.1,
        inner_iterations: problem.inner_iterations.get(),
        sum_residual,
        max_inner_residual: max_inner,
    };
    if sum_residual > SUM_TOL {
        return Err(Error::NotConverged {
            solver: "equalize (Σ Cᵢ(μ) = D)",
            reason: format!(
                "|Σ C − D| = {sum_residual:.3e} at μ = {mu:.6e}: Σ Cᵢ(μ) jumps there \
                 (a marginal curve is flat at μ)"
            ),
            iterations: ln_mu.1,
        });
    }
    Ok(Equalized {
        capacity,
        mu: Some(mu),
        report,
    })
}

/// (m(0), m(1)) after checking that m is finite, ≥ 0, non-increasing on a grid and not
/// flat at a positive value.
fn check_curve<M: MarginalCurve>(i: usize, curve: &M) -> Result<(f64, f64)> {
    let mut prev = f64::INFINITY;
    let mut prev_c = 0.0;
    for j in 0..=MONOTONE_GRID {
        let c = j as f64 / MONOTONE_GRID as f64;
        let m = curve.marginal_benefit(c);
        if !(m.is_finite() && m >= 0.0) {
            return Err(Error::Parameter(format!(
                "marginal curve {i}: m({c}) = {m} is not finite and ≥ 0"
            )));
        }
        if m > prev * (1.0 + 1e-12) {
            return Err(Error::Parameter(format!(
                "marginal curve {i} has increasing returns (m({prev_c}) = {prev} < m({c}) = {m}); \
                 equalize needs non-increasing m (for the quadratic model with k ≤ 3 use \
                 allocation::allocate)"
            )));
        }
        prev = m;
        prev_c = c;
    }
    let (m0, m1) = (curve.marginal_benefit(0.0), curve.marginal_benefit(1.0));
    if m0 > 0.0 && (m0 - m1).abs() <= 1e-12 * m0 {
        return Err(Error::Parameter(format!(
            "marginal curve {i} is flat (constant returns, m = {m0}): the equal-returns split \
             is not unique; for the quadratic model with k = 3 use allocation::allocate"
        )));
    }
    Ok((m0, m1))
}

/// The outer problem: Σ Cᵢ(e^t) − D as a function of t = ln μ.
struct Outer<'a, M> {
    curves: &'a [M],
    ends: &'a [(f64, f64)],
    positive: &'a [usize],
    dims: f64,
    inner_iterations: Cell<u64>,
    /// First library error met inside an argmin run (argmin errors are opaque).
    failure: RefCell<Option<Error>>,
}

impl<M: MarginalCurve> Outer<'_, M> {
    /// Cᵢ(μ) and the inner iterations used.
    fn capacity_at(&self, i: usize, mu: f64) -> Result<(f64, u64)> {
        let (m0, m1) = self.ends[i];
        if m1 >= mu {
            return Ok((1.0, 0));
        }
        if m0 <= mu {
            return Ok((0.0, 0));
        }
        let inner = Inner {
            curve: &self.curves[i],
            mu,
        };
        let (c, iters) = brent(inner, 0.0, 1.0, "equalize inner root mᵢ(C) = μ")?;
        self.inner_iterations
            .set(self.inner_iterations.get() + iters);
        Ok((c.clamp(0.0, 1.0), iters))
    }

    fn excess(&self, t: f64) -> Result<f64> {
        let mu = t.exp();
        let mut sum = 0.0;
        for &i in self.positive {
            sum += self.capacity_at(i, mu)?.0;
        }
        Ok(sum - self.dims)
    }

    /// The root t* of Σ Cᵢ(e^t) = D on [t_lo, t_hi], and the outer iterations.
    fn root(&self, t_lo: f64, t_hi: f64) -> Result<(f64, u64)> {
        let out = brent(self, t_lo, t_hi, "equalize outer root Σ Cᵢ(μ) = D");
        if let Some(e) = self.failure.borrow_mut().take() {
            return Err(e);
        }
        out
    }
}

impl<M: MarginalCurve> CostFunction for &Outer<'_, M> {
    type Param = f64;
    type Output = f64;

    fn cost(&self, t: &f64) -> std::result::Result<f64, argmin::core::Error> {
        match self.excess(*t) {
            Ok(x) => Ok(x),
            Err(e) => {
                let msg = e.to_string();
                self.failure.borrow_mut().get_or_insert(e);
                Err(argmin::core::Error::msg(msg))
            }
        }
    }
}

/// The inner problem: m(C) − μ on C ∈ [0, 1].
struct Inner<'a, M> {
    curve: &'a M,
    mu: f64,
}

impl<M: MarginalCurve> CostFunction for Inner<'_, M> {
    type Param = f64;
    type Output = f64;

    fn cost(&self, c: &f64) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.curve.marginal_benefit(*c) - self.mu)
    }
}

/// Runs argmin's BrentRoot on [lo, hi] and insists on `SolverConverged`.
fn brent<P>(problem: P, lo: f64, hi: f64, solver: &'static str) -> Result<(f64, u64)>
where
    P: CostFunction<Param = f64, Output = f64>,
{
    let res = Executor::new(problem, BrentRoot::new(lo, hi, BRENT_TOL))
        .configure(|s| s.max_iters(MAX_ITERS))
        .run()
        .map_err(|e| Error::NotConverged {
            solver,
            reason: e.to_string(),
            iterations: 0,
        })?;
    let state = res.state();
    let iterations = state.get_iter();
    match state.get_termination_reason() {
        Some(TerminationReason::SolverConverged) => {}
        other => {
            return Err(Error::NotConverged {
                solver,
                reason: format!("{other:?}"),
                iterations,
            });
        }
    }
    let x = *state.get_param().ok_or_else(|| Error::NotConverged {
        solver,
        reason: "no parameter returned".into(),
        iterations,
    })?;
    Ok((x, iterations))
}
