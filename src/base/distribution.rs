//! Input distributions of the quadratic model: a feature is x = s·z with s ~ Bernoulli(p)
//! and z a magnitude scaled so that E x = 0, E x² = 1 (spec (Q4)).
//!
//! Derivation of every kurtosis: derivations/distribution.md.

use rand::{Rng, RngExt};
use statrs::distribution::{Laplace, Normal, StudentsT};

use super::{Error, Result};

/// Shape of the non-zero part z of a sparse feature, before scaling to variance 1/p.
///
/// Each shape is symmetric about 0. [`Magnitude::kurtosis`] is the Pearson kurtosis
/// Kurt\[z\] = E\[z⁴\]/E\[z²\]² (not excess kurtosis; spec pitfall 2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Magnitude {
    /// z ~ U(−a, a): Kurt = 9/5 (spec (Q5)).
    Uniform,
    /// z ~ N(0, σ²): Kurt = 3.
    Gaussian,
    /// z ~ Laplace(0, b): Kurt = 6.
    Laplace,
    /// z = ±a with probability ½ each: Kurt = 1.
    Rademacher,
    /// z ~ Student-t with ν > 4 degrees of freedom: Kurt = 3(ν − 2)/(ν − 4).
    StudentT {
        /// Degrees of freedom ν (> 4).
        nu: f64,
    },
}

impl Magnitude {
    /// Validated constructor for Student-t (ν > 4, finite).
    pub fn student_t(nu: f64) -> Result<Self> {
        if nu.is_finite() && nu > 4.0 {
            Ok(Magnitude::StudentT { nu })
        } else {
            Err(Error::StudentT(nu))
        }
    }

    /// Parses `uniform`, `gaussian`, `laplace`, `rademacher`, `student-t:NU`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "uniform" => Ok(Magnitude::Uniform),
            "gaussian" | "normal" => Ok(Magnitude::Gaussian),
            "laplace" => Ok(Magnitude::Laplace),
            "rademacher" => Ok(Magnitude::Rademacher),
            other => match other.strip_prefix("student-t:") {
                Some(nu) => {
                    let nu: f64 = nu
                        .parse()
                        .map_err(|_| Error::UnknownDistribution(s.to_string()))?;
                    Magnitude::student_t(nu)
                }
                None => Err(Error::UnknownDistribution(s.to_string())),
            },
        }
    }

    /// Canonical name, the inverse of [`Magnitude::parse`].
    pub fn name(&self) -> String {
        match self {
            Magnitude::Uniform => "uniform".into(),
            Magnitude::Gaussian => "gaussian".into(),
            Magnitude::Laplace => "laplace".into(),
            Magnitude::Rademacher => "rademacher".into(),
            Magnitude::StudentT { nu } => format!("student-t:{nu}"),
        }
    }

    /// Pearson kurtosis Kurt\[z\] = E\[z⁴\]/E\[z²\]² of the magnitude.
    ///
    /// Uniform 9/5, Gaussian 3, Laplace 6, Rademacher 1, Student-t 3(ν−2)/(ν−4).
    /// Spec: (Q4), (Q5). Derivation: derivations/distribution.md (D1)–(D5).
    pub fn kurtosis(&self) -> f64 {
        match *self {
            Magnitude::Uniform => 9.0 / 5.0,
            Magnitude::Gaussian => 3.0,
            Magnitude::Laplace => 6.0,
            Magnitude::Rademacher => 1.0,
            Magnitude::StudentT { nu } => 3.0 * (nu - 2.0) / (nu - 4.0),
        }
    }

    /// Draws z with E z = 0 and Var z = 1 (standardised magnitude).
    ///
    /// Uses statrs for the Gaussian, Laplace and Student-t laws.
    pub fn sample_standard<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Magnitude::Uniform => 3f64.sqrt() * (2.0 * rng.random::<f64>() - 1.0),
            Magnitude::Gaussian => rng.sample(standard_normal()),
            Magnitude::Laplace => {
                // Var Laplace(0, b) = 2b², so b = 1/√2.
                let d = Laplace::new(0.0, std::f64::consts::FRAC_1_SQRT_2)
                    .expect("invariant: Laplace(0, 1/√2) is valid");
                rng.sample(d)
            }
            Magnitude::Rademacher => {
                if rng.random::<bool>() {
                    1.0
                } else {
                    -1.0
                }
            }
            Magnitude::StudentT { nu } => {
                // Var t_ν = ν/(ν − 2).
                let d = StudentsT::new(0.0, 1.0, nu).expect("invariant: ν > 4 checked");
                rng.sample(d) * ((nu - 2.0) / nu).sqrt()
            }
        }
    }
}

fn standard_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("invariant: N(0, 1) is valid")
}

/// A sparse input feature x = s·z/√p: s ~ Bernoulli(p), z a standardised [`Magnitude`],
/// so that E x = 0, E x² = 1 and E x⁴ = Kurt\[z\]/p (spec (Q4)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparseInput {
    /// Density p = 1 − S: probability that the feature is non-zero.
    pub density: f64,
    /// Shape of the non-zero part.
    pub magnitude: Magnitude,
}

impl SparseInput {
    /// Validated constructor: p ∈ (0, 1].
    pub fn new(density: f64, magnitude: Magnitude) -> Result<Self> {
        if density.is_finite() && density > 0.0 && density <= 1.0 {
            Ok(SparseInput { density, magnitude })
        } else {
            Err(Error::Density {
                index: 0,
                value: density,
            })
        }
    }

    /// Kurtosis k = E\[x⁴\] = Kurt\[z\]/p (spec (Q4); sparse uniform: 9/(5p), (Q5)).
    pub fn kurtosis(&self) -> f64 {
        self.magnitude.kurtosis() / self.density
    }

    /// Draws one x (zero with probability 1 − p).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if rng.random::<f64>() < self.density {
            self.magnitude.sample_standard(rng) / self.density.sqrt()
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_names() {
        for m in [
            Magnitude::Uniform,
            Magnitude::Gaussian,
            Magnitude::Laplace,
            Magnitude::Rademacher,
            Magnitude::StudentT { nu: 7.5 },
        ] {
            assert_eq!(Magnitude::parse(&m.name()), Ok(m));
        }
        assert!(Magnitude::parse("cauchy").is_err());
        assert_eq!(Magnitude::parse("student-t:4"), Err(Error::StudentT(4.0)));
    }
}
