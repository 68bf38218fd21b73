//! Batch loss and gradient of the quadratic family on sampled inputs:
//! ỹ = Σ_r σ((Wx)_r) + b against y = Σᵢ vᵢ σ(xᵢ), loss = batch mean of (ỹ − y)². With
//! σ(z) = z² this is the Redwood model (spec (Q1)–(Q3)) and the gradient is (Q10); ReLU and
//! GeLU give the Fig. 7 variants (spec §10.4).
//!
//! The kernel walks the active entries only: cost ∝ |active|·D per non-empty sample, and the
//! all-zero samples (residual b, since σ(0) = 0) add b² and 2b each, in O(1) for all of them
//! together when the batch only counts them (data.md (S7)).
//!
//! At high density [`QuadraticNet::dense_grad`] computes the same loss and gradient on a dense
//! batch in f32 lanes, eight samples per vector (QT5), with the portable or the AVX2 copy
//! (simd.md (SD1)–(SD3)).
//!
//! Internal layout: `w` is N×D row-major (row i = Wᵢ, the column i of the spec's D×N W).
//!
//! Derivation: derivations/quadratic.md (QT1)–(QT8).

use wide::f32x8;

use super::data::{BLOCK, SparseBatch};
use super::model::Activation;
use super::simd::{LANES, Lanes};
use super::tms::act_v;

/// Buffers of the active-entry kernel ([`QuadraticNet::batch_grad_with`]), reused from batch
/// to batch: h and σ′(h) of one row when D > 8; for GeLU (QT8) h rounded to f32 and then σ(h)
/// in its place, σ′(h) and σ(x) of every entry, in f32 lanes; the (QT6) ‖Wₐ‖² and Σ r x² per
/// feature.
#[derive(Debug, Clone, Default)]
pub struct ActiveScratch {
    h: Vec<f64>,
    dz: Vec<f64>,
    gelu_h: Vec<f32>,
    gelu_dh: Vec<f32>,
    gelu_x: Vec<f32>,
    norm: Vec<f64>,
    single: Vec<f64>,
}

/// GeLU (model.md (M1)) of eight values in one f32 lane vector: (σ(z), σ′(z)) by [`act_v`],
/// whose tanh is the lane rational of simd.md (SD4) (QT8). Every lane operation is one IEEE
/// f32 operation without fused multiply-add, so both kernel copies give the same bits
/// (simd.md (SD3)).
#[inline(always)]
fn gelu_x8(z: [f32; LANES]) -> ([f32; LANES], [f32; LANES]) {
    let (o, g) = act_v(Activation::Gelu, f32x8::new(z));
    (o.to_array(), g.to_array())
}

/// One quadratic-family instance.
#[derive(Debug, Clone)]
pub struct QuadraticNet {
    /// Activation σ (Square for the Redwood model).
    pub act: Activation,
    /// Number of features N.
    pub n: usize,
    /// Embedding dimension D.
    pub d: usize,
    /// Importances vᵢ.
    pub importance: Vec<f64>,
    /// (QT7) square model: per feature a the conditional moments (E[xₐ² | xₐ ≠ 0],
    /// E[xₐ⁴ | xₐ ≠ 0]) = (1/pₐ, Kurtₐ/pₐ²). When given, a single-entry sample contributes
    /// its expectation over the magnitude instead of its sampled value; empty: sampled.
    pub single_moments: Vec<(f64, f64)>,
}

impl QuadraticNet {
    /// Batch mean of (ỹ − y)² and, into `gw` (N×D) and `gb` (length 1), its gradient.
    ///
    /// Per sample with r = ỹ − y: ∂L/∂W_{r·} = 2 r σ′(h_r) xᵀ, ∂L/∂b = 2r (square: (Q10)
    /// ∂L/∂W = 4 r (Wx) xᵀ). Derivation: derivations/quadratic.md (QT2), (QT3).
    pub fn batch_grad(
        &self,
        w: &[f64],
        b: f64,
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
    ) -> f64 {
        self.batch_grad_with(w, b, batch, gw, gb, &mut ActiveScratch::default())
    }

