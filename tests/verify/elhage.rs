//! The ReLU-output model against (E11)/(E12)/(E13): classification of hand-built weights,
//! the analytic phases against the closed-form inequalities, a small trained grid that agrees,
//! a wrong theory that is rejected, boundary distances and shard merging.

use nalgebra::DMatrix;
use polycap::base::Result;
use polycap::theory::elhage::{Configuration, ToyModel, configuration_weights};
use polycap::verify::Shard;
use polycap::verify::elhage::{
    Classified, ClosedForm, ElhageReport, ElhageTheory, ElhageVerdict, ElhageVerifier, Thresholds,
    boundary_distance, classify, outside_closed_form,
};

fn th() -> Thresholds {
    Thresholds::default()
}

/// The candidate weights of (EL4)/(EL7), scaled and rotated as training leaves them, are
/// classified as their configuration.
#[test]
fn hand_built_weights_classify_as_their_configuration() {
    for model in [ToyModel::TwoInOne, ToyModel::ThreeInTwo] {
        for &c in model.configurations() {
            let (w, _) = configuration_weights(model, c, 0.3).expect("weights");
            // A rotation (m = 2) and a norm change, as trained models have.
            let rot = if model.dims() == 2 {
                let a: f64 = 0.7;
                DMatrix::from_row_slice(2, 2, &[a.cos(), -a.sin(), a.sin(), a.cos()])
            } else {
                DMatrix::from_element(1, 1, -1.0)
            };
            let w = rot * w * 1.07;
            assert_eq!(
                classify(model, &w, &th()),
                Classified::of(c),
                "{model:?} {c:?}"
            );
        }
    }
    // The other feature of the pair ignored counts as "feature 1 ignored" (features 1, 2 are
    // interchangeable).
    let w = DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    assert_eq!(
        classify(ToyModel::ThreeInTwo, &w, &th()),
        Classified::FirstIgnored
    );
    // Shared direction: the dense family of spec §9.4 (‖W₁‖² 0.76, ‖W₂‖² 0.25).
    let w = DMatrix::from_row_slice(2, 3, &[0.87, 0.5, 0.0, 0.0, 0.0, 1.0]);
    assert_eq!(
        classify(ToyModel::ThreeInTwo, &w, &th()),
        Classified::SharedDirection
    );
    let w = DMatrix::from_row_slice(1, 2, &[0.8, 0.6]);
    assert_eq!(
        classify(ToyModel::TwoInOne, &w, &th()),
        Classified::SharedDirection
    );
    // Nothing represented, or three features at 120°: other.
    let w = DMatrix::from_row_slice(1, 2, &[0.1, 0.05]);
    assert_eq!(classify(ToyModel::TwoInOne, &w, &th()), Classified::Other);
    let s = 3f64.sqrt() / 2.0;
    let w = DMatrix::from_row_slice(2, 3, &[1.0, -0.5, -0.5, 0.0, s, -s]);
    assert_eq!(classify(ToyModel::ThreeInTwo, &w, &th()), Classified::Other);
    // Wrong shape: other.
    let w = DMatrix::from_row_slice(1, 3, &[1.0, 0.0, 0.0]);
    assert_eq!(classify(ToyModel::TwoInOne, &w, &th()), Classified::Other);
}

/// (E11)/(E12) written out as inequalities, independently of the loss comparison in the
/// library.
fn inequality(model: ToyModel, r: f64, p: f64) -> Configuration {
    if r < 1.0 {
        if p < 4.0 * r / (2.0 + 5.0 * r) {
            Configuration::ExtraAntipodal
        } else {
            Configuration::ExtraIgnored
        }
    } else {
        match model {
            ToyModel::TwoInOne if p < 4.0 / (5.0 + 2.0 * r) => Configuration::ExtraAntipodal,
            ToyModel::TwoInOne => Configuration::FirstIgnored,
            ToyModel::ThreeInTwo if p < 4.0 / 7.0 => Configuration::PairAntipodal,
            ToyModel::ThreeInTwo => Configuration::FirstIgnored,
        }
    }
}

#[test]
fn analytic_phases_follow_the_closed_form_inequalities() {
    let mut n = 0;
    for model in [ToyModel::TwoInOne, ToyModel::ThreeInTwo] {
        for i in 0..41 {
            for j in 0..37 {
                let r = 10f64.powf(-1.0 + 2.0 * i as f64 / 40.0 + 1e-3);
                let p = 10f64.powf(-2.0 + 2.0 * j as f64 / 36.0 - 1e-3);
                // Skip points within 10⁻⁹ of a boundary, where rounding decides.
                let want = inequality(model, r, p);
                let got = ClosedForm.predict(model, r, p).expect("valid point");
                assert_eq!(got, want, "{model:?} r = {r}, p = {p}");
                n += 1;
            }
        }
    }
    assert_eq!(n, 2 * 41 * 37);
    assert!(outside_closed_form(ToyModel::ThreeInTwo, 2.0, 0.7));
    assert!(!outside_closed_form(ToyModel::ThreeInTwo, 2.0, 0.5));
    assert!(!outside_closed_form(ToyModel::TwoInOne, 2.0, 0.7));
}

