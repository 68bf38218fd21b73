//! Batch loss and gradient of the quadratic family on sampled inputs:
//! ỹ = Σ_r σ((Wx)_r) + b against y = Σᵢ vᵢ σ(xᵢ), loss = batch mean of (ỹ − y)². With
//! σ(z) = z² this is the Redwood model (spec (Q1)–(Q3)) and the gradient is (Q10); ReLU and
//! GeLU give the Fig. 7 variants (spec §10.4).
//!
//! The kernel walks the active entries only: cost ∝ |active|·D per non-empty sample and O(1)
//! per all-zero sample (whose residual is b, since σ(0) = 0).
//!
//! Internal layout: `w` is N×D row-major (row i = Wᵢ, the column i of the spec's D×N W).
//!
//! Derivation: derivations/quadratic.md (QT1)–(QT4).

use super::data::SparseBatch;
use super::model::Activation;

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
        let d = self.d;
        let bsz = batch.len();
        let scale = 1.0 / bsz as f64;
        gw.iter_mut().for_each(|g| *g = 0.0);
        let mut h = vec![0f64; d];
        let mut gh = vec![0f64; d];
        let mut loss = 0f64;
        let mut gbs = 0f64;
        let mut empty = 0usize;
        for s in 0..bsz {
            let (lo, hi) = (batch.start[s], batch.start[s + 1]);
            if lo == hi {
                empty += 1;
                continue;
            }
            // (QT1) h = Wx over the active entries, y = Σ vᵢ σ(xᵢ).
            h.iter_mut().for_each(|v| *v = 0.0);
            let mut y = 0f64;
            for k in lo..hi {
                let a = batch.index[k] as usize;
                let xa = batch.value[k] as f64;
                y += self.importance[a] * self.act.eval(xa).0;
                for (hd, &wad) in h.iter_mut().zip(&w[a * d..(a + 1) * d]) {
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
                for (g, &dz) in gw[a * d..(a + 1) * d].iter_mut().zip(gh.iter()) {
                    *g += c * xa * dz;
                }
            }
        }
        // (QT4) all-zero samples: ỹ = b, y = 0, r = b.
        loss += empty as f64 * b * b;
        gbs += empty as f64 * 2.0 * b;
        gb[0] = gbs * scale;
        loss * scale
    }
}
