//! Symbolic phase boundaries: the iso-capacity lines of the phase diagram *derived* as
//! exact rational functions of the kurtosis k (and, for a magnitude with rational kurtosis,
//! of the density p), by solving the stationarity conditions (A2) of the allocation as a
//! linear system over the field ℚ(k).
//!
//! Arithmetic is exact over i128 fractions (no external crate); an overflow is an error,
//! never a wrong answer.
//!
//! Spec: (A2), (A6), (P3)–(P5), §7.2. Derivation: derivations/phase.md (PH10)–(PH12).

use std::fmt::Write as _;

use super::PhaseSetting;
use crate::base::{Error, Magnitude, Result};

fn overflow() -> Error {
    Error::Parameter(
        "exact i128 arithmetic overflowed in the symbolic phase derivation (N or D too large)"
            .into(),
    )
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    // Fits: inputs are never i128::MIN (checked arithmetic keeps |x| < 2¹²⁷).
    a as i128
}

/// An exact rational number num/den over i128, always reduced with den > 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fraction {
    num: i128,
    den: i128,
}

impl Fraction {
    /// Zero.
    pub const ZERO: Fraction = Fraction { num: 0, den: 1 };
    /// One.
    pub const ONE: Fraction = Fraction { num: 1, den: 1 };

    /// num/den, reduced. Errors if den = 0 or a value is i128::MIN.
    pub fn new(num: i128, den: i128) -> Result<Self> {
        if den == 0 {
            return Err(Error::Parameter(format!("fraction {num}/0")));
        }
        if num == i128::MIN || den == i128::MIN {
            return Err(overflow());
        }
        let g = gcd(num, den).max(1);
        let s = if den < 0 { -1 } else { 1 };
        Ok(Fraction {
            num: s * num / g,
            den: s * den / g,
        })
    }

    /// The integer n.
    pub fn integer(n: i128) -> Self {
        Fraction { num: n, den: 1 }
    }

    /// Numerator (sign carrier).
    pub fn numer(&self) -> i128 {
        self.num
    }

    /// Denominator (> 0).
    pub fn denom(&self) -> i128 {
        self.den
    }

