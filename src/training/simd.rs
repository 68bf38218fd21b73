//! Eight-lane vectors for the training kernels, and the run-time choice of instruction set.
//!
//! The hot kernels (dense and Gram autoencoder kernels, the batch samplers, the bulk uniform
//! generator) are written once, generic over the lane types of a `Path`. The training step
//! (`run.rs`) is compiled twice:
//!
//! * `Portable`: `wide`'s `f32x8`/`u32x8`, i.e. two 128-bit SSE2 registers per eight lanes on
//!   the x86-64 baseline (and `wide`'s own fallback elsewhere);
//! * `Avx2` (x86-64 only): `Y8`/`Yu8`, one 256-bit register per eight lanes, through
//!   `pulp`'s safe intrinsics, inside `pulp::x86::V3::vectorize` (a function compiled with the
//!   x86-64-v3 features). `pulp` hands out the `V3` token only after run-time detection, so
//!   this crate needs no `unsafe`.
//!
//! [`Simd`] chooses; `Isa::select` resolves the choice once per run. Both copies compute the
//! same IEEE-754 results bit for bit (SD3): every lane operation is the same correctly rounded
//! f32 operation or exact integer operation in both, applied in the same order; no fused
//! multiply-add is used (Rust never contracts a·b + c, and neither copy calls an FMA); the
//! reductions across lanes go through `to_array` in lane order.
//!
//! Derivation: derivations/simd.md (SD1)–(SD3).

use std::ops::{Add, AddAssign, BitXor, Div, Mul, Sub};

use wide::{CmpEq, CmpGt, CmpLt, f32x8, i32x8, u32x8};

#[cfg(target_arch = "x86_64")]
use pulp::x86::V3;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{__m256, __m256i, _CMP_EQ_OQ, _CMP_GT_OQ, _CMP_LT_OQ};

/// Lanes per vector.
pub const LANES: usize = 8;

/// Which instruction set the training kernels may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Simd {
    /// The widest copy the CPU supports, detected at run time (AVX2 on x86-64 when present,
    /// else portable). Results are bit-identical to [`Simd::Portable`] (SD3).
    #[default]
    Auto,
    /// The baseline copy (SSE2 on x86-64): for comparisons and timings.
    Portable,
}

impl Simd {
    /// Parses `auto` or `portable`.
    pub fn parse(s: &str) -> crate::base::Result<Self> {
        match s.trim() {
            "auto" => Ok(Simd::Auto),
            "portable" => Ok(Simd::Portable),
            other => Err(crate::base::Error::Parameter(format!(
                "unknown SIMD choice '{other}' (expected auto or portable)"
            ))),
        }
    }

    /// Name of the kernel copy this choice runs on this CPU: `"avx2"` or `"portable"`.
    pub fn path(self) -> &'static str {
        if Isa::select(self).avx2() {
            "avx2"
        } else {
            "portable"
        }
    }
}

/// The instruction set actually used by a run (SD2): the x86-64-v3 token (AVX2, FMA, …) when
/// the CPU has it and [`Simd::Auto`] asked for it. `pulp` builds the token only after run-time
/// detection, so holding one proves the AVX2 copy may run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Isa {
    #[cfg(target_arch = "x86_64")]
    pub(crate) v3: Option<V3>,
}

impl Isa {
    /// Resolves a choice once per run (SD2).
    pub(crate) fn select(simd: Simd) -> Isa {
        #[cfg(not(target_arch = "x86_64"))]
        let _ = simd; // one copy only
        Isa {
            #[cfg(target_arch = "x86_64")]
            v3: match simd {
                Simd::Auto => V3::try_new(),
                Simd::Portable => None,
            },
        }
    }

    /// True when the AVX2 copy was chosen.
    pub(crate) fn avx2(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self.v3.is_some()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}

/// The lane types of one compiled copy of the kernels (SD1): [`Portable`] for the baseline
/// copy, [`Avx2`] for the AVX2 copy.
pub(crate) trait Path {
    /// What building a vector needs: nothing, or the AVX2 token.
    type Ctx: Copy;
    /// Eight f32 lanes.
    type F: Lanes<Ctx = Self::Ctx>;
    /// Eight u32 lanes, converting to `F`.
    type U: Bits<F = Self::F, Ctx = Self::Ctx>;
}

/// The baseline copy: `wide`'s vectors (two 128-bit registers per eight lanes on SSE2).
pub(crate) struct Portable;

impl Path for Portable {
    type Ctx = ();
    type F = f32x8;
    type U = u32x8;
}

/// The AVX2 copy: one 256-bit register per eight lanes, through `pulp`'s safe intrinsics.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Path for Avx2 {
    type Ctx = V3;
    type F = Y8;
    type U = Yu8;
}

