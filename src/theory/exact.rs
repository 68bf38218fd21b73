//! Exact rational arithmetic for the optimal allocation (spec (B8)), behind the `exact`
//! feature (rug/GMP).
//!
//! For rational vᵢ, kᵢ and integer D every quantity of the allocation is rational: the
//! breakpoints, λ from (A6)/(B5), the roots of (B7), Cᵢ, nᵢ, μ = 2λ² and L*. This module
//! solves the same problem with exact comparisons — an implementation independent of the
//! f64 one (sets are read off by exact evaluation at segment midpoints, not by a running
//! sweep) — and [`certify`] checks an f64 [`Allocation`] against it.
//!
//! Derivation: derivations/exact.md.
//!
//! # Example
//! ```
//! use polycap::theory::exact::{allocate_exact, rational};
//! let v: Vec<_> = [(1, 2), (1, 1), (1, 1), (1, 1), (1, 1), (1, 1)].iter().map(|&p| rational(p)).collect();
//! let k = vec![rational((18, 1)); 6];
//! let a = allocate_exact(&v, &k, 3)?;
//! assert_eq!(a.capacity[0], rational((7, 33)));
//! assert_eq!(a.lambda, Some(rational((187, 114))));
//! # Ok::<(), polycap::base::Error>(())
//! ```

use std::cmp::Ordering;

use rug::{Integer, Rational};

use crate::base::{Error, Magnitude, Result};
use crate::theory::allocation::{Allocation, Phase};

/// An optimal allocation in exact rational arithmetic (spec (B8)).
#[derive(Debug, Clone, PartialEq)]
pub struct ExactAllocation {
    /// Capacities Cᵢ ∈ [0, 1].
    pub capacity: Vec<Rational>,
    /// Squared lengths nᵢ*(Cᵢ) (Q13).
    pub sq_norm: Vec<Rational>,
    /// λ = nᵢ/Cᵢ of the fractional features (A6)/(B5); `None` when every feature is
    /// integral and the admissible multipliers form an interval (same rule as the f64
    /// solver).
    pub lambda: Option<Rational>,
    /// μ = 2λ² (A4).
    pub mu: Option<Rational>,
    /// L* = Σ Lᵢ*(Cᵢ) (Q15).
    pub loss: Rational,
    /// Phase of each feature, read off Cᵢ.
    pub phase: Vec<Phase>,
    /// True when another optimum with different capacities exists (ties broken as in the
    /// f64 solver: fewer fractional features, then capacity to lower indices).
    pub ties: bool,
}

/// Largest deviations between an f64 allocation and the exact one (see [`certify`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Discrepancy {
    /// maxᵢ |Cᵢ(f64) − Cᵢ(exact)|.
    pub capacity: f64,
    /// |L*(f64) − L*(exact)| / |L*(exact)| (absolute if L*(exact) = 0).
    pub loss: f64,
    /// |λ(f64) − λ(exact)| / λ(exact), when both are defined.
    pub lambda: f64,
    /// Features whose phase differs, allowed only at a breakpoint (exact Cᵢ ∈ {0, 1} and
    /// |ΔCᵢ| within tolerance).
    pub boundary_phase_mismatches: usize,
}

/// p/q as a rational (a convenience for tests and examples).
pub fn rational(pq: (i64, i64)) -> Rational {
    Rational::from(pq)
}

/// The exact value of a finite f64 (every finite f64 is a dyadic rational).
///
/// Errors: [`Error::Parameter`] for NaN or ±∞.
pub fn from_f64(x: f64) -> Result<Rational> {
    Rational::from_f64(x)
        .ok_or_else(|| Error::Parameter(format!("{x} has no exact rational value")))
}