    /// Nearest f64.
    pub fn to_f64(&self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// The exact value of a finite f64 (a dyadic rational), if it fits in i128.
    pub fn from_f64_exact(x: f64) -> Result<Self> {
        if !x.is_finite() {
            return Err(Error::Parameter(format!("{x} is not a finite number")));
        }
        let mut y = x;
        let mut den: i128 = 1;
        for _ in 0..120 {
            if y.fract() == 0.0 && y.abs() < 2f64.powi(120) {
                return Fraction::new(y as i128, den);
            }
            y *= 2.0;
            den *= 2;
        }
        Err(Error::Parameter(format!(
            "{x} has no exact i128 fraction (too small or too large)"
        )))
    }

    /// True for 0.
    pub fn is_zero(&self) -> bool {
        self.num == 0
    }

    fn add(self, o: Fraction) -> Result<Fraction> {
        let g = gcd(self.den, o.den).max(1);
        let l = (self.den / g).checked_mul(o.den).ok_or_else(overflow)?;
        let a = self.num.checked_mul(l / self.den).ok_or_else(overflow)?;
        let b = o.num.checked_mul(l / o.den).ok_or_else(overflow)?;
        Fraction::new(a.checked_add(b).ok_or_else(overflow)?, l)
    }

    fn neg(self) -> Fraction {
        Fraction {
            num: -self.num,
            den: self.den,
        }
    }

    fn sub(self, o: Fraction) -> Result<Fraction> {
        self.add(o.neg())
    }

    fn mul(self, o: Fraction) -> Result<Fraction> {
        let g1 = gcd(self.num, o.den).max(1);
        let g2 = gcd(o.num, self.den).max(1);
        let n = (self.num / g1)
            .checked_mul(o.num / g2)
            .ok_or_else(overflow)?;
        let d = (self.den / g2)
            .checked_mul(o.den / g1)
            .ok_or_else(overflow)?;
        Fraction::new(n, d)
    }

    fn div(self, o: Fraction) -> Result<Fraction> {
        if o.is_zero() {
            return Err(Error::Parameter(
                "division by zero in exact arithmetic".into(),
            ));
        }
        self.mul(Fraction {
            num: o.den * o.num.signum(),
            den: o.num.abs(),
        })
    }

    /// Plain text: `a` or `a/b`.
    pub fn to_text(&self) -> String {
        if self.den == 1 {
            format!("{}", self.num)
        } else {
            format!("{}/{}", self.num, self.den)
        }
    }

    /// LaTeX: `a` or `\frac{a}{b}` (sign in front).
    pub fn to_latex(&self) -> String {
        if self.den == 1 {
            format!("{}", self.num)
        } else if self.num < 0 {
            format!("-\\frac{{{}}}{{{}}}", -self.num, self.den)
        } else {
            format!("\\frac{{{}}}{{{}}}", self.num, self.den)
        }
    }
}

/// Exact kurtosis Kurt[z] of a magnitude law, when it is rational in i128.
pub fn magnitude_kurtosis_exact(m: Magnitude) -> Option<Fraction> {
    match m {
        Magnitude::Uniform => Some(Fraction { num: 9, den: 5 }),
        Magnitude::Gaussian => Some(Fraction::integer(3)),
        Magnitude::Laplace => Some(Fraction::integer(6)),
        Magnitude::Rademacher => Some(Fraction::integer(1)),
        Magnitude::StudentT { nu } => {
            // 3(ν − 2)/(ν − 4), exactly from the dyadic value of ν.
            let nu = Fraction::from_f64_exact(nu).ok()?;
            let a = nu.sub(Fraction::integer(2)).ok()?;
            let b = nu.sub(Fraction::integer(4)).ok()?;
            Fraction::integer(3).mul(a).ok()?.div(b).ok()
        }
    }
}

/// A polynomial with exact fraction coefficients, lowest degree first, no trailing zeros
/// (the zero polynomial has no coefficients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polynomial {
    coeffs: Vec<Fraction>,
}

impl Polynomial {
    /// From coefficients, lowest degree first.
    pub fn new(mut coeffs: Vec<Fraction>) -> Self {
        while coeffs.last().is_some_and(Fraction::is_zero) {
            coeffs.pop();
        }
        Polynomial { coeffs }
    }

    /// The constant c.
    pub fn constant(c: Fraction) -> Self {
        Polynomial::new(vec![c])
    }

    /// The variable x.
    pub fn variable() -> Self {
        Polynomial::new(vec![Fraction::ZERO, Fraction::ONE])
    }

    /// Coefficients, lowest degree first.
    pub fn coefficients(&self) -> &[Fraction] {
        &self.coeffs
    }

    /// Degree (None for the zero polynomial).
    pub fn degree(&self) -> Option<usize> {
        self.coeffs.len().checked_sub(1)
    }

    /// True for the zero polynomial.
    pub fn is_zero(&self) -> bool {
        self.coeffs.is_empty()
    }

    fn leading(&self) -> Fraction {
        self.coeffs.last().copied().unwrap_or(Fraction::ZERO)
    }

    /// Value at x (Horner, f64).
    pub fn eval(&self, x: f64) -> f64 {
        self.coeffs
            .iter()
            .rev()
            .fold(0.0, |acc, c| acc * x + c.to_f64())
    }

    /// Exact value at a fraction x.
    pub fn eval_exact(&self, x: Fraction) -> Result<Fraction> {
        let mut acc = Fraction::ZERO;
        for c in self.coeffs.iter().rev() {
            acc = acc.mul(x)?.add(*c)?;
        }
        Ok(acc)
    }

    fn add(&self, o: &Polynomial) -> Result<Polynomial> {
        let n = self.coeffs.len().max(o.coeffs.len());
        let mut c = Vec::with_capacity(n);
        for i in 0..n {
            let a = self.coeffs.get(i).copied().unwrap_or(Fraction::ZERO);
            let b = o.coeffs.get(i).copied().unwrap_or(Fraction::ZERO);
            c.push(a.add(b)?);
        }
        Ok(Polynomial::new(c))
    }

