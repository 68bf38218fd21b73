//! `polycap train --save FILE` and `--export-synthetic DIR`: the trained instances written
//! through the library's file formats ([`polycap::io::run`], [`polycap::io::synthetic`]).

use std::path::{Path, PathBuf};

use polycap::io::run::{self, TrainedInstance};
use polycap::training::Model;
use serde_json::Value;

use super::output::usage;

/// Checks `--save FILE` before any training: its extension must be .safetensors or .npz.
pub fn check_path(path: Option<&Path>) -> anyhow::Result<()> {
    let Some(p) = path else { return Ok(()) };
    let ext = p
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("safetensors" | "npz") => Ok(()),
        _ => Err(usage(format!(
            "--save {}: the file name must end in .safetensors or .npz",
            p.display()
        ))),
    }
}

/// Writes the train file and/or the synthetic-model folder(s).
pub fn write(
    save: &Option<PathBuf>,
    export: &Option<PathBuf>,
    trained: &[TrainedInstance],
    model: Model,
    settings: &Value,
) -> anyhow::Result<()> {
    if let Some(p) = save {
        run::save(p, trained, settings)?;
    }
    if let Some(dir) = export {
        run::export_synthetic(dir, trained, !model.is_quadratic())?;
    }
    Ok(())
}
