//! Verification over a V × p grid of the phase-diagram setting (spec §7.1, §10.4): every
//! point in parallel, reproducible from (base seed, point index) for any thread count;
//! sharding for job arrays and merging of the shards' reports.
//!
//! Derivation: derivations/verify.md (V5)–(V7).

use serde::{Deserialize, Serialize};

pub use crate::base::Shard;
use crate::base::{Error, Result, collect_indexed, run_jobs};
use crate::theory::phase::{self, DEFAULT_DENSITY_RANGE, DEFAULT_IMPORTANCE_RANGE, PhaseSetting};

use super::point::{Bands, PointReport, Tolerance, Verdict, Verifier};

/// The grid: the phase-diagram setting and its axes. Point `index` = row · columns + column,
/// row = density index, column = importance index.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSpec {
    /// N, D, magnitude law.
    pub setting: PhaseSetting,
    /// Importances V of feature 1 (columns).
    pub importance: Vec<f64>,
    /// Densities p = 1 − S of every feature (rows).
    pub density: Vec<f64>,
}

impl GridSpec {
    /// `columns` × `rows` log-spaced points over the given ranges, ends included.
    pub fn new(
        setting: PhaseSetting,
        importance_range: (f64, f64),
        density_range: (f64, f64),
        columns: usize,
        rows: usize,
    ) -> Result<Self> {
        if density_range.1 > 1.0 {
            return Err(Error::Parameter(format!(
                "density p = 1 − S must be ≤ 1, got range {}:{}",
                density_range.0, density_range.1
            )));
        }
        // Each point keeps a report of its trained and theoretical capacities (about 2 kB).
        let cells = columns as f64 * rows as f64;
        crate::base::resources::check_memory(
            "grid W×H",
            format!("{columns}x{rows}"),
            2048.0 * cells,
        )?;
        Ok(GridSpec {
            setting,
            importance: phase::log_axis(importance_range.0, importance_range.1, columns)?,
            density: phase::log_axis(density_range.0, density_range.1, rows)?,
        })
    }

    /// The Fig. 4 setting: 6 features in 3 dims, sparse uniform, V ∈ [10⁻², 10²],
    /// p ∈ [10⁻³, 1].
    pub fn fig4(columns: usize, rows: usize) -> Result<Self> {
        GridSpec::new(
            PhaseSetting::default(),
            DEFAULT_IMPORTANCE_RANGE,
            DEFAULT_DENSITY_RANGE,
            columns,
            rows,
        )
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.importance.len() * self.density.len()
    }

    /// True for an empty grid (never, for a grid built by `new`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (V, p) of point `index`.
    pub fn coordinates(&self, index: usize) -> (f64, f64) {
        let nx = self.importance.len();
        (self.importance[index % nx], self.density[index / nx])
    }
}

/// Everything that determines a grid run's numbers: shards merge only if these are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Training protocol (`quadratic-exact`, `quadratic`).
    pub model: String,
    /// Theory name.
    pub theory: String,
    /// Number of features N.
    pub features: usize,
    /// Embedding dimension D.
    pub dims: usize,
    /// Magnitude law of the inputs.
    pub input: String,
    /// Importances V (columns).
    pub importance: Vec<f64>,
    /// Densities p = 1 − S (rows).
    pub density: Vec<f64>,
    /// Seeds per point.
    pub seeds: usize,
    /// Base seed.
    pub base_seed: u64,
    /// Optimisation steps T₀: sampled training scales them per point by the magnitude law
    /// and the density (`TrainConfig::steps_at`, verify.md (V9)).
    pub steps: usize,
    /// Peak learning rate η₀.
    #[serde(default)]
    pub lr: f64,
    /// Expected active entries per feature and step of sampled training (absent for (T4) or
    /// a fixed batch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<usize>,
    /// Single-entry samples contribute their expectation over the magnitude (quadratic.md
    /// (QT7)); absent when off.
    #[serde(default, skip_serializing_if = "is_false")]
    pub expected_singles: bool,
    /// Tolerances.
    pub tolerance: Tolerance,
    /// Boundary bands.
    pub bands: Bands,
}

/// A point that disagrees, for the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worst {
    /// Point index.
    pub index: usize,
    /// Importance V.
    pub importance: f64,
    /// Density p (absent for inputs without a density).
    pub density: Option<f64>,
    /// Largest value / tolerance ratio (∞ written as `"inf"` in JSON).
    #[serde(with = "crate::base::nonfinite")]
    pub excess: f64,
    /// Why.
    pub reasons: Vec<String>,
}

/// Counts over a set of points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Points in the report.
    pub points: usize,
    /// Points off the boundaries (checked).
    pub checked: usize,
    /// Checked points within tolerance.
    pub agree: usize,
    /// agree / checked (1 when nothing is checked).
    pub fraction: f64,
    /// Points within a band of a boundary, reported separately.
    pub boundary: usize,
    /// Boundary points that happen to be within tolerance anyway.
    pub boundary_within: usize,
    /// Largest max |ΔCᵢ| over the checked points.
    pub max_capacity_diff: f64,
    /// Up to five checked points that disagree, largest excess first.
    pub worst: Vec<Worst>,
}