    fn scale(&self, s: Fraction) -> Result<Polynomial> {
        Ok(Polynomial::new(
            self.coeffs
                .iter()
                .map(|c| c.mul(s))
                .collect::<Result<_>>()?,
        ))
    }

    fn sub(&self, o: &Polynomial) -> Result<Polynomial> {
        self.add(&o.scale(Fraction::integer(-1))?)
    }

    fn mul(&self, o: &Polynomial) -> Result<Polynomial> {
        if self.is_zero() || o.is_zero() {
            return Ok(Polynomial::new(vec![]));
        }
        let mut c = vec![Fraction::ZERO; self.coeffs.len() + o.coeffs.len() - 1];
        for (i, a) in self.coeffs.iter().enumerate() {
            for (j, b) in o.coeffs.iter().enumerate() {
                c[i + j] = c[i + j].add(a.mul(*b)?)?;
            }
        }
        Ok(Polynomial::new(c))
    }

    /// Euclidean division: (quotient, remainder).
    fn div_rem(&self, o: &Polynomial) -> Result<(Polynomial, Polynomial)> {
        let Some(dd) = o.degree() else {
            return Err(Error::Parameter("polynomial division by zero".into()));
        };
        let lead = o.leading();
        let mut rem = self.clone();
        let mut quot = vec![Fraction::ZERO; self.coeffs.len().saturating_sub(dd).max(1)];
        while let Some(rd) = rem.degree() {
            if rd < dd {
                break;
            }
            let f = rem.leading().div(lead)?;
            quot[rd - dd] = f;
            let mut shifted = vec![Fraction::ZERO; rd - dd];
            shifted.extend(o.coeffs.iter().copied());
            let t = Polynomial::new(shifted).scale(f)?;
            rem = rem.sub(&t)?;
            // Guard against a leading term that fails to cancel (cannot happen exactly).
            if rem.degree() == Some(rd) {
                return Err(Error::Certificate(
                    "polynomial division did not reduce the degree".into(),
                ));
            }
        }
        Ok((Polynomial::new(quot), rem))
    }

    /// Monic greatest common divisor.
    fn gcd(&self, o: &Polynomial) -> Result<Polynomial> {
        let (mut a, mut b) = (self.clone(), o.clone());
        while !b.is_zero() {
            let (_, r) = a.div_rem(&b)?;
            a = b;
            b = r;
        }
        if a.is_zero() {
            return Ok(a);
        }
        let l = a.leading();
        a.scale(Fraction::ONE.div(l)?)
    }

    /// The rational roots x ≥ `min` of the polynomial, ascending (rational root theorem on
    /// the integer-coefficient multiple). Coefficients beyond 10¹² are not searched.
    pub fn rational_roots(&self, min: Fraction) -> Result<Vec<Fraction>> {
        if self.is_zero() {
            return Ok(vec![]);
        }
        let ints = integer_coefficients(&[self])?;
        let mut c = ints.into_iter().next().unwrap_or_default();
        let mut roots = Vec::new();
        // Factor out x^j.
        let lead_zero = c.iter().take_while(|&&x| x == 0).count();
        if lead_zero > 0 {
            roots.push(Fraction::ZERO);
            c.drain(..lead_zero);
        }
        if c.len() > 1 {
            let (a0, an) = (c[0], c[c.len() - 1]);
            let limit = 1_000_000_000_000i128;
            if a0.abs() <= limit && an.abs() <= limit {
                for p in divisors(a0.abs()) {
                    for q in divisors(an.abs()) {
                        for s in [-1, 1] {
                            let x = Fraction::new(s * p, q)?;
                            if self.eval_exact(x)?.is_zero() && !roots.contains(&x) {
                                roots.push(x);
                            }
                        }
                    }
                }
            }
        }
        roots.retain(|r| r.sub(min).map(|d| d.num >= 0).unwrap_or(false));
        roots.sort_by(|a, b| a.to_f64().total_cmp(&b.to_f64()));
        Ok(roots)
    }