    /// [`QuadraticNet::batch_grad`] with its buffers kept in `sc` from batch to batch (QT8): on
    /// a copy of the kernel compiled for the embedding dimension when D ≤ 8 (the same
    /// operations in the same order, so the same bits, with the row loops unrolled), and for
    /// GeLU in three passes with the activations eight at a time in f32 lanes.
    pub fn batch_grad_with(
        &self,
        w: &[f64],
        b: f64,
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut ActiveScratch,
    ) -> f64 {
        match self.d {
            1 => self.dim_grad::<1>(w, b, batch, gw, gb, sc),
            2 => self.dim_grad::<2>(w, b, batch, gw, gb, sc),
            3 => self.dim_grad::<3>(w, b, batch, gw, gb, sc),
            4 => self.dim_grad::<4>(w, b, batch, gw, gb, sc),
            5 => self.dim_grad::<5>(w, b, batch, gw, gb, sc),
            6 => self.dim_grad::<6>(w, b, batch, gw, gb, sc),
            7 => self.dim_grad::<7>(w, b, batch, gw, gb, sc),
            8 => self.dim_grad::<8>(w, b, batch, gw, gb, sc),
            _ => self.dim_grad::<0>(w, b, batch, gw, gb, sc),
        }
    }

    /// The kernel of this activation for D = `DIM` (`DIM` = 0: any D, read from `self.d`).
    #[inline(always)]
    fn dim_grad<const DIM: usize>(
        &self,
        w: &[f64],
        b: f64,
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut ActiveScratch,
    ) -> f64 {
        if self.act == Activation::Gelu {
            self.gelu_grad::<DIM>(w, b, batch, gw, gb, sc)
        } else {
            self.active_grad::<DIM>(w, b, batch, gw, gb, sc)
        }
    }

    /// The active-entry kernel of the GeLU model for D = `DIM` (`DIM` = 0: any D) in three
    /// passes (QT8): h = Wx of every row in f64; σ(h), σ′(h) and σ(xₐ) of every entry eight at
    /// a time in f32 lanes ([`gelu_x8`]); then residuals and gradient row by row in f64, every
    /// sum in the order of the one-pass kernel.
    fn gelu_grad<const DIM: usize>(
        &self,
        w: &[f64],
        b: f64,
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut ActiveScratch,
    ) -> f64 {
        let d = if DIM == 0 { self.d } else { DIM };
        let rows = batch.rows();
        let scale = 1.0 / batch.len() as f64;
        gw.iter_mut().for_each(|g| *g = 0.0);
        // Pass 1, (QT1): h = Wx over the active entries of every row, summed in f64 (in
        // registers for a fixed D), then rounded to f32; padded with zeros to whole vectors.
        let m = rows * d;
        sc.gelu_h.clear();
        sc.gelu_h.resize(m.next_multiple_of(LANES), 0.0);
        sc.h.resize(d, 0.0);
        for (hs, se) in sc.gelu_h[..m]
            .chunks_exact_mut(d)
            .zip(batch.start.windows(2))
        {
            let mut fixed = [0f64; DIM];
            let acc: &mut [f64] = if DIM == 0 { &mut sc.h } else { &mut fixed };
            acc.iter_mut().for_each(|v| *v = 0.0);
            for (&a, &x) in batch.index[se[0]..se[1]]
                .iter()
                .zip(&batch.value[se[0]..se[1]])
            {
                let (a, xa) = (a as usize, x as f64);
                for (hd, &wad) in acc.iter_mut().zip(&w[a * d..a * d + d]) {
                    *hd += xa * wad;
                }
            }
            for (o, &v) in hs.iter_mut().zip(acc.iter()) {
                *o = v as f32;
            }
        }
        // Pass 2: σ(h) in place of h and σ′(h) beside it, eight at a time in f32 lanes.
        sc.gelu_dh.resize(sc.gelu_h.len(), 0.0);
        let (hv, _) = sc.gelu_h.as_chunks_mut::<LANES>();
        let (dv, _) = sc.gelu_dh.as_chunks_mut::<LANES>();
        for (hc, dc) in hv.iter_mut().zip(dv.iter_mut()) {
            (*hc, *dc) = gelu_x8(*hc);
        }
        // σ(xₐ) of every entry; the last vector padded with zeros.
        let (xv, tail) = batch.value.as_chunks::<LANES>();
        sc.gelu_x
            .resize(batch.value.len().next_multiple_of(LANES), 0.0);
        let (sv, _) = sc.gelu_x.as_chunks_mut::<LANES>();
        for (xc, sc8) in xv.iter().zip(sv.iter_mut()) {
            *sc8 = gelu_x8(*xc).0;
        }
        if !tail.is_empty() {
            let mut last = [0f32; LANES];
            last[..tail.len()].copy_from_slice(tail);
            sv[xv.len()] = gelu_x8(last).0;
        }
        // Pass 3, (QT1)–(QT4) row by row.
        let (mut loss, mut gbs) = (0f64, 0f64);
        let mut empty = batch.zeros;
        let rows_h = sc.gelu_h.chunks_exact(d).zip(sc.gelu_dh.chunks_exact(d));
        for ((sh, gh), se) in rows_h.zip(batch.start.windows(2)) {
            let (idx, val) = (&batch.index[se[0]..se[1]], &batch.value[se[0]..se[1]]);
            if idx.is_empty() {
                empty += 1;
                continue;
            }
            let mut y = 0f64;
            for (&a, &sx) in idx.iter().zip(&sc.gelu_x[se[0]..se[1]]) {
                y += self.importance[a as usize] * sx as f64;
            }
            let mut yt = b;
            for &o in sh {
                yt += o as f64;
            }
            let r = yt - y;
            loss += r * r;
            gbs += 2.0 * r;
            // (QT2) ∂L/∂Wₐ = 2 r σ′(h) xₐ.
            let c = 2.0 * r * scale;
            for (&a, &x) in idx.iter().zip(val) {
                let (a, xa) = (a as usize, x as f64);
                for (g, &dz) in gw[a * d..a * d + d].iter_mut().zip(gh) {
                    *g += c * xa * dz as f64;
                }
            }
        }
        // (QT4) all-zero samples: ỹ = b, y = 0, r = b.
        loss += empty as f64 * b * b;
        gbs += empty as f64 * 2.0 * b;
        gb[0] = gbs * scale;
        loss * scale
    }

