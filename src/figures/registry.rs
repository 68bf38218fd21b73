//! The list of figures `polycap reproduce` writes: one [`Entry`] per figure.
//!
//! To add a figure: write `src/figures/<name>.rs` with `Params::{paper, quick, describe}`,
//! `data`, `title`, `render`, `csv` and `commands` (trained figures: also `jobs`, `job`,
//! `assemble`), then add one `entry!` line to [`registry`].
//!
//! Every figure is a [`Plan`]: independent jobs and a step that renders from their results.
//! A [`Reproduction`] strings the plans of several figures into one sweep that runs whole
//! or by shard and merges (V7), so every trained figure shards with one mechanism.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base::{Error, Result, Shard, ShardResults, run_jobs};

use super::style::{FontChoice, Style, Width};

/// Grid resolution of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// The papers' resolution: Fig. 7 at 25 × 25 points × 3 seeds × 10 000 steps, the
    /// verify scatter at 25 × 25 (spec §10.4). Figures without a separate paper resolution
    /// are drawn at their default one.
    Paper,
    /// The default of `polycap reproduce`: the published resolution where it fits the
    /// reproduce budget (under 5 min on 2 cores), reduced grids for Fig. 7 and the scatter.
    Default,
    /// Coarse grids for quick checks and tests.
    Quick,
}

impl Quality {
    /// `paper`, `default` or `quick`.
    pub fn name(self) -> &'static str {
        match self {
            Quality::Paper => "paper",
            Quality::Default => "default",
            Quality::Quick => "quick",
        }
    }
}

/// A figure computed and rendered: everything `reproduce` writes for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Title, generated from the parameters.
    pub title: String,
    /// Parameters (name, value) for the index.
    pub params: Vec<(String, String)>,
    /// Command lines of other subcommands that print the same numbers (may be empty).
    pub commands: Vec<String>,
    /// The SVG document.
    pub svg: String,
    /// The data behind it as CSV.
    pub csv: String,
}

type JobFn = Box<dyn Fn(usize) -> Result<Value> + Send + Sync>;
type FinishFn = Box<dyn Fn(Vec<Value>, &Style) -> Result<Rendered> + Send + Sync>;

/// A figure's computation split into independent jobs (its trainings; none for a
/// closed-form figure) and the step that turns their results into the figure. Job j
/// depends only on j, so the jobs can run on different machines (V7); results travel as
/// JSON values, which round-trip floats exactly.
pub struct Plan {
    jobs: usize,
    job: JobFn,
    finish: FinishFn,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan").field("jobs", &self.jobs).finish()
    }
}

impl Plan {
    /// A plan of `jobs` jobs, each an `Item` serialised to JSON, and the step that
    /// renders the figure from the items in job order.
    pub fn new<Item: Serialize + serde::de::DeserializeOwned + 'static>(
        jobs: usize,
        job: impl Fn(usize) -> Result<Item> + Send + Sync + 'static,
        finish: impl Fn(Vec<Item>, &Style) -> Result<Rendered> + Send + Sync + 'static,
    ) -> Self {
        Plan {
            jobs,
            job: Box::new(move |j: usize| {
                serde_json::to_value(job(j)?)
                    .map_err(|e| Error::Parameter(format!("job {j} does not serialise: {e}")))
            }),
            finish: Box::new(move |values: Vec<Value>, style: &Style| {
                let items = values
                    .into_iter()
                    .enumerate()
                    .map(|(j, v)| {
                        serde_json::from_value(v).map_err(|e| {
                            Error::Parameter(format!("result of job {j} is not valid: {e}"))
                        })
                    })
                    .collect::<Result<Vec<Item>>>()?;
                finish(items, style)
            }),
        }
    }

    /// A figure without jobs: everything happens in `finish`.
    pub fn closed_form(
        finish: impl Fn(&Style) -> Result<Rendered> + Send + Sync + 'static,
    ) -> Self {
        Plan::new::<()>(0, |_| Ok(()), move |_, style| finish(style))
    }

    /// Number of jobs.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// Runs job `j` (< [`Plan::jobs`]).
    ///
    /// # Errors
    /// [`Error::Parameter`] for j out of range; the job's own errors.
    pub fn run_job(&self, j: usize) -> Result<Value> {
        if j >= self.jobs {
            return Err(Error::Parameter(format!(
                "job {j} of a {}-job figure",
                self.jobs
            )));
        }
        (self.job)(j)
    }

    /// Renders the figure from the results of every job, in job order.
    ///
    /// # Errors
    /// [`Error::Parameter`] for the wrong number of results or results that do not
    /// deserialise; the figure's own errors.
    pub fn finish(&self, results: Vec<Value>, style: &Style) -> Result<Rendered> {
        if results.len() != self.jobs {
            return Err(Error::Parameter(format!(
                "{} results for {} jobs",
                results.len(),
                self.jobs
            )));
        }
        (self.finish)(results, style)
    }
}