    /// Text or LaTeX in the variable `var`, highest degree first.
    pub fn format(&self, var: &str, latex: bool) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut s = String::new();
        for (i, c) in self.coeffs.iter().enumerate().rev() {
            if c.is_zero() {
                continue;
            }
            let neg = c.num < 0;
            let a = Fraction {
                num: c.num.abs(),
                den: c.den,
            };
            if s.is_empty() {
                if neg {
                    s.push('-');
                }
            } else {
                s.push_str(if neg { " - " } else { " + " });
            }
            let coef = if latex { a.to_latex() } else { a.to_text() };
            let unit = a.num == 1 && a.den == 1;
            let mono = match i {
                0 => String::new(),
                1 => var.to_string(),
                _ if latex => format!("{var}^{{{i}}}"),
                _ => format!("{var}^{i}"),
            };
            if i == 0 {
                s.push_str(&coef);
            } else if unit {
                s.push_str(&mono);
            } else if a.den != 1 && !latex {
                let _ = write!(s, "({coef}){mono}");
            } else {
                s.push_str(&coef);
                s.push_str(&mono);
            }
        }
        s
    }
}

fn divisors(n: i128) -> Vec<i128> {
    let mut d = Vec::new();
    let mut i = 1i128;
    while i * i <= n {
        if n % i == 0 {
            d.push(i);
            if i * i != n {
                d.push(n / i);
            }
        }
        i += 1;
    }
    d
}

