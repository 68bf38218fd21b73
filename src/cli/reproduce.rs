//! `polycap reproduce`: regenerates every figure of the registry (SVG + CSV) and the index
//! `README.md` into one directory. Output is byte-identical across runs. With `--shard i/N`
//! it runs only every N-th job of the trained figures and writes their results;
//! `polycap reproduce merge` renders the figures from all N shards, byte-identical to the
//! unsharded run (V7).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use polycap::base::{Shard, ShardResults, merge_shards};
use polycap::figures::canvas::unicode;
use polycap::figures::style::FontChoice;
use polycap::figures::{Entry, Quality, Rendered, Reproduction, ReproductionSettings, registry};
use serde_json::Value;

use super::output::{progress, usage, write_atomic};

/// Font family of the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Font {
    /// DejaVu Serif, Times New Roman, serif.
    Serif,
    /// DejaVu Sans, Helvetica, Arial, sans-serif.
    Sans,
}

/// Grid resolution of the trained figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Resolution {
    /// The papers' resolution: Fig. 7 at 25 × 25 × 3 seeds × 10 000 steps, the verify
    /// scatter at 25 × 25 (tens of minutes on 2 cores; shard it).
    Paper,
    /// The default: fits in a few minutes on 2 cores.
    Default,
    /// Coarse grids (seconds); the same as --quick.
    Quick,
}

impl Resolution {
    /// The library's resolution.
    pub fn quality(self) -> Quality {
        match self {
            Resolution::Paper => Quality::Paper,
            Resolution::Default => Quality::Default,
            Resolution::Quick => Quality::Quick,
        }
    }
}

/// Flags of `polycap reproduce` (or its `merge` subcommand).
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    #[command(flatten)]
    flags: Flags,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Render the figures from the results of `--shard i/N` runs: the same files as the
    /// unsharded run. Errors if the shards' settings differ or a shard is missing or twice.
    Merge {
        /// Shard files (`shard-I-of-N.json`) or directories holding them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Directory to write the figures and their index README.md into.
        #[arg(long, default_value = "figures")]
        out: PathBuf,
    },
}

/// The flags of a reproduction.
#[derive(Debug, clap::Args)]
struct Flags {
    /// Directory to write the figures and their index README.md into (created if missing);
    /// with --shard, the shard's results file.
    #[arg(long, default_value = "figures")]
    out: PathBuf,
    /// Grid resolution of the trained figures.
    #[arg(long, value_enum, conflicts_with = "quick")]
    resolution: Option<Resolution>,
    /// Coarser grids (seconds instead of minutes): --resolution quick.
    #[arg(long)]
    quick: bool,
    /// Font family of all text.
    #[arg(long, value_enum, default_value_t = Font::Serif)]
    font: Font,
    /// Only these figure ids (repeatable); the index then lists only them.
    #[arg(long = "only", value_name = "ID")]
    only: Vec<String>,
    /// Run only shard i/N (0-based i < N) of the trained figures' jobs (jobs i, i + N, …)
    /// and write OUT/shard-i-of-N.json; then `polycap reproduce merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
}

/// Runs `polycap reproduce`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Some(Sub::Merge { paths, out }) => merge(&paths, &out),
        None => run_flags(&args.flags),
    }
}

fn run_flags(args: &Flags) -> anyhow::Result<()> {
    let all = registry();
    for id in &args.only {
        if !all.iter().any(|e| e.id == id) {
            let ids: Vec<&str> = all.iter().map(|e| e.id).collect();
            return Err(usage(format!(
                "--only: unknown figure id {id:?} (known: {})",
                ids.join(", ")
            )));
        }
    }
    let chosen: Vec<Entry> = all
        .into_iter()
        .filter(|e| args.only.is_empty() || args.only.iter().any(|id| id == e.id))
        .collect();
    let font = match args.font {
        Font::Serif => FontChoice::Serif,
        Font::Sans => FontChoice::Sans,
    };
    let quality = match (args.resolution, args.quick) {
        (Some(r), _) => r.quality(),
        (None, true) => Quality::Quick,
        (None, false) => Quality::Default,
    };
    let shard = args
        .shard
        .as_deref()
        .map(|s| {
            s.parse::<Shard>()
                .map_err(|_| usage(format!("--shard: expected i/N with 0 ≤ i < N, got '{s}'")))
        })
        .transpose()?;
    let sweep = Reproduction::new(chosen, quality, font);
    let count = shard.map_or(sweep.jobs(), |s| s.jobs(sweep.jobs()).count());
    let bar = progress(count as u64, "training jobs");
    if let Some(shard) = shard {
        let results = sweep.run_shard(shard, &|| bar.inc(1))?;
        bar.finish_and_clear();
        let text = serde_json::to_string(&results).context("serialising the shard")? + "\n";
        let name = format!("shard-{}-of-{}.json", shard.index, shard.count);
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
        return write_atomic(&args.out.join(name), text.as_bytes());
    }
    let results = sweep.run(None, &|| bar.inc(1))?;
    bar.finish_and_clear();
    write_figures(
        &sweep,
        results.into_iter().map(|(_, v)| v).collect(),
        &args.out,
    )
}

