//! Reading a user's embedding matrix W (D×N, columns = features) from CSV or NPY.
//!
//! * **Format** is sniffed from the content: a file that starts with the NPY magic
//!   `\x93NUMPY` is NPY, anything else is CSV text. A `.npy` file without the magic is an error.
//! * **CSV**: comma-separated numbers, one matrix row per line (by default rows = embedding
//!   dimensions, columns = features). A text without any comma (outside comments) is read as whitespace-separated
//!   (NumPy's `savetxt` default). Blank lines and lines starting with `#` are skipped, cells are
//!   trimmed, and a leading UTF-8 byte-order mark is ignored. A header line is accepted only when it is the first line and *none* of
//!   its cells is a number; a line mixing numbers and text is an error. Every row must have
//!   the same number of cells.
//! * **NPY** (versions 1, 2, 3): dtype float32 or float64 (`'<f4'`, `'<f8'`, big-endian `'>'`,
//!   native `'='` or `'|'`), a 2-D shape, C or Fortran order, data exactly as long as the
//!   shape says.
//! * `features_as_rows` transposes, for files that store one feature per row (the Anthropic
//!   notebook's n×m layout, spec pitfall 7).
//!
//! Every entry must be finite, and the matrix must have at least one row and one column.
//! Errors: an unreadable file is a runtime error (exit 1); malformed content is a usage error
//! (exit 2, via [`usage`]) whose one-line message names the row, column or header field.

use std::path::Path;

use anyhow::Context;
use nalgebra::DMatrix;

use super::output::usage;

/// Reads W from a CSV or NPY file; see the module docs for the accepted formats.
///
/// Without `features_as_rows`, file rows are embedding dimensions and file columns are
/// features; with it, the file is transposed.
pub fn read_matrix(path: &Path, features_as_rows: bool) -> anyhow::Result<DMatrix<f64>> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read matrix file {}", path.display()))?;
    let shown = path.display();
    let w = if bytes.starts_with(NPY_MAGIC) {
        parse_npy(&bytes).map_err(|m| usage(format!("{shown}: {m}")))?
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        return Err(usage(format!(
            "{shown}: not an NPY file (missing the \\x93NUMPY magic)"
        )));
    } else {
        parse_csv(&bytes).map_err(|m| usage(format!("{shown}: {m}")))?
    };
    if w.nrows() == 0 || w.ncols() == 0 {
        return Err(usage(format!(
            "{shown}: the matrix is empty ({}×{})",
            w.nrows(),
            w.ncols()
        )));
    }
    if let Some(pos) = w.iter().position(|x| !x.is_finite()) {
        let (r, c) = (pos % w.nrows(), pos / w.nrows());
        return Err(usage(format!(
            "{shown}: entry at row {}, column {} is {} (entries must be finite)",
            r + 1,
            c + 1,
            w[pos]
        )));
    }
    Ok(if features_as_rows { w.transpose() } else { w })
}

/// Parses CSV text; errors are one-line messages naming the line and column (1-based).
fn parse_csv(bytes: &[u8]) -> Result<DMatrix<f64>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text at byte {} (expected CSV or NPY)",
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
    Ok(DMatrix::from_row_slice(nrows, ncols, &data))
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

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// A value of the NPY header's Python dict literal.
#[derive(Debug, PartialEq)]
enum PyValue {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// Parses an NPY file (format versions 1.0, 2.0, 3.0).
fn parse_npy(bytes: &[u8]) -> Result<DMatrix<f64>, String> {
    let major = *bytes.get(6).ok_or("truncated NPY header")?;
    let (len_bytes, start) = match major {
        1 => (2, 10),
        2 | 3 => (4, 12),
        v => {
            return Err(format!(
                "unsupported NPY format version {v} (expected 1, 2 or 3)"
            ));
        }
    };
    let len_field = bytes.get(8..8 + len_bytes).ok_or("truncated NPY header")?;
    let header_len = len_field
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let header = bytes
        .get(start..start + header_len)
        .ok_or("truncated NPY header")?;
    let header: String = if major == 3 {
        std::str::from_utf8(header)
            .map_err(|_| "NPY header is not UTF-8")?
            .to_string()
    } else {
        header.iter().map(|&b| b as char).collect() // latin-1
    };
    let dict = parse_dict(&header)?;
    let get = |key: &str| {
        dict.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("NPY header has no '{key}' field"))
    };
    let descr = match get("descr")? {
        PyValue::Str(s) => s.clone(),
        other => {
            return Err(format!(
                "unsupported NPY descr {other:?} (structured dtype?)"
            ));
        }
    };
    let fortran = match get("fortran_order")? {
        PyValue::Bool(b) => *b,
        other => {
            return Err(format!(
                "NPY fortran_order must be True or False, got {other:?}"
            ));
        }
    };
    let shape = match get("shape")? {
        PyValue::Tuple(t) => t.clone(),
        other => return Err(format!("NPY shape must be a tuple, got {other:?}")),
    };
    let (order, kind) = descr.split_at(descr.len().min(1));
    let big_endian = match order {
        "<" => false,
        ">" => true,
        "=" | "|" => cfg!(target_endian = "big"),
        _ => {
            return Err(format!(
                "unsupported NPY dtype '{descr}' (expected '<f4' or '<f8')"
            ));
        }
    };
    let size = match kind {
        "f4" => 4,
        "f8" => 8,
        _ => {
            return Err(format!(
                "unsupported NPY dtype '{descr}' (expected float32 '<f4' or float64 '<f8')"
            ));
        }
    };
    let [rows, cols] = shape[..] else {
        return Err(format!(
            "NPY array must be 2-D (D×N), got shape {shape:?} ({} dimensions)",
            shape.len()
        ));
    };
    let count = rows
        .checked_mul(cols)
        .and_then(|c| c.checked_mul(size))
        .ok_or_else(|| format!("NPY shape {shape:?} is too large"))?;
    let data = &bytes[start + header_len..];
    if data.len() != count {
        return Err(format!(
            "NPY data has {} bytes, but shape ({rows}, {cols}) of '{descr}' needs {count}{}",
            data.len(),
            if data.len() < count {
                " (truncated file)"
            } else {
                " (trailing bytes)"
            }
        ));
    }
    let values: Vec<f64> = data
        .chunks_exact(size)
        .map(|ch| match (size, big_endian) {
            (4, false) => f64::from(f32::from_le_bytes([ch[0], ch[1], ch[2], ch[3]])),
            (4, true) => f64::from(f32::from_be_bytes([ch[0], ch[1], ch[2], ch[3]])),
            (_, false) => f64::from_le_bytes(to8(ch)),
            (_, true) => f64::from_be_bytes(to8(ch)),
        })
        .collect();
    Ok(if fortran {
        DMatrix::from_column_slice(rows, cols, &values)
    } else {
        DMatrix::from_row_slice(rows, cols, &values)
    })
}