/// The polynomials scaled by one common positive factor to integer coefficients with no
/// common divisor.
fn integer_coefficients(polys: &[&Polynomial]) -> Result<Vec<Vec<i128>>> {
    let mut l: i128 = 1;
    for p in polys {
        for c in &p.coeffs {
            let g = gcd(l, c.den).max(1);
            l = (l / g).checked_mul(c.den).ok_or_else(overflow)?;
        }
    }
    let mut out: Vec<Vec<i128>> = polys
        .iter()
        .map(|p| {
            p.coeffs
                .iter()
                .map(|c| c.num.checked_mul(l / c.den).ok_or_else(overflow))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<_>>()?;
    let g = out.iter().flatten().fold(0i128, |g, &x| gcd(g, x));
    if g > 1 {
        for x in out.iter_mut().flatten() {
            *x /= g;
        }
    }
    Ok(out)
}

/// A rational function num(x)/den(x) in canonical form: no common factor, integer
/// coefficients with no common divisor, positive leading coefficient of den.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RationalFunction {
    num: Polynomial,
    den: Polynomial,
}

impl RationalFunction {
    /// num/den in canonical form. Errors if den is the zero polynomial.
    pub fn new(num: Polynomial, den: Polynomial) -> Result<Self> {
        if den.is_zero() {
            return Err(Error::Parameter(
                "rational function with zero denominator".into(),
            ));
        }
        if num.is_zero() {
            return Ok(RationalFunction {
                num,
                den: Polynomial::constant(Fraction::ONE),
            });
        }
        let g = num.gcd(&den)?;
        let (num, _) = num.div_rem(&g)?;
        let (den, _) = den.div_rem(&g)?;
        let ints = integer_coefficients(&[&num, &den])?;
        let sign: i128 = if den.leading().num < 0 { -1 } else { 1 };
        let to_poly = |v: &Vec<i128>| {
            Polynomial::new(v.iter().map(|&x| Fraction::integer(sign * x)).collect())
        };
        Ok(RationalFunction {
            num: to_poly(&ints[0]),
            den: to_poly(&ints[1]),
        })
    }

    /// The constant c.
    pub fn constant(c: Fraction) -> Self {
        RationalFunction {
            num: Polynomial::constant(c),
            den: Polynomial::constant(Fraction::ONE),
        }
        .canonical()
    }

    fn canonical(self) -> Self {
        // Constants built here are canonical up to scaling; `new` cannot fail on them.
        match RationalFunction::new(self.num.clone(), self.den.clone()) {
            Ok(r) => r,
            Err(_) => self,
        }
    }

    /// The variable x.
    pub fn variable() -> Self {
        RationalFunction {
            num: Polynomial::variable(),
            den: Polynomial::constant(Fraction::ONE),
        }
    }

    /// Numerator polynomial.
    pub fn numerator(&self) -> &Polynomial {
        &self.num
    }

    /// Denominator polynomial.
    pub fn denominator(&self) -> &Polynomial {
        &self.den
    }

    /// True for 0.
    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    /// Value at x (f64).
    pub fn eval(&self, x: f64) -> f64 {
        self.num.eval(x) / self.den.eval(x)
    }

    /// Exact value at a fraction x (error at a pole).
    pub fn eval_exact(&self, x: Fraction) -> Result<Fraction> {
        self.num.eval_exact(x)?.div(self.den.eval_exact(x)?)
    }

    /// Sum.
    pub fn add(&self, o: &Self) -> Result<Self> {
        RationalFunction::new(
            self.num.mul(&o.den)?.add(&o.num.mul(&self.den)?)?,
            self.den.mul(&o.den)?,
        )
    }

    /// Difference.
    pub fn sub(&self, o: &Self) -> Result<Self> {
        RationalFunction::new(
            self.num.mul(&o.den)?.sub(&o.num.mul(&self.den)?)?,
            self.den.mul(&o.den)?,
        )
    }

    /// Product.
    pub fn mul(&self, o: &Self) -> Result<Self> {
        RationalFunction::new(self.num.mul(&o.num)?, self.den.mul(&o.den)?)
    }

    /// Quotient (error if `o` is 0).
    pub fn div(&self, o: &Self) -> Result<Self> {
        if o.is_zero() {
            return Err(Error::Parameter(
                "division by the zero rational function".into(),
            ));
        }
        RationalFunction::new(self.num.mul(&o.den)?, self.den.mul(&o.num)?)
    }

    /// Substitutes x = κ/y and returns the rational function of y (e.g. k = Kurt[z]/p).
    pub fn substitute_reciprocal(&self, kappa: Fraction) -> Result<Self> {
        let dn = self.num.degree().unwrap_or(0);
        let dd = self.den.degree().unwrap_or(0);
        let m = dn.max(dd);
        // yᵐ P(κ/y) = Σ aᵢ κⁱ y^{m−i}.
        let sub = |p: &Polynomial| -> Result<Polynomial> {
            let mut c = vec![Fraction::ZERO; m + 1];
            let mut kp = Fraction::ONE;
            for (i, a) in p.coeffs.iter().enumerate() {
                c[m - i] = a.mul(kp)?;
                kp = kp.mul(kappa)?;
            }
            Ok(Polynomial::new(c))
        };
        RationalFunction::new(sub(&self.num)?, sub(&self.den)?)
    }

    /// Text (`(num)/(den)`) or LaTeX (`\frac{num}{den}`) in the variable `var`.
    pub fn format(&self, var: &str, latex: bool) -> String {
        let n = self.num.format(var, latex);
        if self.den.degree() == Some(0) && self.den.leading() == Fraction::ONE {
            return n;
        }
        let d = self.den.format(var, latex);
        if latex {
            format!("\\frac{{{n}}}{{{d}}}")
        } else {
            let wrap = |s: String, p: &Polynomial| {
                if p.coeffs.iter().filter(|c| !c.is_zero()).count() > 1 {
                    format!("({s})")
                } else {
                    s
                }
            };
            format!("{}/{}", wrap(n, &self.num), wrap(d, &self.den))
        }
    }
}

/// Solves A x = b over ℚ(k) by Gaussian elimination (first non-zero pivot).
fn solve_linear(
    mut a: Vec<Vec<RationalFunction>>,
    mut b: Vec<RationalFunction>,
) -> Result<Vec<RationalFunction>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n)
            .find(|&r| !a[r][col].is_zero())
            .ok_or_else(|| Error::Certificate("singular stationarity system".into()))?;
        a.swap(col, piv);
        b.swap(col, piv);
        for r in 0..n {
            if r == col || a[r][col].is_zero() {
                continue;
            }
            let f = a[r][col].div(&a[col][col])?;
            let pivot_row = a[col].clone();
            for (x, y) in a[r].iter_mut().zip(&pivot_row).skip(col) {
                *x = x.sub(&f.mul(y)?)?;
            }
            let t = f.mul(&b[col])?;
            b[r] = b[r].sub(&t)?;
        }
    }
    (0..n).map(|i| b[i].div(&a[i][i])).collect()
}