/// The decimal rational of the shortest representation of `x` that round-trips: the value
/// a person typed, e.g. 0.1 → 1/10 (not the dyadic 3602879701896397/2⁵⁵).
///
/// Errors: [`Error::Parameter`] for NaN or ±∞.
pub fn from_decimal(x: f64) -> Result<Rational> {
    if !x.is_finite() {
        return Err(Error::Parameter(format!("{x} has no exact rational value")));
    }
    let s = format!("{x:e}");
    let (mantissa, exp) = s
        .split_once('e')
        .ok_or_else(|| Error::Parameter(format!("cannot read {s} as a decimal")))?;
    let exp: i64 = exp
        .parse()
        .map_err(|_| Error::Parameter(format!("cannot read {s} as a decimal")))?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int_part}{frac_part}");
    let num = Integer::from_str_radix(&digits, 10)
        .map_err(|_| Error::Parameter(format!("cannot read {s} as a decimal")))?;
    let shift = exp - frac_part.len() as i64;
    let ten = |e: i64| Integer::from(Integer::u_pow_u(10, e.unsigned_abs() as u32));
    Ok(if shift >= 0 {
        Rational::from(num * ten(shift))
    } else {
        Rational::from((num, ten(shift)))
    })
}

/// Exact Pearson kurtosis Kurt\[z\] of a magnitude shape: uniform 9/5, Gaussian 3, Laplace 6,
/// Rademacher 1, Student-t 3(ν−2)/(ν−4) with ν read as a decimal (spec (Q4), (Q5)).
pub fn magnitude_kurtosis(m: Magnitude) -> Result<Rational> {
    Ok(match m {
        Magnitude::Uniform => rational((9, 5)),
        Magnitude::Gaussian => rational((3, 1)),
        Magnitude::Laplace => rational((6, 1)),
        Magnitude::Rademacher => rational((1, 1)),
        Magnitude::StudentT { nu } => {
            let nu = from_decimal(nu)?;
            (3 * (nu.clone() - 2u32)) / (nu - 4u32)
        }
    })
}

/// k = Kurt\[z\]/p for a sparse feature of density p (Q4); sparse uniform k = 9/(5p) (Q5).
pub fn sparse_kurtosis(density: &Rational, m: Magnitude) -> Result<Rational> {
    if *density <= 0 || *density > 1 {
        return Err(Error::Parameter(format!(
            "density p = 1 − S must be in (0, 1], got {density}"
        )));
    }
    Ok(magnitude_kurtosis(m)? / density.clone())
}

/// Exact optimal allocation for rational vᵢ ≥ 0, kᵢ ≥ 1 and integer D ≥ 1: the k > 3 sweep
/// (A7)/(B5), TOP_D (A9) for k ≤ 3, and the mixed enumeration (B7), with exact comparisons.
///
/// Errors: [`Error::NoFeatures`], [`Error::Length`], [`Error::Dims`], [`Error::Parameter`]
/// for a negative importance or a kurtosis below 1.
pub fn allocate_exact(v: &[Rational], k: &[Rational], dims: usize) -> Result<ExactAllocation> {
    if v.is_empty() {
        return Err(Error::NoFeatures);
    }
    if k.len() != v.len() {
        return Err(Error::Length {
            what: "kurtosis",
            expected: v.len(),
            got: k.len(),
        });
    }
    if dims == 0 {
        return Err(Error::Dims(dims));
    }
    for (i, x) in v.iter().enumerate() {
        if *x < 0 {
            return Err(Error::Parameter(format!(
                "importance of feature {i} must be ≥ 0, got {x}"
            )));
        }
    }
    for (i, x) in k.iter().enumerate() {
        if *x < 1 {
            return Err(Error::Parameter(format!(
                "kurtosis of feature {i} must be ≥ 1, got {x}"
            )));
        }
    }
    let p = Problem { v, k };
    let n = v.len();
    let usable: Vec<usize> = (0..n).filter(|&i| p.usable(i)).collect();
    let inc: Vec<usize> = usable.iter().copied().filter(|&i| k[i] <= 3).collect();
    let dim: Vec<usize> = usable.iter().copied().filter(|&i| k[i] > 3).collect();
    let mut c = vec![Rational::new(); n];
    let mut lambda = None;
    let mut ties = false;
    if dims >= usable.len() {
        for &i in &usable {
            c[i] = Rational::from(1);
        }
    } else if inc.is_empty() {
        lambda = Some(p.sweep(&dim, &Rational::from(dims), &mut c));
    } else if dim.is_empty() {
        let order = p.by_gain(&inc);
        for &i in order.iter().take(dims) {
            c[i] = Rational::from(1);
        }
        ties = p.gain(order[dims - 1]) == p.gain(order[dims]);
    } else {
        let best = p.mixed(&inc, &dim, dims);
        c = best.capacity;
        lambda = best.lambda;
        ties = best.ties;
    }
    Ok(p.finish(c, lambda, ties))
}

