//! The AVX2 copy of the training step gives bit-identical runs to the portable copy
//! (derivations/simd.md (SD3)), for every kernel, activation and lane layout.

use polycap::base::{FeatureSet, Magnitude};
use polycap::training::{Kernel, Model, Run, Simd, TrainConfig, Trainer};

fn bits(r: &Run) -> (Vec<u64>, Vec<u64>, u64, Vec<u64>) {
    (
        r.w.iter().map(|x| x.to_bits()).collect(),
        r.bias.iter().map(|x| x.to_bits()).collect(),
        r.loss.to_bits(),
        r.loss_curve.iter().map(|(_, l)| l.to_bits()).collect(),
    )
}

fn run(model: Model, dims: usize, kernel: Kernel, simd: Simd, p: f64) -> Run {
    let n: usize = 11; // one full and one partial chunk of 8 features (Gram kernel padding)
    let imp: Vec<f64> = (0..n as i32).map(|i| 0.9f64.powi(i)).collect();
    let f = FeatureSet::from_densities(imp, &vec![p; n], Magnitude::Uniform).expect("valid");
    let mut cfg = TrainConfig::defaults(model);
    cfg.steps = 40;
    cfg.batch = 203; // a partial last block of 8 samples
    cfg.eval_batch = 517;
    cfg.curve_points = 40;
    cfg.kernel = kernel;
    cfg.simd = simd;
    Trainer::new(model, dims, cfg)
        .expect("valid trainer")
        .train(&f, 3, 1)
        .expect("trains")
}

/// Regression test for the run-time dispatch: forced portable vs auto (AVX2 on this CPU when
/// it has it) agree to the last bit on W, b, the evaluation loss and the whole loss curve.
#[test]
fn avx2_and_portable_runs_are_bit_identical() {
    // The dispatch itself: AVX2 exactly when the CPU has AVX2 and FMA, so that on such a CPU
    // the comparison below is AVX2 against portable — never portable against itself because
    // the dispatch silently fell back.
    #[cfg(target_arch = "x86_64")]
    {
        let v3 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("bmi2");
        if v3 {
            assert_eq!(
                Simd::Auto.path(),
                "avx2",
                "the CPU has AVX2 but auto chose portable"
            );
        }
        if !std::arch::is_x86_feature_detected!("avx2") {
            assert_eq!(Simd::Auto.path(), "portable", "no AVX2 but auto chose it");
            eprintln!("note: this CPU has no AVX2; only the portable copy is exercised");
        }
    }
    assert_eq!(Simd::Portable.path(), "portable");
    let cases = [
        (Model::TmsRelu, 5, Kernel::Dense, 1.0),  // all-active batch
        (Model::TmsRelu, 5, Kernel::Dense, 0.4),  // branch-free dense sampling
        (Model::TmsRelu, 3, Kernel::Dense, 0.05), // geometric walk over the dense buffer
        (Model::TmsRelu, 9, Kernel::Dense, 0.7),  // run-time D (heap vectors)
        (Model::TmsGelu, 4, Kernel::Dense, 0.5),
        (Model::TmsSquare, 2, Kernel::Dense, 0.5),
        (Model::Linear, 2, Kernel::Dense, 0.5),
        (Model::TmsRelu, 5, Kernel::Sparse, 0.3), // row-wise sparse sampling
        (Model::TmsRelu, 5, Kernel::Sparse, 0.02), // one walk over the rows
        (Model::TmsGelu, 3, Kernel::Sparse, 0.02),
        (Model::Quadratic, 3, Kernel::Auto, 0.2),
        (Model::QuadraticGelu, 3, Kernel::Sparse, 0.05), // GeLU in f32 lanes (QT8)
        (Model::QuadraticRelu, 9, Kernel::Sparse, 0.05), // run-time D, branch-free ReLU
    ];
    for (model, dims, kernel, p) in cases {
        let a = run(model, dims, kernel, Simd::Portable, p);
        let b = run(model, dims, kernel, Simd::Auto, p);
        assert!(
            a.loss.is_finite() && a.loss > 0.0,
            "{model:?} {kernel:?} p = {p}"
        );
        assert_eq!(
            bits(&a),
            bits(&b),
            "{model:?} D = {dims} {kernel:?} p = {p}"
        );
    }
}

#[test]
fn simd_choices_parse() {
    assert_eq!(Simd::parse("auto"), Ok(Simd::Auto));
    assert_eq!(Simd::parse(" portable"), Ok(Simd::Portable));
    assert!(Simd::parse("avx512").is_err());
    assert_eq!(TrainConfig::defaults(Model::TmsRelu).simd, Simd::Auto);
}