/// One iso-capacity line C₁ = c of the phase diagram, derived symbolically.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolicBoundary {
    /// The level c (0: V_ign, 1: V_full).
    pub level: Fraction,
    /// V_c as a rational function of k (valid for k > 3).
    pub importance: RationalFunction,
    /// λ = n/C of the interior features on the line, as a rational function of k.
    pub lambda: RationalFunction,
    /// Capacity of each reference feature on the line, (D − c)/(N − 1) (P6).
    pub others: Fraction,
    /// V_c as a rational function of the density p (k = Kurt[z]/p), when Kurt[z] is rational.
    pub importance_density: Option<RationalFunction>,
}

impl SymbolicBoundary {
    /// Name of the line: `V_ign`, `V_full` or `V_c` with c as a fraction.
    pub fn name(&self) -> String {
        if self.level.is_zero() {
            "V_ign".into()
        } else if self.level == Fraction::ONE {
            "V_full".into()
        } else {
            format!("V_({})", self.level.to_text())
        }
    }
}

/// The symbolic phase diagram of a [`PhaseSetting`]: boundary lines and the critical point.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolicPhase {
    /// The set-up.
    pub setting: PhaseSetting,
    /// Exact Kurt[z] of the magnitude, when rational.
    pub magnitude_kurtosis: Option<Fraction>,
    /// One line per requested level.
    pub boundaries: Vec<SymbolicBoundary>,
    /// Width V_full(k) − V_ign(k) of the polysemantic band.
    pub band_width: RationalFunction,
    /// Rational roots k ≥ 1 of the band width: the critical kurtosis (k = 3).
    pub critical_kurtosis: Vec<Fraction>,
    /// Critical density Kurt[z]/k_c, when rational and in (0, 1].
    pub critical_density: Option<Fraction>,
}

/// Derives the iso-capacity lines C₁ = c (for each c of `levels`, in [0, 1]) as exact
/// rational functions of k by solving the stationarity system of (A2) in ℚ(k):
///
/// ```text
///   (k−1)·w           = (k−3)c + 2        w = V·u, u = 1/λ   (feature 1 at C₁ = c)
///   (k−1)·u − (k−3)·s = 2                                    (each reference at C_j = s)
///   (N−1)·s           = D − c                                (Σ C = D)
/// ```
///
/// then V_c = w/u and λ = 1/u; also V_full − V_ign and its rational roots k ≥ 1 (the
/// critical point). Needs 1 ≤ D ≤ N − 1.
///
/// Spec: (A2), (A6), (P3)–(P5), §7.2. Derivation: derivations/phase.md (PH10)–(PH12).
pub fn symbolic_phase(setting: &PhaseSetting, levels: &[Fraction]) -> Result<SymbolicPhase> {
    setting.require_closed_form()?;
    let kappa = magnitude_kurtosis_exact(setting.magnitude());
    let line = |c: Fraction| -> Result<SymbolicBoundary> {
        if c.num < 0 || c.num > c.den {
            return Err(Error::Parameter(format!(
                "capacity level must be in [0, 1], got {}",
                c.to_text()
            )));
        }
        let k = RationalFunction::variable();
        let int = |x: i128| RationalFunction::constant(Fraction::integer(x));
        let cst = RationalFunction::constant;
        let km1 = k.sub(&int(1))?;
        let km3 = k.sub(&int(3))?;
        let n1 = (setting.features() - 1) as i128;
        let d = setting.dims() as i128;
        let zero = int(0);
        let a = vec![
            vec![km1.clone(), zero.clone(), zero.clone()],
            vec![zero.clone(), km1, km3.mul(&int(-1))?],
            vec![zero.clone(), zero, int(n1)],
        ];
        let b = vec![
            km3.mul(&cst(c))?.add(&int(2))?,
            int(2),
            cst(Fraction::integer(d).sub(c)?),
        ];
        let x = solve_linear(a, b)?;
        let (w, u, s) = (&x[0], &x[1], &x[2]);
        let importance = w.div(u)?;
        let lambda = int(1).div(u)?;
        let others = s.eval_exact(Fraction::ZERO)?;
        let importance_density = match kappa {
            Some(kp) => Some(importance.substitute_reciprocal(kp)?),
            None => None,
        };
        Ok(SymbolicBoundary {
            level: c,
            importance,
            lambda,
            others,
            importance_density,
        })
    };
    let boundaries = levels
        .iter()
        .map(|&c| line(c))
        .collect::<Result<Vec<_>>>()?;
    let band_width = line(Fraction::ONE)?
        .importance
        .sub(&line(Fraction::ZERO)?.importance)?;
    let critical_kurtosis = band_width.numerator().rational_roots(Fraction::ONE)?;
    let critical_density = match (kappa, critical_kurtosis.first()) {
        (Some(kp), Some(&kc)) => {
            let p = kp.div(kc)?;
            (p.num > 0 && p.num <= p.den).then_some(p)
        }
        _ => None,
    };
    Ok(SymbolicPhase {
        setting: *setting,
        magnitude_kurtosis: kappa,
        boundaries,
        band_width,
        critical_kurtosis,
        critical_density,
    })
}

