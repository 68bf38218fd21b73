//! A differentiable objective of an embedding matrix: the seam between theory (which knows
//! closed-form expected losses) and training (which knows optimisers). Neither room imports
//! the other; the caller plugs one into the other through this trait.

use nalgebra::DMatrix;

/// A scalar loss L(W) of a D×N embedding matrix W (columns = features) with its gradient.
pub trait Objective: Sync {
    /// Shape (D, N) of the W this objective takes.
    fn shape(&self) -> (usize, usize);

    /// Returns L(W) and writes ∂L/∂W into `grad` (same shape as `w`).
    fn loss_grad(&self, w: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64;

    /// L(W) alone.
    fn loss(&self, w: &DMatrix<f64>) -> f64 {
        let mut g = DMatrix::zeros(w.nrows(), w.ncols());
        self.loss_grad(w, &mut g)
    }
}