/// Lane-wise tanh u in f32 to a few ulp (SD4): u clamped to ±7.9053, then the odd rational
/// u·P(u²)/Q(u²), P of degree 6 and Q of degree 3 in u², evaluated by Horner's rule with
/// separate multiplies and adds (no FMA), so both kernel copies give the same bits (SD3).
#[inline(always)]
pub(crate) fn tanh<V: Lanes>(u: V) -> V {
    let cx = u.ctx();
    let k = |v: f32| V::splat(cx, v);
    let u = u.max(k(-TANH_CLAMP)).min(k(TANH_CLAMP));
    let u2 = u * u;
    let mut p = k(TANH_P[6]);
    for &c in TANH_P[..6].iter().rev() {
        p = p * u2 + k(c);
    }
    let mut q = k(TANH_Q[3]);
    for &c in TANH_Q[..3].iter().rev() {
        q = q * u2 + k(c);
    }
    u * p / q
}

/// Beyond ±`TANH_CLAMP` tanh rounds to ±1 in f32 (SD4).
const TANH_CLAMP: f32 = 7.905_311;

/// Numerator coefficients of (SD4), of u⁰ … u¹² in u·P(u²) (Eigen's float tanh).
#[allow(clippy::excessive_precision)]
const TANH_P: [f32; 7] = [
    4.893_524_558_917_86e-3,
    6.372_619_288_754_36e-4,
    1.485_722_357_179_79e-5,
    5.122_297_090_371_14e-8,
    -8.604_671_522_137_35e-11,
    2.000_187_904_824_77e-13,
    -2.760_768_477_423_55e-16,
];

/// Denominator coefficients of (SD4), of u⁰ … u⁶ in Q(u²).
#[allow(clippy::excessive_precision)]
const TANH_Q: [f32; 4] = [
    4.893_525_185_543_85e-3,
    2.268_434_632_439_00e-3,
    1.185_347_056_866_54e-4,
    1.198_258_394_667_02e-6,
];

/// Eight f32 lanes: the operations of the kernels, each one IEEE-754 f32 operation per lane.
pub(crate) trait Lanes:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> + AddAssign
{
    /// What building a vector needs.
    type Ctx: Copy;
    /// Every lane `v`.
    fn splat(c: Self::Ctx, v: f32) -> Self;
    /// From the lanes.
    fn from_array(c: Self::Ctx, a: [f32; LANES]) -> Self;
    /// The context this vector was built with.
    fn ctx(self) -> Self::Ctx;
    /// The lanes.
    fn to_array(self) -> [f32; LANES];
    /// Lane-wise `self > o ? self : o` (x86 `maxps`; used with o = 0, never NaN).
    fn max(self, o: Self) -> Self;
    /// Lane-wise `self < o ? self : o` (x86 `minps`; used with a constant o, never NaN).
    fn min(self, o: Self) -> Self;
    /// Lane-wise 1 where `self > 0`, else +0 (the ReLU derivative).
    fn positive(self) -> Self;
    /// Lane-wise `self < p ? then : +0`.
    fn lt_select(self, p: Self, then: Self) -> Self;
    /// Lane-wise `self == p ? then : +0` (inserts a value into one lane without a store and
    /// reload, tms.md (TM5)).
    fn eq_select(self, p: Self, then: Self) -> Self;
    /// Σ of the lanes in f64, in lane order.
    #[inline(always)]
    fn sum_f64(self) -> f64 {
        self.to_array().iter().map(|&x| x as f64).sum()
    }
}

/// Eight u32 lanes: the integer operations of the bulk generator (rng.md (R6)).
pub(crate) trait Bits: Copy + Add<Output = Self> + BitXor<Output = Self> {
    /// What building a vector needs.
    type Ctx: Copy;
    /// The matching f32 lanes.
    type F: Lanes;
    /// From the lanes.
    fn from_array(c: Self::Ctx, a: [u32; LANES]) -> Self;
    /// The lanes.
    fn to_array(self) -> [u32; LANES];
    /// Lane-wise left shift by `k` < 32.
    fn shl(self, k: u32) -> Self;
    /// Lane-wise rotation left by 0 < `k` < 32.
    fn rotl(self, k: u32) -> Self;
    /// Lane-wise uniform on [0, 1): the top 24 bits times 2⁻²⁴, both steps exact.
    fn unit_f32(self) -> Self::F;
    /// Lane-wise bitwise and (masks of the lane-masked generator, quadratic-lanes.md (QL3)).
    fn and(self, o: Self) -> Self;
}

