//! Reading a user's embedding matrices W (D×N, columns = features) for `capacity` and
//! `geometry`: the file formats live in the library ([`polycap::io`]); here they meet the
//! flags (`--key`, `--features-as-rows`) and the exit codes.
//!
//! Errors: an unreadable file is a runtime error (exit 1); malformed content is a usage error
//! (exit 2, via [`usage`]) whose one-line message names the row, column, key or header field.

use std::path::Path;

use nalgebra::DMatrix;
use polycap::base::Error;

use super::output::usage;

/// Reads the matrices of `path`; see [`polycap::io::read_matrices`]. When every matrix has
/// fewer features than dimensions (N < D) and the layout was not given, a note on stderr
/// suggests `--features-as-rows`.
pub fn read_matrices(
    path: &Path,
    key: Option<&str>,
    features_as_rows: bool,
) -> anyhow::Result<Vec<DMatrix<f64>>> {
    let ws = polycap::io::read_matrices(path, key, features_as_rows).map_err(|e| match e {
        Error::Format(m) => usage(m),
        other => anyhow::Error::new(other),
    })?;
    if !features_as_rows
        && let Some(w) = ws.first()
        && w.ncols() < w.nrows()
    {
        eprintln!(
            "note: {} has N = {} features in D = {} dimensions (N < D): if the file stores one feature per row, pass --features-as-rows",
            path.display(),
            w.ncols(),
            w.nrows()
        );
    }
    Ok(ws)
}
