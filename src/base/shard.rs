//! Sweeps of independent, indexed jobs that run whole or split over machines (V7): shard
//! i of N runs jobs i, i + N, i + 2N, …; the shards' results merge back into the full list
//! in index order. Job j must depend only on j (its seeds are derived from j), so the merged
//! list equals the unsharded one; with the JSON round trip exact (serde_json's
//! `float_roundtrip`), so do the files written from it, byte for byte.
//!
//! One mechanism for every sweep: `polycap verify` (grid points), `polycap reproduce`
//! (the jobs of every trained figure) and `polycap train` (instances).
//!
//! Derivation: derivations/verify.md (V7).
//!
//! # Example
//! ```
//! use polycap::base::{Shard, ShardResults, merge_shards, run_jobs};
//!
//! let settings = "squares".to_string();
//! let shards: Vec<ShardResults<String, u64>> = (0..3)
//!     .map(|i| {
//!         let shard = Shard::new(i, 3)?;
//!         let items = run_jobs(10, Some(shard), |j| Ok((j * j) as u64), &|| ())?;
//!         Ok(ShardResults::new(settings.clone(), shard, 10, items))
//!     })
//!     .collect::<polycap::base::Result<_>>()?;
//! let (s, all) = merge_shards(shards)?;
//! assert_eq!(s, "squares");
//! assert_eq!(all, (0..10).map(|j| j * j).collect::<Vec<u64>>());
//! # Ok::<(), polycap::base::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

/// Every `count`-th job starting at `index` (0-based: shard i of N runs jobs
/// i, i + N, i + 2N, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based shard index i < N.
    pub index: usize,
    /// Number of shards N ≥ 1.
    pub count: usize,
}

impl Shard {
    /// Validated shard: N ≥ 1 and i < N.
    ///
    /// # Errors
    /// [`Error::Parameter`] for N = 0 or i ≥ N.
    pub fn new(index: usize, count: usize) -> Result<Self> {
        if count == 0 || index >= count {
            return Err(Error::Parameter(format!(
                "shard must be i/N with 0 ≤ i < N, got {index}/{count}"
            )));
        }
        Ok(Shard { index, count })
    }

    /// Whether job `j` belongs to this shard.
    pub fn contains(&self, j: usize) -> bool {
        j % self.count == self.index
    }

