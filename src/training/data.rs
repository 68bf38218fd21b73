//! Sampling training batches: each feature is non-zero with its density p, independently,
//! and its non-zero value follows the model's input law.
//!
//! * ReLU-output (TMS) models: x = U[0, 1) with probability p, else 0 (spec (E2), (T1)).
//! * Quadratic models: x = z/√p with probability p, z a standardised magnitude (spec (Q4),
//!   sparse uniform (Q5)), so E x = 0, E x² = 1, E x⁴ = Kurt\[z\]/p.
//!
//! Batches come dense (B×N row-major) or sparse (compressed rows, active entries only). The
//! sparse sampler costs O(active + B): below [`SKIP_BELOW`] it jumps from one active position
//! to the next with geometric skips instead of testing every position.
//!
//! Derivation: derivations/data.md (S1)–(S5).

use crate::base::{Error, FeatureSet, Magnitude, Result};

use wide::f32x8;

use super::rng::Xoshiro;
use super::simd::{Lanes, Path, Portable};

/// Densities below this are sampled by geometric skips; at or above, every position is
/// tested with one uniform. Measured crossover (derivations/data.md, "Crossover"): one skip
/// costs a logarithm (≈ 8 tests) and replaces 1/p tests.
pub const SKIP_BELOW: f64 = 0.08;

/// The law of a non-zero feature value.
#[derive(Debug, Clone, PartialEq)]
pub enum InputLaw {
    /// x ~ U[0, 1) when active (spec (E2)).
    UnitUniform,
    /// x = z/√p when active, z standardised with the given per-feature shapes (spec (Q4)).
    Standardised(Vec<Magnitude>),
}

/// Geometric skips (data.md (S6)) and value uniforms, drawn 64 at a time: the skips as
/// ⌊ln(1 − u)/ln(1 − p)⌋ with a vectorised f32 logarithm.
struct SkipStream {
    inv_ln_q: f32x8,
    skips: [u64; CHUNK],
    values: [f32; CHUNK],
    at: usize,
}

const CHUNK: usize = 64;

impl SkipStream {
    fn new(ln_q: f64) -> Self {
        SkipStream {
            inv_ln_q: f32x8::splat((1.0 / ln_q) as f32),
            skips: [0; CHUNK],
            values: [0.0; CHUNK],
            at: CHUNK,
        }
    }

    /// The next (skip, value uniform) pair.
    #[inline(always)]
    fn next<P: Path>(&mut self, c: P::Ctx, rng: &mut Xoshiro) -> (u64, f32) {
        if self.at == CHUNK {
            let r = rng.bulk_f32_in::<P>(c, 2 * CHUNK);
            let (us, vs) = r.split_at(CHUNK);
            let one = f32x8::splat(1.0);
            for (out, uc) in self.skips.chunks_exact_mut(8).zip(us.chunks_exact(8)) {
                let u = f32x8::new(uc.try_into().expect("invariant: chunk of 8"));
                // 1 − u ∈ (0, 1] exactly; ln ≤ 0 and 1/ln(1 − p) < 0, so g ≥ 0.
                let g = (one - u).ln() * self.inv_ln_q;
                for (o, &gl) in out.iter_mut().zip(g.to_array().iter()) {
                    *o = gl as u64; // truncation = floor for g ≥ 0; saturating
                }
            }
            self.values.copy_from_slice(vs);
            self.at = 0;
        }
        let k = self.at;
        self.at += 1;
        (self.skips[k], self.values[k])
    }
}

/// Dense batches with equal densities below this are filled by a geometric walk instead of one
/// test per position (measured crossover, data.md "Crossover").
pub const DENSE_SKIP_BELOW: f64 = 0.18;

/// Samples per block of a dense batch (the lanes of the dense kernel).
pub const BLOCK: usize = 8;

/// Row-major B×N copy of a dense batch in block layout ([`Sampler::dense`]).
pub fn from_blocks(x: &[f32], n: usize, b: usize) -> Vec<f32> {
    let mut out = vec![0f32; b * n];
    for s in 0..b {
        let (k, l) = (s / BLOCK, s % BLOCK);
        for i in 0..n {
            out[s * n + i] = x[(k * n + i) * BLOCK + l];
        }
    }
    out
}

