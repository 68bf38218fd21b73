//! The ReLU-output model against its own theory (spec §9.4): train the 2-in-1 or 3-in-2
//! model over an (r, p) grid with the lane engine, classify every trained (W, b) into the
//! configurations of (E11)/(E12), compare with the analytic winner, check dense losses
//! against (E13), and fit the empirical boundary from the seeds' votes.
//!
//! Derivation: derivations/verify-elhage.md (VE1)–(VE5).
//!
//! # Example
//!
//! ```
//! use polycap::theory::elhage::ToyModel;
//! use polycap::verify::elhage::{Classified, Thresholds, classify};
//! use nalgebra::DMatrix;
//! // An antipodal pair in one dimension: the extra feature is in superposition.
//! let w = DMatrix::from_row_slice(1, 2, &[1.0, -0.98]);
//! let c = classify(ToyModel::TwoInOne, &w, &Thresholds::default());
//! assert_eq!(c, Classified::ExtraAntipodal);
//! ```

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::base::{Error, Result, collect_indexed};
use crate::theory::elhage::{
    self, ANTIPODAL_PEAK_DENSITY, Configuration, Region, ToyModel, boundary_polylines,
    dense_reference_loss,
};
use crate::theory::phase::log_axis;
use crate::training::lanes::{TinyConfig, TinyInstance, TinyRun, train_tiny};

use super::grid::Shard;
use super::point::point_seed;

/// What a trained (W, b) looks like, in the vocabulary of (E11)/(E12) plus the two shapes
/// training also finds (VE1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Classified {
    /// The extra feature is not represented; the others are dedicated.
    ExtraIgnored,
    /// One unit-importance feature (1, or 2 for n = 3) is not represented; the extra is dedicated.
    FirstIgnored,
    /// The extra feature is antipodal with a unit-importance feature; any other is dedicated.
    ExtraAntipodal,
    /// n = 3: features 1 and 2 are antipodal, the extra is dedicated.
    PairAntipodal,
    /// Two features share one direction with the same sign (the dense degenerate family of
    /// spec §9.4, not a configuration of (E12)).
    SharedDirection,
    /// None of the above.
    Other,
}

impl Classified {
    /// Every class, in the order of reports.
    pub const ALL: [Classified; 6] = [
        Classified::ExtraIgnored,
        Classified::FirstIgnored,
        Classified::ExtraAntipodal,
        Classified::PairAntipodal,
        Classified::SharedDirection,
        Classified::Other,
    ];

    /// The theory's configuration of the same shape, if (E11)/(E12) has one.
    pub fn configuration(self) -> Option<Configuration> {
        match self {
            Classified::ExtraIgnored => Some(Configuration::ExtraIgnored),
            Classified::FirstIgnored => Some(Configuration::FirstIgnored),
            Classified::ExtraAntipodal => Some(Configuration::ExtraAntipodal),
            Classified::PairAntipodal => Some(Configuration::PairAntipodal),
            Classified::SharedDirection | Classified::Other => None,
        }
    }

    /// The class of a theory configuration.
    pub fn of(c: Configuration) -> Classified {
        match c {
            Configuration::ExtraIgnored => Classified::ExtraIgnored,
            Configuration::FirstIgnored => Classified::FirstIgnored,
            Configuration::ExtraAntipodal => Classified::ExtraAntipodal,
            Configuration::PairAntipodal => Classified::PairAntipodal,
        }
    }

    /// Short name for outputs.
    pub fn name(self) -> &'static str {
        match self {
            Classified::ExtraIgnored => "extra ignored",
            Classified::FirstIgnored => "feature 1 ignored, extra dedicated",
            Classified::ExtraAntipodal => "extra antipodal",
            Classified::PairAntipodal => "features 1, 2 antipodal, extra dedicated",
            Classified::SharedDirection => "two features share a direction",
            Classified::Other => "other",
        }
    }

    /// The E3 colour class, if the shape has one.
    pub fn region(self, model: ToyModel) -> Option<Region> {
        self.configuration().map(|c| c.region(model))
    }
}

/// Thresholds of the classification (VE1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// A feature is represented when ‖Wᵢ‖² ≥ this.
    pub represented: f64,
    /// Two represented features are antipodal when cos(Wᵢ, Wⱼ) ≤ −this, share a direction
    /// when cos ≥ this.
    pub parallel: f64,
    /// … and orthogonal when |cos| ≤ this.
    pub orthogonal: f64,
}

