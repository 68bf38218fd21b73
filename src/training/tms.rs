//! Batch loss and gradient of the autoencoder family x′ = σ(WᵀWx + b) (spec (E1)–(E3)), in
//! two kernels that give the same numbers:
//!
//! * [`dense_grad`]: eight samples per SIMD lane block, cost ∝ N·D per sample (T1 at high
//!   density);
//! * [`gram_grad`]: through the Gram matrix G = WᵀW, cost ∝ |active|·N per non-empty sample,
//!   and O(1) per all-zero sample (low density).
//!
//! Both use the notebook normalisation: the mean over batch and features of
//! Iⱼ (xⱼ − x′ⱼ)² (spec pitfall 10), in f32 with f64 gradient outputs.
//!
//! Internal layout: `w` is N×D row-major (row i = Wᵢ, the column i of the spec's D×N W).
//!
//! Derivation: derivations/tms.md (TM1)–(TM6).

use super::data::SparseBatch;
use super::model::Activation;

/// Lanes per block of the dense kernel.
const L: usize = 8;

/// Sizes and importances of one autoencoder instance.
#[derive(Debug, Clone)]
pub struct Autoencoder {
    /// Activation σ.
    pub act: Activation,
    /// Number of features N.
    pub n: usize,
    /// Embedding dimension D.
    pub d: usize,
    /// Importances Iᵢ.
    pub importance: Vec<f32>,
}

/// Scratch space reused across steps.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    gram: Vec<f32>,
    s: Vec<f32>,
    z: Vec<f32>,
    dz: Vec<f32>,
    g: Vec<f32>,
    acc: Vec<[f32; L]>,
    xs: Vec<[f32; L]>,
    gl: Vec<[f32; L]>,
    h: Vec<[f32; L]>,
    gh: Vec<[f32; L]>,
    accb: Vec<[f32; L]>,
}