/// Checks an f64 allocation against the exact one (B8): the same phases (a feature exactly
/// at a breakpoint may fall on either side within tolerance), |ΔCᵢ| ≤ `rel_tol`, relative
/// error of L* ≤ `rel_tol`, and λ agreeing to `rel_tol` relative when both are defined.
///
/// Errors: [`Error::Certificate`] naming the first failed check.
pub fn certify(float: &Allocation, exact: &ExactAllocation, rel_tol: f64) -> Result<Discrepancy> {
    let n = exact.capacity.len();
    if float.capacity.len() != n {
        return Err(Error::Certificate(format!(
            "f64 allocation has {} features, exact {n}",
            float.capacity.len()
        )));
    }
    let mut d = Discrepancy::default();
    for i in 0..n {
        let ce = &exact.capacity[i];
        let diff = (from_f64(float.capacity[i])? - ce.clone()).abs().to_f64();
        d.capacity = d.capacity.max(diff);
        if diff > rel_tol {
            return Err(Error::Certificate(format!(
                "capacity of feature {i}: f64 {} vs exact {ce} (|Δ| = {diff:.3e} > {rel_tol:.1e})",
                float.capacity[i]
            )));
        }
        if float.phase[i] != exact.phase[i] {
            let at_boundary = *ce == 0 || *ce == 1;
            if !at_boundary {
                return Err(Error::Certificate(format!(
                    "phase of feature {i}: f64 {} vs exact {}",
                    float.phase[i].name(),
                    exact.phase[i].name()
                )));
            }
            d.boundary_phase_mismatches += 1;
        }
    }
    let loss_diff = (from_f64(float.loss)? - exact.loss.clone()).abs();
    d.loss = if exact.loss == 0 {
        loss_diff.to_f64()
    } else {
        (loss_diff / exact.loss.clone().abs()).to_f64()
    };
    if d.loss > rel_tol {
        return Err(Error::Certificate(format!(
            "loss: f64 {} vs exact {} (relative error {:.3e} > {rel_tol:.1e})",
            float.loss,
            exact.loss.to_f64(),
            d.loss
        )));
    }
    match (float.lambda, &exact.lambda) {
        (Some(lf), Some(le)) => {
            d.lambda = ((from_f64(lf)? - le.clone()) / le.clone()).abs().to_f64();
            if d.lambda > rel_tol {
                return Err(Error::Certificate(format!(
                    "λ: f64 {lf} vs exact {le} (relative error {:.3e} > {rel_tol:.1e})",
                    d.lambda
                )));
            }
        }
        (None, None) => {}
        _ if d.boundary_phase_mismatches > 0 => {}
        (lf, le) => {
            return Err(Error::Certificate(format!(
                "λ defined differently: f64 {lf:?} vs exact {le:?}"
            )));
        }
    }
    Ok(d)
}

/// Borrowed inputs with the per-feature closed forms in exact arithmetic.
struct Problem<'a> {
    v: &'a [Rational],
    k: &'a [Rational],
}

/// A (B7) candidate.
struct Candidate {
    capacity: Vec<Rational>,
    lambda: Option<Rational>,
    loss: Rational,
    ties: bool,
}

