//! File formats: NumPy's `.npy` and `.npz`, Hugging Face's `.safetensors`, CSV text, and
//! polycap's own files (the `train` outputs and the SAE libraries' synthetic-model folder).
//! Library code, shared by the CLI and the Python package.
//!
//! * [`read_archive`] reads any supported file into named float arrays plus string
//!   metadata; the format is sniffed from the content (NPY magic, zip magic, a safetensors
//!   header, a JSON document), anything else is CSV text.
//! * [`read_matrices`] turns a file into embedding matrices W (D×N, columns = features):
//!   one per 2-D array, one per instance of a 3-D stack. [`matrix_stack`] is the same check
//!   and conversion for arrays already in memory (the Python package's entry).
//! * [`save`] writes named arrays and metadata as `.npy`, `.npz` or `.safetensors`
//!   (chosen by the extension), atomically; [`run`] defines what `polycap train --save`
//!   writes and [`synthetic`] the synthetic-model folder of the SAE libraries.
//!
//! # Example
//!
//! ```
//! use polycap::io::{Array, read_matrices, save};
//! use std::collections::BTreeMap;
//!
//! let dir = std::env::temp_dir().join(format!("polycap-io-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("w.npz");
//! // Two instances of a 2×3 matrix, stacked: shape (2, 2, 3).
//! let w = Array::new(vec![2, 2, 3], (0..12).map(f64::from).collect())?;
//! save(&path, &[("W".to_string(), w)], &BTreeMap::new())?;
//! let ws = read_matrices(&path, None, false)?;
//! assert_eq!(ws.len(), 2);
//! assert_eq!(ws[1][(1, 2)], 11.0);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), polycap::base::Error>(())
//! ```

pub mod csv;
pub mod npy;
pub mod npz;
pub mod run;
pub mod safetensors;
pub mod synthetic;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use nalgebra::DMatrix;

use crate::base::{Error, Result};

/// A dense float array in C order (last index fastest).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    shape: Vec<usize>,
    data: Vec<f64>,
}

impl Array {
    /// An array of the given shape; `data` holds Π shape values in C order.
    ///
    /// # Errors
    /// [`Error::Format`] if the lengths disagree.
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Result<Self> {
        let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if count != Some(data.len()) {
            return Err(Error::Format(format!(
                "array of shape {} needs {} values, got {}",
                npy::show_shape(&shape),
                count.map_or("too many".to_string(), |c| c.to_string()),
                data.len()
            )));
        }
        Ok(Array { shape, data })
    }

    /// A stack of equal-shape matrices as `[matrices, rows, cols]` (or `[rows, cols]` for
    /// one matrix when `squeeze`), transposing each when `transpose`.
    ///
    /// # Errors
    /// [`Error::Format`] if the matrices differ in shape or there are none.
    pub fn stack(ms: &[DMatrix<f64>], transpose: bool) -> Result<Self> {
        let first = ms
            .first()
            .ok_or_else(|| Error::Format("no matrices to stack".into()))?;
        let (r, c) = if transpose {
            (first.ncols(), first.nrows())
        } else {
            first.shape()
        };
        let mut data = Vec::with_capacity(ms.len() * r * c);
        for m in ms {
            if m.shape() != first.shape() {
                return Err(Error::Format(format!(
                    "cannot stack a {}×{} matrix onto {}×{} ones",
                    m.nrows(),
                    m.ncols(),
                    first.nrows(),
                    first.ncols()
                )));
            }
            let m = if transpose { m.transpose() } else { m.clone() };
            for row in m.row_iter() {
                data.extend(row.iter());
            }
        }
        Array::new(vec![ms.len(), r, c], data)
    }

    /// Its shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Its values in C order.
    pub fn data(&self) -> &[f64] {
        &self.data
    }
}

/// The contents of a file: named float arrays (in file order), the names of members that
/// are not float arrays with the reason, and string metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Archive {
    /// Float arrays by name (`""` for a single `.npy`, CSV or JSON matrix).
    pub arrays: Vec<(String, Array)>,
    /// Members that are not float arrays: (name, why).
    pub skipped: Vec<(String, String)>,
    /// String metadata (safetensors `__metadata__`, 0-d string members of an `.npz`).
    pub metadata: BTreeMap<String, String>,
}

impl Archive {
    /// The array called `name`.
    pub fn get(&self, name: &str) -> Option<&Array> {
        self.arrays.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }
}

