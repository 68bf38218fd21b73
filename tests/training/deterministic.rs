//! Deterministic Adam on the exact loss lands on the optimal allocation (spec (T4), §6.6).

use nalgebra::DMatrix;
use polycap::base::{FeatureSet, Magnitude, Objective};
use polycap::theory::capacity::capacities;
use polycap::theory::quadratic::ExpectedLoss;
use polycap::training::{ExactConfig, ExactTrainer};

/// The worked example: N = 6, D = 3, sparse uniform p = 0.1 (k = 18), v = (0.5, 1, …, 1):
/// C₁ = 7/33, C₂…₆ = 92/165 (spec §6.6).
#[test]
fn exact_training_reproduces_the_worked_example() {
    let f = FeatureSet::from_densities(
        vec![0.5, 1.0, 1.0, 1.0, 1.0, 1.0],
        &[0.1; 6],
        Magnitude::Uniform,
    )
    .expect("valid features");
    let obj = ExpectedLoss::new(&f, 3).expect("valid objective");
    let run = ExactTrainer::new(ExactConfig::default())
        .expect("valid config")
        .train_best(&obj, 3, 0)
        .expect("training runs");
    let c = capacities(&run.w);
    assert!((c[0] - 7.0 / 33.0).abs() < 0.01, "C₁ = {}", c[0]);
    for ci in &c[1..] {
        assert!((ci - 92.0 / 165.0).abs() < 0.01, "C = {ci}");
    }
    assert!((c.iter().sum::<f64>() - 3.0).abs() < 0.01);
    assert_eq!(run.w.shape(), (3, 6));
}

/// A hand-made objective L(W) = ‖W − A‖²_F: Adam must reach A.
struct Quadratic {
    a: DMatrix<f64>,
}

impl Objective for Quadratic {
    fn shape(&self) -> (usize, usize) {
        self.a.shape()
    }
    fn loss_grad(&self, w: &DMatrix<f64>, grad: &mut DMatrix<f64>) -> f64 {
        let r = w - &self.a;
        grad.copy_from(&(&r * 2.0));
        r.norm_squared()
    }
}

#[test]
fn exact_trainer_minimises_any_objective_and_rejects_bad_config() {
    let obj = Quadratic {
        a: DMatrix::from_row_slice(2, 3, &[1.0, -2.0, 0.5, 0.0, 3.0, -1.0]),
    };
    let cfg = ExactConfig {
        steps: 3000,
        lr: 0.05,
        ..ExactConfig::default()
    };
    let run = ExactTrainer::new(cfg)
        .expect("valid")
        .train(&obj, 1)
        .expect("runs");
    assert!(run.loss < 1e-8, "loss {}", run.loss);
    assert!((&run.w - &obj.a).amax() < 1e-4);
    let bad = ExactConfig {
        lr: -1.0,
        ..ExactConfig::default()
    };
    assert!(ExactTrainer::new(bad).is_err());
}