impl Summary {
    /// Summary of `points` (density and V read from the reports).
    pub fn of(points: &[PointReport]) -> Summary {
        let checked: Vec<&PointReport> = points
            .iter()
            .filter(|p| p.verdict != Verdict::Boundary)
            .collect();
        let agree = checked
            .iter()
            .filter(|p| p.verdict == Verdict::Agree)
            .count();
        let boundary: Vec<&PointReport> = points
            .iter()
            .filter(|p| p.verdict == Verdict::Boundary)
            .collect();
        let mut bad: Vec<&PointReport> = checked
            .iter()
            .copied()
            .filter(|p| p.verdict == Verdict::Disagree)
            .collect();
        bad.sort_by(|a, b| b.excess.total_cmp(&a.excess).then(a.index.cmp(&b.index)));
        Summary {
            points: points.len(),
            checked: checked.len(),
            agree,
            fraction: if checked.is_empty() {
                1.0
            } else {
                agree as f64 / checked.len() as f64
            },
            boundary: boundary.len(),
            boundary_within: boundary.iter().filter(|p| p.within).count(),
            max_capacity_diff: checked
                .iter()
                .map(|p| p.max_capacity_diff)
                .fold(0.0, f64::max),
            worst: bad
                .iter()
                .take(5)
                .map(|p| Worst {
                    index: p.index,
                    importance: p.importance[0] / p.importance.get(1).copied().unwrap_or(1.0),
                    density: p.density.as_ref().map(|d| d[0]),
                    excess: p.excess,
                    reasons: p.reasons.clone(),
                })
                .collect(),
        }
    }
}

/// The report of a grid run (or of one shard of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridReport {
    /// What was run.
    pub settings: Settings,
    /// The shard, for a partial run (absent in a full or merged report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The points, in index order.
    pub points: Vec<PointReport>,
    /// Counts over `points`.
    pub summary: Summary,
}

impl GridReport {
    /// True when every checked point agrees (exit code 0 of `polycap verify`).
    pub fn passed(&self) -> bool {
        self.summary.agree == self.summary.checked
    }

    /// Joins shard reports into the full report (V7): equal settings, every point of the
    /// grid exactly once. The result equals the unsharded run's report.
    ///
    /// # Errors
    /// [`Error::Parameter`] for no shards, different settings, or overlapping or missing
    /// points.
    pub fn merge(shards: Vec<GridReport>) -> Result<GridReport> {
        let mut it = shards.into_iter();
        let first = it
            .next()
            .ok_or_else(|| Error::Parameter("nothing to merge: no shard reports".into()))?;
        let settings = first.settings.clone();
        let total = settings.importance.len() * settings.density.len();
        let mut items = Vec::with_capacity(total);
        for report in std::iter::once(first).chain(it) {
            if report.settings != settings {
                return Err(Error::Parameter(
                    "shards were run with different settings (model, grid, seeds, steps, tolerances or bands differ)".into(),
                ));
            }
            items.extend(report.points.into_iter().map(|p| (p.index, p)));
        }
        let points = collect_indexed("point", total, items)?;
        Ok(GridReport {
            summary: Summary::of(&points),
            settings,
            shard: None,
            points,
        })
    }
}

/// Verifies every point of `grid` (or of one shard) in parallel. Point i trains with
/// seeds derived from (base seed, i), so the numbers do not depend on the thread count or
/// the sharding. `on_done` is called after each point.
pub fn verify_grid(
    verifier: &Verifier,
    grid: &GridSpec,
    shard: Option<Shard>,
    on_done: &(dyn Fn() + Sync),
) -> Result<GridReport> {
    let points: Vec<PointReport> = run_jobs(
        grid.len(),
        shard,
        |i| verify_point(verifier, grid, i),
        on_done,
    )?
    .into_iter()
    .map(|(_, p)| p)
    .collect();
    Ok(grid_report(verifier, grid, shard, points))
}

/// Verifies point `index` of `grid`: one job of [`verify_grid`].
///
/// # Errors
/// Validation errors of the point's features; training errors.
pub fn verify_point(verifier: &Verifier, grid: &GridSpec, index: usize) -> Result<PointReport> {
    let (v, p) = grid.coordinates(index);
    let features = grid.setting.feature_set(v, p)?;
    verifier.point(&features, grid.setting.dims(), index)
}

/// The report of `points` (in index order) of `grid`, verified by `verifier`, for the
/// whole grid or one shard.
pub fn grid_report(
    verifier: &Verifier,
    grid: &GridSpec,
    shard: Option<Shard>,
    points: Vec<PointReport>,
) -> GridReport {
    GridReport {
        settings: settings_of(verifier, grid),
        shard,
        summary: Summary::of(&points),
        points,
    }
}

/// Serde's `skip_serializing_if` for an unset switch.
fn is_false(x: &bool) -> bool {
    !*x
}

fn settings_of(verifier: &Verifier, grid: &GridSpec) -> Settings {
    Settings {
        model: verifier.protocol().name(),
        theory: verifier.theory_name(),
        features: grid.setting.features(),
        dims: grid.setting.dims(),
        input: grid.setting.magnitude().name(),
        importance: grid.importance.clone(),
        density: grid.density.clone(),
        seeds: verifier.seeds(),
        base_seed: verifier.base_seed(),
        steps: verifier.protocol().steps(),
        lr: verifier.protocol().lr(),
        active: verifier.protocol().active_per_feature(),
        expected_singles: verifier.protocol().expected_singles(),
        tolerance: verifier.tolerance(),
        bands: verifier.bands(),
    }
}