fn to8(ch: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(ch);
    a
}

/// Parses the NPY header: a Python dict literal `{'key': value, …}` whose values are strings,
/// True/False or tuples of integers.
fn parse_dict(s: &str) -> Result<Vec<(String, PyValue)>, String> {
    let bad = || format!("malformed NPY header: {}", s.trim());
    let chars: Vec<char> = s.chars().collect();
    let mut p = Parser { c: &chars, i: 0 };
    p.ws();
    if !p.eat('{') {
        return Err(bad());
    }
    let mut out = Vec::new();
    loop {
        p.ws();
        if p.eat('}') {
            break;
        }
        let key = p.string().ok_or_else(bad)?;
        p.ws();
        if !p.eat(':') {
            return Err(bad());
        }
        p.ws();
        let value = p.value().ok_or_else(bad)?;
        out.push((key, value));
        p.ws();
        if p.eat(',') {
            continue;
        }
        p.ws();
        if p.eat('}') {
            break;
        }
        return Err(bad());
    }
    Ok(out)
}

struct Parser<'a> {
    c: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.c.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, ch: char) -> bool {
        if self.c.get(self.i) == Some(&ch) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn string(&mut self) -> Option<String> {
        let q = *self.c.get(self.i)?;
        if q != '\'' && q != '"' {
            return None;
        }
        let start = self.i + 1;
        let len = self.c[start..].iter().position(|&c| c == q)?;
        self.i = start + len + 1;
        Some(self.c[start..start + len].iter().collect())
    }

    fn word(&mut self) -> String {
        let start = self.i;
        while self.c.get(self.i).is_some_and(|c| c.is_alphanumeric()) {
            self.i += 1;
        }
        self.c[start..self.i].iter().collect()
    }

    fn value(&mut self) -> Option<PyValue> {
        match self.c.get(self.i)? {
            '\'' | '"' => self.string().map(PyValue::Str),
            '(' => {
                self.i += 1;
                let mut dims = Vec::new();
                loop {
                    self.ws();
                    if self.eat(')') {
                        return Some(PyValue::Tuple(dims));
                    }
                    let w = self.word();
                    // Python 2 files may write long integers as `3L`.
                    let w = w.strip_suffix('L').unwrap_or(&w);
                    dims.push(w.parse().ok()?);
                    self.ws();
                    if !self.eat(',') {
                        self.ws();
                        if self.eat(')') {
                            return Some(PyValue::Tuple(dims));
                        }
                        return None;
                    }
                }
            }
            _ => match self.word().as_str() {
                "True" => Some(PyValue::Bool(true)),
                "False" => Some(PyValue::Bool(false)),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_dict_parses_numpy_forms() {
        let d = parse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }   \n")
            .expect("valid header");
        assert_eq!(d[0], ("descr".into(), PyValue::Str("<f8".into())));
        assert_eq!(d[1], ("fortran_order".into(), PyValue::Bool(false)));
        assert_eq!(d[2], ("shape".into(), PyValue::Tuple(vec![3, 4])));
        let d = parse_dict("{'shape': (7,), 'descr': \"<f4\", 'fortran_order': True}")
            .expect("valid header");
        assert_eq!(d[0].1, PyValue::Tuple(vec![7]));
        assert_eq!(
            parse_dict("{'shape': (2L, 3L)}").expect("py2 longs")[0].1,
            PyValue::Tuple(vec![2, 3])
        );
        assert!(parse_dict("{'shape': (2, x)}").is_err());
        assert!(parse_dict("'descr': '<f8'").is_err());
    }
}