impl Default for Thresholds {
    /// ‖Wᵢ‖² ≥ 0.1, |cos| ≥ 0.8 for antipodal or shared, |cos| ≤ 0.3 for orthogonal: both
    /// well away from the nearest other geometry, the triangle's |cos| = ½
    /// (derivations/verify-elhage.md (VE1)).
    fn default() -> Self {
        Thresholds {
            represented: 0.1,
            parallel: 0.8,
            orthogonal: 0.3,
        }
    }
}

/// The class of a trained W (D×N, columns = features; the extra feature is the last) (VE1).
pub fn classify(model: ToyModel, w: &DMatrix<f64>, th: &Thresholds) -> Classified {
    let n = model.features();
    if w.ncols() != n || w.nrows() != model.dims() {
        return Classified::Other;
    }
    let norm: Vec<f64> = (0..n).map(|i| w.column(i).norm_squared()).collect();
    let rep: Vec<bool> = norm.iter().map(|&x| x >= th.represented).collect();
    let cos = |i: usize, j: usize| w.column(i).dot(&w.column(j)) / (norm[i] * norm[j]).sqrt();
    let anti = |i, j| cos(i, j) <= -th.parallel;
    let same = |i, j| cos(i, j) >= th.parallel;
    let orth = |i, j| cos(i, j).abs() <= th.orthogonal;
    match model {
        ToyModel::TwoInOne => match (rep[0], rep[1]) {
            (true, false) => Classified::ExtraIgnored,
            (false, true) => Classified::FirstIgnored,
            (true, true) if anti(0, 1) => Classified::ExtraAntipodal,
            (true, true) if same(0, 1) => Classified::SharedDirection,
            _ => Classified::Other,
        },
        ToyModel::ThreeInTwo => match (rep[0], rep[1], rep[2]) {
            (true, true, false) if orth(0, 1) => Classified::ExtraIgnored,
            (true, true, false) if same(0, 1) => Classified::SharedDirection,
            (false, true, true) if orth(1, 2) => Classified::FirstIgnored,
            (true, false, true) if orth(0, 2) => Classified::FirstIgnored,
            (true, true, true) => {
                if anti(1, 2) && orth(0, 1) && orth(0, 2) || anti(0, 2) && orth(0, 1) && orth(1, 2)
                {
                    Classified::ExtraAntipodal
                } else if anti(0, 1) && orth(0, 2) && orth(1, 2) {
                    Classified::PairAntipodal
                } else if same(0, 1) && orth(0, 2) && orth(1, 2) {
                    Classified::SharedDirection
                } else {
                    Classified::Other
                }
            }
            _ => Classified::Other,
        },
    }
}

/// The theory side at one (r, p): the winning configuration, whether the point lies outside
/// the closed form, and its distance to the nearest boundary.
pub trait ElhageTheory: Sync {
    /// Short name for reports.
    fn name(&self) -> String;
    /// The predicted configuration at (r, p).
    fn predict(&self, model: ToyModel, ratio: f64, density: f64) -> Result<Configuration>;
    /// The boundary curves, as (r, p) polylines over the given ranges.
    fn boundaries(
        &self,
        model: ToyModel,
        ratio_range: (f64, f64),
        density_range: (f64, f64),
    ) -> Result<Vec<Vec<(f64, f64)>>>;
}

/// The closed forms (E11)/(E12): the cheapest of the candidate configurations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClosedForm;

impl ElhageTheory for ClosedForm {
    fn name(&self) -> String {
        "closed forms (E11), (E12)".into()
    }

    fn predict(&self, model: ToyModel, ratio: f64, density: f64) -> Result<Configuration> {
        elhage::best_configuration(model, ratio, density)
    }

    fn boundaries(
        &self,
        model: ToyModel,
        ratio_range: (f64, f64),
        density_range: (f64, f64),
    ) -> Result<Vec<Vec<(f64, f64)>>> {
        Ok(boundary_polylines(model, ratio_range, density_range, 400)?
            .into_iter()
            .map(|p| p.points)
            .collect())
    }
}