impl Autoencoder {
    /// Dense kernel: loss (mean over batch and features) of the dense batch `x` (B×N
    /// row-major) and, into `gw` (N×D) and `gb` (N), its gradient (TM1)–(TM4).
    pub fn dense_grad(
        &self,
        w: &[f32],
        b: &[f32],
        x: &[f32],
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Scratch,
    ) -> f64 {
        match self.act {
            Activation::Relu => self.dense_impl(Activation::Relu, w, b, x, gw, gb, sc),
            Activation::Gelu => self.dense_impl(Activation::Gelu, w, b, x, gw, gb, sc),
            Activation::Square => self.dense_impl(Activation::Square, w, b, x, gw, gb, sc),
            Activation::Identity => self.dense_impl(Activation::Identity, w, b, x, gw, gb, sc),
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn dense_impl(
        &self,
        act: Activation,
        w: &[f32],
        b: &[f32],
        x: &[f32],
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Scratch,
    ) -> f64 {
        let (n, d) = (self.n, self.d);
        let bsz = x.len() / n;
        let scale = 1.0 / (bsz * n) as f32;
        let zero = [0f32; L];
        sc.xs.clear();
        sc.xs.resize(n, zero);
        sc.gl.clear();
        sc.gl.resize(n, zero);
        sc.h.clear();
        sc.h.resize(d, zero);
        sc.gh.clear();
        sc.gh.resize(d, zero);
        sc.acc.clear();
        sc.acc.resize(n * d, zero);
        sc.accb.clear();
        sc.accb.resize(n, zero);
        let (xs, g, h, gh, acc, accb) = (
            &mut sc.xs,
            &mut sc.gl,
            &mut sc.h,
            &mut sc.gh,
            &mut sc.acc,
            &mut sc.accb,
        );
        let mut loss = 0f64;
        let mut blk = 0;
        while blk < bsz {
            let m = L.min(bsz - blk);
            let mut mask = [0f32; L];
            for (l, mk) in mask.iter_mut().enumerate().take(m) {
                *mk = if l < m { 1.0 } else { 0.0 };
            }
            // Gather the block transposed: xs[i][l] = x of sample blk + l, feature i.
            for (i, xi) in xs.iter_mut().enumerate() {
                for l in 0..L {
                    xi[l] = if l < m { x[(blk + l) * n + i] } else { 0.0 };
                }
            }
            // (TM1) h = Σᵢ xᵢ Wᵢ.
            for hd in h.iter_mut() {
                *hd = zero;
            }
            for (i, xi) in xs.iter().enumerate() {
                let wi = &w[i * d..(i + 1) * d];
                for (hd, &wid) in h.iter_mut().zip(wi) {
                    for l in 0..L {
                        hd[l] += wid * xi[l];
                    }
                }
            }
            // (TM2) zⱼ = Wⱼ·h + bⱼ, eⱼ = σ(zⱼ) − xⱼ, gⱼ = ∂L/∂zⱼ = 2 Iⱼ eⱼ σ′(zⱼ)/(BN).
            let mut lossv = [0f32; L];
            for j in 0..n {
                let wj = &w[j * d..(j + 1) * d];
                let mut z = [b[j]; L];
                for (hd, &wjd) in h.iter().zip(wj) {
                    for l in 0..L {
                        z[l] += wjd * hd[l];
                    }
                }
                let ij = self.importance[j];
                let gj = &mut g[j];
                let xj = &xs[j];
                for l in 0..L {
                    let (o, dz) = act.eval32(z[l]);
                    let e = o - xj[l];
                    let ie = ij * e * mask[l];
                    lossv[l] += ie * e;
                    gj[l] = 2.0 * ie * dz * scale;
                }
            }
            loss += lossv.iter().map(|&v| v as f64).sum::<f64>();
            // (TM3) ∂L/∂h = Σⱼ gⱼ Wⱼ.
            for ghd in gh.iter_mut() {
                *ghd = zero;
            }
            for (j, gj) in g.iter().enumerate() {
                let wj = &w[j * d..(j + 1) * d];
                for (ghd, &wjd) in gh.iter_mut().zip(wj) {
                    for l in 0..L {
                        ghd[l] += wjd * gj[l];
                    }
                }
            }
            // (TM4) ∂L/∂Wᵢ = gᵢ h + xᵢ ∂L/∂h,  ∂L/∂bᵢ = gᵢ.
            for i in 0..n {
                let (gi, xi) = (&g[i], &xs[i]);
                for dd in 0..d {
                    let a = &mut acc[i * d + dd];
                    let (hd, ghd) = (&h[dd], &gh[dd]);
                    for l in 0..L {
                        a[l] += gi[l] * hd[l] + xi[l] * ghd[l];
                    }
                }
                for l in 0..L {
                    accb[i][l] += gi[l];
                }
            }
            blk += L;
        }
        for (o, a) in gw.iter_mut().zip(acc.iter()) {
            *o = a.iter().map(|&v| v as f64).sum();
        }
        for (o, a) in gb.iter_mut().zip(accb.iter()) {
            *o = a.iter().map(|&v| v as f64).sum();
        }
        loss * scale as f64
    }

    /// Gram kernel: the same loss and gradient as [`Autoencoder::dense_grad`] from a sparse
    /// batch, via G = WᵀW and S = Σ_samples x gᵀ (TM5), (TM6).
    pub fn gram_grad(
        &self,
        w: &[f32],
        b: &[f32],
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Scratch,
    ) -> f64 {
        match self.act {
            Activation::Relu => self.gram_impl(Activation::Relu, w, b, batch, gw, gb, sc),
            Activation::Gelu => self.gram_impl(Activation::Gelu, w, b, batch, gw, gb, sc),
            Activation::Square => self.gram_impl(Activation::Square, w, b, batch, gw, gb, sc),
            Activation::Identity => self.gram_impl(Activation::Identity, w, b, batch, gw, gb, sc),
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn gram_impl(
        &self,
        act: Activation,
        w: &[f32],
        b: &[f32],
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Scratch,
    ) -> f64 {
        let (n, d) = (self.n, self.d);
        let bsz = batch.len();
        let scale = 1.0 / (bsz * n) as f32;
        // G[j][a] = Wⱼ·Wₐ.
        sc.gram.clear();
        sc.gram.resize(n * n, 0.0);
        for j in 0..n {
            let wj = &w[j * d..(j + 1) * d];
            for a in 0..n {
                let wa = &w[a * d..(a + 1) * d];
                sc.gram[j * n + a] = wj.iter().zip(wa).map(|(p, q)| p * q).sum();
            }
        }
        sc.s.clear();
        sc.s.resize(n * n, 0.0);
        sc.z.resize(n, 0.0);
        sc.dz.resize(n, 0.0);
        sc.g.clear();
        sc.g.resize(n, 0.0);
        let mut gbacc = vec![0f32; n];
        let (gram, s, z, dz, g) = (&sc.gram, &mut sc.s, &mut sc.z, &mut sc.dz, &mut sc.g);
        let mut loss = 0f64;
        let mut empty = 0usize;
        for r in 0..bsz {
            let (lo, hi) = (batch.start[r], batch.start[r + 1]);
            if lo == hi {
                empty += 1;
                continue;
            }
            // (TM5) zⱼ = bⱼ + Σₐ xₐ Gⱼₐ over the active a.
            z.copy_from_slice(b);
            for k in lo..hi {
                let a = batch.index[k] as usize;
                let xa = batch.value[k];
                let row = &gram[a * n..(a + 1) * n];
                for (zj, &gja) in z.iter_mut().zip(row) {
                    *zj += xa * gja;
                }
            }
            for j in 0..n {
                let (o, dzj) = act.eval32(z[j]);
                z[j] = o;
                dz[j] = dzj;
            }
            for k in lo..hi {
                z[batch.index[k] as usize] -= batch.value[k];
            }
            let mut ls = 0f32;
            for j in 0..n {
                let ie = self.importance[j] * z[j];
                ls += ie * z[j];
                g[j] = 2.0 * ie * dz[j] * scale;
                gbacc[j] += g[j];
            }
            loss += ls as f64;
            // (TM6) S[a][j] += xₐ gⱼ.
            for k in lo..hi {
                let a = batch.index[k] as usize;
                let xa = batch.value[k];
                let row = &mut s[a * n..(a + 1) * n];
                for (sj, &gj) in row.iter_mut().zip(g.iter()) {
                    *sj += xa * gj;
                }
            }
        }
        // All-zero samples: z = b, e = σ(b), identical for each of them.
        let e0 = empty as f64;
        for j in 0..n {
            let (o, dzj) = act.eval(b[j] as f64);
            let ie = self.importance[j] as f64 * o;
            loss += e0 * ie * o;
            gb[j] = gbacc[j] as f64 + e0 * 2.0 * ie * dzj * scale as f64;
        }
        // (TM6) ∂L/∂Wₘ = Σₐ (S[m][a] + S[a][m]) Wₐ.
        for m in 0..n {
            for dd in 0..d {
                let mut t = 0f64;
                for a in 0..n {
                    t += (s[m * n + a] + s[a * n + m]) as f64 * w[a * d + dd] as f64;
                }
                gw[m * d + dd] = t;
            }
        }
        loss * scale as f64
    }
}