    /// The active-entry kernel for D = `DIM` (`DIM` = 0: any D, read from `self.d`).
    fn active_grad<const DIM: usize>(
        &self,
        w: &[f64],
        b: f64,
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut ActiveScratch,
    ) -> f64 {
        let d = if DIM == 0 { self.d } else { DIM };
        let bsz = batch.len();
        let scale = 1.0 / bsz as f64;
        gw.iter_mut().for_each(|g| *g = 0.0);
        // h and σ′(h) of one row: on the stack for a fixed D, else in the scratch.
        let (mut h_fixed, mut gh_fixed) = ([0f64; DIM], [0f64; DIM]);
        let (h, gh): (&mut [f64], &mut [f64]) = if DIM == 0 {
            sc.h.clear();
            sc.h.resize(d, 0.0);
            sc.dz.clear();
            sc.dz.resize(d, 0.0);
            (&mut sc.h, &mut sc.dz)
        } else {
            (&mut h_fixed, &mut gh_fixed)
        };
        let mut loss = 0f64;
        let mut gbs = 0f64;
        // (QT6) square model: ‖Wₐ‖² once per batch, and per feature the sum of r x² over its
        // single-entry rows.
        let square = self.act == Activation::Square;
        let expected = square && self.single_moments.len() == self.n;
        let (norm, single) = (&mut sc.norm, &mut sc.single);
        norm.clear();
        single.clear();
        if square {
            norm.extend(
                w.chunks_exact(d)
                    .map(|wa| wa.iter().map(|x| x * x).sum::<f64>()),
            );
            single.resize(self.n, 0.0);
        }
        // (QT4) all-zero samples, stored as empty rows or only counted (data.md (S7)).
        let mut empty = batch.zeros;
        for s in 0..batch.rows() {
            let (lo, hi) = (batch.start[s], batch.start[s + 1]);
            if lo == hi {
                empty += 1;
                continue;
            }
            if square && hi == lo + 1 {
                // (QT6) one active feature a: ỹ − y = (‖Wₐ‖² − vₐ) x² + b.
                let a = batch.index[lo] as usize;
                let c = norm[a] - self.importance[a];
                if expected {
                    // (QT7) E over xₐ of r², 2r and r xₐ² with r = c xₐ² + b.
                    let (m2, m4) = self.single_moments[a];
                    loss += c * c * m4 + 2.0 * c * b * m2 + b * b;
                    gbs += 2.0 * (c * m2 + b);
                    single[a] += c * m4 + b * m2;
                    continue;
                }
                let x2 = (batch.value[lo] as f64).powi(2);
                let r = c * x2 + b;
                loss += r * r;
                gbs += 2.0 * r;
                single[a] += r * x2;
                continue;
            }
            // (QT1) h = Wx over the active entries, y = Σ vᵢ σ(xᵢ).
            h.iter_mut().for_each(|v| *v = 0.0);
            let mut y = 0f64;
            for k in lo..hi {
                let a = batch.index[k] as usize;
                let xa = batch.value[k] as f64;
                y += self.importance[a] * self.act.eval(xa).0;
                for (hd, &wad) in h.iter_mut().zip(&w[a * d..a * d + d]) {
                    *hd += xa * wad;
                }
            }
            let mut yt = b;
            for (hd, ghd) in h.iter().zip(gh.iter_mut()) {
                let (o, dz) = self.act.eval(*hd);
                yt += o;
                *ghd = dz;
            }
            let r = yt - y;
            loss += r * r;
            gbs += 2.0 * r;
            // (QT2) ∂L/∂Wₐ = 2 r σ′(h) xₐ.
            let c = 2.0 * r * scale;
            for k in lo..hi {
                let a = batch.index[k] as usize;
                let xa = batch.value[k] as f64;
                for (g, &dz) in gw[a * d..a * d + d].iter_mut().zip(gh.iter()) {
                    *g += c * xa * dz;
                }
            }
        }
        // (QT6) ∂L/∂Wₐ of the single-entry rows: (4/B) Σ r x² Wₐ.
        for ((ga, wa), &sa) in gw
            .chunks_exact_mut(d)
            .zip(w.chunks_exact(d))
            .zip(single.iter())
        {
            for (g, &wad) in ga.iter_mut().zip(wa) {
                *g += 4.0 * scale * sa * wad;
            }
        }
        // (QT4) all-zero samples: ỹ = b, y = 0, r = b.
        loss += empty as f64 * b * b;
        gbs += empty as f64 * 2.0 * b;
        gb[0] = gbs * scale;
        loss * scale
    }

