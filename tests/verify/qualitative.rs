//! The qualitative comparison of models without a closed-form theory (V8).

use polycap::training::{Model, TrainConfig};
use polycap::verify::qualitative::{PLATEAU, TrainedGrid};
use polycap::verify::{GridSpec, Protocol, QuadraticTheory, departure, train_grid};

fn synthetic(trained: Vec<f64>, theory: Vec<f64>) -> TrainedGrid {
    let grid = GridSpec::fig4(2, 2).expect("valid grid");
    TrainedGrid {
        grid,
        model: "synthetic".into(),
        trained_all: trained.iter().map(|c| vec![*c]).collect(),
        theory_all: theory.iter().map(|c| vec![*c]).collect(),
        trained,
        theory,
    }
}

#[test]
fn departure_counts_by_hand() {
    // Rows p = 0.001 (k = 1800, sparse), p = 1 (k = 1.8, dense); columns V = 0.01, 100.
    let t = synthetic(vec![0.5, 1.0, 0.0, 0.48], vec![0.0, 1.0, 0.0, 1.0]);
    let d = departure(&t);
    assert_eq!(d.points, 4);
    assert!((d.plateau_trained - 0.5).abs() < 1e-12);
    assert!(d.plateau_theory.abs() < 1e-12);
    assert!((d.departed - 0.5).abs() < 1e-12);
    assert!((d.departed_sparse - 0.5).abs() < 1e-12);
    assert!((d.departed_dense - 0.5).abs() < 1e-12);
    assert!((d.kept_when_ignored - 0.25).abs() < 1e-12);
    assert!((d.shared_when_full - 0.25).abs() < 1e-12);
    assert!((d.mean_abs_diff - (0.5 + 0.52) / 4.0).abs() < 1e-12);
    assert!(PLATEAU.0 < 0.5 && 0.5 < PLATEAU.1);
}

#[test]
fn identical_diagrams_do_not_depart() {
    let t = synthetic(vec![0.2, 1.0, 0.0, 0.5], vec![0.2, 1.0, 0.0, 0.5]);
    let d = departure(&t);
    assert!(d.departed.abs() < 1e-15 && d.mean_abs_diff.abs() < 1e-15);
    assert!((d.plateau_trained - d.plateau_theory).abs() < 1e-15);
}

#[test]
fn trained_tms_grid_has_the_right_shape() {
    let mut config = TrainConfig::defaults(Model::TmsRelu);
    config.steps = 300;
    config.eval_batch = 1024;
    let protocol = Protocol::Sampled {
        model: Model::TmsRelu,
        config,
    };
    let grid = GridSpec::fig4(2, 2).expect("valid grid");
    let t = train_grid(&protocol, &QuadraticTheory, &grid, 1, 0, &|| ()).expect("trains");
    assert_eq!(t.trained.len(), 4);
    assert!(t.trained.iter().all(|c| (0.0..=1.0 + 1e-12).contains(c)));
    assert!(t.trained_all.iter().all(|c| c.len() == 6));
}
