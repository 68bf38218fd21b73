//! The list of figures `polycap reproduce` writes: one [`Entry`] per figure.
//!
//! To add a figure: write `src/figures/<name>.rs` with a type implementing [`Figure`], then
//! add one line to [`registry`].
//!
//! Every figure is independent jobs and a step that renders from their results.
//! A [`Reproduction`] strings the jobs of several figures into one sweep that runs whole
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
    /// Other subcommands that print the same numbers (may be empty).
    pub commands: Vec<Invocation>,
    /// The SVG document.
    pub svg: String,
    /// The data behind it as CSV.
    pub csv: String,
}

/// Another subcommand that prints the same numbers as a figure, described as data: the
/// subcommand and its options in order. The CLI spells it as a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Subcommand, e.g. `verify`.
    pub command: &'static str,
    /// Options in order: name and value (`None` for a switch).
    pub options: Vec<(&'static str, Option<String>)>,
}

impl Invocation {
    /// The subcommand without options.
    pub fn new(command: &'static str) -> Self {
        Invocation {
            command,
            options: Vec::new(),
        }
    }

    /// With option `name` set to `value`.
    pub fn opt(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.options.push((name, Some(value.to_string())));
        self
    }

    /// With switch `name`.
    pub fn switch(mut self, name: &'static str) -> Self {
        self.options.push((name, None));
        self
    }
}

/// A figure's parameters at the three resolutions, and as a list for the index.
pub trait Parameters: Sized {
    /// The papers' setting at the reproduce budget ([`Quality::Default`]).
    fn paper() -> Self;

    /// The papers' resolution where it exceeds the reproduce budget ([`Quality::Paper`]).
    fn paper_resolution() -> Self {
        Self::paper()
    }

    /// Coarse grids for quick checks and tests ([`Quality::Quick`]).
    fn quick() -> Self;

    /// Parameter list (name, value) for the index.
    fn describe(&self) -> Vec<(String, String)>;

    /// The parameters at `quality`.
    fn at(quality: Quality) -> Self {
        match quality {
            Quality::Quick => Self::quick(),
            Quality::Default => Self::paper(),
            Quality::Paper => Self::paper_resolution(),
        }
    }
}

/// A figure of `polycap reproduce`: where it comes from, its parameters at each resolution
/// (as data: a parameter list and equivalent [`Invocation`]s), the independent jobs that
/// compute its data (none for a closed-form figure), and how it is drawn and tabulated.
pub trait Figure: 'static {
    /// File stem: the figure is written to `<ID>.svg` and `<ID>.csv`.
    const ID: &'static str;
    /// Where the figure comes from (paper figure or spec section).
    const SOURCE: &'static str;
    /// Printed width (two columns unless a figure says otherwise).
    const WIDTH: Width = Width::TwoColumn;
    /// Parameters.
    type Params: Parameters + Clone + Send + Sync + 'static;
    /// Result of one job (`()` for a closed-form figure).
    type Item: Serialize + serde::de::DeserializeOwned + Send + 'static;
    /// Everything the figure draws.
    type Data;

    /// Number of independent jobs (trainings).
    fn jobs(_params: &Self::Params) -> usize {
        0
    }

    /// Runs job `j`. Callers keep `j` < [`Figure::jobs`]: [`Figure::data`] and the registry,
    /// which refuses other indices with an error before the job runs.
    ///
    /// # Errors
    /// [`Error::Parameter`] for a figure without jobs; the job's own errors.
    fn job(_params: &Self::Params, j: usize) -> Result<Self::Item> {
        Err(Error::Parameter(format!(
            "job {j} of a figure without jobs"
        )))
    }

    /// The data from the results of every job, in job order: exactly one per job, which
    /// [`Figure::data`] and the registry check before calling.
    ///
    /// # Errors
    /// The figure's errors.
    fn assemble(params: &Self::Params, items: Vec<Self::Item>) -> Result<Self::Data>;

    /// The data: every job in parallel, then [`Figure::assemble`].
    ///
    /// # Errors
    /// The figure's errors.
    fn data(params: &Self::Params) -> Result<Self::Data> {
        let items = run_jobs(Self::jobs(params), None, |j| Self::job(params, j), &|| ())?;
        Self::assemble(params, items.into_iter().map(|(_, t)| t).collect())
    }

    /// Title, generated from the data.
    fn title(data: &Self::Data) -> String;

    /// The SVG document.
    fn render(data: &Self::Data, style: &Style) -> String;

    /// The numbers drawn, as CSV.
    fn csv(data: &Self::Data) -> String;

    /// Other subcommands that print the same numbers in seconds (may be empty).
    fn commands(_params: &Self::Params) -> Vec<Invocation> {
        Vec::new()
    }
}

/// One figure of the registry: where it comes from, and its computation as independent jobs
/// (its trainings; none for a closed-form figure) plus the step that turns their results into
/// the figure. Job j depends only on j, so the jobs can run on different machines (V7);
/// results travel as JSON values, which round-trip floats exactly.
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
    jobs: fn(Quality) -> usize,
    job: fn(Quality, usize) -> Result<Value>,
    finish: fn(Quality, Vec<Value>, &Style) -> Result<Rendered>,
}

impl Entry {
    /// The entry of figure `F`.
    pub fn of<F: Figure>() -> Self {
        Entry {
            id: F::ID,
            source: F::SOURCE,
            width: F::WIDTH,
            trains: F::jobs(&F::Params::quick()) > 0,
            jobs: |quality| F::jobs(&F::Params::at(quality)),
            job: job::<F>,
            finish: finish::<F>,
        }
    }

