//! NumPy's `.npz` archives: a zip file of `.npy` members, stored (`numpy.savez`) or deflated
//! (`numpy.savez_compressed`). Read through the `zip` crate with its pure-Rust deflate only;
//! written stored, as `numpy.savez` does.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::npy::{self, Content};
use super::{Archive, Array};

/// The largest total of decompressed members read from one archive (4 GiB): a guard
/// against zip bombs, far above any embedding matrix polycap analyses.
pub const MAX_UNPACKED: u64 = 4 << 30;

/// The first bytes of a zip file.
pub const MAGIC: &[u8] = b"PK\x03\x04";

/// Parses an archive: float members become arrays (named without `.npy`), 0-d string
/// members become metadata, other members are listed under `skipped` with the reason.
pub fn parse(bytes: &[u8]) -> Result<Archive, String> {
    let mut zip =
        ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not an NPZ (zip) file: {e}"))?;
    let mut archive = Archive::default();
    let mut budget = MAX_UNPACKED;
    for i in 0..zip.len() {
        let mut member = zip
            .by_index(i)
            .map_err(|e| format!("NPZ member {}: {e}", i + 1))?;
        if member.is_dir() {
            continue;
        }
        let file_name = member
            .name()
            .map_err(|e| format!("NPZ member {}: {e}", i + 1))?
            .to_string();
        let name = file_name
            .strip_suffix(".npy")
            .unwrap_or(&file_name)
            .to_string();
        if member.size() > budget {
            return Err(format!(
                "NPZ member '{file_name}' unpacks to {} bytes, more than the {MAX_UNPACKED}-byte limit",
                member.size()
            ));
        }
        let mut data = Vec::with_capacity(member.size() as usize);
        (&mut member)
            .take(budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("NPZ member '{file_name}': {e}"))?;
        budget = budget.checked_sub(data.len() as u64).ok_or_else(|| {
            format!("NPZ members unpack to more than the {MAX_UNPACKED}-byte limit")
        })?;
        match npy::parse(&data) {
            Ok(Content::Array(a)) => archive.arrays.push((name, a)),
            Ok(Content::Text(t)) => {
                archive.metadata.insert(name, t);
            }
            Err(reason) => archive.skipped.push((name, reason)),
        }
    }
    Ok(archive)
}

/// An archive as `numpy.savez` writes it: one stored `NAME.npy` member per array (float64)
/// and one 0-d string member per metadata entry.
pub fn to_bytes(
    arrays: &[(String, Array)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, String> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(true);
    let members = arrays
        .iter()
        .map(|(name, a)| (name, npy::array_bytes(a)))
        .chain(metadata.iter().map(|(k, v)| (k, npy::text_bytes(v))));
    for (name, bytes) in members {
        zip.start_file(format!("{name}.npy"), options)
            .and_then(|()| zip.write_all(&bytes).map_err(Into::into))
            .map_err(|e| format!("NPZ member '{name}': {e}"))?;
    }
    let cursor = zip.finish().map_err(|e| e.to_string())?;
    Ok(cursor.into_inner())
}