/// One batch with its active entries in compressed-row form: stored row `s` owns the entries
/// `start[s]..start[s + 1]` of `index` (feature) and `value`. A batch drawn by
/// [`Sampler::active`] stores only its non-empty samples and counts the all-zero ones in
/// `zeros` (S7); the other samplers store every sample and leave `zeros` at 0.
#[derive(Debug, Clone, Default)]
pub struct SparseBatch {
    /// Row offsets, length (stored rows) + 1.
    pub start: Vec<usize>,
    /// Feature index of each active entry, increasing within a row.
    pub index: Vec<u32>,
    /// Value of each active entry.
    pub value: Vec<f32>,
    /// All-zero samples of the batch that are not stored as rows (S7).
    pub zeros: usize,
    /// (sample, feature, value) scratch of the column-wise active sampler (S7).
    entries: Vec<(u32, u32, f32)>,
}

impl SparseBatch {
    /// Number of samples B: stored rows plus unstored all-zero samples.
    pub fn len(&self) -> usize {
        self.rows() + self.zeros
    }

    /// Number of stored rows.
    pub fn rows(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// True for a batch of no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Draws batches for one instance: per-feature densities and an input law.
#[derive(Debug, Clone)]
pub struct Sampler {
    law: InputLaw,
    density: Vec<f64>,
    density32: Vec<f32>,
    /// ln(1 − pᵢ) (−∞ at p = 1).
    ln_q: Vec<f64>,
    /// 1/√pᵢ (the (Q4) scale).
    inv_sqrt_p: Vec<f32>,
}

impl Sampler {
    /// A sampler for the features' densities with the given law. Fails when the feature set
    /// carries no densities (it was built from kurtoses alone) or the law's length differs.
    pub fn new(features: &FeatureSet, law: InputLaw) -> Result<Self> {
        let density = features.densities().ok_or_else(|| {
            Error::Parameter(
                "training needs input distributions (densities), not kurtoses alone".into(),
            )
        })?;
        if let InputLaw::Standardised(m) = &law
            && m.len() != density.len()
        {
            return Err(Error::Length {
                what: "input magnitudes",
                expected: density.len(),
                got: m.len(),
            });
        }
        Ok(Sampler {
            law,
            density32: density.iter().map(|&p| p as f32).collect(),
            ln_q: density.iter().map(|&p| (1.0 - p).ln()).collect(),
            inv_sqrt_p: density.iter().map(|&p| (1.0 / p.sqrt()) as f32).collect(),
            density,
        })
    }

    /// The law for the quadratic models: each feature's own magnitude (spec (Q4)).
    pub fn quadratic(features: &FeatureSet) -> Result<Self> {
        let m = features
            .inputs()
            .map(|v| v.iter().map(|x| x.magnitude).collect())
            .unwrap_or_default();
        Self::new(features, InputLaw::Standardised(m))
    }

    /// Number of features N.
    pub fn features(&self) -> usize {
        self.density.len()
    }

    /// Expected number of active features per sample, Σᵢ pᵢ.
    pub fn mean_active(&self) -> f64 {
        self.density.iter().sum()
    }

    /// Value of an active entry of feature `i`.
    #[inline(always)]
    fn value(&self, i: usize, u: f32, rng: &mut Xoshiro) -> f32 {
        match &self.law {
            InputLaw::UnitUniform => u,
            InputLaw::Standardised(m) => {
                let z = match m[i] {
                    // √3 (2u − 1) is U(−√3, √3): variance 1 (derivation (S2)).
                    Magnitude::Uniform => 3f32.sqrt() * (2.0 * u - 1.0),
                    Magnitude::Rademacher => {
                        if u < 0.5 {
                            -1.0
                        } else {
                            1.0
                        }
                    }
                    Magnitude::Gaussian => rng.normal() as f32,
                    other => other.sample_standard(rng) as f32,
                };
                z * self.inv_sqrt_p[i]
            }
        }
    }

    /// Fills `x` with a dense batch of `b` samples in block layout ([`BLOCK`] samples per
    /// block, feature-major inside a block: sample 8k + l, feature i at (k·N + i)·8 + l; the
    /// lanes of a last partial block are 0). One uniform per position tests activity (S1), an
    /// independent one gives the value.
    pub fn dense(&self, b: usize, rng: &mut Xoshiro, x: &mut Vec<f32>) {
        self.dense_in::<Portable>((), b, rng, x)
    }

    /// [`Sampler::dense`] on the lane types of one kernel copy; inlined into its callers
    /// (simd.md (SD2)).
    #[inline(always)]
    pub(crate) fn dense_in<P: Path>(
        &self,
        c: P::Ctx,
        b: usize,
        rng: &mut Xoshiro,
        x: &mut Vec<f32>,
    ) {
        let n = self.features();
        let len = b.div_ceil(BLOCK) * n * BLOCK;
        // Every position is overwritten below, so a buffer of the right length is reused as is.
        if x.len() != len {
            x.clear();
            x.resize(len, 0.0);
        }
        let p0 = self.density[0];
        let equal = self.density.iter().all(|&p| p.to_bits() == p0.to_bits());
        if self.law == InputLaw::UnitUniform && self.density.iter().all(|&p| p >= 1.0) {
            // Every position active: the values alone.
            x.copy_from_slice(rng.bulk_f32_in::<P>(c, len));
        } else if self.law == InputLaw::UnitUniform && equal && p0 < DENSE_SKIP_BELOW {
            // One geometric walk over the buffer (S3): with equal densities the memory order
            // is as good as any.
            x.iter_mut().for_each(|v| *v = 0.0);
            let mut walk = SkipStream::new(self.ln_q[0]);
            let (g, mut u) = walk.next::<P>(c, rng);
            let mut q = g;
            while q < len as u64 {
                x[q as usize] = u;
                let (g, next_u) = walk.next::<P>(c, rng);
                q = q.saturating_add(1).saturating_add(g);
                u = next_u;
            }
        } else if self.law == InputLaw::UnitUniform {
            // Branch-free: x = u·[t < p], t and u from the two halves of one bulk draw.
            let (t, u) = rng.bulk_f32_in::<P>(c, 2 * len).split_at(len);
            // Chunk c of 8 holds feature (c mod N) of one block.
            let p32: Vec<P::F> = self.density32.iter().map(|&p| P::F::splat(c, p)).collect();
            for (((xo, tc), uc), p) in x
                .chunks_exact_mut(BLOCK)
                .zip(t.chunks_exact(BLOCK))
                .zip(u.chunks_exact(BLOCK))
                .zip(p32.iter().cycle())
            {
                let tv = P::F::from_array(c, tc.try_into().expect("invariant: chunk of 8"));
                let uv = P::F::from_array(c, uc.try_into().expect("invariant: chunk of 8"));
                xo.copy_from_slice(&tv.lt_select(*p, uv).to_array());
            }
        } else {
            for (c, xo) in x.chunks_exact_mut(BLOCK).enumerate() {
                let i = c % n;
                for xi in xo.iter_mut() {
                    let (t, u) = rng.uniform_pair_f32();
                    *xi = if self.density[i] >= 1.0 || t < self.density32[i] {
                        self.value(i, u, rng)
                    } else {
                        0.0
                    };
                }
            }
        }
        // Zero the padding lanes of a last partial block.
        let m = b % BLOCK;
        if m != 0 {
            let last = (b / BLOCK) * n * BLOCK;
            for xo in x[last..].chunks_exact_mut(BLOCK) {
                xo[m..].iter_mut().for_each(|v| *v = 0.0);
            }
        }
    }

    /// Fills `batch` with `b` samples in compressed-row form, costing O(active + B).
    pub fn sparse(&self, b: usize, rng: &mut Xoshiro, batch: &mut SparseBatch) {
        self.sparse_in::<Portable>((), b, rng, batch)
    }

    /// [`Sampler::sparse`] on the lane types of one kernel copy; inlined into its callers
    /// (simd.md (SD2)).
    #[inline(always)]
    pub(crate) fn sparse_in<P: Path>(
        &self,
        c: P::Ctx,
        b: usize,
        rng: &mut Xoshiro,
        batch: &mut SparseBatch,
    ) {
        let n = self.features();
        batch.start.clear();
        batch.index.clear();
        batch.value.clear();
        batch.zeros = 0;
        let p0 = self.density[0];
        let equal = self.density.iter().all(|&p| p.to_bits() == p0.to_bits());
        let any_skip = self.density.iter().any(|&p| p < SKIP_BELOW);
        if !any_skip {
            // Row-wise tests (S1), written branch-free for the (E2) law: every position is
            // stored, and the write cursor advances only past active ones.
            batch.start.push(0);
            if self.law == InputLaw::UnitUniform {
                batch.index.resize(b * n, 0);
                batch.value.resize(b * n, 0.0);
                let mut k = 0usize;
                let (t, u) = rng.bulk_f32_in::<P>(c, 2 * b * n).split_at(b * n);
                for (trow, urow) in t.chunks_exact(n).zip(u.chunks_exact(n)) {
                    for (i, ((&p, &ti), &ui)) in
                        self.density32.iter().zip(trow).zip(urow).enumerate()
                    {
                        batch.index[k] = i as u32;
                        batch.value[k] = ui;
                        k += usize::from(ti < p);
                    }
                    batch.start.push(k);
                }
                batch.index.truncate(k);
                batch.value.truncate(k);
            } else {
                for _ in 0..b {
                    for i in 0..n {
                        let (t, u) = rng.uniform_pair_f32();
                        if self.density[i] >= 1.0 || t < self.density32[i] {
                            let v = self.value(i, u, rng);
                            batch.index.push(i as u32);
                            batch.value.push(v);
                        }
                    }
                    batch.start.push(batch.index.len());
                }
            }
        } else if equal {
            // One geometric walk over the B·N positions in row-major order (S3). The position
            // is kept as (row, column) and advanced without a division for short jumps.
            let mut walk = SkipStream::new(self.ln_q[0]);
            let (mut row, mut col) = (0usize, 0u64);
            let (mut jump, mut u) = walk.next::<P>(c, rng);
            batch.start.push(0);
            loop {
                col = col.saturating_add(jump);
                if col >= n as u64 {
                    let rows = if col < 8 * n as u64 {
                        let mut r = 0usize;
                        while col >= n as u64 {
                            col -= n as u64;
                            r += 1;
                        }
                        r
                    } else {
                        let r = col / n as u64;
                        col %= n as u64;
                        usize::try_from(r).unwrap_or(usize::MAX)
                    };
                    let target = row.saturating_add(rows).min(b);
                    while row < target {
                        batch.start.push(batch.index.len());
                        row += 1;
                    }
                    if row >= b {
                        break;
                    }
                }
                let i = col as usize;
                let v = self.value(i, u, rng);
                batch.index.push(i as u32);
                batch.value.push(v);
                let (g, next_u) = walk.next::<P>(c, rng);
                jump = 1u64.saturating_add(g);
                u = next_u;
            }
        } else {
            // Column-wise (skips or tests per feature), then a counting sort into rows (S4).
            let mut entries: Vec<(u32, u32, f32)> = Vec::new();
            for i in 0..n {
                let p = self.density[i];
                if p < SKIP_BELOW {
                    let mut walk = SkipStream::new(self.ln_q[i]);
                    let (mut s, mut u) = walk.next::<P>(c, rng);
                    while s < b as u64 {
                        entries.push((s as u32, i as u32, self.value(i, u, rng)));
                        let (g, next_u) = walk.next::<P>(c, rng);
                        s = s.saturating_add(1).saturating_add(g);
                        u = next_u;
                    }
                } else {
                    for s in 0..b {
                        let (t, u) = rng.uniform_pair_f32();
                        if p >= 1.0 || t < self.density32[i] {
                            entries.push((s as u32, i as u32, self.value(i, u, rng)));
                        }
                    }
                }
            }
            batch.start.resize(b + 1, 0);
            for &(s, _, _) in &entries {
                batch.start[s as usize + 1] += 1;
            }
            for s in 0..b {
                batch.start[s + 1] += batch.start[s];
            }
            let mut fill = batch.start.clone();
            batch.index.resize(entries.len(), 0);
            batch.value.resize(entries.len(), 0.0);
            // Entries are in feature order, so each row's features stay increasing.
            for (s, i, v) in entries {
                let at = &mut fill[s as usize];
                batch.index[*at] = i;
                batch.value[*at] = v;
                *at += 1;
            }
        }
    }

    /// Fills `batch` with `b` samples of which only the non-empty ones are stored; the number
    /// of all-zero samples goes to `batch.zeros` (S7). Cost O(active + N), independent of B
    /// when every density is below [`SKIP_BELOW`]; O(B·N) row-wise tests otherwise (then
    /// every density is ≥ [`SKIP_BELOW`] or some feature is tested per sample, and the active
    /// entries number at least `SKIP_BELOW`·B).
    pub fn active(&self, b: usize, rng: &mut Xoshiro, batch: &mut SparseBatch) {
        self.active_in::<Portable>((), b, rng, batch)
    }

    /// [`Sampler::active`] on the lane types of one kernel copy (simd.md (SD2)).
    #[inline(always)]
    pub(crate) fn active_in<P: Path>(
        &self,
        c: P::Ctx,
        b: usize,
        rng: &mut Xoshiro,
        batch: &mut SparseBatch,
    ) {
        let n = self.features();
        batch.start.clear();
        batch.index.clear();
        batch.value.clear();
        batch.start.push(0);
        if self.density.iter().all(|&p| p >= 1.0)
            || self.density.iter().all(|&p| p >= SKIP_BELOW)
                && self
                    .density
                    .iter()
                    .any(|&p| p.to_bits() != self.density[0].to_bits())
        {
            // Row-wise tests (S1); an all-zero row is counted, not stored.
            let mut zeros = 0usize;
            for _ in 0..b {
                for i in 0..n {
                    let (t, u) = rng.uniform_pair_f32();
                    if self.density[i] >= 1.0 || t < self.density32[i] {
                        let v = self.value(i, u, rng);
                        batch.index.push(i as u32);
                        batch.value.push(v);
                    }
                }
                if batch.index.len() == *batch.start.last().expect("invariant: start[0]") {
                    zeros += 1;
                } else {
                    batch.start.push(batch.index.len());
                }
            }
            batch.zeros = zeros;
            return;
        }
        let p0 = self.density[0];
        if self.density.iter().all(|&p| p.to_bits() == p0.to_bits()) {
            // Equal densities: one geometric walk over the B·N positions in row-major order
            // (S3); the entries come out sorted, a new row starts at every change of sample.
            let mut walk = SkipStream::new(self.ln_q[0]);
            let total = (b as u64).saturating_mul(n as u64);
            let (g, mut u) = walk.next::<P>(c, rng);
            let mut q = g;
            let mut last_row = u64::MAX;
            let mut rows = 0usize;
            let nn = n as u64;
            while q < total {
                let (row, i) = (q / nn, (q % nn) as usize);
                if row != last_row {
                    if last_row != u64::MAX {
                        batch.start.push(batch.index.len());
                    }
                    last_row = row;
                    rows += 1;
                }
                let v = self.value(i, u, rng);
                batch.index.push(i as u32);
                batch.value.push(v);
                let (g, next_u) = walk.next::<P>(c, rng);
                q = q.saturating_add(1).saturating_add(g);
                u = next_u;
            }
            if rows > 0 {
                batch.start.push(batch.index.len());
            }
            batch.zeros = b - rows;
            return;
        }
        // Column-wise walks (S3) or tests (S1) per feature, then a sort of the entries by
        // (sample, feature): cost O(active·log active), never O(B) for the sparse features.
        let mut entries = std::mem::take(&mut batch.entries);
        entries.clear();
        for i in 0..n {
            let p = self.density[i];
            if p < SKIP_BELOW {
                let mut walk = SkipStream::new(self.ln_q[i]);
                let (mut s, mut u) = walk.next::<P>(c, rng);
                while s < b as u64 {
                    entries.push((s as u32, i as u32, self.value(i, u, rng)));
                    let (g, next_u) = walk.next::<P>(c, rng);
                    s = s.saturating_add(1).saturating_add(g);
                    u = next_u;
                }
            } else {
                for s in 0..b {
                    let (t, u) = rng.uniform_pair_f32();
                    if p >= 1.0 || t < self.density32[i] {
                        entries.push((s as u32, i as u32, self.value(i, u, rng)));
                    }
                }
            }
        }
        // Keys (sample, feature) are distinct, so the unstable sort is deterministic.
        entries.sort_unstable_by_key(|&(s, i, _)| (s, i));
        let mut rows = 0usize;
        for (k, &(s, i, v)) in entries.iter().enumerate() {
            if k > 0 && entries[k - 1].0 != s {
                batch.start.push(k);
                rows += 1;
            }
            batch.index.push(i);
            batch.value.push(v);
        }
        if !entries.is_empty() {
            batch.start.push(entries.len());
            rows += 1;
        }
        batch.zeros = b - rows;
        batch.entries = entries;
    }
}
