//! Resource checks before anything is spent: every size-like parameter is turned into an
//! estimate of the memory (bytes) and work (floating-point operations) it implies, and
//! rejected with [`Error::Resource`] — naming the parameter, the estimate and the limit —
//! when the estimate is beyond what this machine can do. Threads are capped at the available
//! parallelism.

use std::fmt::Display;

use super::{Error, Result};

/// Work limit: 10¹⁵ floating-point operations, about a day of both cores of a small machine.
/// Beyond it a run is a typo (an extra zero or two), not an experiment.
pub const WORK_LIMIT: f64 = 1e15;

/// Largest `threads` accepted at all; below it, requests are capped at the available
/// parallelism.
pub const MAX_THREADS: usize = 1024;

/// Memory one run may plan to use: half the machine's physical memory (`MemTotal` of
/// /proc/meminfo), or 8 GiB where that is unknown.
pub fn memory_limit() -> f64 {
    static LIMIT: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|rest| {
                        rest.trim()
                            .trim_end_matches("kB")
                            .trim()
                            .parse::<f64>()
                            .ok()
                    })
            })
            .map(|kb| kb * 1024.0);
        match total {
            Some(bytes) if bytes > 0.0 => bytes / 2.0,
            _ => 8.0 * 1024.0 * 1024.0 * 1024.0,
        }
    })
}

/// Bytes as text: "80.0 GB".
fn bytes_text(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.1} MB", b / 1e6)
    }
}

/// Fails with [`Error::Resource`] when `bytes` (the estimate for `what` = `value`) is beyond
/// [`memory_limit`]. Non-finite estimates (an overflowing product of sizes) fail too.
pub fn check_memory(what: &str, value: impl Display, bytes: f64) -> Result<()> {
    let limit = memory_limit();
    if bytes.is_finite() && bytes <= limit {
        return Ok(());
    }
    Err(Error::Resource {
        what: what.to_string(),
        value: value.to_string(),
        estimate: if bytes.is_finite() {
            format!("{} of memory", bytes_text(bytes))
        } else {
            "more memory than f64 can count".to_string()
        },
        limit_name: "memory",
        limit: format!("{}, half this machine's memory", bytes_text(limit)),
    })
}

/// Fails with [`Error::Resource`] when `ops` floating-point operations (the estimate for
/// `what` = `value`) exceed [`WORK_LIMIT`].
pub fn check_work(what: &str, value: impl Display, ops: f64) -> Result<()> {
    if ops.is_finite() && ops <= WORK_LIMIT {
        return Ok(());
    }
    Err(Error::Resource {
        what: what.to_string(),
        value: value.to_string(),
        estimate: format!("{ops:.1e} floating-point operations"),
        limit_name: "work",
        limit: format!("{WORK_LIMIT:.0e}"),
    })
}

/// Worker threads for a request: 0 means all cores; a request above the available
/// parallelism is capped at it (more threads than cores only add switching); above
/// [`MAX_THREADS`] it is an error.
pub fn threads(requested: usize) -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if requested > MAX_THREADS {
        return Err(Error::Parameter(format!(
            "threads must be at most {MAX_THREADS} (0 = all {cores} cores), got {requested}"
        )));
    }
    Ok(if requested == 0 {
        cores
    } else {
        requested.min(cores)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_reject_overflowing_and_huge_estimates() {
        assert!(check_memory("grid", "1x1", 8.0).is_ok());
        assert!(check_memory("grid", "x", f64::INFINITY).is_err());
        assert!(check_memory("grid", "x", 1e30).is_err());
        assert!(check_work("steps", 1, 1e16).is_err());
        assert!(threads(MAX_THREADS + 1).is_err());
        assert!(threads(1).is_ok_and(|t| t == 1));
    }
}
