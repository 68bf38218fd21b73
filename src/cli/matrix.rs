//! Reading a user's embedding matrices W (D×N, columns = features) for `capacity` and
//! `geometry`: the file formats live in the library ([`polycap::io`]); here they meet the
//! flags (`--key`, `--features-as-rows`) and the exit codes.
//!
//! Errors: an unreadable file is a runtime error (exit 1); malformed content is a usage error
//! (exit 2, via [`usage`]) whose one-line message names the row, column, key or header field.

use std::path::Path;

use polycap::base::Error;
use polycap::io::Weights;

use super::output::usage;

/// Reads the matrices of `path`; see [`polycap::io::read_weights`]. When the matrices have
/// fewer features than dimensions (N < D) and neither the flag nor the file gave the layout,
/// a note on stderr suggests `--features-as-rows`.
pub fn read_matrices(
    path: &Path,
    key: Option<&str>,
    features_as_rows: bool,
) -> anyhow::Result<Weights> {
    let ws = polycap::io::read_weights(path, key, features_as_rows).map_err(|e| match e {
        Error::Format(m) => usage(m),
        other => anyhow::Error::new(other),
    })?;
    if !features_as_rows
        && !ws.declared_layout
        && let Some(w) = ws.matrices.first()
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
