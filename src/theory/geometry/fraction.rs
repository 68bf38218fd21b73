//! Simple fractions and the polytope capacities of (E6).

/// A capacity value at which the feature dimensionalities of the ReLU-output model cluster:
/// a uniform polytope of `points` features in `dims` dimensions gives each feature
/// C = dims/points (spec (E6), §9.3; derivations/geometry.md (G7)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolytopeFraction {
    /// Numerator of the reduced fraction C = numerator/denominator.
    pub numerator: u32,
    /// Denominator of the reduced fraction (≥ 1).
    pub denominator: u32,
    /// Name of the configuration, e.g. "pentagon".
    pub name: &'static str,
    /// Number of features N_b of the uniform block.
    pub points: u32,
    /// Dimension D_b the block spans.
    pub dims: u32,
}

impl PolytopeFraction {
    /// The fraction as a number, numerator/denominator.
    pub fn value(&self) -> f64 {
        f64::from(self.numerator) / f64::from(self.denominator)
    }
}

/// The polytope fractions of (E6), largest first: 1 (dedicated dimension), 3/4
/// (tetrahedron, 4 in 3), 2/3 (triangle, 3 in 2), 1/2 (digon = antipodal pair, 2 in 1),
/// 2/5 (pentagon, 5 in 2), 3/8 (square antiprism, 8 in 3) and 0 (not learned).
///
/// Spec (indexed in derivations/README.md): (E6), §9.3. Derivation: derivations/geometry.md (G7).
pub const POLYTOPE_FRACTIONS: [PolytopeFraction; 7] = [
    PolytopeFraction {
        numerator: 1,
        denominator: 1,
        name: "dedicated dimension",
        points: 1,
        dims: 1,
    },
    PolytopeFraction {
        numerator: 3,
        denominator: 4,
        name: "tetrahedron",
        points: 4,
        dims: 3,
    },
    PolytopeFraction {
        numerator: 2,
        denominator: 3,
        name: "triangle",
        points: 3,
        dims: 2,
    },
    PolytopeFraction {
        numerator: 1,
        denominator: 2,
        name: "digon",
        points: 2,
        dims: 1,
    },
    PolytopeFraction {
        numerator: 2,
        denominator: 5,
        name: "pentagon",
        points: 5,
        dims: 2,
    },
    PolytopeFraction {
        numerator: 3,
        denominator: 8,
        name: "square antiprism",
        points: 8,
        dims: 3,
    },
    PolytopeFraction {
        numerator: 0,
        denominator: 1,
        name: "not learned",
        points: 1,
        dims: 0,
    },
];

/// The polytope of (E6) whose capacity is the fraction p/q (in any terms: 2/4 is the digon),
/// or None.
///
/// Spec (indexed in derivations/README.md): (E6). Derivation: derivations/geometry.md (G7).
pub fn polytope(p: u32, q: u32) -> Option<&'static PolytopeFraction> {
    if q == 0 {
        return None;
    }
    POLYTOPE_FRACTIONS
        .iter()
        .find(|f| u64::from(p) * u64::from(f.denominator) == u64::from(q) * u64::from(f.numerator))
}

/// The fraction p/q (lowest terms, 1 ≤ q ≤ `max_den`) closest to `x`, if it lies within
/// `tol` of `x`: |x − p/q| ≤ tol.
///
/// Best rational approximation by continued fractions: the convergents pₖ/qₖ of
/// x = [a₀; a₁, a₂, …] are followed until q would exceed `max_den`; the answer is the last
/// convergent or the semiconvergent (pₖ₋₁ + j pₖ)/(qₖ₋₁ + j qₖ) with the largest j that keeps
/// the denominator ≤ `max_den`, whichever is closer to x (the last convergent on a tie).
/// Every fraction with denominator ≤ `max_den` is at least as far from x (Lagrange; see
/// derivations/geometry.md (G6)). Cost O(log max_den).
///
/// Returns None for non-finite x, `max_den` = 0, a negative or non-finite `tol`, a
/// numerator above u32::MAX, or x < 0 (capacities are ≥ 0) unless 0/1 is within `tol`.
///
/// Spec (indexed in derivations/README.md): (E6). Derivation: derivations/geometry.md (G6).
pub fn nearest_fraction(x: f64, max_den: u32, tol: f64) -> Option<(u32, u32)> {
    if !x.is_finite() || max_den == 0 || !(tol.is_finite() && tol >= 0.0) {
        return None;
    }
    if x < 0.0 {
        return (-x <= tol).then_some((0, 1));
    }
    let max_den = u64::from(max_den);
    // Convergents h₋₂/k₋₂ = 0/1 and h₋₁/k₋₁ = 1/0.
    let (mut p0, mut q0, mut p1, mut q1) = (0u64, 1u64, 1u64, 0u64);
    let mut y = x;
    loop {
        let a = y.floor();
        // q₂ = q₀ + a q₁ > max_den (q₁ ≥ 1 after the first step) ends the expansion; the first
        // step has q₁ = 0, q₂ = 1 and needs a = ⌊x⌋ to fit a numerator.
        if q1 > 0 && a >= max_den as f64 + 1.0 {
            break;
        }
        if a > f64::from(u32::MAX) {
            return None;
        }
        let a = a as u64;
        // a ≤ max_den and q₁ ≤ max_den here, so q₂ fits; p₂ ≈ x·q₂ may not.
        let q2 = q0 + a * q1;
        if q2 > max_den {
            break;
        }
        let p2 = a.checked_mul(p1)?.checked_add(p0)?;
        (p0, q0, p1, q1) = (p1, q1, p2, q2);
        let frac = y - a as f64;
        if frac <= 0.0 {
            break;
        }
        y = 1.0 / frac;
    }
    // Last convergent p₁/q₁ and the best semiconvergent below max_den.
    let j = (max_den - q0) / q1;
    let candidates = [(p1, q1), (j.checked_mul(p1)?.checked_add(p0)?, q0 + j * q1)];
    let err = |&(p, q): &(u64, u64)| (x - p as f64 / q as f64).abs();
    let best = if err(&candidates[0]) <= err(&candidates[1]) {
        candidates[0]
    } else {
        candidates[1]
    };
    let (p, q) = best;
    if err(&best) > tol {
        return None;
    }
    Some((u32::try_from(p).ok()?, u32::try_from(q).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polytope_table_is_consistent() {
        for f in &POLYTOPE_FRACTIONS {
            // C = dims/points, and the stored fraction is in lowest terms.
            assert_eq!(
                u64::from(f.numerator) * u64::from(f.points),
                u64::from(f.dims) * u64::from(f.denominator),
                "{}",
                f.name
            );
            assert_eq!(gcd(f.numerator, f.denominator), 1, "{}", f.name);
        }
    }

    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
}
