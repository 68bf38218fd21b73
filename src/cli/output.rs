//! Output plumbing shared by the subcommands: formats, aligned tables, atomic file writes,
//! the usage/runtime error split and progress bars.

use std::io::{self, Write};
use std::path::Path;

use polycap::base::Error;

/// Output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned table for people.
    Table,
    /// JSON for programs.
    Json,
    /// CSV for programs.
    Csv,
}

/// A usage error (bad flag value): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Builds a usage error.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Usage(msg.into()))
}

/// Exit code for an error: 2 for usage (bad input values), 1 for runtime failures.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<Usage>().is_some() {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<Error>() {
            return match e {
                Error::Importance { .. }
                | Error::Density { .. }
                | Error::Kurtosis { .. }
                | Error::StudentT(_)
                | Error::UnknownDistribution(_)
                | Error::Dims(_)
                | Error::NoFeatures
                | Error::Length { .. }
                | Error::Format(_)
                | Error::Parameter(_) => 2,
                _ => 1,
            };
        }
    }
    1
}

/// True if the error is a closed stdout (e.g. `polycap … | head`): not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Writes `contents` to `path` atomically ([`polycap::io::write_atomic`]): a temporary file
/// beside it, then a rename. A failure never leaves half a file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    Ok(polycap::io::write_atomic(path, contents)?)
}

/// Writes text to stdout (or to `out` atomically when given).
pub fn emit(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(p) => write_atomic(p, text.as_bytes()),
        None => {
            let mut stdout = io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// An aligned text table: a header row and data rows, columns right-aligned except the
/// first, separated by two spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let ncol = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (j, cell) in r.iter().enumerate().take(ncol) {
            width[j] = width[j].max(cell.chars().count());
        }
    }
    let fmt_row = |cells: Vec<&str>| -> String {
        let mut line = String::new();
        for (j, c) in cells.iter().enumerate() {
            if j > 0 {
                line.push_str("  ");
            }
            let pad = width[j].saturating_sub(c.chars().count());
            if j == 0 {
                line.push_str(c);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            }
        }
        line.trim_end().to_string()
    };
    let mut s = fmt_row(header.to_vec());
    s.push('\n');
    let total: usize = width.iter().sum::<usize>() + 2 * ncol.saturating_sub(1);
    s.push_str(&"─".repeat(total));
    s.push('\n');
    for r in rows {
        s.push_str(&fmt_row(r.iter().map(String::as_str).collect()));
        s.push('\n');
    }
    s
}

/// CSV text from a header and rows (RFC 4180 quoting via the csv crate).
pub fn csv_text(header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// A progress bar on stderr that draws nothing when stderr is not a terminal.
#[allow(dead_code)]
pub fn progress(len: u64, msg: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let bar = if io::stderr().is_terminal() {
        indicatif::ProgressBar::new(len)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .expect("invariant: static template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(msg.to_string());
    bar
}

/// Formats a float for tables: 6 significant digits (trailing zeros dropped), plain for
/// 10⁻⁴ ≤ |x| < 10⁶, scientific otherwise.
pub fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if (1e-4..1e6).contains(&a) {
        // Digits after the point so that 6 significant digits show.
        let exponent = a.log10().floor() as i64;
        let digits = (5 - exponent).max(0) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{x:.5e}")
    }
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn num_keeps_six_significant_digits() {
        assert_eq!(num(0.212121212), "0.212121");
        assert_eq!(num(1.6403508771929824), "1.64035");
        assert_eq!(num(93.5), "93.5");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(123456.7), "123457");
        assert_eq!(num(-0.00012345678), "-0.000123457");
        assert_eq!(num(1e-7), "1.00000e-7");
        assert_eq!(num(0.0), "0");
    }
}
