//! A small, fast, seedable generator: xoshiro256++ (Blackman & Vigna), seeded through
//! SplitMix64 from the pair (seed, stream index), so that every training instance owns an
//! independent stream whatever thread runs it.
//!
//! Derivation: derivations/rng.md (R1)–(R5).

use std::convert::Infallible;

use super::simd::{Bits, Lanes, Path, Portable};

/// xoshiro256++: 256 bits of state, period 2²⁵⁶ − 1, no weak low bits.
///
/// Derivation: derivations/rng.md (R1).
///
/// Bulk uniforms ([`Xoshiro::bulk_f32`]) come from eight further xoshiro128++ streams stepped
/// together as one 8-lane vector (R6).
#[derive(Debug, Clone)]
pub struct Xoshiro {
    s: [u64; 4],
    /// Eight xoshiro128++ streams: narrow[k] lane l is state word k of stream l (R6).
    narrow: [[u32; 8]; 4],
    fbuf: Vec<f32>,
}

/// SplitMix64 step: a bijective 64-bit mixer used to expand seeds (derivation (R2)).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Xoshiro {
    /// The stream for (`seed`, `stream`): the state is four SplitMix64 outputs of a start
    /// value that mixes both numbers, so distinct pairs give unrelated streams (R2).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut st = seed;
        let a = splitmix(&mut st);
        let mut st = a ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut s = [0u64; 4];
        for x in &mut s {
            *x = splitmix(&mut st);
        }
        if s.iter().all(|&x| x == 0) {
            s[0] = 1;
        }
        let mut narrow = [[0u32; 8]; 4];
        for lane in 0..8 {
            let (a, b) = (splitmix(&mut st), splitmix(&mut st));
            let words = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32 | 1];
            for (k, row) in narrow.iter_mut().enumerate() {
                row[lane] = words[k];
            }
        }
        Xoshiro {
            s,
            narrow,
            fbuf: Vec::new(),
        }
    }

    /// Next 64 random bits (R1).
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// `len` uniforms on [0, 1) with 24 random bits each, from eight interleaved
    /// xoshiro128++ streams stepped as one 8-lane vector (R6).
    pub fn bulk_f32(&mut self, len: usize) -> &[f32] {
        self.bulk_f32_in::<Portable>((), len)
    }

    /// [`Xoshiro::bulk_f32`] on the lane types of one kernel copy (simd.md (SD1)); inlined
    /// into its callers so that the AVX2 copy of a step gets an AVX2 copy of this loop.
    #[inline(always)]
    pub(crate) fn bulk_f32_in<P: Path>(&mut self, c: P::Ctx, len: usize) -> &[f32] {
        let padded = len.next_multiple_of(8);
        if self.fbuf.len() != padded {
            self.fbuf.clear();
            self.fbuf.resize(padded, 0.0);
        }
        let [mut s0, mut s1, mut s2, mut s3] = self.narrow.map(|a| P::U::from_array(c, a));
        for out in self.fbuf.chunks_exact_mut(8) {
            let r = xoshiro128pp(&mut s0, &mut s1, &mut s2, &mut s3);
            // The top 24 bits as a non-negative i32, converted exactly to f32.
            for (o, v) in out.iter_mut().zip(r.unit_f32().to_array()) {
                *o = v;
            }
        }
        self.narrow = [s0, s1, s2, s3].map(P::U::to_array);
        &self.fbuf[..len]
    }

    /// Uniform on [0, 1) with 53 random bits (R3).
    #[inline(always)]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Two independent uniforms on [0, 1) with 24 random bits each, from one draw (R3).
    #[inline(always)]
    pub fn uniform_pair_f32(&mut self) -> (f32, f32) {
        split_f32(self.next_u64())
    }

    /// Standard normal by the Marsaglia polar method (R4).
    pub fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * s.ln() / s).sqrt();
            }
        }
    }

    /// Number of failures before the next success of Bernoulli(p) trials, given
    /// `ln_q` = ln(1 − p) < 0: G = ⌊ln U / ln(1 − p)⌋ with U uniform on (0, 1] (R5).
    /// Saturates at `u64::MAX` (returned as a very large skip).
    #[inline(always)]
    pub fn geometric(&mut self, ln_q: f64) -> u64 {
        let u = 1.0 - self.uniform(); // (0, 1]
        // ln U / ln(1 − p) ≥ 0, so truncation is the floor (and saturates at u64::MAX).
        (u.ln() / ln_q) as u64
    }
}

