//! The library's one error type. Every variant carries the offending values.

/// Errors returned by polycap's library functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An importance vᵢ that is not a finite number ≥ 0.
    #[error("importance of feature {index} must be finite and ≥ 0, got {value}")]
    Importance {
        /// Feature index (0-based).
        index: usize,
        /// The rejected value.
        value: f64,
    },
    /// A density p outside (0, 1].
    #[error("density p = 1 − S of feature {index} must be in (0, 1], got {value}")]
    Density {
        /// Feature index (0-based).
        index: usize,
        /// The rejected value.
        value: f64,
    },
    /// A kurtosis k = E\[x⁴\] that is not finite or below 1 (Jensen: k ≥ 1).
    #[error("kurtosis k = E[x⁴] of feature {index} must be finite and {bound}, got {value}")]
    Kurtosis {
        /// Feature index (0-based).
        index: usize,
        /// The rejected value.
        value: f64,
        /// The bound that was violated, e.g. "≥ 1" or "> 1".
        bound: &'static str,
    },
    /// Student-t magnitudes need ν > 4 for a finite fourth moment.
    #[error("Student-t degrees of freedom must be finite and > 4 (finite kurtosis), got {0}")]
    StudentT(f64),
    /// An unknown input (magnitude) distribution name.
    #[error(
        "unknown input distribution '{0}' (expected uniform, gaussian, laplace, rademacher or student-t:NU)"
    )]
    UnknownDistribution(String),
    /// The embedding dimension D must be at least 1.
    #[error("embedding dimension D must be ≥ 1, got {0}")]
    Dims(usize),
    /// There must be at least one feature.
    #[error("need at least one feature, got 0")]
    NoFeatures,
    /// Per-feature lists of different lengths.
    #[error("{what}: expected {expected} values (one per feature), got {got}")]
    Length {
        /// What the list describes.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// A matrix with the wrong shape or non-finite entries.
    #[error("invalid matrix: {0}")]
    Matrix(String),
    /// A parameter outside its domain (message names parameter and value).
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// An iterative solver stopped without meeting its convergence criterion.
    #[error("{solver} did not converge: {reason} after {iterations} iterations")]
    NotConverged {
        /// Which solver.
        solver: &'static str,
        /// Why it stopped.
        reason: String,
        /// Iterations used.
        iterations: u64,
    },
    /// A file whose content is not what its format promises (dtype, shape, missing tensor):
    /// the message names the file and the problem.
    #[error("{0}")]
    Format(String),
    /// A file that cannot be read or written (the message names it and the OS error).
    #[error("{0}")]
    Io(String),
    /// A certificate (KKT residuals, exact cross-check) failed.
    #[error("certificate failed: {0}")]
    Certificate(String),
}

/// Result alias for polycap.
pub type Result<T> = std::result::Result<T, Error>;