/// The shard files among `paths`: files as given, directories' `shard-*.json` sorted.
fn shard_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("shard-") && n.ends_with(".json"))
                })
                .collect();
            if inside.is_empty() {
                return Err(usage(format!(
                    "{}: no shard-*.json files in this directory",
                    p.display()
                )));
            }
            inside.sort();
            files.extend(inside);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

fn merge(paths: &[PathBuf], out: &Path) -> anyhow::Result<()> {
    let mut shards = Vec::new();
    for path in shard_files(paths)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let s: ShardResults<ReproductionSettings, Value> = serde_json::from_str(&text)
            .map_err(|e| usage(format!("{}: not a reproduce shard: {e}", path.display())))?;
        shards.push(s);
    }
    let (settings, results) = merge_shards(shards)?;
    let sweep = Reproduction::from_settings(&settings)?;
    write_figures(&sweep, results, out)
}

/// Renders every figure from the job results, then writes the SVGs, CSVs and the index.
fn write_figures(sweep: &Reproduction, results: Vec<Value>, out: &Path) -> anyhow::Result<()> {
    let done = sweep.render(results)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for (e, r) in &done {
        write_atomic(&out.join(format!("{}.svg", e.id)), r.svg.as_bytes())?;
        write_atomic(&out.join(format!("{}.csv", e.id)), r.csv.as_bytes())?;
    }
    let index = index(&done, sweep.quality(), sweep.font(), out);
    write_atomic(&out.join("README.md"), index.as_bytes())
}

/// The flags that select resolution and font, as typed on the command line.
fn flags_text(quality: Quality, font: FontChoice) -> String {
    let mut c = String::new();
    match quality {
        Quality::Paper => c.push_str(" --resolution paper"),
        Quality::Quick => c.push_str(" --quick"),
        Quality::Default => {}
    }
    if font == FontChoice::Sans {
        c.push_str(" --font sans");
    }
    c
}

/// The command line that regenerates one figure.
fn command(e: &Entry, quality: Quality, font: FontChoice, out: &Path) -> String {
    let mut c = format!(
        "polycap reproduce --only {}{}",
        e.id,
        flags_text(quality, font)
    );
    if out != Path::new("figures") {
        let _ = write!(c, " --out {}", out.display());
    }
    c
}

/// Text safe inside Markdown prose and tables: `\ * _ | [ ]` escaped.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Label markup (`0.8^{i}`, `V_{ign}`) in the scripts the SVGs draw.
    for c in unicode(s).chars() {
        if matches!(c, '\\' | '*' | '_' | '|' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The index README.md: one section per figure.
fn index(done: &[(Entry, Rendered)], quality: Quality, font: FontChoice, out: &Path) -> String {
    let mut s = String::new();
    s.push_str("# Figures\n\n");
    let all = format!("polycap reproduce{}", flags_text(quality, font));
    let _ = writeln!(
        s,
        "Written by `{all}`{}. Every figure is an SVG with the CSV of the numbers behind it; \
         titles and labels are generated from the parameters listed here.\n",
        match quality {
            Quality::Quick => " (coarse grids)",
            Quality::Default => " (default resolution; `--resolution paper` for the papers' grids)",
            Quality::Paper => " (the papers' resolution)",
        }
    );
    s.push_str("| id | title | files |\n|---|---|---|\n");
    for (e, r) in done {
        let _ = writeln!(
            s,
            "| [{id}](#{id}) | {} | [{id}.svg]({id}.svg), [{id}.csv]({id}.csv) |",
            md(&r.title),
            id = e.id
        );
    }
    for (e, r) in done {
        let _ = writeln!(s, "\n## {}\n", e.id);
        let _ = writeln!(s, "**{}**\n", md(&r.title));
        let _ = writeln!(s, "Source: {}.\n", e.source);
        let _ = writeln!(s, "```sh\n{}\n```\n", command(e, quality, font, out));
        if !r.commands.is_empty() {
            s.push_str("The same numbers from the other subcommands:\n\n```sh\n");
            for c in &r.commands {
                let _ = write!(s, "polycap {}", c.command);
                for (name, value) in &c.options {
                    let _ = write!(s, " --{name}");
                    if let Some(v) = value {
                        let _ = write!(s, " {v}");
                    }
                }
                s.push('\n');
            }
            s.push_str("```\n\n");
        }
        s.push_str("| parameter | value |\n|---|---|\n");
        for (k, v) in &r.params {
            let _ = writeln!(s, "| {} | {} |", md(k), md(v));
        }
        let _ = writeln!(
            s,
            "\nFiles: [{id}.svg]({id}.svg), [{id}.csv]({id}.csv)\n\n![{}]({id}.svg)",
            md(&r.title),
            id = e.id
        );
    }
    s
}
