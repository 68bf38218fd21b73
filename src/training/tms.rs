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
        // Every lane loop works on arrays copied by value into locals, so LLVM sees no
        // aliasing between the scratch vectors and vectorises each [f32; L] operation.
        while blk < bsz {
            let m = L.min(bsz - blk);
            let mut mask = [0f32; L];
            for mk in mask.iter_mut().take(m) {
                *mk = 1.0;
            }
            // Gather the block transposed: xs[i][l] = x of sample blk + l, feature i.
            for (i, xi) in xs.iter_mut().enumerate() {
                let mut v = zero;
                for (l, vl) in v.iter_mut().enumerate().take(m) {
                    *vl = x[(blk + l) * n + i];
                }
                *xi = v;
            }
            // (TM1) h = Σᵢ xᵢ Wᵢ.
            for (dd, hd) in h.iter_mut().enumerate() {
                let mut acc_h = zero;
                for (i, xi) in xs.iter().enumerate() {
                    let (wid, xi) = (w[i * d + dd], *xi);
                    for l in 0..L {
                        acc_h[l] += wid * xi[l];
                    }
                }
                *hd = acc_h;
            }
            // (TM2) zⱼ = Wⱼ·h + bⱼ, eⱼ = σ(zⱼ) − xⱼ, gⱼ = ∂L/∂zⱼ = 2 Iⱼ eⱼ σ′(zⱼ)/(BN).
            let mut lossv = [0f32; L];
            for j in 0..n {
                let wj = &w[j * d..(j + 1) * d];
                let mut z = [b[j]; L];
                for (hd, &wjd) in h.iter().zip(wj) {
                    let hd = *hd;
                    for l in 0..L {
                        z[l] += wjd * hd[l];
                    }
                }
                let ij = self.importance[j];
                let xj = xs[j];
                let mut gj = zero;
                for l in 0..L {
                    let (o, dz) = act.eval32(z[l]);
                    let e = o - xj[l];
                    let ie = ij * e * mask[l];
                    lossv[l] += ie * e;
                    gj[l] = 2.0 * ie * dz * scale;
                }
                g[j] = gj;
            }
            loss += lossv.iter().map(|&v| v as f64).sum::<f64>();
            // (TM3) ∂L/∂h = Σⱼ gⱼ Wⱼ.
            for (dd, ghd) in gh.iter_mut().enumerate() {
                let mut acc_g = zero;
                for (j, gj) in g.iter().enumerate() {
                    let (wjd, gj) = (w[j * d + dd], *gj);
                    for l in 0..L {
                        acc_g[l] += wjd * gj[l];
                    }
                }
                *ghd = acc_g;
            }
            // (TM4) ∂L/∂Wᵢ = gᵢ h + xᵢ ∂L/∂h,  ∂L/∂bᵢ = gᵢ.
            for i in 0..n {
                let (gi, xi) = (g[i], xs[i]);
                for dd in 0..d {
                    let (hd, ghd) = (h[dd], gh[dd]);
                    let mut a = acc[i * d + dd];
                    for l in 0..L {
                        a[l] += gi[l] * hd[l] + xi[l] * ghd[l];
                    }
                    acc[i * d + dd] = a;
                }
                let mut ab = accb[i];
                for l in 0..L {
                    ab[l] += gi[l];
                }
                accb[i] = ab;
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
        // Feature vectors are padded to nc chunks of L lanes; padded features have zero
        // importance, bias and input, so they contribute nothing.
        let nc = n.div_ceil(L);
        let zero = [0f32; L];
        let mut impc = vec![zero; nc];
        let mut bc = vec![zero; nc];
        for j in 0..n {
            impc[j / L][j % L] = self.importance[j];
            bc[j / L][j % L] = b[j];
        }
        // G[a][j] = Wₐ·Wⱼ, row a in nc chunks.
        sc.acc.clear();
        sc.acc.resize(n * nc, zero);
        for a in 0..n {
            let wa = &w[a * d..(a + 1) * d];
            for j in 0..n {
                let wj = &w[j * d..(j + 1) * d];
                sc.acc[a * nc + j / L][j % L] = wa.iter().zip(wj).map(|(p, q)| p * q).sum();
            }
        }
        sc.xs.clear();
        sc.xs.resize(n * nc, zero); // S, row a in nc chunks
        sc.gl.clear();
        sc.gl.resize(nc, zero); // z, then e
        sc.h.clear();
        sc.h.resize(nc, zero); // σ′(z)
        sc.gh.clear();
        sc.gh.resize(nc, zero); // g
        sc.accb.clear();
        sc.accb.resize(nc, zero); // Σ g
        let (gram, s, z, dz, g, gbacc) = (
            &sc.acc,
            &mut sc.xs,
            &mut sc.gl,
            &mut sc.h,
            &mut sc.gh,
            &mut sc.accb,
        );
        let mut loss = 0f64;
        let mut empty = 0usize;
        for r in 0..bsz {
            let (lo, hi) = (batch.start[r], batch.start[r + 1]);
            if lo == hi {
                empty += 1;
                continue;
            }
            // (TM5) zⱼ = bⱼ + Σₐ xₐ Gⱼₐ over the active a.
            for (zc, &bcc) in z.iter_mut().zip(&bc) {
                *zc = bcc;
            }
            for k in lo..hi {
                let a = batch.index[k] as usize;
                let xa = batch.value[k];
                for c in 0..nc {
                    let (row, mut zc) = (gram[a * nc + c], z[c]);
                    for l in 0..L {
                        zc[l] += xa * row[l];
                    }
                    z[c] = zc;
                }
            }
            for c in 0..nc {
                let (zc, mut oc, mut dc) = (z[c], zero, zero);
                for l in 0..L {
                    (oc[l], dc[l]) = act.eval32(zc[l]);
                }
                z[c] = oc;
                dz[c] = dc;
            }
            for k in lo..hi {
                let a = batch.index[k] as usize;
                z[a / L][a % L] -= batch.value[k];
            }
            let mut ls = zero;
            for c in 0..nc {
                let (ec, dc, ic) = (z[c], dz[c], impc[c]);
                let (mut gc, mut bacc) = (zero, gbacc[c]);
                for l in 0..L {
                    let ie = ic[l] * ec[l];
                    ls[l] += ie * ec[l];
                    gc[l] = 2.0 * ie * dc[l] * scale;
                    bacc[l] += gc[l];
                }
                g[c] = gc;
                gbacc[c] = bacc;
            }
            loss += ls.iter().map(|&v| v as f64).sum::<f64>();
            // (TM6) S[a][j] += xₐ gⱼ.
            for k in lo..hi {
                let a = batch.index[k] as usize;
                let xa = batch.value[k];
                for c in 0..nc {
                    let (gc, mut sr) = (g[c], s[a * nc + c]);
                    for l in 0..L {
                        sr[l] += xa * gc[l];
                    }
                    s[a * nc + c] = sr;
                }
            }
        }
        // All-zero samples: z = b, e = σ(b), identical for each of them.
        let e0 = empty as f64;
        for j in 0..n {
            let (o, dzj) = act.eval(b[j] as f64);
            let ie = self.importance[j] as f64 * o;
            loss += e0 * ie * o;
            gb[j] = gbacc[j / L][j % L] as f64 + e0 * 2.0 * ie * dzj * scale as f64;
        }
        let sv = |a: usize, j: usize| s[a * nc + j / L][j % L] as f64;
        // (TM6) ∂L/∂Wₘ = Σₐ (S[m][a] + S[a][m]) Wₐ.
        for m in 0..n {
            for dd in 0..d {
                let mut t = 0f64;
                for a in 0..n {
                    t += (sv(m, a) + sv(a, m)) * w[a * d + dd] as f64;
                }
                gw[m * d + dd] = t;
            }
        }
        loss * scale as f64
    }
}
