//! Correlated and anticorrelated feature pairs (Z4)–(Z6): inputs of the (E2) law whose
//! activity is shared within a pair.
//!
//! Layout (Z6): the first 2·`correlated` features form the correlated pairs (1, 2), (3, 4), …,
//! the next 2·`anticorrelated` the anticorrelated pairs, and the rest stay independent. Every
//! member of a pair has the same per-feature density p:
//!
//! * correlated (Z4): one gate per pair, active with probability p; when it is, both members
//!   are active with independent U[0, 1) values;
//! * anticorrelated (Z5): one gate per pair, active with probability 2p (so p ≤ ½); when it is,
//!   one member chosen with probability ½ each is active. This is \[A24\]'s sampler (i); \[A\]'s
//!   samplers (ii), (iii) have the same distribution (spec §14.8 item 1). polycap's p is the
//!   per-feature density; \[E\]'s "set density" of the pair is 2p.
//!
//! A batch is drawn in two steps: the gates of all sets (pairs and independent features) by
//! the active-entry sampler of data.rs (geometric skips, all-zero samples counted, not
//! stored (S7)), then each active gate expands into its members. Cost O(active entries + sets).
//!
//! Derivation: derivations/zoo-a.md (ZA5).

use crate::base::{Error, FeatureSet, Magnitude, Result};

use super::data::{InputLaw, SKIP_BELOW, Sampler, SparseBatch};
use super::rng::Xoshiro;

/// How many correlated and anticorrelated pairs lead the feature list (Z6). The default is
/// no pairs: independent features (E2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pairs {
    /// Correlated pairs (Z4), features 1 … 2·`correlated`.
    pub correlated: usize,
    /// Anticorrelated pairs (Z5), the next 2·`anticorrelated` features.
    pub anticorrelated: usize,
}

impl Pairs {
    /// Parses `correlated:K`, `anticorrelated:K` or both, comma-separated (`none` for no
    /// pairs). Counts are ≥ 1 and each kind appears at most once.
    pub fn parse(s: &str) -> Result<Self> {
        let mut out = Pairs::default();
        if s.trim() == "none" {
            return Ok(out);
        }
        let bad = |why: &str| {
            Error::Parameter(format!(
                "pairs '{}': {why} (expected correlated:K, anticorrelated:K or both, comma-separated, K ≥ 1)",
                s.trim()
            ))
        };
        let (mut seen_c, mut seen_a) = (false, false);
        for part in s.split(',') {
            let (kind, k) = part.trim().split_once(':').ok_or_else(|| bad("no ':K'"))?;
            let k: usize = k.trim().parse().map_err(|_| bad("K is not a count"))?;
            if k == 0 {
                return Err(bad("K = 0"));
            }
            match kind.trim() {
                "correlated" if !seen_c => (out.correlated, seen_c) = (k, true),
                "anticorrelated" if !seen_a => (out.anticorrelated, seen_a) = (k, true),
                "correlated" | "anticorrelated" => return Err(bad("a kind given twice")),
                other => return Err(bad(&format!("unknown kind '{other}'"))),
            }
        }
        Ok(out)
    }

    /// Text form, the inverse of [`Pairs::parse`].
    pub fn name(&self) -> String {
        match (self.correlated, self.anticorrelated) {
            (0, 0) => "none".into(),
            (c, 0) => format!("correlated:{c}"),
            (0, a) => format!("anticorrelated:{a}"),
            (c, a) => format!("correlated:{c},anticorrelated:{a}"),
        }
    }

    /// True when there are no pairs.
    pub fn is_none(&self) -> bool {
        self.correlated == 0 && self.anticorrelated == 0
    }

    /// Number of features in pairs, 2·(correlated + anticorrelated) (saturating).
    pub fn paired(&self) -> usize {
        self.correlated
            .saturating_add(self.anticorrelated)
            .saturating_mul(2)
    }

    /// The partner of feature `i` (0-based), if it is in a pair.
    pub fn partner(&self, i: usize) -> Option<usize> {
        (i < self.paired()).then_some(i ^ 1)
    }

