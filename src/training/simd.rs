//! Eight-lane vectors for the training kernels, and the run-time choice of instruction set.
//!
//! The hot kernels (dense and Gram autoencoder kernels, the batch samplers, the bulk uniform
//! generator) are written once on [`F8`] / [`U8`], whose operations are plain lane-by-lane
//! loops the compiler turns into SIMD instructions. The training step is compiled twice: once
//! for the x86-64 baseline (SSE2: each eight-lane operation becomes two 4-lane instructions)
//! and once with AVX2 enabled (one 8-lane instruction). [`Simd`] chooses; the AVX2 copy is
//! taken only when the CPU reports AVX2 at run time. Other architectures use the portable copy.
//!
//! Both copies compute the same IEEE-754 results bit for bit: every lane operation is a single
//! correctly rounded f32 operation (or an exact integer one), the order of every sum is fixed
//! by the source, FMA is not enabled (Rust never contracts a·b + c on its own), and reductions
//! across lanes are written out in lane order. Only the instruction width differs.
//!
//! Derivation: derivations/simd.md (SD1)–(SD3).

use std::ops::{Add, AddAssign, BitXor, Mul, Sub};

use wide::{CmpGt, CmpLt, f32x8, i32x8, u32x8};

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

/// The instruction set actually used by a run (SD2). Only [`Isa::select`] builds one, and it
/// sets `avx2` only after the CPU reported AVX2: the dispatch in `run.rs` relies on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Isa {
    avx2: bool,
}

impl Isa {
    /// Resolves a choice once per run (SD2).
    pub(crate) fn select(simd: Simd) -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if simd == Simd::Auto && std::arch::is_x86_feature_detected!("avx2") {
                return Isa { avx2: true };
            }
        }
        let _ = simd;
        Isa { avx2: false }
    }

    /// True when the CPU has AVX2 and the AVX2 copy was chosen.
    pub(crate) fn avx2(self) -> bool {
        self.avx2
    }
}

/// The lane types of one compiled copy of the kernels (SD1): [`Portable`] for the baseline
/// copy, [`Avx2`] for the AVX2 copy.
pub(crate) trait Path {
    /// Eight f32 lanes.
    type F: Lanes;
    /// Eight u32 lanes, converting to `F`.
    type U: Bits<F = Self::F>;
}

/// The baseline copy: `wide`'s explicit 128-bit vectors (two per eight lanes on SSE2).
pub(crate) struct Portable;

impl Path for Portable {
    type F = f32x8;
    type U = u32x8;
}

/// The AVX2 copy: plain eight-lane arrays, which the compiler maps onto 256-bit registers
/// inside a function compiled with AVX2 (SD2).
pub(crate) struct Avx2;

impl Path for Avx2 {
    type F = F8;
    type U = U8;
}

/// Eight f32 lanes: the operations of the kernels, each one IEEE-754 f32 operation per lane.
pub(crate) trait Lanes:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + AddAssign
{
    /// Every lane `v`.
    fn splat(v: f32) -> Self;
    /// From the lanes.
    fn from_array(a: [f32; LANES]) -> Self;
    /// The lanes.
    fn to_array(self) -> [f32; LANES];
    /// Lane-wise `self > o ? self : o` (x86 `maxps`: `o` when either is NaN).
    fn max(self, o: Self) -> Self;
    /// Lane-wise 1 where `self > 0`, else +0 (the ReLU derivative).
    fn positive(self) -> Self;
    /// Lane-wise `self < p ? then : +0`.
    fn lt_select(self, p: Self, then: Self) -> Self;
    /// Σ of the lanes in f64, in lane order.
    #[inline(always)]
    fn sum_f64(self) -> f64 {
        self.to_array().iter().map(|&x| x as f64).sum()
    }
}

/// Eight u32 lanes: the integer operations of the bulk generator (rng.md (R6)).
pub(crate) trait Bits: Copy + Add<Output = Self> + BitXor<Output = Self> {
    /// The matching f32 lanes.
    type F: Lanes;
    /// From the lanes.
    fn from_array(a: [u32; LANES]) -> Self;
    /// The lanes.
    fn to_array(self) -> [u32; LANES];
    /// Lane-wise left shift by `k` < 32.
    fn shl(self, k: u32) -> Self;
    /// Lane-wise rotation left by 0 < `k` < 32.
    fn rotl(self, k: u32) -> Self;
    /// Lane-wise uniform on [0, 1): the top 24 bits times 2⁻²⁴, both steps exact.
    fn unit_f32(self) -> Self::F;
}