/// Two uniforms on [0, 1) from the disjoint 24-bit fields 40…63 and 8…31 of `r` (R3).
#[inline(always)]
pub fn split_f32(r: u64) -> (f32, f32) {
    let scale = 1.0 / (1u32 << 24) as f32;
    (
        ((r >> 40) as u32 as i32) as f32 * scale,
        (((r >> 8) as u32 & 0xFF_FFFF) as i32) as f32 * scale,
    )
}

impl rand::TryRng for Xoshiro {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_u64() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let r = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        Ok(())
    }
}

/// One step of xoshiro128++ on every lane of a state (s0, s1, s2, s3) (R6): returns the
/// output word and moves the state on. The one copy of the step, for the bulk uniforms
/// ([`Xoshiro::bulk_f32`]), the autoencoder lanes and the quadratic lanes.
#[inline(always)]
pub(crate) fn xoshiro128pp<U: Bits>(s0: &mut U, s1: &mut U, s2: &mut U, s3: &mut U) -> U {
    let r = (*s0 + *s3).rotl(7) + *s0;
    let t = s1.shl(9);
    *s2 = *s2 ^ *s0;
    *s3 = *s3 ^ *s1;
    *s1 = *s1 ^ *s2;
    *s0 = *s0 ^ *s3;
    *s2 = *s2 ^ t;
    *s3 = s3.rotl(11);
    r
}

/// The generators against the outputs of the published reference implementations
/// (xoshiro.di.unimi.it: splitmix64.c, xoshiro256plusplus.c, xoshiro128plusplus.c), as
/// reproduced in the test vectors of the rand_xoshiro crate.
#[cfg(test)]
mod reference {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_implementation() {
        let mut state: u64 = 1_477_776_061_723_855_037;
        let expected: [u64; 6] = [
            1_985_237_415_132_408_290,
            2_979_275_885_539_914_483,
            13_511_426_838_097_143_398,
            8_488_337_342_461_049_707,
            15_141_737_807_933_549_159,
            17_093_170_987_380_407_015,
        ];
        for e in expected {
            assert_eq!(splitmix(&mut state), e);
        }
    }

    #[test]
    fn xoshiro256plusplus_matches_the_reference_implementation() {
        let mut rng = Xoshiro::new(0, 0);
        rng.s = [1, 2, 3, 4];
        let expected: [u64; 10] = [
            41_943_041,
            58_720_359,
            3_588_806_011_781_223,
            3_591_011_842_654_386,
            9_228_616_714_210_784_205,
            9_973_669_472_204_895_162,
            14_011_001_112_246_962_877,
            12_406_186_145_184_390_807,
            15_849_039_046_786_891_736,
            10_450_023_813_501_588_000,
        ];
        for e in expected {
            assert_eq!(rng.next_u64(), e);
        }
    }

    #[test]
    fn bulk_lanes_are_xoshiro128plusplus_of_the_reference_implementation() {
        // Every lane starts from the reference state (1, 2, 3, 4), so lane l of draw t is the
        // t-th reference output; its top 24 bits over 2²⁴ is the uniform.
        let mut rng = Xoshiro::new(0, 0);
        rng.narrow = [[1; 8], [2; 8], [3; 8], [4; 8]];
        let expected: [u32; 10] = [
            641,
            1_573_767,
            3_222_811_527,
            3_517_856_514,
            836_907_274,
            4_247_214_768,
            3_867_114_732,
            1_355_841_295,
            495_546_011,
            621_204_420,
        ];
        let u = rng.bulk_f32(8 * expected.len()).to_vec();
        for (t, e) in expected.iter().enumerate() {
            let want = (e >> 8) as f32 / (1u32 << 24) as f32;
            for lane in 0..8 {
                assert_eq!(
                    u[8 * t + lane].to_bits(),
                    want.to_bits(),
                    "draw {t} lane {lane}"
                );
            }
        }
    }
}
