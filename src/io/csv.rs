//! A matrix as text: comma-separated (RFC 4180 quoting) or whitespace-separated numbers.
//!
//! Comma-separated numbers, one matrix row per line. A text without any comma (outside
//! comments) is read as whitespace-separated (NumPy's `savetxt` default). Blank lines and
//! lines starting with `#` are skipped, cells are trimmed, and a leading UTF-8 byte-order mark
//! is ignored. A header line is accepted only when it is the first line and *none* of its
//! cells is a number; a line mixing numbers and text is an error. Every row must have the
//! same number of cells.

use super::Array;

/// Parses CSV text into a 2-D array; errors are one-line messages naming the line and column
/// (1-based).
pub fn parse(bytes: &[u8]) -> Result<Array, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text at byte {} (expected CSV, NPY, NPZ, safetensors or a polycap JSON file)",
            e.valid_up_to()
        )
    })?;
    // A UTF-8 byte-order mark (spreadsheet exports) is not part of the first cell.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let has_comma = text
        .lines()
        .any(|l| !l.trim_start().starts_with('#') && l.contains(','));
    let records = if has_comma {
        comma_records(text)?
    } else {
        whitespace_records(text)
    };
    let mut data: Vec<f64> = Vec::new();
    let mut ncols: Option<(usize, u64)> = None;
    let mut nrows = 0usize;
    let mut first = true;
    for (line, rec) in records {
        if rec.iter().all(String::is_empty) {
            continue;
        }
        if first {
            first = false;
            if rec.iter().all(|c| c.parse::<f64>().is_err()) {
                continue; // a header line: no cell is a number
            }
        }
        match ncols {
            None => ncols = Some((rec.len(), line)),
            Some((n, l0)) if n != rec.len() => {
                return Err(format!(
                    "ragged CSV: line {line} has {} value(s), but line {l0} has {n}",
                    rec.len()
                ));
            }
            Some(_) => {}
        }
        for (j, cell) in rec.iter().enumerate() {
            let x: f64 = cell
                .parse()
                .map_err(|_| format!("line {line}, column {}: '{cell}' is not a number", j + 1))?;
            data.push(x);
        }
        nrows += 1;
    }
    let (ncols, _) = ncols.ok_or_else(|| "no numeric rows (empty CSV)".to_string())?;
    Array::new(vec![nrows, ncols], data).map_err(|e| e.to_string())
}

/// Comma-separated records (RFC 4180 quoting via the csv crate), with their line numbers.
fn comma_records(text: &str) -> Result<Vec<(u64, Vec<String>)>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    rdr.records()
        .map(|rec| {
            let rec = rec.map_err(|e| format!("CSV error: {e}"))?;
            let line = rec.position().map_or(0, |p| p.line());
            Ok((line, rec.iter().map(str::to_string).collect()))
        })
        .collect()
}

/// Whitespace-separated records (NumPy's `savetxt` default), with their line numbers; blank
/// lines and `#` comments are skipped.
fn whitespace_records(text: &str) -> Vec<(u64, Vec<String>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#'))
        .map(|(i, l)| {
            (
                i as u64 + 1,
                l.split_whitespace().map(str::to_string).collect(),
            )
        })
        .collect()
}