/// Reads a file into an [`Archive`]; see the module docs for the formats. A directory is read
/// as an SAE synthetic-model folder (its `synthetic_model.safetensors`).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] (message prefixed with the
/// path) if its content is malformed.
pub fn read_archive(path: &Path) -> Result<Archive> {
    let file = if path.is_dir() {
        path.join(synthetic::WEIGHTS_FILE)
    } else {
        path.to_path_buf()
    };
    let shown = path.display();
    let bytes = std::fs::read(&file)
        .map_err(|e| Error::Io(format!("cannot read matrix file {}: {e}", file.display())))?;
    parse_archive(&bytes, path).map_err(|m| Error::Format(format!("{shown}: {m}")))
}

fn parse_archive(bytes: &[u8], path: &Path) -> std::result::Result<Archive, String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.starts_with(npy::MAGIC) || ext == "npy" {
        return match npy::parse(bytes)? {
            npy::Content::Array(a) => Ok(Archive {
                arrays: vec![(String::new(), a)],
                ..Archive::default()
            }),
            npy::Content::Text(_) => Err("the NPY file holds a string, not numbers".into()),
        };
    }
    if bytes.starts_with(npz::MAGIC) || ext == "npz" {
        return npz::parse(bytes);
    }
    if safetensors::looks_like(bytes) || ext == "safetensors" {
        return safetensors::parse(bytes);
    }
    let text_start = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if text_start == Some(&b'{') || ext == "json" {
        return run::parse_json(bytes);
    }
    let a = csv::parse(bytes)?;
    Ok(Archive {
        arrays: vec![(String::new(), a)],
        ..Archive::default()
    })
}

/// Embedding matrices read from a file, and what the file says about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// The matrices W (D×N, columns = features), one per instance.
    pub matrices: Vec<DMatrix<f64>>,
    /// The file is a polycap train output: the matrices are trained, not constructed.
    pub trained: bool,
    /// The file declares its layout (a train output or a synthetic model), so the reader
    /// knows which axis holds the features.
    pub declared_layout: bool,
}

/// Reads the embedding matrices W (D×N, columns = features) of a file: the array named
/// `key`, or else the file's only float array, or the weights of a polycap `train` file or a
/// synthetic-model folder. A 2-D array is one matrix, a 3-D array a stack (one matrix per
/// first index). With `features_as_rows` each matrix is read transposed (one feature per
/// row); polycap's train files and synthetic models declare that layout themselves.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] for malformed content, a
/// missing or ambiguous key, a wrong number of dimensions, an empty or non-finite matrix.
pub fn read_matrices(
    path: &Path,
    key: Option<&str>,
    features_as_rows: bool,
) -> Result<Vec<DMatrix<f64>>> {
    read_weights(path, key, features_as_rows).map(|w| w.matrices)
}

/// [`read_matrices`], with what the file says about its matrices.
///
/// # Errors
/// As [`read_matrices`].
pub fn read_weights(path: &Path, key: Option<&str>, features_as_rows: bool) -> Result<Weights> {
    let archive = read_archive(path)?;
    let shown = path.display();
    let fail = |m: String| Error::Format(format!("{shown}: {m}"));
    let (name, array) = select(&archive, key).map_err(fail)?;
    let trained = run::declares_features_as_rows(&archive, &name);
    let declared = trained || synthetic::declares_features_as_rows(&archive, &name);
    if declared && features_as_rows {
        return Err(fail(format!(
            "'{name}' already stores one feature per row (its file says so): drop --features-as-rows"
        )));
    }
    let matrices =
        matrix_stack(array.shape(), array.data(), features_as_rows || declared).map_err(fail)?;
    Ok(Weights {
        matrices,
        trained,
        declared_layout: declared,
    })
}