/// (VE3) True where (E12) lists no configuration that training finds: n = 3, r > 1,
/// p > 4/7, where features 1 and 2 share a direction instead of one being dropped.
pub fn outside_closed_form(model: ToyModel, ratio: f64, density: f64) -> bool {
    model == ToyModel::ThreeInTwo && ratio > 1.0 && density > ANTIPODAL_PEAK_DENSITY
}

/// (VE2) Distance in decades from (r, p) to the nearest boundary polyline, in the
/// (log₁₀ r, log₁₀ p) plane.
pub fn boundary_distance(lines: &[Vec<(f64, f64)>], ratio: f64, density: f64) -> f64 {
    let q = (ratio.log10(), density.log10());
    let mut best = f64::INFINITY;
    for line in lines {
        let pts: Vec<(f64, f64)> = line.iter().map(|(r, p)| (r.log10(), p.log10())).collect();
        for s in pts.windows(2) {
            let (a, b) = (s[0], s[1]);
            let d = (b.0 - a.0, b.1 - a.1);
            let len2 = d.0 * d.0 + d.1 * d.1;
            let t = if len2 > 0.0 {
                (((q.0 - a.0) * d.0 + (q.1 - a.1) * d.1) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (x, y) = (a.0 + t * d.0 - q.0, a.1 + t * d.1 - q.1);
            best = best.min((x * x + y * y).sqrt());
        }
    }
    best
}

/// The grid and training protocol of a verification run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElhageSettings {
    /// Training model name (`tms-relu`).
    pub model: String,
    /// Theory name.
    pub theory: String,
    /// Number of features n.
    pub features: usize,
    /// Dimensions m.
    pub dims: usize,
    /// Relative importance r of the extra feature (columns).
    pub ratio: Vec<f64>,
    /// Densities p = 1 − S (rows).
    pub density: Vec<f64>,
    /// Seeds per point.
    pub seeds: usize,
    /// Base seed.
    pub base_seed: u64,
    /// Optimisation steps.
    pub steps: usize,
    /// Batch size.
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
    /// Optimiser name.
    pub optimizer: String,
    /// Half-width in decades of the band around the boundaries.
    pub band: f64,
    /// Bound on |L − L_(E13)| / L_(E13) at p = 1.
    pub loss_relative: f64,
    /// Classification thresholds.
    pub thresholds: Thresholds,
}

/// How a point compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElhageVerdict {
    /// Off the boundaries; trained configuration (and dense loss) as predicted.
    Agree,
    /// Off the boundaries; something differs.
    Disagree,
    /// Within the band of a boundary: reported separately.
    Boundary,
    /// Outside the closed form (VE3): reported separately.
    Outside,
}

/// One grid point: the theory, the trained best seed, the seeds' votes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElhagePoint {
    /// Point index = row · columns + column (0-based).
    pub index: usize,
    /// Relative importance r.
    pub ratio: f64,
    /// Density p.
    pub density: f64,
    /// Predicted configuration.
    pub theory: Classified,
    /// Class of the best seed (lowest (E3) loss).
    pub trained: Classified,
    /// Seeds per class, in the order of [`Classified::ALL`].
    pub votes: Vec<usize>,
    /// The best seed.
    pub seed: u64,
    /// (E3) loss of the best seed, summed over features (quadrature (EL10)).
    pub loss: f64,
    /// (E13) reference loss at p = 1 (absent below).
    pub dense_reference: Option<f64>,
    /// |L − L_(E13)| / L_(E13) at p = 1 (absent below).
    pub loss_relative: Option<f64>,
    /// ‖W_extra‖² of the best seed.
    pub extra_sq_norm: f64,
    /// W of the best seed, column-major (features), D·N entries.
    pub w: Vec<f64>,
    /// b of the best seed.
    pub bias: Vec<f64>,
    /// Distance to the nearest analytic boundary, decades.
    pub boundary_distance: f64,
    /// Verdict.
    pub verdict: ElhageVerdict,
    /// The trained configuration differs and its (E3) loss is above the closed-form loss of
    /// the predicted configuration: the optimiser stopped in a worse local minimum (VE4).
    pub stuck_minimum: bool,
    /// Why it disagrees (empty otherwise).
    pub reasons: Vec<String>,
}

/// Where the trained phase switches along p at one r (VE5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundaryOffset {
    /// Relative importance r of the column.
    pub ratio: f64,
    /// The analytic switch density.
    pub theory_density: f64,
    /// The fitted switch of the best seeds' classes (geometric mean of the two rows around
    /// it), or absent if the step does not fall inside the grid.
    pub trained_density: Option<f64>,
    /// log₁₀(trained / theory), decades.
    pub offset: Option<f64>,
}