impl Lanes for f32x8 {
    type Ctx = ();
    #[inline(always)]
    fn splat(_: (), v: f32) -> Self {
        f32x8::splat(v)
    }
    #[inline(always)]
    fn from_array(_: (), a: [f32; LANES]) -> Self {
        f32x8::new(a)
    }
    #[inline(always)]
    fn ctx(self) {}
    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        f32x8::to_array(self)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        f32x8::max(self, o)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        f32x8::min(self, o)
    }
    #[inline(always)]
    fn positive(self) -> Self {
        self.cmp_gt(f32x8::splat(0.0)) & f32x8::splat(1.0)
    }
    #[inline(always)]
    fn lt_select(self, p: Self, then: Self) -> Self {
        self.cmp_lt(p).blend(then, f32x8::splat(0.0))
    }
    #[inline(always)]
    fn eq_select(self, p: Self, then: Self) -> Self {
        self.cmp_eq(p).blend(then, f32x8::splat(0.0))
    }
}

impl Bits for u32x8 {
    type Ctx = ();
    type F = f32x8;
    #[inline(always)]
    fn from_array(_: (), a: [u32; LANES]) -> Self {
        u32x8::new(a)
    }
    #[inline(always)]
    fn to_array(self) -> [u32; LANES] {
        u32x8::to_array(self)
    }
    #[inline(always)]
    fn shl(self, k: u32) -> Self {
        self << k
    }
    #[inline(always)]
    fn rotl(self, k: u32) -> Self {
        (self << k) | (self >> (32 - k))
    }
    #[inline(always)]
    fn unit_f32(self) -> f32x8 {
        let top: i32x8 = bytemuck::cast(self >> 8u32);
        top.round_float() * f32x8::splat(1.0 / (1u32 << 24) as f32)
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        self & o
    }
}

/// Eight f32 lanes in one AVX register, with the token that proves AVX2 (SD1).
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Y8 {
    s: V3,
    v: __m256,
}

/// Eight u32 lanes in one AVX register, with the token that proves AVX2 (SD1).
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Yu8 {
    s: V3,
    v: __m256i,
}