    /// The loss and gradient of [`QuadraticNet::batch_grad`] on a dense batch `x` of `bsz`
    /// samples in block layout ([`super::data::Sampler::dense`]), `w` and `b` rounded to f32:
    /// eight samples per vector, per-lane f32 sums reduced in f64 at the end (QT5).
    pub fn dense_grad(
        &self,
        w: &[f32],
        b: f32,
        x: &[f32],
        bsz: usize,
        gw: &mut [f64],
        gb: &mut [f64],
    ) -> f64 {
        self.dense_grad_in::<f32x8>((), w, b, x, bsz, gw, gb)
    }

    /// [`QuadraticNet::dense_grad`] on the lane type of one kernel copy (simd.md (SD1)).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn dense_grad_in<V: Lanes>(
        &self,
        cx: V::Ctx,
        w: &[f32],
        b: f32,
        x: &[f32],
        bsz: usize,
        gw: &mut [f64],
        gb: &mut [f64],
    ) -> f64 {
        let (n, d) = (self.n, self.d);
        let zero = V::splat(cx, 0.0);
        // W and v broadcast once per batch.
        let ws: Vec<V> = w[..n * d].iter().map(|&v| V::splat(cx, v)).collect();
        let vs: Vec<V> = self
            .importance
            .iter()
            .map(|&v| V::splat(cx, v as f32))
            .collect();
        let bv = V::splat(cx, b);
        let mut acc = vec![zero; n * d];
        let mut h = vec![zero; d];
        let mut gh = vec![zero; d];
        let mut xs = vec![zero; n];
        let (mut lossv, mut rsum) = (zero, zero);
        let mut blk = 0;
        while blk < bsz {
            let m = BLOCK.min(bsz - blk);
            let mut mask = [0f32; BLOCK];
            mask[..m].iter_mut().for_each(|v| *v = 1.0);
            let mask = V::from_array(cx, mask);
            let xblock = &x[(blk / BLOCK) * n * BLOCK..(blk / BLOCK + 1) * n * BLOCK];
            // (QT1) h = Σᵢ xᵢ Wᵢ, y = Σᵢ vᵢ σ(xᵢ).
            h.iter_mut().for_each(|v| *v = zero);
            let mut y = zero;
            for (((xi, c), wi), &vi) in xs
                .iter_mut()
                .zip(xblock.chunks_exact(BLOCK))
                .zip(ws.chunks_exact(d))
                .zip(&vs)
            {
                *xi = V::from_array(cx, c.try_into().expect("invariant: chunk of 8"));
                y += vi * act_v(self.act, *xi).0;
                for (hd, &wid) in h.iter_mut().zip(wi) {
                    *hd += wid * *xi;
                }
            }
            let mut yt = bv;
            for (hd, ghd) in h.iter().zip(gh.iter_mut()) {
                let (o, dz) = act_v(self.act, *hd);
                yt += o;
                *ghd = dz;
            }
            // Padding lanes hold x = 0, so r = b there: masked out.
            let r = (yt - y) * mask;
            lossv += r * r;
            rsum += r;
            // (QT2) ∂L/∂Wᵢ ∝ r σ′(h) xᵢ, summed per lane.
            for (&xi, acci) in xs.iter().zip(acc.chunks_exact_mut(d)) {
                let rx = r * xi;
                for (a, &ghd) in acci.iter_mut().zip(gh.iter()) {
                    *a += rx * ghd;
                }
            }
            blk += BLOCK;
        }
        // (QT3) mean over the batch: ∂L/∂W = (2/B) Σ r σ′(h) x, ∂L/∂b = (2/B) Σ r.
        let two_scale = 2.0 / bsz as f64;
        for (o, a) in gw.iter_mut().zip(&acc) {
            *o = two_scale * a.sum_f64();
        }
        gb[0] = two_scale * rsum.sum_f64();
        lossv.sum_f64() / bsz as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (QT8): the f32 lane GeLU against the f64 formula of [`Activation::eval`] on a grid of
    /// z in [−12, 12] (step 10⁻³), the edges 0, −0, ±10⁻³⁰, ±20, ±10³, ±10⁶ and the worst z
    /// points of the bound: |Δσ| ≤ 3·10⁻⁷·max(1, |z|), |Δσ′| ≤ 6·10⁻⁶ (measured: 2.2·10⁻⁷
    /// at z = 4.14, 4.2·10⁻⁶ at z = −4.84).
    #[test]
    fn gelu_lanes_match_the_f64_formula() {
        let mut zs: Vec<f64> = (0..=24_000).map(|k| -12.0 + 1e-3 * k as f64).collect();
        zs.extend([0.0, -0.0, 1e-30, -1e-30, 20.0, -20.0, 1e3, -1e3, 1e6, -1e6]);
        let (mut worst_o, mut worst_g) = ((0f64, 0f64), (0f64, 0f64));
        for c in zs.chunks(LANES) {
            let mut lanes = [0f32; LANES];
            for (l, &z) in lanes.iter_mut().zip(c) {
                *l = z as f32;
            }
            let (o, g) = gelu_x8(lanes);
            for ((&z, &ol), &gl) in c.iter().zip(&o).zip(&g) {
                let (o_ref, g_ref) = Activation::Gelu.eval(z);
                let eo = (ol as f64 - o_ref).abs() / z.abs().max(1.0);
                let eg = (gl as f64 - g_ref).abs();
                if eo > worst_o.0 {
                    worst_o = (eo, z);
                }
                if eg > worst_g.0 {
                    worst_g = (eg, z);
                }
            }
        }
        assert!(
            worst_o.0 <= 3e-7 && worst_g.0 <= 6e-6,
            "worst (error, z): σ {worst_o:?}, σ′ {worst_g:?}"
        );
    }
}