/// Counts over a set of points, with the keys of the quadratic verify's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElhageSummary {
    /// Points in the report.
    pub points: usize,
    /// Points off the boundaries and inside the closed form (checked).
    pub checked: usize,
    /// Checked points that agree.
    pub agree: usize,
    /// agree / checked (1 when nothing is checked).
    pub fraction: f64,
    /// Points within the band of a boundary.
    pub boundary: usize,
    /// Boundary points whose configuration matches anyway.
    pub boundary_within: usize,
    /// Points outside the closed form (VE3).
    pub outside: usize,
    /// Trained classes of the outside points, in the order of [`Classified::ALL`].
    pub outside_classes: Vec<usize>,
    /// Disagreeing points whose trained loss is above the predicted configuration's: the
    /// theory's configuration is better than what training found (VE4).
    pub disagree_stuck: usize,
    /// Dense (p = 1) points whose loss was checked against (E13).
    pub loss_checked: usize,
    /// … within the bound.
    pub loss_agree: usize,
    /// Largest |L − L_(E13)| / L_(E13) over the dense points.
    pub max_loss_relative: f64,
    /// The empirical boundary per column (VE5).
    pub offsets: Vec<BoundaryOffset>,
    /// Mean over the checked points of the share of seeds that reach the predicted
    /// configuration (the rest stop in other local minima).
    pub seed_share: f64,
    /// Median offset over the columns with r < 1 (decades), if any.
    pub median_offset_below: Option<f64>,
    /// Median offset over the columns with r > 1 (decades), if any.
    pub median_offset_above: Option<f64>,
}

/// The report of a run (or of one shard of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElhageReport {
    /// What was run.
    pub settings: ElhageSettings,
    /// The shard, for a partial run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The points, in index order.
    pub points: Vec<ElhagePoint>,
    /// Counts over `points`.
    pub summary: ElhageSummary,
}

/// A verification of the ReLU-output model against a theory.
pub struct ElhageVerifier {
    /// The model.
    pub model: ToyModel,
    /// The theory (default [`ClosedForm`]).
    pub theory: Box<dyn ElhageTheory>,
    /// Training configuration (steps, batch, optimiser …).
    pub training: TinyConfig,
    /// Seeds per point.
    pub seeds: usize,
    /// Base seed.
    pub base_seed: u64,
    /// Band half-width, decades.
    pub band: f64,
    /// Bound on the relative dense loss error (E13).
    pub loss_relative: f64,
    /// Classification thresholds.
    pub thresholds: Thresholds,
}

/// Quadrature nodes per coordinate for choosing the best seed and for the dense loss.
const SELECT_POINTS: usize = 24;
const DENSE_POINTS: usize = 96;

impl ElhageVerifier {
    /// The closed-form theory, the replication's training (AdamW 1e-3, batch 1024), 5000
    /// steps, `seeds` seeds, band 0.05 decades, dense loss within 1 %.
    ///
    /// # Errors
    /// [`Error::Parameter`] for 0 seeds.
    pub fn new(model: ToyModel, seeds: usize, base_seed: u64) -> Result<Self> {
        if seeds == 0 {
            return Err(Error::Parameter("need at least 1 seed, got 0".into()));
        }
        Ok(ElhageVerifier {
            model,
            theory: Box::new(ClosedForm),
            training: TinyConfig::new(model.features(), model.dims())?,
            seeds,
            base_seed,
            band: 0.05,
            loss_relative: 0.01,
            thresholds: Thresholds::default(),
        })
    }

