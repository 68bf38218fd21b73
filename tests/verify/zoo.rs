//! The zoo acceptance checks: on hand-built geometries (each check against configurations
//! whose answer is known), then on small trainings — (Z7) anti-2 and corr-2, (Z9) dense and
//! sparse, (Z22) the regular pentagon at r = 1 and two digons at r = 10⁻².

use nalgebra::DMatrix;
use polycap::base::{FeatureSet, Magnitude};
use polycap::training::best_of;
use polycap::training::{Hidden, Init, Model, Pairs, TrainConfig, Trainer};
use polycap::verify::zoo::{
    Geometry, anti_pairs, correlated_cross, digon_axes_cos, geometry, inversions, neuron_dense,
    neuron_sparse, partners_adjacent, room_of_first, spearman,
};

fn polar(deg: &[f64], norm: &[f64]) -> DMatrix<f64> {
    DMatrix::from_fn(2, deg.len(), |r, i| {
        let a = deg[i].to_radians();
        norm[i] * if r == 0 { a.cos() } else { a.sin() }
    })
}

#[test]
fn checks_on_known_geometries() {
    // Two antipodal pairs on orthogonal axes; the same vectors paired as a cross.
    let anti = polar(&[0.0, 180.0, 90.0, 270.0], &[1.0; 4]);
    assert!(anti_pairs(&anti));
    assert!(!correlated_cross(&anti));
    let cross = polar(&[0.0, 90.0, 180.0, 270.0], &[1.0; 4]);
    assert!(correlated_cross(&cross));
    assert!(!anti_pairs(&cross));
    // Three correlated pairs side by side (partners 20° apart) vs shuffled.
    let side = polar(&[0.0, 20.0, 120.0, 140.0, 240.0, 260.0], &[1.0; 6]);
    assert!(partners_adjacent(&side));
    let shuffled = polar(&[0.0, 130.0, 120.0, 250.0, 240.0, 10.0], &[1.0; 6]);
    assert!(!partners_adjacent(&shuffled));
    // The trained optimum: partners 65° apart, pairs 55° apart (neighbours, not nearest).
    let trained = polar(&[0.0, 65.0, 120.0, 185.0, 240.0, 305.0], &[1.0; 6]);
    assert!(partners_adjacent(&trained));
    // Partners across the hexagon (120°, cos < 0) are not side by side.
    let across = polar(&[0.0, 120.0, 60.0, 180.0, 240.0, 300.0], &[1.0; 6]);
    assert!(!partners_adjacent(&across));
    // Regular pentagon; two digons with feature 1 dropped; a square with feature 1 short.
    let pent = polar(&[0.0, 72.0, 144.0, 216.0, 288.0], &[1.0; 5]);
    assert_eq!(geometry(&pent), Geometry::Pentagon);
    assert!((room_of_first(&pent) - 144.0).abs() < 1e-9);
    let digons = polar(&[0.0, 0.0, 180.0, 90.0, 270.0], &[0.01, 1.0, 1.0, 1.0, 1.0]);
    assert_eq!(geometry(&digons), Geometry::TwoDigons);
    assert!(digon_axes_cos(&digons).is_some_and(|c| c < 1e-9));
    let other = polar(&[0.0, 0.0, 90.0, 180.0, 270.0], &[0.3, 1.0, 1.0, 1.0, 1.0]);
    assert_eq!(geometry(&other), Geometry::Other);
    // Neurons: 5 monosemantic neurons on features 1–5, features 6–10 at 0 (dense (Z9));
    // a neuron mixing two features makes it polysemantic.
    let mut w = DMatrix::zeros(5, 10);
    for r in 0..5 {
        w[(r, r)] = 1.0;
    }
    assert!(neuron_dense(&w, 5));
    assert!(!neuron_sparse(&w, 5));
    w[(0, 5)] = 0.9;
    assert!(!neuron_dense(&w, 5));
    // Spearman: a monotone transform has ρ = 1; a reversal −1; one swap of 5 → 1 − 6·2/120.
    assert!((spearman(&[1.0, 2.0, 3.0], &[1.0, 8.0, 27.0]) - 1.0).abs() < 1e-12);
    assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.0, 2.0, 4.0, 3.0, 5.0]);
    assert!((rho - 0.9).abs() < 1e-12);
    assert_eq!(inversions(&[5, 4, 4, 2, 3, 0]), 1);
}

