//! Hugging Face's `.safetensors` format through the `safetensors` crate: read F64, F32, F16
//! and BF16 tensors and the string metadata; write F64 or F32 tensors with metadata.

use std::collections::{BTreeMap, HashMap};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::{Archive, Array};

/// The first byte of a safetensors file is the little-endian length of its JSON header,
/// which then starts with `{`: a cheap sniff for files without the extension.
pub fn looks_like(bytes: &[u8]) -> bool {
    bytes.len() >= 9 && bytes[8] == b'{' && {
        let n = u64::from_le_bytes(to8(&bytes[..8]));
        n >= 2 && n <= (bytes.len() - 8) as u64
    }
}

/// Parses a safetensors file into its tensors (in file order) and metadata. A tensor whose
/// dtype is not a float is listed under `skipped` with the reason.
pub fn parse(bytes: &[u8]) -> Result<Archive, String> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    let (_, meta) =
        SafeTensors::read_metadata(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    let mut tensors: Vec<(String, TensorView<'_>)> = st.tensors();
    // The header maps names to offsets: file order is data order.
    tensors.sort_by_key(|(_, t)| t.data().as_ptr() as usize);
    let mut archive = Archive::default();
    for (name, t) in tensors {
        match values(&t) {
            Ok(v) => {
                let a = Array::new(t.shape().to_vec(), v).map_err(|e| e.to_string())?;
                archive.arrays.push((name, a));
            }
            Err(reason) => archive.skipped.push((name, reason)),
        }
    }
    if let Some(m) = meta.metadata() {
        archive.metadata = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    }
    Ok(archive)
}

fn values(t: &TensorView<'_>) -> Result<Vec<f64>, String> {
    let d = t.data();
    Ok(match t.dtype() {
        Dtype::F64 => d
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(to8(c)))
            .collect(),
        Dtype::F32 => d
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        Dtype::BF16 => d
            .chunks_exact(2)
            .map(|c| {
                f64::from(f32::from_bits(
                    u32::from(u16::from_le_bytes([c[0], c[1]])) << 16,
                ))
            })
            .collect(),
        Dtype::F16 => d
            .chunks_exact(2)
            .map(|c| half_to_f64(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        other => {
            return Err(format!(
                "dtype {other} is not a float (F64, F32, F16, BF16)"
            ));
        }
    })
}

/// IEEE 754 binary16 to f64.
fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

fn to8(c: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&c[..8]);
    a
}

/// Element type of written tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// float64: loses nothing.
    F64,
    /// float32: what PyTorch and SAE libraries use by default.
    F32,
}

/// Serialises named arrays and string metadata (not written to disk: see
/// [`super::write_atomic`]; the crate's own file writer creates 0600 files).
pub fn to_bytes(
    arrays: &[(String, Array)],
    metadata: &BTreeMap<String, String>,
    precision: Precision,
) -> Result<Vec<u8>, String> {
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = arrays
        .iter()
        .map(|(name, a)| {
            let bytes = match precision {
                Precision::F64 => a.data().iter().flat_map(|x| x.to_le_bytes()).collect(),
                Precision::F32 => a
                    .data()
                    .iter()
                    .flat_map(|&x| (x as f32).to_le_bytes())
                    .collect(),
            };
            (name.clone(), a.shape().to_vec(), bytes)
        })
        .collect();
    let dtype = match precision {
        Precision::F64 => Dtype::F64,
        Precision::F32 => Dtype::F32,
    };
    let views = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(dtype, shape.clone(), bytes)
                .map(|v| (name.as_str(), v))
                .map_err(|e| format!("tensor '{name}': {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let info: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    safetensors::serialize(views, (!info.is_empty()).then_some(info)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values() {
        assert!((half_to_f64(0x3c00) - 1.0).abs() < 1e-15);
        assert!((half_to_f64(0xc000) + 2.0).abs() < 1e-15);
        assert!((half_to_f64(0x3555) - 0.333_251_953_125).abs() < 1e-15);
        assert!((half_to_f64(0x0001) - 2f64.powi(-24)).abs() < 1e-30);
        assert!(half_to_f64(0x7c00).is_infinite());
    }
}