    /// Trains and compares every point of the `columns` × `rows` log grid (or of one shard).
    /// `on_done(k)` is called as k models finish.
    ///
    /// # Errors
    /// [`Error::Parameter`] for ranges with r ≤ 0 or p ∉ (0, 1], an empty grid or bad
    /// training settings.
    pub fn run(
        &self,
        ratio_range: (f64, f64),
        density_range: (f64, f64),
        columns: usize,
        rows: usize,
        shard: Option<Shard>,
        on_done: &(dyn Fn(usize) + Sync),
    ) -> Result<ElhageReport> {
        if !(density_range.0 > 0.0 && density_range.1 <= 1.0) {
            return Err(Error::Parameter(format!(
                "density p must be in (0, 1], got range {}:{}",
                density_range.0, density_range.1
            )));
        }
        if !(self.band.is_finite() && self.band >= 0.0) {
            return Err(Error::Parameter(format!(
                "band must be finite and ≥ 0 decades, got {}",
                self.band
            )));
        }
        let ratio = log_axis(ratio_range.0, ratio_range.1, columns)?;
        let density = log_axis(density_range.0, density_range.1, rows)?;
        let total = columns
            .checked_mul(rows)
            .ok_or_else(|| Error::Parameter(format!("grid {columns} × {rows} is too large")))?;
        let indices: Vec<usize> = (0..total)
            .filter(|&i| shard.is_none_or(|s| s.contains(i)))
            .collect();
        let jobs = indices
            .len()
            .checked_mul(self.seeds)
            .filter(|&j| j <= 50_000_000)
            .ok_or_else(|| {
                Error::Parameter(format!(
                    "{} points × {} seeds is more than 5·10⁷ models",
                    indices.len(),
                    self.seeds
                ))
            })?;
        let mut instances = Vec::with_capacity(jobs);
        for &i in &indices {
            let (r, p) = (ratio[i % columns], density[i / columns]);
            for s in 0..self.seeds as u64 {
                instances.push(TinyInstance {
                    importance: self.model.importance(r),
                    density: vec![p; self.model.features()],
                    seed: point_seed(self.base_seed, i as u64).wrapping_add(s),
                });
            }
        }
        let runs = train_tiny(&self.training, &instances, on_done)?;
        let lines = self
            .theory
            .boundaries(self.model, ratio_range, density_range)?;
        let points = indices
            .iter()
            .zip(runs.chunks(self.seeds))
            .map(|(&i, seeds)| {
                let (r, p) = (ratio[i % columns], density[i / columns]);
                self.point(i, r, p, seeds, &lines)
            })
            .collect::<Result<Vec<_>>>()?;
        let settings = ElhageSettings {
            model: "tms-relu".into(),
            theory: self.theory.name(),
            features: self.model.features(),
            dims: self.model.dims(),
            ratio,
            density,
            seeds: self.seeds,
            base_seed: self.base_seed,
            steps: self.training.steps,
            batch: self.training.batch,
            lr: self.training.lr,
            optimizer: self.training.optimizer.name().into(),
            band: self.band,
            loss_relative: self.loss_relative,
            thresholds: self.thresholds,
        };
        let summary = summarize(self.model, &settings, &points, self.theory.as_ref())?;
        Ok(ElhageReport {
            settings,
            shard,
            points,
            summary,
        })
    }