fn features(n: usize, p: &[f64], imp: Vec<f64>) -> FeatureSet {
    assert_eq!(p.len(), n);
    FeatureSet::from_densities(imp, p, Magnitude::Uniform).expect("valid features")
}

#[test]
fn z7_pairs_at_small_size() {
    // [A]'s anti-2 at its densest p and corr-2 at its densest p: antipodal pairs and a cross.
    for (pairs, p, check) in [
        (
            "anticorrelated:2",
            0.316,
            anti_pairs as fn(&DMatrix<f64>) -> bool,
        ),
        ("correlated:2", 0.05, correlated_cross),
    ] {
        let mut cfg = TrainConfig::defaults(Model::TmsRelu);
        cfg.steps = 4000;
        cfg.eval_batch = 8192;
        cfg.pairs = Pairs::parse(pairs).expect("parses");
        cfg.init = Init::Normal {
            std: (2.0f64 / 28.0).sqrt(),
        };
        let t = Trainer::new(Model::TmsRelu, 2, cfg).expect("valid config");
        let run = best_of(&t, &features(4, &[p; 4], vec![1.0; 4]), 2, 0, 0).expect("trains");
        assert!(check(&run.w), "{pairs} at p = {p}: W = {}", run.w);
    }
}

#[test]
fn z9_neuron_model_at_small_size() {
    let imp: Vec<f64> = (1..=10).map(|i| 0.75f64.powi(i)).collect();
    // [A]'s model and init with a faster protocol for the test (lr 1e-2, 2000 steps; the
    // figure uses [A]'s lr 1e-3 and 10 000 steps).
    let mut cfg = TrainConfig::defaults(Model::TmsNeuron);
    cfg.steps = 2000;
    cfg.lr = 1e-2;
    cfg.eval_batch = 8192;
    cfg.hidden = Hidden::Relu;
    cfg.init = Init::Normal {
        std: (2.0f64 / 120.0).sqrt(),
    };
    let t = Trainer::new(Model::TmsNeuron, 5, cfg).expect("valid config");
    let dense = best_of(&t, &features(10, &[0.75; 10], imp.clone()), 2, 0, 0).expect("trains");
    assert!(neuron_dense(&dense.w, 5), "p = 0.75: W = {}", dense.w);
    let sparse = best_of(&t, &features(10, &[0.01; 10], imp), 2, 0, 6).expect("trains");
    assert!(neuron_sparse(&sparse.w, 5), "p = 0.01: W = {}", sparse.w);
}

#[test]
fn z22_pentagon_ends_at_small_size() {
    let mut cfg = TrainConfig::defaults(Model::TmsRelu);
    cfg.steps = 6000;
    cfg.eval_batch = 8192;
    let t = Trainer::new(Model::TmsRelu, 2, cfg).expect("valid config");
    let p = 0.05;
    let regular = best_of(&t, &features(5, &[p; 5], vec![1.0; 5]), 4, 0, 0).expect("trains");
    let w = &regular.w;
    assert_eq!(geometry(w), Geometry::Pentagon, "r = 1: W = {w}");
    assert!((0..5).all(|i| (0.7..=1.3).contains(&w.column(i).norm())));
    let gaps = polycap::verify::zoo::angle_gaps(w).1;
    assert!(
        gaps.iter().all(|g| (g - 72.0).abs() <= 6.0),
        "gaps {gaps:?}"
    );
    let f = features(5, &[p * 0.01, p, p, p, p], vec![1.0; 5]);
    let sparse = best_of(&t, &f, 4, 0, 1).expect("trains");
    assert!(
        digon_axes_cos(&sparse.w).is_some_and(|c| c <= 0.1),
        "r = 0.01: W = {}",
        sparse.w
    );
}
