//! The hidden activations (Z20): the spec's unit values, and the backward pass against central
//! differences of the forward pass (ReLU, SoLU, SoLU-LN with its γ and β).

use approx::assert_abs_diff_eq;
use polycap::training::Hidden;
use polycap::training::hidden::HiddenCache;

fn fwd(h: Hidden, z: &[f64], ln: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; z.len()];
    h.forward(z, ln, &mut out, &mut HiddenCache::default());
    out
}

#[test]
fn solu_unit_values_of_the_spec() {
    let cases: [(&[f64], &[f64]); 4] = [
        (&[4.0, 1.0, 4.0, 1.0], &[1.905, 0.024, 1.905, 0.024]),
        (&[4.0, 0.0, 0.0, 0.0], &[3.792, 0.0, 0.0, 0.0]),
        (&[1.0, 1.0, 1.0, 1.0], &[0.25, 0.25, 0.25, 0.25]),
        (&[-1.0, -1.0], &[-0.5, -0.5]),
    ];
    for (z, want) in cases {
        for (g, w) in fwd(Hidden::Solu, z, &[]).iter().zip(want) {
            assert_abs_diff_eq!(*g, *w, epsilon = 1e-3);
        }
    }
    // Independent closed form for the first case: 4·e⁴/(2e⁴ + 2e).
    let e4 = 4f64.exp();
    let want = 4.0 * e4 / (2.0 * e4 + 2.0 * 1f64.exp());
    assert_abs_diff_eq!(
        fwd(Hidden::Solu, &[4.0, 1.0, 4.0, 1.0], &[])[0],
        want,
        epsilon = 1e-12
    );
}

#[test]
fn solu_ln_normalises_and_is_scale_invariant_in_x_exp_x() {
    let z = [0.3, -1.2, 2.0, 0.7, -0.1];
    let ln = Hidden::SoluLn.init_params(5);
    let h = fwd(Hidden::SoluLn, &z, &ln);
    let mean = h.iter().sum::<f64>() / 5.0;
    let var = h.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 5.0;
    assert_abs_diff_eq!(mean, 0.0, epsilon = 1e-12);
    assert_abs_diff_eq!(var, 1.0, epsilon = 1e-3);
    // LN(SoLU(z)) = LN(z·exp z) up to ε (spec §14.6): compare with a direct normalisation.
    let u: Vec<f64> = z.iter().map(|x| x * x.exp()).collect();
    let m = u.iter().sum::<f64>() / 5.0;
    let s = (u.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 5.0).sqrt();
    for (a, b) in h.iter().zip(u.iter().map(|x| (x - m) / s)) {
        assert_abs_diff_eq!(*a, b, epsilon = 1e-3);
    }
    assert_abs_diff_eq!(fwd(Hidden::Relu, &[-1.0, 2.0], &[])[0], 0.0, epsilon = 0.0);
}

#[test]
fn backward_matches_central_differences() {
    let z = [0.4, -0.9, 1.3, 0.2, -0.3];
    let dh = [0.7, -0.2, 0.5, 1.1, -0.6];
    for act in Hidden::ALL {
        let mut ln = act.init_params(5);
        // Non-trivial γ, β.
        for (k, p) in ln.iter_mut().enumerate() {
            *p += 0.1 * (k as f64 + 1.0).sin();
        }
        let f = |z: &[f64], ln: &[f64]| -> f64 {
            fwd(act, z, ln).iter().zip(&dh).map(|(h, g)| h * g).sum()
        };
        let mut cache = HiddenCache::default();
        let mut h = [0.0; 5];
        act.forward(&z, &ln, &mut h, &mut cache);
        let mut dz = [0.0; 5];
        let mut dln = vec![0.0; ln.len()];
        act.backward(&z, &ln, &cache, &dh, &mut dz, &mut dln);
        let eps = 1e-6;
        for k in 0..5 {
            let (mut zp, mut zm) = (z, z);
            zp[k] += eps;
            zm[k] -= eps;
            let fd = (f(&zp, &ln) - f(&zm, &ln)) / (2.0 * eps);
            assert_abs_diff_eq!(dz[k], fd, epsilon = 1e-7);
        }
        for k in 0..ln.len() {
            let (mut lp, mut lm) = (ln.clone(), ln.clone());
            lp[k] += eps;
            lm[k] -= eps;
            let fd = (f(&z, &lp) - f(&z, &lm)) / (2.0 * eps);
            assert_abs_diff_eq!(dln[k], fd, epsilon = 1e-7);
        }
    }
}

#[test]
fn solu_ln_needs_four_dimensions() {
    assert!(Hidden::SoluLn.validate(3).is_err());
    assert!(Hidden::SoluLn.validate(4).is_ok());
    assert!(Hidden::Solu.validate(1).is_ok());
    assert!(Hidden::parse("gelu").is_err());
    assert_eq!(Hidden::parse("solu_ln").ok(), Some(Hidden::SoluLn));
}