    /// Computes and renders the figure at its width with the given font.
    ///
    /// # Errors
    /// The figure's errors.
    pub fn render(&self, quality: Quality, font: FontChoice) -> Result<Rendered> {
        self.render_with(quality, &Style::new(font, self.width))
    }

    /// Computes and renders the figure with `style`: every job in parallel, then the step
    /// that renders from their results.
    ///
    /// # Errors
    /// The figure's errors.
    pub fn render_with(&self, quality: Quality, style: &Style) -> Result<Rendered> {
        let jobs = (self.jobs)(quality);
        let results = run_jobs(jobs, None, |j| (self.job)(quality, j), &|| ())?;
        (self.finish)(
            quality,
            results.into_iter().map(|(_, v)| v).collect(),
            style,
        )
    }
}

/// Job `j` of figure `F` at a resolution, serialised.
fn job<F: Figure>(quality: Quality, j: usize) -> Result<Value> {
    let params = F::Params::at(quality);
    let jobs = F::jobs(&params);
    if j >= jobs {
        return Err(Error::Parameter(format!("job {j} of a {jobs}-job figure")));
    }
    serde_json::to_value(F::job(&params, j)?)
        .map_err(|e| Error::Parameter(format!("job {j} does not serialise: {e}")))
}

/// Figure `F` at a resolution from the serialised results of its jobs.
fn finish<F: Figure>(quality: Quality, results: Vec<Value>, style: &Style) -> Result<Rendered> {
    let params = F::Params::at(quality);
    let jobs = F::jobs(&params);
    if results.len() != jobs {
        return Err(Error::Parameter(format!(
            "{}: {} results for {jobs} jobs",
            F::ID,
            results.len()
        )));
    }
    let items = results
        .into_iter()
        .enumerate()
        .map(|(j, v)| {
            serde_json::from_value(v)
                .map_err(|e| Error::Parameter(format!("result of job {j} is not valid: {e}")))
        })
        .collect::<Result<Vec<F::Item>>>()?;
    let data = F::assemble(&params, items)?;
    Ok(Rendered {
        title: F::title(&data),
        params: params.describe(),
        commands: F::commands(&params),
        svg: F::render(&data, style),
        csv: F::csv(&data),
    })
}

/// What a sharded reproduction ran: shards merge only if these are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReproductionSettings {
    /// Version of polycap that ran the jobs.
    pub polycap: String,
    /// Resolution.
    pub resolution: Quality,
    /// Font family.
    pub font: FontChoice,
    /// The figures, in index order, with their number of jobs.
    pub figures: Vec<(String, usize)>,
}

/// A set of figures at one resolution and font as one sweep of jobs: the jobs of the
/// first figure, then those of the second, … (closed-form figures have none and are drawn
/// when the figures are rendered).
#[derive(Debug)]
pub struct Reproduction {
    entries: Vec<Entry>,
    /// Jobs per figure.
    jobs: Vec<usize>,
    quality: Quality,
    font: FontChoice,
}

impl Reproduction {
    /// The sweep of `entries` at `quality` with `font`.
    pub fn new(entries: Vec<Entry>, quality: Quality, font: FontChoice) -> Self {
        Reproduction {
            jobs: entries.iter().map(|e| (e.jobs)(quality)).collect(),
            entries,
            quality,
            font,
        }
    }

    /// The sweep that shards with `settings` were run with, from the registry.
    ///
    /// # Errors
    /// [`Error::Parameter`] for a figure id this build does not know or job counts that differ
    /// from this build's.
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
        let r = Reproduction::new(entries, settings.resolution, settings.font);
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
            font: self.font,
            figures: self
                .entries
                .iter()
                .zip(&self.jobs)
                .map(|(e, n)| (e.id.to_string(), *n))
                .collect(),
        }
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
        self.jobs.iter().sum()
    }

    /// Runs job `j` of the sweep.
    fn run_job(&self, mut j: usize) -> Result<Value> {
        for (e, n) in self.entries.iter().zip(&self.jobs) {
            if j < *n {
                return (e.job)(self.quality, j);
            }
            j -= n;
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
            .zip(&self.jobs)
            .map(|(e, n)| {
                let mine: Vec<Value> = it.by_ref().take(*n).collect();
                let style = Style::new(self.font, e.width);
                (e.finish)(self.quality, mine, &style).map(|r| (*e, r))
            })
            .collect()
    }
}

/// Every figure, in the order of the index. Add a figure with one line here.
pub fn registry() -> Vec<Entry> {
    use super::*;
    vec![
        Entry::of::<marginal::Fig>(),
        Entry::of::<phase_diagram::Fig>(),
        Entry::of::<phase_cases::Fig>(),
        Entry::of::<loss_allocation::Fig>(),
        Entry::of::<elhage_phase::Fig>(),
        Entry::of::<capacity_examples::Fig>(),
        Entry::of::<feature_geometry::Fig>(),
        Entry::of::<two_block::Fig>(),
        Entry::of::<block_structure::Fig>(),
        Entry::of::<sparsity_sweep::Fig>(),
        Entry::of::<fig4_trained::Fig>(),
        Entry::of::<fig7_empirical::Fig>(),
        Entry::of::<elhage_trained::Fig>(),
        Entry::of::<verify_scatter::Fig>(),
        Entry::of::<zoo_pairs::Fig>(),
        Entry::of::<zoo_neuron::Fig>(),
        Entry::of::<zoo_pentagon::Fig>(),
        Entry::of::<abs_neurons::Fig>(),
        Entry::of::<zoo_finite::Fig>(),
    ]
}