    fn point(
        &self,
        index: usize,
        ratio: f64,
        density: f64,
        seeds: &[TinyRun],
        lines: &[Vec<(f64, f64)>],
    ) -> Result<ElhagePoint> {
        let model = self.model;
        let imp = model.importance(ratio);
        let mut votes = vec![0usize; Classified::ALL.len()];
        let mut best: Option<(f64, usize)> = None;
        for (k, run) in seeds.iter().enumerate() {
            let c = classify(model, &run.w, &self.thresholds);
            votes[class_index(c)] += 1;
            let l = elhage::model_loss(&run.w, &run.bias, &imp, density, SELECT_POINTS)?;
            if !l.is_finite() {
                return Err(Error::Parameter(format!(
                    "training diverged at r = {ratio}, p = {density} (non-finite loss)"
                )));
            }
            if best.is_none_or(|(bl, _)| l < bl) {
                best = Some((l, k));
            }
        }
        let (_, k) = best.ok_or_else(|| Error::Parameter("no seeds".into()))?;
        let run = &seeds[k];
        let trained = classify(model, &run.w, &self.thresholds);
        let theory = Classified::of(self.theory.predict(model, ratio, density)?);
        let dense = density >= 1.0 - 1e-12;
        let loss = elhage::model_loss(
            &run.w,
            &run.bias,
            &imp,
            density,
            if dense { DENSE_POINTS } else { SELECT_POINTS },
        )?;
        let (dense_reference, loss_relative) = if dense {
            let l13 = dense_reference_loss(&imp, model.dims(), density)?;
            (Some(l13), Some((loss - l13).abs() / l13))
        } else {
            (None, None)
        };
        let distance = boundary_distance(lines, ratio, density);
        let mut reasons = Vec::new();
        let mut stuck_minimum = false;
        if trained != theory {
            // (VE4) Is the predicted configuration cheaper than what training found? Then the
            // optimiser stopped in a worse local minimum.
            let predicted = theory
                .configuration()
                .map(|c| elhage::configuration_loss(model, c, ratio, density))
                .transpose()?;
            let stuck = predicted.is_some_and(|l| l < loss);
            reasons.push(format!(
                "trained '{}', theory '{}'{}",
                trained.name(),
                theory.name(),
                if stuck {
                    format!(
                        " (trained loss {loss:.3e} > the predicted configuration's {:.3e}: a worse local minimum)",
                        predicted.unwrap_or(0.0)
                    )
                } else {
                    String::new()
                }
            ));
            stuck_minimum = stuck;
        }
        if let Some(rel) = loss_relative
            && rel > self.loss_relative
        {
            reasons.push(format!(
                "dense loss {loss:.5} vs (E13) {:.5}: relative {rel:.3} > {}",
                dense_reference.unwrap_or(0.0),
                self.loss_relative
            ));
        }
        let verdict = if outside_closed_form(model, ratio, density) {
            ElhageVerdict::Outside
        } else if distance <= self.band {
            ElhageVerdict::Boundary
        } else if reasons.is_empty() {
            ElhageVerdict::Agree
        } else {
            ElhageVerdict::Disagree
        };
        Ok(ElhagePoint {
            index,
            ratio,
            density,
            theory,
            trained,
            votes,
            seed: point_seed(self.base_seed, index as u64).wrapping_add(k as u64),
            loss,
            dense_reference,
            loss_relative,
            extra_sq_norm: run.w.column(model.features() - 1).norm_squared(),
            w: run.w.as_slice().to_vec(),
            bias: run.bias.clone(),
            boundary_distance: distance,
            verdict,
            stuck_minimum,
            reasons,
        })
    }
}

fn class_index(c: Classified) -> usize {
    Classified::ALL
        .iter()
        .position(|&x| x == c)
        .expect("invariant: ALL lists every class")
}