/// One figure of the registry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// File stem: the figure is written to `<id>.svg` and `<id>.csv`.
    pub id: &'static str,
    /// Where the figure comes from (paper figure or spec section).
    pub source: &'static str,
    /// Printed width.
    pub width: Width,
    /// Whether the figure trains models (seconds to minutes); closed-form figures are cheap
    /// enough to regenerate in the test suite, trained ones are regenerated by `reproduce`.
    pub trains: bool,
    /// The figure's plan at a resolution.
    pub plan: fn(Quality) -> Result<Plan>,
}

impl Entry {
    /// Computes and renders the figure at its width with the given font.
    ///
    /// # Errors
    /// The figure's errors.
    pub fn render(&self, quality: Quality, font: FontChoice) -> Result<Rendered> {
        self.render_with(quality, &Style::new(font, self.width))
    }

    /// Computes and renders the figure with `style`: every job in parallel, then
    /// [`Plan::finish`].
    ///
    /// # Errors
    /// The figure's errors.
    pub fn render_with(&self, quality: Quality, style: &Style) -> Result<Rendered> {
        let plan = (self.plan)(quality)?;
        let results = run_jobs(plan.jobs(), None, |j| plan.run_job(j), &|| ())?;
        plan.finish(results.into_iter().map(|(_, v)| v).collect(), style)
    }
}

/// What a sharded reproduction ran: shards merge only if these are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReproductionSettings {
    /// Version of polycap that ran the jobs.
    pub polycap: String,
    /// Resolution.
    pub resolution: Quality,
    /// Font family (`serif` or `sans`).
    pub font: String,
    /// The figures, in index order, with their number of jobs.
    pub figures: Vec<(String, usize)>,
}

/// A set of figures at one resolution and font as one sweep of jobs: the jobs of the
/// first figure, then those of the second, … (closed-form figures have none and are drawn
/// when the figures are rendered).
#[derive(Debug)]
pub struct Reproduction {
    entries: Vec<Entry>,
    plans: Vec<Plan>,
    quality: Quality,
    font: FontChoice,
}

impl Reproduction {
    /// The sweep of `entries` at `quality` with `font`.
    ///
    /// # Errors
    /// The figures' parameter errors.
    pub fn new(entries: Vec<Entry>, quality: Quality, font: FontChoice) -> Result<Self> {
        let plans = entries
            .iter()
            .map(|e| (e.plan)(quality))
            .collect::<Result<_>>()?;
        Ok(Reproduction {
            entries,
            plans,
            quality,
            font,
        })
    }

    /// The sweep that shards with `settings` were run with, from the registry.
    ///
    /// # Errors
    /// [`Error::Parameter`] for a figure id this build does not know, a font other than
    /// serif or sans, or job counts that differ from this build's.
    pub fn from_settings(settings: &ReproductionSettings) -> Result<Self> {
        let all = registry();
        let entries = settings
            .figures
            .iter()
            .map(|(id, _)| {
                all.iter()
                    .find(|e| e.id == id.as_str())
                    .copied()
                    .ok_or_else(|| {
                        Error::Parameter(format!("shards name an unknown figure {id:?}"))
                    })
            })
            .collect::<Result<Vec<Entry>>>()?;
        let font = FontChoice::parse(&settings.font).ok_or_else(|| {
            Error::Parameter(format!("shards name an unknown font {:?}", settings.font))
        })?;
        let r = Reproduction::new(entries, settings.resolution, font)?;
        if r.settings() != *settings {
            return Err(Error::Parameter(format!(
                "shards were run by a different polycap ({}, this is {}) or with different figure jobs",
                settings.polycap,
                env!("CARGO_PKG_VERSION")
            )));
        }
        Ok(r)
    }

    /// What determines the results.
    pub fn settings(&self) -> ReproductionSettings {
        ReproductionSettings {
            polycap: env!("CARGO_PKG_VERSION").to_string(),
            resolution: self.quality,
            font: match self.font {
                FontChoice::Serif => "serif".into(),
                FontChoice::Sans => "sans".into(),
            },
            figures: self
                .entries
                .iter()
                .zip(&self.plans)
                .map(|(e, p)| (e.id.to_string(), p.jobs()))
                .collect(),
        }
    }