#[test]
fn boundary_distance_in_decades() {
    // The line r = 1 from p = 0.01 to 1: a point at r = 2 is log₁₀ 2 away.
    let line = vec![vec![(1.0, 0.01), (1.0, 1.0)]];
    assert!((boundary_distance(&line, 2.0, 0.1) - 2f64.log10()).abs() < 1e-12);
    // (E11) itself: points on the curve have distance 0.
    let lines = ClosedForm
        .boundaries(ToyModel::TwoInOne, (0.1, 10.0), (0.01, 1.0))
        .expect("curves");
    let r: f64 = 0.5;
    let p = 4.0 * r / (2.0 + 5.0 * r);
    assert!(boundary_distance(&lines, r, p) < 1e-3);
    assert!(boundary_distance(&lines, r, p / 10.0) > 0.5);
}

fn verifier(model: ToyModel, seeds: usize) -> ElhageVerifier {
    let mut v = ElhageVerifier::new(model, seeds, 3).expect("valid");
    v.training.steps = 4000;
    v
}

#[test]
fn small_trained_grids_agree() {
    for model in [ToyModel::TwoInOne, ToyModel::ThreeInTwo] {
        let v = verifier(model, 3);
        let report = v
            .run((0.1, 10.0), (0.02, 1.0), 4, 4, None, &|_| {})
            .expect("runs");
        let s = &report.summary;
        assert_eq!(s.points, 16);
        assert!(s.checked >= 8, "{model:?}: {s:?}");
        assert!(report.passed(), "{model:?}: {s:?}");
        assert!(
            s.loss_checked >= 3 && s.loss_agree == s.loss_checked,
            "{s:?}"
        );
    }
}

/// A theory that moves the (E11) boundary up by a factor: rejected.
struct Shifted(f64);

impl ElhageTheory for Shifted {
    fn name(&self) -> String {
        format!("(E11) with p × {}", self.0)
    }
    fn predict(&self, model: ToyModel, ratio: f64, density: f64) -> Result<Configuration> {
        ClosedForm.predict(model, ratio, (density / self.0).min(1.0))
    }
    fn boundaries(
        &self,
        model: ToyModel,
        ratio_range: (f64, f64),
        density_range: (f64, f64),
    ) -> Result<Vec<Vec<(f64, f64)>>> {
        let lines = ClosedForm.boundaries(model, ratio_range, density_range)?;
        Ok(lines
            .into_iter()
            .map(|l| l.into_iter().map(|(r, p)| (r, p * self.0)).collect())
            .collect())
    }
}

#[test]
fn wrong_theory_is_rejected() {
    let mut v = verifier(ToyModel::TwoInOne, 2);
    v.theory = Box::new(Shifted(0.1));
    let report = v
        .run((0.1, 10.0), (0.02, 1.0), 4, 4, None, &|_| {})
        .expect("runs");
    assert!(!report.passed(), "{:?}", report.summary);
    assert!(report.summary.fraction < 0.8, "{:?}", report.summary);
    assert!(
        report
            .points
            .iter()
            .any(|p| p.verdict == ElhageVerdict::Disagree && !p.reasons.is_empty())
    );
}

#[test]
fn shards_merge_to_the_unsharded_report() {
    let mut v = verifier(ToyModel::TwoInOne, 2);
    v.training.steps = 200;
    let run = |s: Option<Shard>| {
        v.run((0.1, 10.0), (0.01, 1.0), 3, 3, s, &|_| {})
            .expect("runs")
    };
    let full = run(None);
    let shards: Vec<ElhageReport> = (0..2)
        .map(|i| {
            let r = run(Some(Shard::new(i, 2).expect("shard")));
            serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("parses")
        })
        .collect();
    let merged = ElhageReport::merge(shards.clone()).expect("merges");
    assert_eq!(merged, full);
    assert!(ElhageReport::merge(shards[..1].to_vec()).is_err());
    let mut twice = shards.clone();
    twice.push(shards[0].clone());
    assert!(ElhageReport::merge(twice).is_err());
}

#[test]
fn bad_ranges_are_refused() {
    let v = verifier(ToyModel::TwoInOne, 1);
    assert!(v.run((0.1, 10.0), (0.1, 2.0), 2, 2, None, &|_| {}).is_err());
    assert!(v.run((0.0, 10.0), (0.1, 1.0), 2, 2, None, &|_| {}).is_err());
    assert!(ElhageVerifier::new(ToyModel::TwoInOne, 0, 0).is_err());
}