/// Chooses the array to analyse: by key, or the declared weights of a known file, or the
/// only array.
fn select(archive: &Archive, key: Option<&str>) -> std::result::Result<(String, Array), String> {
    let names = || {
        archive
            .arrays
            .iter()
            .map(|(n, _)| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let pick = |name: &str| -> std::result::Result<(String, Array), String> {
        if let Some(a) = archive.get(name) {
            return Ok((name.to_string(), a.clone()));
        }
        if let Some((_, why)) = archive.skipped.iter().find(|(n, _)| n == name) {
            return Err(format!("'{name}': {why}"));
        }
        Err(format!(
            "no array named '{name}' (the file holds {})",
            if archive.arrays.is_empty() {
                "no float arrays".to_string()
            } else {
                names()
            }
        ))
    };
    if let Some(k) = key {
        return pick(k);
    }
    if let Some(k) = run::weights_key(archive).or_else(|| synthetic::weights_key(archive)) {
        return pick(k);
    }
    match archive.arrays.as_slice() {
        [(n, a)] => Ok((n.clone(), a.clone())),
        [] => Err(match archive.skipped.first() {
            Some((n, why)) => format!("no float arrays ('{n}': {why})"),
            None => "no arrays".into(),
        }),
        many => Err(format!(
            "{} arrays ({}): choose one with --key NAME",
            many.len(),
            names()
        )),
    }
}

/// Embedding matrices from an array in C order: shape `[rows, cols]` gives one matrix,
/// `[instances, rows, cols]` one per instance. Rows are embedding dimensions and columns
/// features, unless `features_as_rows` (then each is transposed). Every matrix must be
/// non-empty with finite entries.
///
/// # Errors
/// A one-line message naming the problem: the number of dimensions, an empty shape, or the
/// instance (when stacked), row and column (1-based, as in the data) of a non-finite entry.
pub fn matrix_stack(
    shape: &[usize],
    data: &[f64],
    features_as_rows: bool,
) -> std::result::Result<Vec<DMatrix<f64>>, String> {
    let (count, rows, cols) = match *shape {
        [r, c] => (1, r, c),
        [k, r, c] => (k, r, c),
        _ => {
            return Err(format!(
                "array must be 2-D (D×N) or a 3-D stack of matrices (instances×D×N), got shape {} ({} dimension{})",
                npy::show_shape(shape),
                shape.len(),
                if shape.len() == 1 { "" } else { "s" }
            ));
        }
    };
    if count == 0 || rows == 0 || cols == 0 {
        return Err(format!(
            "the matrix is empty (shape {})",
            npy::show_shape(shape)
        ));
    }
    if data.len() != count * rows * cols {
        return Err(format!(
            "shape {} needs {} values, got {}",
            npy::show_shape(shape),
            count * rows * cols,
            data.len()
        ));
    }
    if let Some(pos) = data.iter().position(|x| !x.is_finite()) {
        let (k, rest) = (pos / (rows * cols), pos % (rows * cols));
        let at = if shape.len() == 3 {
            format!("instance {}, ", k + 1)
        } else {
            String::new()
        };
        return Err(format!(
            "entry at {at}row {}, column {} is {} (entries must be finite)",
            rest / cols + 1,
            rest % cols + 1,
            data[pos]
        ));
    }
    Ok(data
        .chunks_exact(rows * cols)
        .map(|m| {
            let w = DMatrix::from_row_slice(rows, cols, m);
            if features_as_rows { w.transpose() } else { w }
        })
        .collect())
}

/// Writes named arrays and string metadata to `path` in the format of its extension:
/// `.safetensors` (float64 tensors, metadata in the header), `.npz` (float64 members and
/// 0-d string members) or `.npy` (exactly one array, no metadata). Atomic: a temporary file
/// beside the target, then a rename.
///
/// # Errors
/// [`Error::Format`] for an unknown extension or an `.npy` asked to hold more than one
/// array; [`Error::Io`] if the file cannot be written.
pub fn save(
    path: &Path,
    arrays: &[(String, Array)],
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let bytes = encode(path, arrays, metadata, safetensors::Precision::F64)?;
    write_atomic(path, &bytes)
}

/// The bytes [`save`] writes (safetensors at the given precision).
pub(crate) fn encode(
    path: &Path,
    arrays: &[(String, Array)],
    metadata: &BTreeMap<String, String>,
    precision: safetensors::Precision,
) -> Result<Vec<u8>> {
    let shown = path.display();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let fail = |m: String| Error::Format(format!("{shown}: {m}"));
    match ext.as_str() {
        "safetensors" => safetensors::to_bytes(arrays, metadata, precision).map_err(fail),
        "npz" => npz::to_bytes(arrays, metadata).map_err(fail),
        "npy" => match arrays {
            [(_, a)] if metadata.is_empty() => Ok(npy::array_bytes(a)),
            _ => Err(fail(format!(
                "an .npy file holds one array and no metadata, here {} array(s) and {} metadata entries: use .npz or .safetensors",
                arrays.len(),
                metadata.len()
            ))),
        },
        _ => Err(fail(
            "unknown extension (expected .safetensors, .npz or .npy)".into(),
        )),
    }
}

/// Writes `contents` to `path` atomically: a temporary file beside it (mode 0644 less the
/// umask, as any new file), synced, then renamed over the target. A failure never leaves
/// half a file.
///
/// # Errors
/// [`Error::Io`] naming the path and the OS error.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let fail = |e: String| Error::Io(format!("cannot write {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| fail("not a file path".into()))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| fail(e.to_string()))
}