impl Problem<'_> {
    fn usable(&self, i: usize) -> bool {
        self.v[i] > 0 && self.k[i] > 1
    }

    /// Lᵢ*(0) = (kᵢ−1)vᵢ² (A9), (B6.ii).
    fn gain(&self, i: usize) -> Rational {
        Rational::from(&self.k[i] - 1u32) * self.v[i].clone() * self.v[i].clone()
    }

    /// Indices by gain descending, ties by lower index.
    fn by_gain(&self, idx: &[usize]) -> Vec<usize> {
        let mut order = idx.to_vec();
        order.sort_by(|&a, &b| self.gain(b).cmp(&self.gain(a)).then(a.cmp(&b)));
        order
    }

    /// (aᵢvᵢ, βᵢ) with aᵢ = (kᵢ−1)/(kᵢ−3), βᵢ = 2/(kᵢ−3) (B5); kᵢ ≠ 3.
    fn slope_terms(&self, i: usize) -> (Rational, Rational) {
        let km3 = Rational::from(&self.k[i] - 3u32);
        let a = Rational::from(&self.k[i] - 1u32) / km3.clone() * self.v[i].clone();
        (a, Rational::from(2) / km3)
    }

    /// Unclipped Cᵢ(u) = aᵢvᵢu − βᵢ (B5), B6.iii for kᵢ < 3.
    fn affine(&self, i: usize, u: &Rational) -> Rational {
        let (a, b) = self.slope_terms(i);
        a * u.clone() - b
    }

    /// clip(aᵢvᵢu − βᵢ, 0, 1) for kᵢ > 3.
    fn clipped(&self, i: usize, u: &Rational) -> Rational {
        clip(self.affine(i, u))
    }

    /// Breakpoints u = 2/((kⱼ−1)vⱼ) and 1/vⱼ of J, sorted and deduplicated (A7).
    fn breakpoints(&self, j_set: &[usize]) -> Vec<Rational> {
        let mut b = Vec::with_capacity(2 * j_set.len());
        for &j in j_set {
            b.push(Rational::from(2) / (Rational::from(&self.k[j] - 1u32) * self.v[j].clone()));
            b.push(Rational::from(1) / self.v[j].clone());
        }
        b.sort();
        b.dedup();
        b
    }

    /// S_J(u) = Σⱼ clip(aⱼvⱼu − βⱼ, 0, 1).
    fn s_of(&self, j_set: &[usize], u: &Rational) -> Rational {
        j_set.iter().map(|&j| self.clipped(j, u)).sum()
    }

    /// (|F|, Σ_P aⱼvⱼ, Σ_P βⱼ, P) of J on the open segment containing `mid`.
    fn sets_at(&self, j_set: &[usize], mid: &Rational) -> (Rational, Rational, Rational) {
        let (mut full, mut sigma, mut beta) = (Rational::new(), Rational::new(), Rational::new());
        for &j in j_set {
            let c = self.affine(j, mid);
            if c >= 1 {
                full += 1;
            } else if c > 0 {
                let (a, b) = self.slope_terms(j);
                sigma += a;
                beta += b;
            }
        }
        (full, sigma, beta)
    }

    /// The sweep (A7)/(B5) for Σ_J Cⱼ = t, 0 < t < |J|: the first breakpoint b with
    /// S(b) ≥ t, the sets on (b′, b) read off at the midpoint, λ by the segment formula.
    /// Writes J's capacities into `c` and returns λ.
    fn sweep(&self, j_set: &[usize], t: &Rational, c: &mut [Rational]) -> Rational {
        let bps = self.breakpoints(j_set);
        let mut prev = Rational::new();
        let mut lam = Rational::new();
        for b in &bps {
            if self.s_of(j_set, b) >= *t {
                let mid = Rational::from(&prev + b) / 2u32;
                let (full, sigma, beta) = self.sets_at(j_set, &mid);
                lam = sigma / (t.clone() - full + beta);
                break;
            }
            prev = b.clone();
        }
        let u = Rational::from(1) / lam.clone();
        for &j in j_set {
            c[j] = self.clipped(j, &u);
        }
        lam
    }

    fn loss_of(&self, c: &[Rational]) -> Rational {
        (0..c.len()).map(|i| self.loss(i, &c[i])).sum()
    }

    /// Lᵢ*(C) = 2(kᵢ−1)vᵢ²(1 − C)/((kᵢ−3)C + 2) (Q15)/(B3).
    fn loss(&self, i: usize, c: &Rational) -> Rational {
        let one_minus = Rational::from(1) - c.clone();
        let den = Rational::from(&self.k[i] - 3u32) * c.clone() + 2u32;
        self.gain(i) * 2u32 * one_minus / den
    }

    /// nᵢ*(C) = (kᵢ−1)vᵢC/((kᵢ−3)C + 2) (Q13)/(B3).
    fn sq_norm(&self, i: usize, c: &Rational) -> Rational {
        let den = Rational::from(&self.k[i] - 3u32) * c.clone() + 2u32;
        Rational::from(&self.k[i] - 1u32) * self.v[i].clone() * c.clone() / den
    }

    /// mᵢ(C) = 2(kᵢ−1)²vᵢ²/((kᵢ−3)C + 2)² (Q16)/(B3).
    fn marginal(&self, i: usize, c: &Rational) -> Rational {
        let den = Rational::from(&self.k[i] - 3u32) * c.clone() + 2u32;
        let km1 = Rational::from(&self.k[i] - 1u32);
        let num = km1.clone() * km1 * self.v[i].clone() * self.v[i].clone() * 2u32;
        num / (den.clone() * den)
    }

    /// The exact (B7) enumeration.
    fn mixed(&self, inc: &[usize], dim: &[usize], dims: usize) -> Candidate {
        let n = self.v.len();
        let order = self.by_gain(inc);
        let mut best: Option<Candidate> = None;
        let mut offer = |cap: Vec<Rational>, lambda: Option<Rational>| {
            let loss = self.loss_of(&cap);
            match &mut best {
                None => {
                    best = Some(Candidate {
                        capacity: cap,
                        lambda,
                        loss,
                        ties: false,
                    })
                }
                Some(b) => match loss.cmp(&b.loss) {
                    Ordering::Less => {
                        *b = Candidate {
                            capacity: cap,
                            lambda,
                            loss,
                            ties: false,
                        }
                    }
                    Ordering::Equal => {
                        if cap != b.capacity {
                            b.ties = true;
                            if prefer(&cap, &b.capacity) {
                                b.capacity = cap;
                                b.lambda = lambda;
                            }
                        }
                    }
                    Ordering::Greater => {}
                },
            }
        };
        let bps = self.breakpoints(dim);
        for q in 0..=order.len().min(dims) {
            let t = Rational::from(dims - q);
            let base = |skip: Option<usize>| {
                let mut c = vec![Rational::new(); n];
                let mut taken = 0;
                for (pos, &i) in order.iter().enumerate() {
                    if Some(pos) == skip {
                        continue;
                    }
                    if taken < q {
                        c[i] = Rational::from(1);
                    }
                    taken += 1;
                }
                c
            };
            if dims - q <= dim.len() {
                let mut c = base(None);
                let lam = if dims - q == 0 {
                    None
                } else if dims - q == dim.len() {
                    for &j in dim {
                        c[j] = Rational::from(1);
                    }
                    None
                } else {
                    Some(self.sweep(dim, &t, &mut c))
                };
                offer(c, lam);
            }
            if order.len() < q + 1 {
                continue;
            }
            for (fi, &f) in order.iter().enumerate() {
                let c0 = base(Some(fi));
                if self.k[f] == 3 {
                    // m_f ≡ 2v_f² = 2λ²: λ = v_f, c_f = T − S_J(1/v_f).
                    let u = Rational::from(1) / self.v[f].clone();
                    let cf = t.clone() - self.s_of(dim, &u);
                    if cf > 0 && cf < 1 {
                        let mut c = c0;
                        c[f] = cf;
                        for &j in dim {
                            c[j] = self.clipped(j, &u);
                        }
                        offer(c, Some(self.v[f].clone()));
                    }
                    continue;
                }
                let u_lo = Rational::from(1) / self.v[f].clone();
                let u_hi =
                    Rational::from(2) / (Rational::from(&self.k[f] - 1u32) * self.v[f].clone());
                let mut pts = vec![u_lo.clone()];
                pts.extend(bps.iter().filter(|b| **b > u_lo && **b < u_hi).cloned());
                pts.push(u_hi.clone());
                let (af, bf) = self.slope_terms(f);
                for w in pts.windows(2) {
                    let mid = Rational::from(&w[0] + &w[1]) / 2u32;
                    let (full, sigma, beta) = self.sets_at(dim, &mid);
                    let slope = sigma + af.clone();
                    if slope == 0 {
                        continue;
                    }
                    let u = (t.clone() - full + beta + bf.clone()) / slope;
                    if u < w[0] || u > w[1] || u <= u_lo || u >= u_hi {
                        continue;
                    }
                    let cf = self.affine(f, &u);
                    if cf > 0 && cf < 1 {
                        let mut c = c0.clone();
                        c[f] = cf;
                        for &j in dim {
                            c[j] = self.clipped(j, &u);
                        }
                        offer(c, Some(Rational::from(1) / u));
                    }
                }
            }
        }
        best.expect("invariant: q = min(|I|, D) with f = none is always a candidate")
    }

    /// Lengths, phases, μ, loss; λ dropped when every feature is integral unless the
    /// admissible multipliers are a single point (then λ = vᵢ of the binding full feature).
    fn finish(&self, c: Vec<Rational>, lambda: Option<Rational>, ties: bool) -> ExactAllocation {
        let n = c.len();
        let phase: Vec<Phase> = c
            .iter()
            .map(|x| {
                if *x <= 0 {
                    Phase::Ignored
                } else if *x >= 1 {
                    Phase::Monosemantic
                } else {
                    Phase::Polysemantic
                }
            })
            .collect();
        let sq_norm = (0..n)
            .map(|i| {
                if c[i] == 0 {
                    Rational::new()
                } else {
                    self.sq_norm(i, &c[i])
                }
            })
            .collect();
        let mut lambda = if phase.contains(&Phase::Polysemantic) {
            lambda
        } else {
            None
        };
        if lambda.is_none() {
            let mut lo = Rational::new();
            let mut hi: Option<(Rational, usize)> = None;
            for (i, &ph) in phase.iter().enumerate() {
                if ph == Phase::Ignored {
                    let m = self.marginal(i, &Rational::new());
                    if m > lo {
                        lo = m;
                    }
                } else if ph == Phase::Monosemantic {
                    let m = self.marginal(i, &Rational::from(1));
                    if hi.as_ref().is_none_or(|(h, _)| m < *h) {
                        hi = Some((m, i));
                    }
                }
            }
            if let Some((h, i)) = hi
                && lo > 0
                && h == lo
            {
                lambda = Some(self.v[i].clone());
            }
        }
        let mu = lambda.as_ref().map(|l| Rational::from(l * l) * 2u32);
        let loss = self.loss_of(&c);
        ExactAllocation {
            capacity: c,
            sq_norm,
            lambda,
            mu,
            loss,
            phase,
            ties,
        }
    }
}

fn clip(x: Rational) -> Rational {
    if x <= 0 {
        Rational::new()
    } else if x >= 1 {
        Rational::from(1)
    } else {
        x
    }
}

/// Tie-break of (B7): fewer fractional features, then the larger capacity at the first
/// differing index.
fn prefer(cand: &[Rational], best: &[Rational]) -> bool {
    let frac = |c: &[Rational]| c.iter().filter(|x| **x > 0 && **x < 1).count();
    let (fc, fb) = (frac(cand), frac(best));
    if fc != fb {
        return fc < fb;
    }
    for (a, b) in cand.iter().zip(best) {
        if a != b {
            return a > b;
        }
    }
    false
}
