//! Batch loss and gradient of the autoencoder family x′ = σ(WᵀWx + b) (spec (E1)–(E3)), in
//! two kernels that give the same numbers:
//!
//! * [`Autoencoder::dense_grad`]: eight samples per SIMD lane block, cost ∝ N·D per sample (T1 at high
//!   density);
//! * [`Autoencoder::gram_grad`]: through the Gram matrix G = WᵀW, cost ∝ |active|·N per non-empty sample,
//!   and O(1) per all-zero sample (low density).
//!
//! Both use the notebook normalisation: the mean over batch and features of
//! Iⱼ (xⱼ − x′ⱼ)² (spec pitfall 10), in f32 with f64 gradient outputs.
//!
//! Internal layout: `w` is N×D row-major (row i = Wᵢ, the column i of the spec's D×N W).
//!
//! Derivation: derivations/tms.md (TM1)–(TM6).

use super::data::SparseBatch;
use super::model::{Activation, GELU_A, GELU_C};
#[cfg(target_arch = "x86_64")]
use super::simd::Y8;
use super::simd::{self, Lanes};

use wide::f32x8;

/// Lanes per block of the dense kernel.
const L: usize = 8;

/// The embedding dimension D, either a compile-time constant (per-block vectors on the
/// stack, in registers) or a run-time value (on the heap).
trait Dims<V: Lanes>: Copy {
    type Arr: AsMut<[V]>;
    fn get(self) -> usize;
    fn zeros(self, cx: V::Ctx) -> Self::Arr;
}

#[derive(Clone, Copy)]
struct Fixed<const D: usize>;

impl<const D: usize, V: Lanes> Dims<V> for Fixed<D> {
    type Arr = [V; D];
    #[inline(always)]
    fn get(self) -> usize {
        D
    }
    #[inline(always)]
    fn zeros(self, cx: V::Ctx) -> Self::Arr {
        [V::splat(cx, 0.0); D]
    }
}

#[derive(Clone, Copy)]
struct Dyn(usize);

impl<V: Lanes> Dims<V> for Dyn {
    type Arr = Vec<V>;
    #[inline(always)]
    fn get(self) -> usize {
        self.0
    }
    #[inline(always)]
    fn zeros(self, cx: V::Ctx) -> Self::Arr {
        vec![V::splat(cx, 0.0); self.0]
    }
}

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

/// Scratch space reused across steps (one set of buffers per lane type).
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    portable: Bufs<f32x8>,
    #[cfg(target_arch = "x86_64")]
    avx2: Bufs<Y8>,
}

#[derive(Debug, Clone)]
struct Bufs<V> {
    vxs: Vec<V>,
    vg: Vec<V>,
    vacc: Vec<V>,
    vaccb: Vec<V>,
    ws: Vec<V>,
}

impl<V> Default for Bufs<V> {
    fn default() -> Self {
        Bufs {
            vxs: Vec::new(),
            vg: Vec::new(),
            vacc: Vec::new(),
            vaccb: Vec::new(),
            ws: Vec::new(),
        }
    }
}

/// Lane types the kernels run on: each has its own scratch buffers.
pub(crate) trait KernelLanes: Lanes {
    #[allow(private_interfaces)]
    fn bufs(sc: &mut Scratch) -> &mut Bufs<Self>;
}

impl KernelLanes for f32x8 {
    #[allow(private_interfaces)]
    #[inline(always)]
    fn bufs(sc: &mut Scratch) -> &mut Bufs<Self> {
        &mut sc.portable
    }
}

#[cfg(target_arch = "x86_64")]
impl KernelLanes for Y8 {
    #[allow(private_interfaces)]
    #[inline(always)]
    fn bufs(sc: &mut Scratch) -> &mut Bufs<Self> {
        &mut sc.avx2
    }
}

/// (σ(z), σ′(z)) lane-wise (model.md (M1)); GeLU's tanh is the lane rational (simd.md (SD4)).
#[inline(always)]
pub(crate) fn act_v<V: Lanes>(act: Activation, z: V) -> (V, V) {
    let cx = z.ctx();
    let k = |v: f32| V::splat(cx, v);
    match act {
        Activation::Relu => (z.max(k(0.0)), z.positive()),
        Activation::Identity => (z, k(1.0)),
        Activation::Square => (z * z, z * k(2.0)),
        Activation::Gelu => {
            let (c, a) = (GELU_C as f32, GELU_A as f32);
            let z2 = z * z;
            let t = simd::tanh(k(c) * (z + k(a) * z2 * z));
            let du = k(c) * (k(1.0) + k(3.0 * a) * z2);
            let half = k(0.5);
            let one_t = k(1.0) + t;
            (
                half * z * one_t,
                half * one_t + half * z * (k(1.0) - t * t) * du,
            )
        }
    }
}