    /// Checks the pairs fit N features with densities `p`: 2K ≤ N, partners share one density,
    /// anticorrelated members have p ≤ ½.
    pub fn validate(&self, p: &[f64]) -> Result<()> {
        let n = p.len();
        if self.paired() > n {
            return Err(Error::Parameter(format!(
                "{} pairs need {} features, more than the N = {n} given (at most N/2 = {} pairs)",
                self.name(),
                self.paired(),
                n / 2
            )));
        }
        for k in 0..self.paired() / 2 {
            let (a, b) = (2 * k, 2 * k + 1);
            if p[a].to_bits() != p[b].to_bits() {
                return Err(Error::Parameter(format!(
                    "paired features {} and {} must share one density, got {} and {}",
                    a + 1,
                    b + 1,
                    p[a],
                    p[b]
                )));
            }
            if k >= self.correlated && p[a] > 0.5 {
                return Err(Error::Parameter(format!(
                    "anticorrelated features {} and {} need density p ≤ 1/2 (never both active), got {}",
                    a + 1,
                    b + 1,
                    p[a]
                )));
            }
        }
        Ok(())
    }
}

/// One set of features sharing a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Single,
    Correlated,
    Anticorrelated,
}

/// Draws (E2) batches with pairs: gates per set, then members (see the module docs).
#[derive(Debug, Clone)]
pub struct PairSampler {
    sets: Vec<(Set, u32)>,
    gates: Sampler,
    /// Every gate density ≥ [`SKIP_BELOW`]: the row-wise sampler is cheaper than skips.
    dense_gates: bool,
    n: usize,
    gate_batch: SparseBatch,
}

impl PairSampler {
    /// The sampler for `features` (densities needed) with `pairs` (validated here).
    pub fn new(features: &FeatureSet, pairs: Pairs) -> Result<Self> {
        let p = features.densities().ok_or_else(|| {
            Error::Parameter(
                "training needs input distributions (densities), not kurtoses alone".into(),
            )
        })?;
        pairs.validate(&p)?;
        let mut sets = Vec::new();
        let mut gate_p = Vec::new();
        for k in 0..pairs.correlated {
            sets.push((Set::Correlated, 2 * k as u32));
            gate_p.push(p[2 * k]);
        }
        for k in pairs.correlated..pairs.paired() / 2 {
            sets.push((Set::Anticorrelated, 2 * k as u32));
            gate_p.push((2.0 * p[2 * k]).min(1.0));
        }
        for (i, &pi) in p.iter().enumerate().skip(pairs.paired()) {
            sets.push((Set::Single, i as u32));
            gate_p.push(pi);
        }
        let gate_features =
            FeatureSet::from_densities(vec![1.0; gate_p.len()], &gate_p, Magnitude::Uniform)?;
        Ok(PairSampler {
            dense_gates: gate_p.iter().all(|&q| q >= SKIP_BELOW),
            sets,
            gates: Sampler::new(&gate_features, InputLaw::UnitUniform)?,
            n: p.len(),
            gate_batch: SparseBatch::default(),
        })
    }

    /// Number of features N.
    pub fn features(&self) -> usize {
        self.n
    }

    /// Fills `batch` with `b` samples: non-empty rows stored with increasing feature indices,
    /// all-zero samples counted in `batch.zeros` (S7).
    pub fn sample(&mut self, b: usize, rng: &mut Xoshiro, batch: &mut SparseBatch) {
        let mut g = std::mem::take(&mut self.gate_batch);
        // Dense gates: one branch-free test per position (S1), every row stored; sparse gates:
        // skips, only non-empty rows stored (S7). Empty rows are counted either way.
        if self.dense_gates {
            self.gates.sparse(b, rng, &mut g);
        } else {
            self.gates.active(b, rng, &mut g);
        }
        batch.start.clear();
        batch.index.clear();
        batch.value.clear();
        batch.start.push(0);
        let mut zeros = g.zeros;
        for r in 0..g.rows() {
            if g.start[r] == g.start[r + 1] {
                zeros += 1;
                continue;
            }
            for e in g.start[r]..g.start[r + 1] {
                let (kind, first) = self.sets[g.index[e] as usize];
                let u = g.value[e];
                match kind {
                    Set::Single => {
                        batch.index.push(first);
                        batch.value.push(u);
                    }
                    Set::Correlated => {
                        batch.index.extend([first, first + 1]);
                        batch.value.extend([u, rng.uniform_pair_f32().0]);
                    }
                    Set::Anticorrelated => {
                        batch.index.push(first + u32::from(rng.uniform() < 0.5));
                        batch.value.push(u);
                    }
                }
            }
            batch.start.push(batch.index.len());
        }
        batch.zeros = zeros;
        self.gate_batch = g;
    }
}