impl SymbolicPhase {
    /// Plain-text report of the derived formulas.
    pub fn to_text(&self) -> String {
        let s = &self.setting;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Phase boundaries for N = {} features in D = {} dimensions, magnitude {} (valid for k > 3; V = 1 for k ≤ 3)",
            s.features(),
            s.dims(),
            s.magnitude().name()
        );
        if let Some(kp) = self.magnitude_kurtosis {
            let kp = if kp.denom() == 1 {
                kp.to_text()
            } else {
                format!("({})", kp.to_text())
            };
            let _ = writeln!(t, "k = Kurt[z]/p = {kp}/p");
        }
        for b in &self.boundaries {
            let _ = writeln!(t, "C_1 = {}:", b.level.to_text());
            let _ = writeln!(t, "  {}(k) = {}", b.name(), b.importance.format("k", false));
            if let Some(vp) = &b.importance_density {
                let _ = writeln!(t, "  {}(p) = {}", b.name(), vp.format("p", false));
            }
            let _ = writeln!(t, "  lambda(k) = {}", b.lambda.format("k", false));
            let _ = writeln!(t, "  C_j (j ≥ 2) = {}", b.others.to_text());
        }
        let _ = writeln!(
            t,
            "band width V_full(k) - V_ign(k) = {}",
            self.band_width.format("k", false)
        );
        let roots: Vec<String> = self
            .critical_kurtosis
            .iter()
            .map(Fraction::to_text)
            .collect();
        let _ = writeln!(t, "critical kurtosis (roots k ≥ 1): {}", roots.join(", "));
        match self.critical_density {
            Some(p) => {
                let _ = writeln!(t, "critical point: (V, p) = (1, {})", p.to_text());
            }
            None => {
                let _ = writeln!(t, "critical point: no density p in (0, 1] reaches it");
            }
        }
        t
    }

    /// LaTeX (one `align*` environment) of the derived formulas.
    pub fn to_latex(&self) -> String {
        let mut t = String::from("\\begin{align*}\n");
        let mut lines = Vec::new();
        for b in &self.boundaries {
            let name = if b.level.is_zero() {
                "V_{\\mathrm{ign}}".to_string()
            } else if b.level == Fraction::ONE {
                "V_{\\mathrm{full}}".to_string()
            } else {
                format!("V_{{{}}}", b.level.to_latex())
            };
            lines.push(format!("{name}(k) &= {}", b.importance.format("k", true)));
            if let Some(vp) = &b.importance_density {
                lines.push(format!("{name}(p) &= {}", vp.format("p", true)));
            }
        }
        lines.push(format!(
            "V_{{\\mathrm{{full}}}}(k) - V_{{\\mathrm{{ign}}}}(k) &= {}",
            self.band_width.format("k", true)
        ));
        t.push_str(&lines.join(" \\\\\n"));
        t.push_str("\n\\end{align*}\n");
        t
    }
}
