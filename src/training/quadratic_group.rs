//! The active-entry kernel of the quadratic family for a group of instances that share one
//! sampled batch (derivations/run.md (RN8), (RN9)): the members differ only in their
//! importances and parameters, so each batch row is read once and its arithmetic runs for
//! four members at a time, one member per f64 lane.
//!
//! Every lane performs the operations of [`QuadraticNet::batch_grad_with`] for its member
//! in the same order — the (QT6) single-entry rows of the square model, the (QT7) expected
//! singles, the multi-entry rows (QT1)–(QT3) and the all-zero rows (QT4) — and each lane
//! operation is one IEEE operation, so a member's loss and gradient are bit-identical to its
//! own kernel's (tested in run.rs). What is shared across lanes is what depends on the batch
//! alone: the entries, xₐ², σ(xₐ).
//!
//! Layout: member-minor. `w[(a·D + r)·M + m]` is W_{a r} of member m, `v[a·M + m]` its vᵢ,
//! with M a multiple of 4 (padding members are zeros and ignored).

use wide::{CmpGt, f64x4};

use super::data::SparseBatch;
use super::model::Activation;
use super::quadratic::QuadraticNet;
use super::simd::Lanes;
use super::tms::act_v;

/// Lanes per vector: members per pass over the batch.
pub const LANES: usize = 4;

/// Buffers of [`group_grad`], reused from batch to batch.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupScratch {
    /// W of the members in member-minor layout, N·D·M.
    pub w: Vec<f64>,
    /// Importances, N·M.
    pub v: Vec<f64>,
    /// Biases, M.
    pub b: Vec<f64>,
    /// ∂L/∂W, N·D·M.
    pub gw: Vec<f64>,
    /// ∂L/∂b, M.
    pub gb: Vec<f64>,
    /// Losses, M.
    pub loss: Vec<f64>,
    /// σ(xₐ) of every entry of the batch.
    sx: Vec<f64>,
    /// f32 scratch of the GeLU (QT8).
    z: Vec<f32>,
    /// Per lane block: W, ‖Wₐ‖², Σ r x² of the singles, gradient accumulators.
    wl: Vec<f64x4>,
    norm: Vec<f64x4>,
    single: Vec<f64x4>,
    gl: Vec<f64x4>,
}

impl GroupScratch {
    /// Sizes the buffers for `members` members (padded to a multiple of [`LANES`]) of N
    /// features in D dimensions, zeroing them.
    pub fn reset(&mut self, n: usize, d: usize, members: usize) -> usize {
        let m = members.div_ceil(LANES) * LANES;
        for (buf, len) in [
            (&mut self.w, n * d * m),
            (&mut self.v, n * m),
            (&mut self.b, m),
            (&mut self.gw, n * d * m),
            (&mut self.gb, m),
            (&mut self.loss, m),
        ] {
            buf.clear();
            buf.resize(len, 0.0);
        }
        m
    }
}

/// The activation and its derivative in four lanes, each lane as [`Activation::eval`] (GeLU
/// is evaluated in f32 in a pass of its own, as the per-instance kernel does (QT8)).
#[inline(always)]
fn act_x4(act: Activation, z: f64x4) -> (f64x4, f64x4) {
    match act {
        Activation::Square => (z * z, f64x4::splat(2.0) * z),
        Activation::Relu => {
            let on = z.cmp_gt(f64x4::ZERO);
            (on.blend(z, f64x4::ZERO), on.blend(f64x4::ONE, f64x4::ZERO))
        }
        Activation::Gelu | Activation::Identity => (z, f64x4::ONE),
    }
}

/// Loss and gradient of the members in `sc` (W, v, b in member-minor layout, M members
/// padded to a multiple of [`LANES`]) on one shared `batch`, into `sc.loss`, `sc.gw`,
/// `sc.gb` (RN9). `net` gives the activation, N, D and the (QT7) moments, which the members
/// share; its importances are not used. Inlined into its caller, so that it is compiled into
/// each copy of the step (simd.md (SD2)).
#[inline(always)]
pub(crate) fn group_grad<V: Lanes>(
    cx: V::Ctx,
    net: &QuadraticNet,
    batch: &SparseBatch,
    sc: &mut GroupScratch,
) {
    match net.d {
        1 => group_grad_dim::<V, 1>(cx, net, batch, sc),
        2 => group_grad_dim::<V, 2>(cx, net, batch, sc),
        3 => group_grad_dim::<V, 3>(cx, net, batch, sc),
        4 => group_grad_dim::<V, 4>(cx, net, batch, sc),
        5 => group_grad_dim::<V, 5>(cx, net, batch, sc),
        _ => group_grad_dim::<V, 0>(cx, net, batch, sc),
    }
}