/// One batch of the dense kernel in progress: the broadcast parameters, the per-lane
/// accumulators, and [`DenseBlock::block`], which adds one block of eight samples.
struct DenseBlock<'a, V: Lanes, Dm: Dims<V>> {
    act: Activation,
    dims: Dm,
    /// h of the current block (TM1).
    h: Dm::Arr,
    /// ∂L/∂h of the current block (TM3).
    gh: Dm::Arr,
    /// Wᵢ_d broadcast, N×D.
    w: &'a [V],
    /// bⱼ broadcast.
    b: &'a [V],
    /// Iⱼ broadcast.
    imp: &'a [V],
    /// 2/(BN) broadcast.
    two_scale: V,
    /// gⱼ of the current block.
    g: &'a mut [V],
    /// Σ ∂L/∂Wᵢ_d per lane, N×D.
    acc: &'a mut [V],
    /// Σ ∂L/∂bᵢ per lane.
    accb: &'a mut [V],
    /// Σ Iⱼ eⱼ² per lane.
    lossv: V,
}

impl<V: Lanes, Dm: Dims<V>> DenseBlock<'_, V, Dm> {
    /// Adds the block `xs` (xs[i] = feature i of eight samples) to the accumulators,
    /// (TM1)–(TM4) lane-wise. `mask` (1 on real samples, 0 on padding) multiplies the error
    /// terms of a partial block; a full block skips that multiplication by 1, which is exact.
    #[inline(always)]
    fn block(&mut self, xs: &[[f32; L]], mask: Option<V>) {
        let cx = self.two_scale.ctx();
        let d = self.dims.get();
        let zero = V::splat(cx, 0.0);
        let (h, gh) = (self.h.as_mut(), self.gh.as_mut());
        h.fill(zero);
        gh.fill(zero);
        // (TM1) h = Σᵢ xᵢ Wᵢ.
        for (&xi, wi) in xs.iter().zip(self.w.chunks_exact(d)) {
            let xi = V::from_array(cx, xi);
            for (hd, &wid) in h.iter_mut().zip(wi) {
                *hd += wid * xi;
            }
        }
        // (TM2) zⱼ = Wⱼ·h + bⱼ, eⱼ = σ(zⱼ) − xⱼ, gⱼ = ∂L/∂zⱼ = 2 Iⱼ eⱼ σ′(zⱼ)/(BN).
        for ((((gj, &xj), wj), &bj), &ij) in self
            .g
            .iter_mut()
            .zip(xs)
            .zip(self.w.chunks_exact(d))
            .zip(self.b)
            .zip(self.imp)
        {
            let mut z = bj;
            for (&hd, &wjd) in h.iter().zip(wj) {
                z += wjd * hd;
            }
            let (o, dz) = act_v(self.act, z);
            let e = o - V::from_array(cx, xj);
            let ie = match mask {
                Some(m) => ij * e * m,
                None => ij * e,
            };
            self.lossv += ie * e;
            *gj = ie * dz * self.two_scale;
        }
        // (TM3) ∂L/∂h = Σⱼ gⱼ Wⱼ.
        for (&gj, wj) in self.g.iter().zip(self.w.chunks_exact(d)) {
            for (ghd, &wjd) in gh.iter_mut().zip(wj) {
                *ghd += wjd * gj;
            }
        }
        // (TM4) ∂L/∂Wᵢ = gᵢ h + xᵢ ∂L/∂h,  ∂L/∂bᵢ = gᵢ.
        for (((&gi, &xi), acci), abi) in self
            .g
            .iter()
            .zip(xs)
            .zip(self.acc.chunks_exact_mut(d))
            .zip(self.accb.iter_mut())
        {
            let xi = V::from_array(cx, xi);
            for ((a, &hd), &ghd) in acci.iter_mut().zip(h.iter()).zip(gh.iter()) {
                *a += gi * hd + xi * ghd;
            }
            *abi += gi;
        }
    }
}