/// (VE5) The empirical boundary per column: the best seeds' classes along increasing p are
/// fitted by one step from the theory's low-density configuration to anything else (the cut
/// between two rows that misclassifies the fewest rows; ties: the lowest cut), placed at the
/// geometric mean of the two rows; compared with the analytic switch at that r (bisection on
/// the theory's own prediction).
pub fn boundary_offsets(
    model: ToyModel,
    settings: &ElhageSettings,
    points: &[ElhagePoint],
    theory: &dyn ElhageTheory,
) -> Result<Vec<BoundaryOffset>> {
    let cols = settings.ratio.len();
    let (p_lo, p_hi) = (
        settings.density[0],
        settings.density[settings.density.len() - 1],
    );
    let mut out = Vec::new();
    for (j, &r) in settings.ratio.iter().enumerate() {
        let low = theory.predict(model, r, p_lo)?;
        let high = theory.predict(model, r, p_hi)?;
        if low == high || (r - 1.0).abs() < 1e-9 {
            continue;
        }
        // Analytic switch: bisection in log p on the theory's own prediction.
        let (mut a, mut b) = (p_lo.ln(), p_hi.ln());
        for _ in 0..60 {
            let m = 0.5 * (a + b);
            if theory.predict(model, r, m.exp())? == low {
                a = m;
            } else {
                b = m;
            }
        }
        let theory_density = (0.5 * (a + b)).exp();
        let mut col: Vec<&ElhagePoint> = points.iter().filter(|p| p.index % cols == j).collect();
        col.sort_by(|x, y| x.density.total_cmp(&y.density));
        let is_low: Vec<bool> = col
            .iter()
            .map(|p| p.trained == Classified::of(low))
            .collect();
        let errors = |k: usize| {
            is_low[..k].iter().filter(|&&x| !x).count() + is_low[k..].iter().filter(|&&x| x).count()
        };
        let best = (0..=col.len()).min_by_key(|&k| errors(k));
        let trained_density = best
            .filter(|&k| k > 0 && k < col.len())
            .map(|k| (col[k - 1].density * col[k].density).sqrt());
        out.push(BoundaryOffset {
            ratio: r,
            theory_density,
            trained_density,
            offset: trained_density.map(|d| (d / theory_density).log10()),
        });
    }
    Ok(out)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

fn summarize(
    model: ToyModel,
    settings: &ElhageSettings,
    points: &[ElhagePoint],
    theory: &dyn ElhageTheory,
) -> Result<ElhageSummary> {
    let count = |v: ElhageVerdict| points.iter().filter(|p| p.verdict == v).count();
    let agree = count(ElhageVerdict::Agree);
    let checked = agree + count(ElhageVerdict::Disagree);
    let mut outside_classes = vec![0; Classified::ALL.len()];
    for p in points
        .iter()
        .filter(|p| p.verdict == ElhageVerdict::Outside)
    {
        outside_classes[class_index(p.trained)] += 1;
    }
    let dense: Vec<f64> = points.iter().filter_map(|p| p.loss_relative).collect();
    let offsets = boundary_offsets(model, settings, points, theory)?;
    let side = |below: bool| {
        median(
            offsets
                .iter()
                .filter(|o| (o.ratio < 1.0) == below)
                .filter_map(|o| o.offset)
                .collect(),
        )
    };
    Ok(ElhageSummary {
        points: points.len(),
        checked,
        agree,
        fraction: if checked == 0 {
            1.0
        } else {
            agree as f64 / checked as f64
        },
        boundary: count(ElhageVerdict::Boundary),
        boundary_within: points
            .iter()
            .filter(|p| p.verdict == ElhageVerdict::Boundary && p.trained == p.theory)
            .count(),
        outside: count(ElhageVerdict::Outside),
        outside_classes,
        disagree_stuck: points
            .iter()
            .filter(|p| p.verdict == ElhageVerdict::Disagree && p.stuck_minimum)
            .count(),
        loss_checked: dense.len(),
        loss_agree: dense
            .iter()
            .filter(|&&x| x <= settings.loss_relative)
            .count(),
        max_loss_relative: dense.iter().copied().fold(0.0, f64::max),
        seed_share: {
            let checked: Vec<&ElhagePoint> = points
                .iter()
                .filter(|p| matches!(p.verdict, ElhageVerdict::Agree | ElhageVerdict::Disagree))
                .collect();
            if checked.is_empty() {
                1.0
            } else {
                checked
                    .iter()
                    .map(|p| {
                        p.votes[class_index(p.theory)] as f64
                            / p.votes.iter().sum::<usize>().max(1) as f64
                    })
                    .sum::<f64>()
                    / checked.len() as f64
            }
        },
        median_offset_below: side(true),
        median_offset_above: side(false),
        offsets,
    })
}

impl ElhageReport {
    /// True when every checked point agrees.
    pub fn passed(&self) -> bool {
        self.summary.agree == self.summary.checked
            && self.summary.loss_agree == self.summary.loss_checked
    }

    /// Joins shard reports into the full report: equal settings, every point exactly once
    /// (as [`super::GridReport::merge`]).
    ///
    /// # Errors
    /// [`Error::Parameter`] for no shards, different settings, overlapping or missing points.
    pub fn merge(shards: Vec<ElhageReport>) -> Result<ElhageReport> {
        let mut it = shards.into_iter();
        let first = it
            .next()
            .ok_or_else(|| Error::Parameter("nothing to merge: no shard reports".into()))?;
        let settings = first.settings.clone();
        let total = settings.ratio.len() * settings.density.len();
        let mut items = Vec::with_capacity(total);
        for report in std::iter::once(first).chain(it) {
            if report.settings != settings {
                return Err(Error::Parameter(
                    "shards were run with different settings (model, grid, seeds, steps, band or thresholds differ)".into(),
                ));
            }
            items.extend(report.points.into_iter().map(|p| (p.index, p)));
        }
        let points = collect_indexed("point", total, items)?;
        let model = match (settings.features, settings.dims) {
            (2, 1) => ToyModel::TwoInOne,
            (3, 2) => ToyModel::ThreeInTwo,
            (n, d) => {
                return Err(Error::Parameter(format!(
                    "report for N = {n}, D = {d}: only 2 in 1 and 3 in 2 have a theory"
                )));
            }
        };
        let summary = summarize(model, &settings, &points, &ClosedForm)?;
        Ok(ElhageReport {
            settings,
            shard: None,
            points,
            summary,
        })
    }
}