/// GeLU (σ, σ′) of eight f32 values on the lane type of the step's kernel copy: the
/// per-instance kernel's `gelu_x8`, i.e. [`act_v`] with the (SD4) tanh, one IEEE operation
/// per lane, so every copy gives the same bits (simd.md (SD3)).
#[inline(always)]
fn gelu8<V: Lanes>(cx: V::Ctx, z: [f32; 8]) -> ([f32; 8], [f32; 8]) {
    let (o, g) = act_v(Activation::Gelu, V::from_array(cx, z));
    (o.to_array(), g.to_array())
}

/// [`group_grad`] for D = `DIM` (0: any D).
#[inline(always)]
fn group_grad_dim<V: Lanes, const DIM: usize>(
    cx: V::Ctx,
    net: &QuadraticNet,
    batch: &SparseBatch,
    sc: &mut GroupScratch,
) {
    let (n, d) = (net.n, if DIM == 0 { net.d } else { DIM });
    let m = sc.b.len();
    let scale = 1.0 / batch.len() as f64;
    let act = net.act;
    let square = act == Activation::Square;
    let expected = square && net.single_moments.len() == n;
    // σ(xₐ) of every entry, once for all members (GeLU in f32, eight at a time, as its kernel
    // does (QT8)).
    sc.sx.clear();
    if act == Activation::Gelu {
        for c in batch.value.chunks(8) {
            let mut lanes = [0f32; 8];
            lanes[..c.len()].copy_from_slice(c);
            let o = gelu8::<V>(cx, lanes).0;
            sc.sx.extend(o[..c.len()].iter().map(|&v| v as f64));
        }
    } else {
        sc.sx
            .extend(batch.value.iter().map(|&x| act.eval(x as f64).0));
    }
    let lane = |buf: &[f64], k: usize, j: usize| -> f64x4 {
        let at = k * m + j * LANES;
        f64x4::from([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
    };
    for j in 0..m / LANES {
        // This block's W, v, b as lanes.
        sc.wl.clear();
        sc.wl.extend((0..n * d).map(|k| lane(&sc.w, k, j)));
        let b = lane(&sc.b, 0, j);
        let wl = &sc.wl;
        sc.gl.clear();
        sc.gl.resize(n * d, f64x4::ZERO);
        sc.single.clear();
        sc.norm.clear();
        if square {
            // (QT6) ‖Wₐ‖² once per batch.
            sc.norm.extend(wl.chunks_exact(d).map(|wa| {
                let mut s = wa[0] * wa[0];
                for x in &wa[1..] {
                    s += *x * *x;
                }
                s
            }));
            sc.single.resize(n, f64x4::ZERO);
        }
        let (mut h, mut gh) = ([f64x4::ZERO; 8], [f64x4::ZERO; 8]);
        let (mut hv, mut ghv) = (Vec::new(), Vec::new());
        let (h, gh): (&mut [f64x4], &mut [f64x4]) = if DIM == 0 {
            hv.resize(d, f64x4::ZERO);
            ghv.resize(d, f64x4::ZERO);
            (&mut hv, &mut ghv)
        } else {
            (&mut h[..d], &mut gh[..d])
        };
        let (mut loss, mut gbs) = (f64x4::ZERO, f64x4::ZERO);
        let two = f64x4::splat(2.0);
        let mut empty = batch.zeros;
        let gelu = act == Activation::Gelu;
        if gelu {
            // (QT8) as the per-instance kernel: h = Wx of every row summed in f64 and rounded
            // to f32 (member-minor, four values per row and dimension), then σ(h) and σ′(h)
            // eight at a time, into the two halves after the h values.
            let len = (batch.rows() * d * LANES).next_multiple_of(8);
            sc.z.clear();
            sc.z.resize(3 * len, 0.0);
            let (zin, rest) = sc.z.split_at_mut(len);
            for (s, hz) in zin
                .chunks_exact_mut(d * LANES)
                .take(batch.rows())
                .enumerate()
            {
                h.iter_mut().for_each(|v| *v = f64x4::ZERO);
                for k in batch.start[s]..batch.start[s + 1] {
                    let a = batch.index[k] as usize;
                    let xa = f64x4::splat(batch.value[k] as f64);
                    for (hd, &wad) in h.iter_mut().zip(&wl[a * d..a * d + d]) {
                        *hd += xa * wad;
                    }
                }
                for (zc, hd) in hz.chunks_exact_mut(LANES).zip(h.iter()) {
                    for (z, v) in zc.iter_mut().zip(hd.to_array()) {
                        *z = v as f32;
                    }
                }
            }
            let (so, sd) = rest.split_at_mut(len);
            for ((c, oc), dc) in zin
                .chunks_exact(8)
                .zip(so.chunks_exact_mut(8))
                .zip(sd.chunks_exact_mut(8))
            {
                let mut a = [0f32; 8];
                a.copy_from_slice(c);
                let (o, g) = gelu8::<V>(cx, a);
                oc.copy_from_slice(&o);
                dc.copy_from_slice(&g);
            }
        }
        let widen = |v: &[f32]| f64x4::from([v[0] as f64, v[1] as f64, v[2] as f64, v[3] as f64]);
        // The σ and σ′ halves of the GeLU scratch start at `len` and 2·`len`.
        let len = sc.z.len() / 3;
        for s in 0..batch.rows() {
            let (lo, hi) = (batch.start[s], batch.start[s + 1]);
            if lo == hi {
                empty += 1;
                continue;
            }
            if square && hi == lo + 1 {
                // (QT6) one active feature a: ỹ − y = (‖Wₐ‖² − vₐ) x² + b.
                let a = batch.index[lo] as usize;
                let c = sc.norm[a] - lane(&sc.v, a, j);
                if expected {
                    // (QT7) E over xₐ of r², 2r and r xₐ².
                    let (m2, m4) = net.single_moments[a];
                    let (m2, m4) = (f64x4::splat(m2), f64x4::splat(m4));
                    loss += c * c * m4 + two * c * b * m2 + b * b;
                    gbs += two * (c * m2 + b);
                    sc.single[a] += c * m4 + b * m2;
                    continue;
                }
                let x2 = f64x4::splat((batch.value[lo] as f64).powi(2));
                let r = c * x2 + b;
                loss += r * r;
                gbs += two * r;
                sc.single[a] += r * x2;
                continue;
            }
            // (QT1) h = Wx over the active entries, y = Σ vᵢ σ(xᵢ).
            let mut y = f64x4::ZERO;
            let mut yt = b;
            if gelu {
                for k in lo..hi {
                    y += lane(&sc.v, batch.index[k] as usize, j) * f64x4::splat(sc.sx[k]);
                }
                let at = s * d * LANES;
                for (r, ghd) in gh.iter_mut().enumerate() {
                    yt += widen(&sc.z[len + at + r * LANES..]);
                    *ghd = widen(&sc.z[2 * len + at + r * LANES..]);
                }
            } else {
                h.iter_mut().for_each(|v| *v = f64x4::ZERO);
                for k in lo..hi {
                    let a = batch.index[k] as usize;
                    let xa = f64x4::splat(batch.value[k] as f64);
                    y += lane(&sc.v, a, j) * f64x4::splat(sc.sx[k]);
                    for (hd, &wad) in h.iter_mut().zip(&wl[a * d..a * d + d]) {
                        *hd += xa * wad;
                    }
                }
                for (hd, ghd) in h.iter().zip(gh.iter_mut()) {
                    let (o, dz) = act_x4(act, *hd);
                    yt += o;
                    *ghd = dz;
                }
            }
            let r = yt - y;
            loss += r * r;
            gbs += two * r;
            // (QT2) ∂L/∂Wₐ = 2 r σ′(h) xₐ.
            let c = two * r * f64x4::splat(scale);
            for k in lo..hi {
                let a = batch.index[k] as usize;
                let xa = f64x4::splat(batch.value[k] as f64);
                for (g, &dz) in sc.gl[a * d..a * d + d].iter_mut().zip(gh.iter()) {
                    *g += c * xa * dz;
                }
            }
        }
        if square {
            // (QT6) ∂L/∂Wₐ of the single-entry rows: (4/B) Σ r x² Wₐ.
            let four = f64x4::splat(4.0 * scale);
            for ((ga, wa), &sa) in sc
                .gl
                .chunks_exact_mut(d)
                .zip(wl.chunks_exact(d))
                .zip(sc.single.iter())
            {
                for (g, &wad) in ga.iter_mut().zip(wa) {
                    *g += four * sa * wad;
                }
            }
        }
        // (QT4) all-zero samples: ỹ = b, y = 0, r = b.
        loss += f64x4::splat(empty as f64) * b * b;
        gbs += f64x4::splat(empty as f64 * 2.0) * b;
        let gbs = (gbs * f64x4::splat(scale)).to_array();
        let loss = (loss * f64x4::splat(scale)).to_array();
        let base = j * LANES;
        sc.gb[base..base + LANES].copy_from_slice(&gbs);
        sc.loss[base..base + LANES].copy_from_slice(&loss);
        for (k, g) in sc.gl.iter().enumerate() {
            sc.gw[k * m + base..k * m + base + LANES].copy_from_slice(&g.to_array());
        }
    }
}