#[cfg(target_arch = "x86_64")]
macro_rules! binop {
    ($t:ident, $tr:ident, $f:ident, $feat:ident, $intr:ident) => {
        impl $tr for $t {
            type Output = $t;
            #[inline(always)]
            fn $f(self, o: $t) -> $t {
                $t {
                    s: self.s,
                    v: self.s.$feat.$intr(self.v, o.v),
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
binop!(Y8, Add, add, avx, _mm256_add_ps);
#[cfg(target_arch = "x86_64")]
binop!(Y8, Sub, sub, avx, _mm256_sub_ps);
#[cfg(target_arch = "x86_64")]
binop!(Y8, Mul, mul, avx, _mm256_mul_ps);
#[cfg(target_arch = "x86_64")]
binop!(Y8, Div, div, avx, _mm256_div_ps);
#[cfg(target_arch = "x86_64")]
binop!(Yu8, Add, add, avx2, _mm256_add_epi32);
#[cfg(target_arch = "x86_64")]
binop!(Yu8, BitXor, bitxor, avx2, _mm256_xor_si256);

#[cfg(target_arch = "x86_64")]
impl AddAssign for Y8 {
    #[inline(always)]
    fn add_assign(&mut self, o: Y8) {
        *self = *self + o;
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for Y8 {
    type Ctx = V3;
    #[inline(always)]
    fn splat(s: V3, v: f32) -> Self {
        Y8 {
            s,
            v: s.avx._mm256_set1_ps(v),
        }
    }
    #[inline(always)]
    fn from_array(s: V3, a: [f32; LANES]) -> Self {
        Y8 {
            s,
            v: bytemuck::cast(a),
        }
    }
    #[inline(always)]
    fn ctx(self) -> V3 {
        self.s
    }
    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        bytemuck::cast(self.v)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        // maxps: self > o ? self : o, as wide's SSE `max` for a non-NaN o.
        Y8 {
            s: self.s,
            v: self.s.avx._mm256_max_ps(self.v, o.v),
        }
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        // minps: self < o ? self : o, as wide's SSE `min` for a non-NaN o.
        Y8 {
            s: self.s,
            v: self.s.avx._mm256_min_ps(self.v, o.v),
        }
    }
    #[inline(always)]
    fn positive(self) -> Self {
        let s = self.s;
        let gt = s
            .avx
            ._mm256_cmp_ps::<_CMP_GT_OQ>(self.v, s.avx._mm256_setzero_ps());
        Y8 {
            s,
            v: s.avx._mm256_and_ps(gt, s.avx._mm256_set1_ps(1.0)),
        }
    }
    #[inline(always)]
    fn lt_select(self, p: Self, then: Self) -> Self {
        let s = self.s;
        let lt = s.avx._mm256_cmp_ps::<_CMP_LT_OQ>(self.v, p.v);
        Y8 {
            s,
            v: s.avx._mm256_and_ps(lt, then.v),
        }
    }
    #[inline(always)]
    fn eq_select(self, p: Self, then: Self) -> Self {
        let s = self.s;
        let eq = s.avx._mm256_cmp_ps::<_CMP_EQ_OQ>(self.v, p.v);
        Y8 {
            s,
            v: s.avx._mm256_and_ps(eq, then.v),
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl Bits for Yu8 {
    type Ctx = V3;
    type F = Y8;
    #[inline(always)]
    fn from_array(s: V3, a: [u32; LANES]) -> Self {
        Yu8 {
            s,
            v: bytemuck::cast(a),
        }
    }
    #[inline(always)]
    fn to_array(self) -> [u32; LANES] {
        bytemuck::cast(self.v)
    }
    #[inline(always)]
    fn shl(self, k: u32) -> Self {
        let s = self.s;
        Yu8 {
            s,
            v: s.avx2
                ._mm256_sllv_epi32(self.v, s.avx._mm256_set1_epi32(k as i32)),
        }
    }
    #[inline(always)]
    fn rotl(self, k: u32) -> Self {
        let s = self.s;
        let l = s
            .avx2
            ._mm256_sllv_epi32(self.v, s.avx._mm256_set1_epi32(k as i32));
        let r = s
            .avx2
            ._mm256_srlv_epi32(self.v, s.avx._mm256_set1_epi32(32 - k as i32));
        Yu8 {
            s,
            v: s.avx2._mm256_or_si256(l, r),
        }
    }
    #[inline(always)]
    fn unit_f32(self) -> Y8 {
        let s = self.s;
        // (x >> 8) < 2²⁴ is a non-negative i32, converted exactly; the scale is a power of 2.
        let top = s.avx2._mm256_srli_epi32::<8>(self.v);
        Y8 {
            s,
            v: s.avx._mm256_mul_ps(
                s.avx._mm256_cvtepi32_ps(top),
                s.avx._mm256_set1_ps(1.0 / (1u32 << 24) as f32),
            ),
        }
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        Yu8 {
            s: self.s,
            v: self.s.avx2._mm256_and_si256(self.v, o.v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `eq_select` puts `then` exactly in the equal lanes and +0 elsewhere, on both copies.
    #[test]
    fn eq_select_inserts_one_lane() {
        let iota: [f32; LANES] = std::array::from_fn(|l| l as f32);
        let then = [0.25f32, -0.0, 1.5, f32::MIN_POSITIVE, 3.0, -7.0, 0.5, 1e30];
        for a in 0..LANES {
            let p = [a as f32; LANES];
            let want: [u32; LANES] =
                std::array::from_fn(|l| if l == a { then[l].to_bits() } else { 0 });
            let got = f32x8::from_array((), iota)
                .eq_select(f32x8::from_array((), p), f32x8::from_array((), then));
            assert_eq!(got.to_array().map(f32::to_bits), want);
            #[cfg(target_arch = "x86_64")]
            if let Some(v3) = V3::try_new() {
                let y = Y8::from_array(v3, iota)
                    .eq_select(Y8::from_array(v3, p), Y8::from_array(v3, then));
                assert_eq!(y.to_array().map(f32::to_bits), want);
            }
        }
    }

    /// (SD4): the lane tanh is within 5 · 10⁻⁷ of f64 tanh and odd, on both copies.
    #[test]
    fn lane_tanh_matches_f64() {
        let xs: Vec<f32> = (0..=40_000).map(|k| -10.0 + k as f32 * 5e-4).collect();
        for c in xs.chunks_exact(LANES) {
            let a: [f32; LANES] = c.try_into().expect("chunk");
            let t = tanh(f32x8::from_array((), a)).to_array();
            let m = tanh(f32x8::from_array((), a.map(|v| -v))).to_array();
            for ((&x, &tv), &mv) in a.iter().zip(&t).zip(&m) {
                let err = (tv as f64 - (x as f64).tanh()).abs();
                assert!(err < 5e-7, "tanh({x}) = {tv}, error {err}");
                assert_eq!(tv.to_bits(), (-mv).to_bits());
            }
            #[cfg(target_arch = "x86_64")]
            if let Some(v3) = V3::try_new() {
                let y = tanh(Y8::from_array(v3, a)).to_array();
                assert_eq!(y.map(f32::to_bits), t.map(f32::to_bits));
            }
        }
    }
}
