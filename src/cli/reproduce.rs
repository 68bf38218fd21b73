//! `polycap reproduce`: regenerates every figure of the registry (SVG + CSV) and the index
//! `README.md` into one directory. Output is byte-identical across runs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use polycap::figures::style::FontChoice;
use polycap::figures::{Entry, Quality, Rendered, registry};

use super::output::{progress, usage, write_atomic};

/// Font family of the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Font {
    /// DejaVu Serif, Times New Roman, serif.
    Serif,
    /// DejaVu Sans, Helvetica, Arial, sans-serif.
    Sans,
}

/// Flags of `polycap reproduce`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write the figures and their index README.md into (created if missing).
    #[arg(long, default_value = "figures")]
    pub out: PathBuf,
    /// Coarser grids (seconds instead of the published resolution).
    #[arg(long)]
    pub quick: bool,
    /// Font family of all text.
    #[arg(long, value_enum, default_value_t = Font::Serif)]
    pub font: Font,
    /// Only these figure ids (repeatable); the index then lists only them.
    #[arg(long = "only", value_name = "ID")]
    pub only: Vec<String>,
}

/// Runs `polycap reproduce`.
pub fn run(args: Args) -> anyhow::Result<()> {
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
    let quality = if args.quick {
        Quality::Quick
    } else {
        Quality::Full
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let bar = progress(chosen.len() as u64, "figures");
    let mut done = Vec::new();
    for e in &chosen {
        bar.set_message(e.id.to_string());
        let r = e
            .render(quality, font)
            .with_context(|| format!("figure {}", e.id))?;
        write_atomic(&args.out.join(format!("{}.svg", e.id)), r.svg.as_bytes())?;
        write_atomic(&args.out.join(format!("{}.csv", e.id)), r.csv.as_bytes())?;
        done.push((*e, r));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let index = index(&done, &args);
    write_atomic(&args.out.join("README.md"), index.as_bytes())?;
    Ok(())
}

/// The command line that regenerates one figure.
fn command(e: &Entry, args: &Args) -> String {
    let mut c = format!("polycap reproduce --only {}", e.id);
    if args.quick {
        c.push_str(" --quick");
    }
    if args.font == Font::Sans {
        c.push_str(" --font sans");
    }
    if args.out != Path::new("figures") {
        let _ = write!(c, " --out {}", args.out.display());
    }
    c
}

/// Text safe inside Markdown prose and tables: `\ * _ | [ ]` escaped.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '|' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The index README.md: one section per figure.
fn index(done: &[(Entry, Rendered)], args: &Args) -> String {
    let mut s = String::new();
    s.push_str("# Figures\n\n");
    let mut all = "polycap reproduce".to_string();
    if args.quick {
        all.push_str(" --quick");
    }
    if args.font == Font::Sans {
        all.push_str(" --font sans");
    }
    let _ = writeln!(
        s,
        "Written by `{all}`{}. Every figure is an SVG with the CSV of the numbers behind it; \
         titles and labels are generated from the parameters listed here.\n",
        if args.quick {
            " (coarse grids)"
        } else {
            " (published resolution)"
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
        let _ = writeln!(s, "```sh\n{}\n```\n", command(e, args));
        if !r.commands.is_empty() {
            s.push_str("The same numbers from the other subcommands:\n\n```sh\n");
            for c in &r.commands {
                s.push_str(c);
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