impl Lanes for f32x8 {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        f32x8::splat(v)
    }
    #[inline(always)]
    fn from_array(a: [f32; LANES]) -> Self {
        f32x8::new(a)
    }
    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        f32x8::to_array(self)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        f32x8::max(self, o)
    }
    #[inline(always)]
    fn positive(self) -> Self {
        self.cmp_gt(f32x8::splat(0.0)) & f32x8::splat(1.0)
    }
    #[inline(always)]
    fn lt_select(self, p: Self, then: Self) -> Self {
        self.cmp_lt(p).blend(then, f32x8::splat(0.0))
    }
}

impl Bits for u32x8 {
    type F = f32x8;
    #[inline(always)]
    fn from_array(a: [u32; LANES]) -> Self {
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
}

/// Eight f32 lanes as a plain array (SD1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[repr(C, align(32))]
pub(crate) struct F8(pub [f32; LANES]);

/// Eight u32 lanes as a plain array (SD1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[repr(C, align(32))]
pub(crate) struct U8(pub [u32; LANES]);

impl Lanes for F8 {
    #[inline(always)]
    fn splat(v: f32) -> F8 {
        F8([v; LANES])
    }
    #[inline(always)]
    fn from_array(a: [f32; LANES]) -> Self {
        F8(a)
    }
    #[inline(always)]
    fn to_array(self) -> [f32; LANES] {
        self.0
    }
    #[inline(always)]
    fn max(self, o: F8) -> F8 {
        let mut r = self.0;
        for (x, &y) in r.iter_mut().zip(&o.0) {
            *x = if *x > y { *x } else { y };
        }
        F8(r)
    }
    #[inline(always)]
    fn positive(self) -> F8 {
        let mut r = self.0;
        for x in r.iter_mut() {
            *x = if *x > 0.0 { 1.0 } else { 0.0 };
        }
        F8(r)
    }
    #[inline(always)]
    fn lt_select(self, p: F8, then: F8) -> F8 {
        let mut r = [0f32; LANES];
        for (((o, &x), &t), &q) in r.iter_mut().zip(&then.0).zip(&self.0).zip(&p.0) {
            *o = f32::from_bits(x.to_bits() & u32::from(t < q).wrapping_neg());
        }
        F8(r)
    }
}

macro_rules! lanewise {
    ($t:ident, $tr:ident, $f:ident, $op:expr) => {
        impl $tr for $t {
            type Output = $t;
            #[inline(always)]
            fn $f(self, o: $t) -> $t {
                let mut r = self.0;
                for (x, &y) in r.iter_mut().zip(&o.0) {
                    *x = $op(*x, y);
                }
                $t(r)
            }
        }
    };
}

lanewise!(F8, Add, add, |x: f32, y: f32| x + y);
lanewise!(F8, Sub, sub, |x: f32, y: f32| x - y);
lanewise!(F8, Mul, mul, |x: f32, y: f32| x * y);
lanewise!(U8, Add, add, |x: u32, y: u32| x.wrapping_add(y));
lanewise!(U8, BitXor, bitxor, |x: u32, y: u32| x ^ y);

impl AddAssign for F8 {
    #[inline(always)]
    fn add_assign(&mut self, o: F8) {
        *self = *self + o;
    }
}

impl Bits for U8 {
    type F = F8;
    #[inline(always)]
    fn from_array(a: [u32; LANES]) -> Self {
        U8(a)
    }
    #[inline(always)]
    fn to_array(self) -> [u32; LANES] {
        self.0
    }
    #[inline(always)]
    fn shl(self, k: u32) -> U8 {
        let mut r = self.0;
        for x in r.iter_mut() {
            *x <<= k;
        }
        U8(r)
    }
    #[inline(always)]
    fn rotl(self, k: u32) -> U8 {
        let mut r = self.0;
        for x in r.iter_mut() {
            *x = (*x << k) | (*x >> (32 - k));
        }
        U8(r)
    }
    #[inline(always)]
    fn unit_f32(self) -> F8 {
        let scale = 1.0 / (1u32 << 24) as f32;
        let mut r = [0f32; LANES];
        for (o, &x) in r.iter_mut().zip(&self.0) {
            *o = ((x >> 8) as i32) as f32 * scale;
        }
        F8(r)
    }
}