impl Autoencoder {
    /// Dense kernel: loss (mean over batch and features) of the dense batch `x` of `bsz`
    /// samples in block layout (`data::Sampler::dense`) and, into `gw` (N×D) and `gb` (N), its
    /// gradient (TM1)–(TM4).
    ///
    /// D ≤ 8 runs a copy compiled for that D, whose per-block vectors h and ∂L/∂h live in
    /// registers; larger D uses heap vectors.
    ///
    /// Inlined into its callers (the portable and AVX2 copies of the training step,
    /// simd.md (SD2)).
    #[allow(clippy::too_many_arguments)]
    pub fn dense_grad(
        &self,
        w: &[f32],
        b: &[f32],
        x: &[f32],
        bsz: usize,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Scratch,
    ) -> f64 {
        self.dense_grad_in::<f32x8>((), w, b, x, bsz, gw, gb, sc)
    }

    /// [`Autoencoder::dense_grad`] on lane type `V` (simd.md (SD1), (SD2)).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn dense_grad_in<V: KernelLanes>(
        &self,
        cx: V::Ctx,
        w: &[f32],
        b: &[f32],
        x: &[f32],
        bsz: usize,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Scratch,
    ) -> f64 {
        let sc = V::bufs(sc);
        macro_rules! with_dims {
            ($act:expr) => {
                match self.d {
                    1 => self.dense_impl::<V, _>(cx, $act, Fixed::<1>, w, b, x, bsz, gw, gb, sc),
                    2 => self.dense_impl::<V, _>(cx, $act, Fixed::<2>, w, b, x, bsz, gw, gb, sc),
                    3 => self.dense_impl::<V, _>(cx, $act, Fixed::<3>, w, b, x, bsz, gw, gb, sc),
                    4 => self.dense_impl::<V, _>(cx, $act, Fixed::<4>, w, b, x, bsz, gw, gb, sc),
                    5 => self.dense_impl::<V, _>(cx, $act, Fixed::<5>, w, b, x, bsz, gw, gb, sc),
                    6 => self.dense_impl::<V, _>(cx, $act, Fixed::<6>, w, b, x, bsz, gw, gb, sc),
                    7 => self.dense_impl::<V, _>(cx, $act, Fixed::<7>, w, b, x, bsz, gw, gb, sc),
                    8 => self.dense_impl::<V, _>(cx, $act, Fixed::<8>, w, b, x, bsz, gw, gb, sc),
                    d => self.dense_impl::<V, _>(cx, $act, Dyn(d), w, b, x, bsz, gw, gb, sc),
                }
            };
        }
        match self.act {
            Activation::Relu => with_dims!(Activation::Relu),
            Activation::Gelu => with_dims!(Activation::Gelu),
            Activation::Square => with_dims!(Activation::Square),
            Activation::Identity => with_dims!(Activation::Identity),
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn dense_impl<V: Lanes, Dm: Dims<V>>(
        &self,
        cx: V::Ctx,
        act: Activation,
        dims: Dm,
        w: &[f32],
        b: &[f32],
        x: &[f32],
        bsz: usize,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Bufs<V>,
    ) -> f64 {
        let n = self.n;
        let d = dims.get();
        let scale = 1.0 / (bsz * n) as f32;
        let zero = V::splat(cx, 0.0);
        sc.vg.clear();
        sc.vg.resize(n, zero);
        sc.vacc.clear();
        sc.vacc.resize(n * d, zero);
        sc.vaccb.clear();
        sc.vaccb.resize(n, zero);
        // W, b and I broadcast once per batch: ws[i·D + d] has Wᵢ_d in every lane, vxs holds
        // b₀ … b_{N−1} and then I₀ … I_{N−1}.
        sc.ws.clear();
        sc.ws.extend(w[..n * d].iter().map(|&v| V::splat(cx, v)));
        sc.vxs.clear();
        sc.vxs.extend(
            b[..n]
                .iter()
                .chain(&self.importance[..n])
                .map(|&v| V::splat(cx, v)),
        );
        let (bv, iv) = sc.vxs.split_at(n);
        let mut k = DenseBlock {
            act,
            dims,
            h: dims.zeros(cx),
            gh: dims.zeros(cx),
            w: &sc.ws,
            b: bv,
            imp: iv,
            two_scale: V::splat(cx, 2.0 * scale),
            g: &mut sc.vg,
            acc: &mut sc.vacc,
            accb: &mut sc.vaccb,
            lossv: zero,
        };
        // The batch is stored block by block, each block feature-major (data.md (S1)): row i
        // of a block is feature i of its eight samples, one per lane.
        let (xb, _) = x.as_chunks::<L>();
        let full = bsz / L;
        for blk in xb[..full * n].chunks_exact(n) {
            k.block(blk, None);
        }
        if full * L < bsz {
            // A partial last block: its padding lanes (x = 0, x′ = σ(b)) are masked out.
            let mut mask = [0f32; L];
            mask[..bsz - full * L].fill(1.0);
            k.block(&xb[full * n..(full + 1) * n], Some(V::from_array(cx, mask)));
        }
        for (o, a) in gw.iter_mut().zip(k.acc.iter()) {
            *o = a.sum_f64();
        }
        for (o, a) in gb.iter_mut().zip(k.accb.iter()) {
            *o = a.sum_f64();
        }
        k.lossv.sum_f64() * scale as f64
    }

    /// Gram kernel: the same loss and gradient as [`Autoencoder::dense_grad`] from a sparse
    /// batch, via G = WᵀW and S = Σ_samples x gᵀ (TM5), (TM6). Inlined like `dense_grad`.
    pub fn gram_grad(
        &self,
        w: &[f32],
        b: &[f32],
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Scratch,
    ) -> f64 {
        self.gram_grad_in::<f32x8>((), w, b, batch, gw, gb, sc)
    }

    /// [`Autoencoder::gram_grad`] on lane type `V` (simd.md (SD1), (SD2)).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn gram_grad_in<V: KernelLanes>(
        &self,
        cx: V::Ctx,
        w: &[f32],
        b: &[f32],
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Scratch,
    ) -> f64 {
        let sc = V::bufs(sc);
        // N ≤ 8 (one chunk of feature lanes) runs a copy compiled for one chunk, whose
        // per-row vectors live in registers.
        macro_rules! with_chunks {
            ($act:expr) => {
                if self.n <= L {
                    self.gram_impl::<V, _>(cx, $act, Fixed::<1>, w, b, batch, gw, gb, sc)
                } else {
                    let nc = Dyn(self.n.div_ceil(L));
                    self.gram_impl::<V, _>(cx, $act, nc, w, b, batch, gw, gb, sc)
                }
            };
        }
        match self.act {
            Activation::Relu => with_chunks!(Activation::Relu),
            Activation::Gelu => with_chunks!(Activation::Gelu),
            Activation::Square => with_chunks!(Activation::Square),
            Activation::Identity => with_chunks!(Activation::Identity),
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn gram_impl<V: Lanes, Nc: Dims<V>>(
        &self,
        cx: V::Ctx,
        act: Activation,
        chunks: Nc,
        w: &[f32],
        b: &[f32],
        batch: &SparseBatch,
        gw: &mut [f64],
        gb: &mut [f64],
        sc: &mut Bufs<V>,
    ) -> f64 {
        let (n, d) = (self.n, self.d);
        let bsz = batch.len();
        let scale = 1.0 / (bsz * n) as f32;
        // Feature vectors are padded to nc chunks of L lanes; padded features have zero
        // importance, bias and input, so they contribute nothing.
        let nc = chunks.get();
        let zero = V::splat(cx, 0.0);
        let (mut impc, mut bc) = (vec![[0f32; L]; nc], vec![[0f32; L]; nc]);
        for j in 0..n {
            impc[j / L][j % L] = self.importance[j];
            bc[j / L][j % L] = b[j];
        }
        let impc: Vec<V> = impc.into_iter().map(|a| V::from_array(cx, a)).collect();
        let bc: Vec<V> = bc.into_iter().map(|a| V::from_array(cx, a)).collect();
        // G[a][j] = Wₐ·Wⱼ, row a in nc chunks.
        let mut grow = vec![[0f32; L]; n * nc];
        // G is symmetric and pᵢqᵢ = qᵢpᵢ exactly: compute j ≥ a and mirror.
        for a in 0..n {
            let wa = &w[a * d..(a + 1) * d];
            for j in a..n {
                let wj = &w[j * d..(j + 1) * d];
                let g: f32 = wa.iter().zip(wj).map(|(p, q)| p * q).sum();
                grow[a * nc + j / L][j % L] = g;
                grow[j * nc + a / L][a % L] = g;
            }
        }
        sc.vacc.clear();
        sc.vacc
            .extend(grow.into_iter().map(|a| V::from_array(cx, a)));
        sc.vxs.clear();
        sc.vxs.resize(n * nc, zero); // S, row a in nc chunks
        let gram = &sc.vacc;
        let s = &mut sc.vxs;
        // Per row: z (then σ(z) − x), σ′(z), g, the inputs in lanes; and Σ g over the rows.
        let (mut z_, mut dz_, mut g_, mut xv_, mut gb_) = (
            chunks.zeros(cx),
            chunks.zeros(cx),
            chunks.zeros(cx),
            chunks.zeros(cx),
            chunks.zeros(cx),
        );
        let (z, dz, g, xv, gbacc) = (
            z_.as_mut(),
            dz_.as_mut(),
            g_.as_mut(),
            xv_.as_mut(),
            gb_.as_mut(),
        );
        let two_scale = V::splat(cx, 2.0 * scale);
        let iota = V::from_array(cx, std::array::from_fn(|l| l as f32));
        let mut lossv = zero;
        // Unstored all-zero samples (data.md (S7)) count as empty rows.
        let mut empty = batch.zeros;
        for r in 0..batch.rows() {
            let (lo, hi) = (batch.start[r], batch.start[r + 1]);
            if lo == hi {
                empty += 1;
                continue;
            }
            let (idx, val) = (&batch.index[lo..hi], &batch.value[lo..hi]);
            // (TM5) zⱼ = bⱼ + Σₐ xₐ Gⱼₐ over the active a; xv gathers the row's inputs in
            // lanes (xv[a / L] lane a % L = xₐ, +0 elsewhere; indices are distinct in a row).
            z.copy_from_slice(&bc);
            for (&a, &xa) in idx.iter().zip(val) {
                let a = a as usize;
                let xa = V::splat(cx, xa);
                xv[a / L] += iota.eq_select(V::splat(cx, (a % L) as f32), xa);
                let row = &gram[a * nc..(a + 1) * nc];
                for (zc, &gc) in z.iter_mut().zip(row) {
                    *zc += xa * gc;
                }
            }
            for (zc, dc) in z.iter_mut().zip(dz.iter_mut()) {
                (*zc, *dc) = act_v(act, *zc);
            }
            // e = σ(z) − x, one subtraction per chunk: an inactive lane subtracts +0, which
            // changes nothing. (Patching the active lanes through `to_array` instead stalls
            // on a store-to-load forwarding per active entry.)
            for (zc, xc) in z.iter_mut().zip(xv.iter_mut()) {
                *zc = *zc - *xc;
                *xc = zero;
            }
            for ((((gc, bacc), &ec), &dc), &ic) in g
                .iter_mut()
                .zip(gbacc.iter_mut())
                .zip(z.iter())
                .zip(dz.iter())
                .zip(&impc)
            {
                let ie = ic * ec;
                lossv += ie * ec;
                *gc = ie * dc * two_scale;
                *bacc += *gc;
            }
            // (TM6) S[a][j] += xₐ gⱼ.
            for (&a, &xa) in idx.iter().zip(val) {
                let xa = V::splat(cx, xa);
                let row = &mut s[a as usize * nc..(a as usize + 1) * nc];
                for (sr, &gc) in row.iter_mut().zip(g.iter()) {
                    *sr += xa * gc;
                }
            }
        }
        let mut loss = lossv.sum_f64();
        // All-zero samples: z = b, e = σ(b), identical for each of them.
        let e0 = empty as f64;
        for j in 0..n {
            let (o, dzj) = act.eval(b[j] as f64);
            let ie = self.importance[j] as f64 * o;
            loss += e0 * ie * o;
            gb[j] = gbacc[j / L].to_array()[j % L] as f64 + e0 * 2.0 * ie * dzj * scale as f64;
        }
        let s_rows: Vec<[f32; L]> = s.iter().map(|v| v.to_array()).collect();
        let sf: Vec<f64> = (0..n * n)
            .map(|k| s_rows[(k / n) * nc + (k % n) / L][(k % n) % L] as f64)
            .collect();
        let w64: Vec<f64> = w[..n * d].iter().map(|&v| v as f64).collect();
        // (TM6) ∂L/∂Wₘ = Σₐ (S[m][a] + S[a][m]) Wₐ, summed over a = 0, 1, … for every entry
        // (the inner loop runs over the D entries, so it vectorises without reordering).
        for (m, out) in gw[..n * d].chunks_exact_mut(d).enumerate() {
            out.fill(0.0);
            for (a, wa) in w64.chunks_exact(d).enumerate() {
                let c = sf[m * n + a] + sf[a * n + m];
                for (o, &wv) in out.iter_mut().zip(wa) {
                    *o += c * wv;
                }
            }
        }
        loss * scale as f64
    }
}