    /// The figures.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The resolution.
    pub fn quality(&self) -> Quality {
        self.quality
    }

    /// The font.
    pub fn font(&self) -> FontChoice {
        self.font
    }

    /// Total number of jobs.
    pub fn jobs(&self) -> usize {
        self.plans.iter().map(Plan::jobs).sum()
    }

    /// Runs job `j` of the sweep.
    fn run_job(&self, mut j: usize) -> Result<Value> {
        for p in &self.plans {
            if j < p.jobs() {
                return p.run_job(j);
            }
            j -= p.jobs();
        }
        Err(Error::Parameter(format!(
            "job {j} beyond the sweep's {} jobs",
            self.jobs()
        )))
    }

    /// Runs the jobs of `shard` (all jobs for `None`) in parallel; `on_done` after each.
    ///
    /// # Errors
    /// The figures' errors.
    pub fn run(
        &self,
        shard: Option<Shard>,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<Vec<(usize, Value)>> {
        run_jobs(self.jobs(), shard, |j| self.run_job(j), on_done)
    }

    /// Runs one shard and packs its results with the settings.
    ///
    /// # Errors
    /// The figures' errors.
    pub fn run_shard(
        &self,
        shard: Shard,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<ShardResults<ReproductionSettings, Value>> {
        let items = self.run(Some(shard), on_done)?;
        Ok(ShardResults::new(
            self.settings(),
            shard,
            self.jobs(),
            items,
        ))
    }

    /// Renders every figure from the results of all jobs in job order (from
    /// [`Reproduction::run`] or [`crate::base::merge_shards`]).
    ///
    /// # Errors
    /// [`Error::Parameter`] for the wrong number of results; the figures' errors.
    pub fn render(&self, results: Vec<Value>) -> Result<Vec<(Entry, Rendered)>> {
        if results.len() != self.jobs() {
            return Err(Error::Parameter(format!(
                "{} results for {} jobs",
                results.len(),
                self.jobs()
            )));
        }
        let mut it = results.into_iter();
        self.entries
            .iter()
            .zip(&self.plans)
            .map(|(e, p)| {
                let mine: Vec<Value> = it.by_ref().take(p.jobs()).collect();
                let style = Style::new(self.font, e.width);
                p.finish(mine, &style).map(|r| (*e, r))
            })
            .collect()
    }
}

/// An [`Entry`] for a figure module with the standard interface: `Params::{paper, quick,
/// describe}`, `data`, `title`, `render`, `csv`, `commands`; trained figures also
/// `jobs(&Params) -> usize`, `job(&Params, j) -> Result<Item>` and
/// `assemble(&Params, Vec<Item>) -> Result<Data>` (their `data` is `assemble` of every job),
/// and, where the paper's resolution differs from the default, `Params::paper_resolution`.
macro_rules! entry {
    ($module:ident, $id:literal, $source:literal, $width:expr) => {
        Entry {
            id: $id,
            source: $source,
            width: $width,
            trains: false,
            plan: |quality| {
                use super::$module as f;
                let params = match quality {
                    Quality::Paper | Quality::Default => f::Params::paper(),
                    Quality::Quick => f::Params::quick(),
                };
                Ok(Plan::closed_form(move |style| {
                    let data = f::data(&params)?;
                    Ok(Rendered {
                        title: f::title(&data),
                        params: params.describe(),
                        commands: f::commands(&params),
                        svg: f::render(&data, style),
                        csv: f::csv(&data),
                    })
                }))
            },
        }
    };
    ($module:ident, $id:literal, $source:literal, $width:expr, trained) => {
        entry!(@trained $module, $id, $source, $width, f::Params::paper())
    };
    ($module:ident, $id:literal, $source:literal, $width:expr, trained, paper_resolution) => {
        entry!(@trained $module, $id, $source, $width, f::Params::paper_resolution())
    };
    (@trained $module:ident, $id:literal, $source:literal, $width:expr, $paper:expr) => {
        Entry {
            id: $id,
            source: $source,
            width: $width,
            trains: true,
            plan: |quality| {
                use super::$module as f;
                let params = match quality {
                    Quality::Paper => $paper,
                    Quality::Default => f::Params::paper(),
                    Quality::Quick => f::Params::quick(),
                };
                let for_jobs = params.clone();
                Ok(Plan::new(
                    f::jobs(&params),
                    move |j| f::job(&for_jobs, j),
                    move |items, style| {
                        let data = f::assemble(&params, items)?;
                        Ok(Rendered {
                            title: f::title(&data),
                            params: params.describe(),
                            commands: f::commands(&params),
                            svg: f::render(&data, style),
                            csv: f::csv(&data),
                        })
                    },
                ))
            },
        }
    };
}

/// Every figure, in the order of the index. Add a figure with one line here.
pub fn registry() -> Vec<Entry> {
    vec![
        entry!(
            marginal,
            "fig2-marginal-benefit",
            "[S] Fig. 2; spec §11 S2, (Q16), (A8)",
            Width::OneColumn
        ),
        entry!(
            phase_diagram,
            "fig4-phase-diagram",
            "[S] Fig. 4 top left; spec §7, §11 S4",
            Width::OneColumn
        ),
        entry!(
            phase_cases,
            "fig4-cases-a-f",
            "[S] Fig. 4 bottom row; spec §7.4, §11 S4, (Q16), (A7)",
            Width::TwoColumn
        ),
        entry!(
            loss_allocation,
            "loss-allocation",
            "spec §5.5 (Q15)–(Q17), §6 (A7), (A8)",
            Width::TwoColumn
        ),
        entry!(
            elhage_phase,
            "e3-elhage-theory",
            "[E] phase diagrams, theory panel; spec §9.4, §11 E3",
            Width::TwoColumn
        ),
        entry!(
            capacity_examples,
            "fig6-capacity-examples",
            "[S] Fig. 6; spec §2.4, §11 S6, (C1), (C9)",
            Width::TwoColumn
        ),
        entry!(
            feature_geometry,
            "e4-e5-feature-geometry",
            "[E] feature geometry; spec §9.3, §11 E4, E5, (E6), (E7)",
            Width::TwoColumn,
            trained
        ),
        entry!(
            two_block,
            "fig5-two-block-matrix",
            "[S] Fig. 5; spec §2.3, §8, §11 S5, (C6), (C7)",
            Width::TwoColumn
        ),
        entry!(
            block_structure,
            "block-structure-quadratic-vs-relu",
            "spec §8, (C6), (C7), (A7), (E6); [S] §4",
            Width::TwoColumn,
            trained
        ),
        entry!(
            sparsity_sweep,
            "e2-superposition-sweep",
            "[E] superposition across densities; spec §9.3, §11 E2, (E7), (E8)",
            Width::TwoColumn,
            trained
        ),
        entry!(
            fig4_trained,
            "fig4-trained-phase-diagram",
            "[S] Fig. 4 top right; spec §10.4, §11 S4, (T4), (T5)",
            Width::TwoColumn,
            trained
        ),
        entry!(
            fig7_empirical,
            "fig7-empirical-phase-diagrams",
            "[S] Fig. 7; spec §10.4, §11 S7",
            Width::TwoColumn,
            trained,
            paper_resolution
        ),
        entry!(
            elhage_trained,
            "e3-elhage-trained",
            "[E] phase diagrams, theory and trained; spec §9.4, (E11)–(E13); polycap verify --model tms-relu",
            Width::TwoColumn,
            trained,
            paper_resolution
        ),
        entry!(
            verify_scatter,
            "verify-scatter",
            "spec (T3)–(T5); polycap verify",
            Width::TwoColumn,
            trained,
            paper_resolution
        ),
        // --- issue 14a ---
        entry!(
            zoo_pairs,
            "z7-correlated-pairs",
            "[E] non-uniform superposition, [A] §1; spec §14.2 (Z4)–(Z7)",
            Width::TwoColumn,
            trained,
            paper_resolution
        ),
        entry!(
            zoo_neuron,
            "z9-neuron-model",
            "[E] privileged basis, [A] §2; spec §14.3 (Z8), (Z9), §14.6 (Z20), (Z21)",
            Width::TwoColumn,
            trained,
            paper_resolution
        ),
        entry!(
            zoo_pentagon,
            "z22-nonuniform-pentagon",
            "[E] perturbing a single feature; spec §14.7 (Z22)",
            Width::TwoColumn,
            trained,
            paper_resolution
        ),
        // --- end issue 14a ---
        // --- issue 14b ---
        entry!(
            abs_neurons,
            "z12-abs-neurons",
            "[E] computation in superposition; spec §14.4, (Z10)–(Z13); polycap train --model abs",
            Width::TwoColumn,
            trained,
            paper_resolution
        ),
        // --- end issue 14b ---
        // --- issue 14c ---
        entry!(
            zoo_finite,
            "z19-double-descent",
            "[H], [A] §4 memorisation and double descent; spec §14.5 (Z14)–(Z19); polycap train --dataset T",
            Width::TwoColumn,
            trained,
            paper_resolution
        ),
        // --- end issue 14c ---
    ]
}