    /// The jobs of this shard among `total`, in increasing order.
    pub fn jobs(&self, total: usize) -> impl Iterator<Item = usize> + use<> {
        (self.index..total).step_by(self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// Parses `i/N` (0-based i < N).
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Parameter(format!("shard: expected i/N with 0 ≤ i < N, got '{s}'"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i: usize = i.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n).map_err(|_| bad())
    }
}

/// Runs jobs `0..total` (or only the shard's) in parallel, one job per task; returns
/// (index, result) in index order. `on_done` is called after each job. The first error
/// (in index order) is returned.
pub fn run_jobs<T: Send>(
    total: usize,
    shard: Option<Shard>,
    job: impl Fn(usize) -> Result<T> + Sync,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<(usize, T)>> {
    let indices: Vec<usize> = match shard {
        Some(s) => s.jobs(total).collect(),
        None => (0..total).collect(),
    };
    indices
        .par_iter()
        .with_max_len(1)
        .map(|&j| {
            let r = job(j).map(|t| (j, t));
            on_done();
            r
        })
        .collect()
}

/// Puts (index, item) pairs into their slots of a `total`-long list: every index exactly
/// once. The slot logic of every merge; `what` names an item in errors ("point", "job").
///
/// # Errors
/// [`Error::Parameter`] naming the first index that is out of range, repeated or missing.
pub fn collect_indexed<T>(
    what: &str,
    total: usize,
    items: impl IntoIterator<Item = (usize, T)>,
) -> Result<Vec<T>> {
    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(total).collect();
    for (i, t) in items {
        let slot = slots.get_mut(i).ok_or_else(|| {
            Error::Parameter(format!("{what} {i} is outside the {total} of the sweep"))
        })?;
        if slot.is_some() {
            return Err(Error::Parameter(format!(
                "shards overlap: {what} {i} appears twice (a shard given twice?)"
            )));
        }
        *slot = Some(t);
    }
    let missing: Vec<usize> = (0..total).filter(|&i| slots[i].is_none()).collect();
    if let Some(first) = missing.first() {
        return Err(Error::Parameter(format!(
            "shards miss {} of {total} {what}s (first missing: {first}; a shard not given?)",
            missing.len()
        )));
    }
    Ok(slots.into_iter().flatten().collect())
}

/// The results of one shard of a sweep, with everything that determined them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardResults<S, T> {
    /// What was run: shards merge only if these are equal.
    pub settings: S,
    /// Which shard.
    pub shard: Shard,
    /// Number of jobs of the whole sweep.
    pub total: usize,
    /// (job index, result), in index order.
    pub items: Vec<(usize, T)>,
}

impl<S, T> ShardResults<S, T> {
    /// Results of `shard` of a `total`-job sweep run with `settings`.
    pub fn new(settings: S, shard: Shard, total: usize, items: Vec<(usize, T)>) -> Self {
        ShardResults {
            settings,
            shard,
            total,
            items,
        }
    }
}

/// Joins shard results into the settings and the full, ordered result list (V7).
///
/// # Errors
/// [`Error::Parameter`] for no shards, different settings, sweep sizes or shard counts, a
/// shard given twice, or a missing shard.
pub fn merge_shards<S: PartialEq, T>(shards: Vec<ShardResults<S, T>>) -> Result<(S, Vec<T>)> {
    let mut it = shards.into_iter();
    let first = it
        .next()
        .ok_or_else(|| Error::Parameter("nothing to merge: no shards".into()))?;
    let (settings, total, count) = (first.settings, first.total, first.shard.count);
    let mut items = first.items;
    let mut seen = vec![first.shard.index];
    for s in it {
        if s.settings != settings || s.total != total {
            return Err(Error::Parameter(
                "shards were run with different settings".into(),
            ));
        }
        if s.shard.count != count {
            return Err(Error::Parameter(format!(
                "shards of different counts: /{count} and /{}",
                s.shard.count
            )));
        }
        if seen.contains(&s.shard.index) {
            return Err(Error::Parameter(format!("shard {} given twice", s.shard)));
        }
        seen.push(s.shard.index);
        items.extend(s.items);
    }
    if seen.len() != count {
        seen.sort_unstable();
        let missing: Vec<String> = (0..count)
            .filter(|i| !seen.contains(i))
            .map(|i| format!("{i}/{count}"))
            .collect();
        return Err(Error::Parameter(format!(
            "missing shard(s): {}",
            missing.join(", ")
        )));
    }
    items.sort_by_key(|(i, _)| *i);
    Ok((settings, collect_indexed("job", total, items)?))
}

/// Serde for an `f64` that may be ±∞ or NaN (`#[serde(with = "polycap::base::nonfinite")]`):
/// finite values as JSON numbers, the others as the strings `"inf"`, `"-inf"`, `"NaN"`.
/// JSON has no literal for them: serde_json would write `null` and fail to read it back,
/// so a shard holding one could not be merged (V7).
pub mod nonfinite {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `x`.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else if x.is_nan() {
            s.serialize_str("NaN")
        } else if *x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    /// Reads a number or one of the three strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Float {
            Number(f64),
            Text(String),
        }
        match Float::deserialize(d)? {
            Float::Number(x) => Ok(x),
            Float::Text(t) => match t.as_str() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "NaN" => Ok(f64::NAN),
                _ => Err(D::Error::custom(format!(
                    "expected a number, \"inf\", \"-inf\" or \"NaN\", got {t:?}"
                ))),
            },
        }
    }
}
