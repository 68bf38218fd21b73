//! NumPy's `.npy` format (versions 1.0, 2.0, 3.0): read float32/float64 arrays of any
//! number of dimensions (C or Fortran order, either byte order) and little-endian unicode
//! strings; write float64 arrays and strings as version 1.0.
//!
//! Format: the magic `\x93NUMPY`, a version, a little-endian header length, a Python dict
//! literal `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces
//! to a multiple of 64 bytes and ended by `\n`, then the raw data.

use super::Array;

/// The first bytes of every NPY file.
pub const MAGIC: &[u8] = b"\x93NUMPY";

/// What an NPY file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Floating-point numbers (read as f64).
    Array(Array),
    /// A 0-d unicode string (`'<U…'`), as `numpy.save("f.npy", np.str_("…"))` writes.
    Text(String),
}

/// Parses an NPY file; errors are one-line messages naming the header field or size.
pub fn parse(bytes: &[u8]) -> Result<Content, String> {
    if !bytes.starts_with(MAGIC) {
        return Err("not an NPY file (missing the \\x93NUMPY magic)".into());
    }
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
    let data = &bytes[start + header_len..];
    if let Some(chars) = kind.strip_prefix('U') {
        return parse_text(&descr, chars, &shape, big_endian, data).map(Content::Text);
    }
    let size = match kind {
        "f4" => 4,
        "f8" => 8,
        _ => {
            return Err(format!(
                "unsupported NPY dtype '{descr}' (expected float32 '<f4' or float64 '<f8')"
            ));
        }
    };
    let count = shape
        .iter()
        .try_fold(size, |acc: usize, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("NPY shape {shape:?} is too large"))?;
    if data.len() != count {
        return Err(format!(
            "NPY data has {} bytes, but shape {} of '{descr}' needs {count}{}",
            data.len(),
            show_shape(&shape),
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
    let values = if fortran && shape.len() > 1 {
        fortran_to_c(&shape, &values)
    } else {
        values
    };
    Array::new(shape, values)
        .map(Content::Array)
        .map_err(|e| e.to_string())
}

/// A 0-d `'<U{chars}'` string: UTF-32 code points, NUL-padded.
fn parse_text(
    descr: &str,
    chars: &str,
    shape: &[usize],
    big_endian: bool,
    data: &[u8],
) -> Result<String, String> {
    let chars: usize = chars
        .parse()
        .map_err(|_| format!("unsupported NPY dtype '{descr}'"))?;
    if !shape.is_empty() {
        return Err(format!(
            "NPY strings are read as one 0-d value, got shape {}",
            show_shape(shape)
        ));
    }
    if chars.checked_mul(4) != Some(data.len()) {
        return Err(format!(
            "NPY data has {} bytes, but '{descr}' needs {}",
            data.len(),
            chars.saturating_mul(4)
        ));
    }
    data.chunks_exact(4)
        .map(|c| {
            let b = [c[0], c[1], c[2], c[3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        })
        .take_while(|&u| u != 0)
        .map(|u| char::from_u32(u).ok_or_else(|| format!("NPY string holds U+{u:X}")))
        .collect()
}

/// `(2, 3)`, `(7,)` or `()`: a shape as Python writes it.
pub(crate) fn show_shape(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Reorders Fortran-order (first index fastest) values into C order (last index fastest).
fn fortran_to_c(shape: &[usize], values: &[f64]) -> Vec<f64> {
    let nd = shape.len();
    let mut out = vec![0.0; values.len()];
    let mut idx = vec![0usize; nd];
    for (flat_f, &v) in values.iter().enumerate() {
        // idx = the multi-index of flat_f in Fortran order.
        let mut rest = flat_f;
        for (k, &d) in shape.iter().enumerate() {
            idx[k] = rest % d;
            rest /= d;
        }
        let flat_c = idx
            .iter()
            .zip(shape)
            .fold(0usize, |acc, (&i, &d)| acc * d + i);
        out[flat_c] = v;
    }
    out
}

fn to8(ch: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(ch);
    a
}

/// NPY version 1.0 bytes of a float64 array (C order, little-endian `'<f8'`).
pub fn array_bytes(a: &Array) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': {}, }}",
        show_shape(a.shape())
    );
    let mut out = header_bytes(&dict);
    out.reserve(a.data().len() * 8);
    for x in a.data() {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// NPY version 1.0 bytes of a 0-d unicode string (`'<U{n}'`, UTF-32 little-endian); numpy
/// loads it as a `numpy.str_`.
pub fn text_bytes(s: &str) -> Vec<u8> {
    let n = s.chars().count().max(1);
    let dict = format!("{{'descr': '<U{n}', 'fortran_order': False, 'shape': (), }}");
    let mut out = header_bytes(&dict);
    for c in s.chars() {
        out.extend_from_slice(&(c as u32).to_le_bytes());
    }
    if s.is_empty() {
        out.extend_from_slice(&[0; 4]);
    }
    out
}

/// Magic, version 1.0, header length and the dict padded so that the data starts at a
/// multiple of 64 bytes.
fn header_bytes(dict: &str) -> Vec<u8> {
    let unpadded = MAGIC.len() + 4 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let header_len = dict.len() + pad + 1;
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + header_len);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(
        &u16::try_from(header_len)
            .expect("invariant: our headers are short")
            .to_le_bytes(),
    );
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out
}

/// A value of the NPY header's Python dict literal.
#[derive(Debug, PartialEq)]
enum PyValue {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
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

    #[test]
    fn fortran_order_of_a_3d_array_is_reordered() {
        // shape (2, 3, 2): value = 100 i + 10 j + k, stored first index fastest.
        let shape = [2, 3, 2];
        let mut f = Vec::new();
        for k in 0..2 {
            for j in 0..3 {
                for i in 0..2 {
                    f.push(f64::from(100 * i + 10 * j + k));
                }
            }
        }
        let c = fortran_to_c(&shape, &f);
        let mut expect = Vec::new();
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..2 {
                    expect.push(f64::from(100 * i + 10 * j + k));
                }
            }
        }
        assert_eq!(c, expect);
    }

    #[test]
    fn written_files_parse_back() {
        let a = Array::new(vec![2, 1, 3], vec![1.0, -2.5, 3.0, 0.0, 1e-300, 7.0])
            .expect("consistent shape");
        let bytes = array_bytes(&a);
        assert_eq!((bytes.len() - a.data().len() * 8) % 64, 0);
        assert_eq!(parse(&bytes), Ok(Content::Array(a)));
        assert_eq!(
            parse(&text_bytes("{\"λ\": 1}")),
            Ok(Content::Text("{\"λ\": 1}".into()))
        );
    }
}
