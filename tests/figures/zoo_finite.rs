//! (Z19) figure: the acceptance checks on geometry built by hand, and the quick figure's CSV
//! against the numbers it was drawn from.

use std::f64::consts::PI;

use nalgebra::DMatrix;
use polycap::figures::style::{FontChoice, Style, Width};
use polycap::figures::zoo_finite::{Fig, Params, bump, is_pentagon, is_t_gon};
use polycap::figures::{Figure, Parameters};
use polycap::theory::capacity::capacities;

use super::{col, read};

/// Unit vectors at the given angles (degrees), scaled by `r`.
fn at_angles(deg: &[f64], r: &[f64]) -> DMatrix<f64> {
    DMatrix::from_fn(2, deg.len(), |k, i| {
        let a = deg[i] * PI / 180.0;
        r[i] * if k == 0 { a.cos() } else { a.sin() }
    })
}

#[test]
fn t_gon_check_accepts_regular_polygons_only() {
    for t in [3usize, 5, 8] {
        let deg: Vec<f64> = (0..t).map(|k| 17.0 + 360.0 * k as f64 / t as f64).collect();
        let h = at_angles(&deg, &vec![2.0; t]);
        // (ZB9): every D_X of a regular T-gon is 2/T.
        let dx = capacities(&h);
        assert!(
            dx.iter().all(|c| (c - 2.0 / t as f64).abs() < 1e-12),
            "{dx:?}"
        );
        assert!(is_t_gon(&h, &dx), "T = {t}");
        // One point moved 15° off: the gaps fail.
        let mut bent = deg.clone();
        bent[0] += 15.0;
        let h = at_angles(&bent, &vec![2.0; t]);
        assert!(!is_t_gon(&h, &capacities(&h)), "bent T = {t}");
    }
    // Regular angles on two circles of different radii (the D = 2 failure mode): D_X of the
    // inner points is 1/(1 + 1 + ¼) = 4/9, not 2/3.
    let h = at_angles(&[0.0, 120.0, 240.0], &[1.0, 2.0, 1.0]);
    assert!((capacities(&h)[0] - 4.0 / 9.0).abs() < 1e-12);
    assert!(!is_t_gon(&h, &capacities(&h)));
}

#[test]
fn pentagon_check_needs_five_strong_features_with_the_largest_d_f() {
    let n = 40;
    let mut deg: Vec<f64> = (0..n).map(|i| 7.3 * i as f64).collect();
    let mut r = vec![0.05; n];
    for k in 0..5 {
        deg[3 + 7 * k] = 72.0 * k as f64 + 4.0;
        r[3 + 7 * k] = 1.0;
    }
    let w = at_angles(&deg, &r);
    let dx = vec![0.05; 10];
    let (ok, strong) = is_pentagon(&w, &capacities(&w), &dx);
    assert!(ok && strong == 5);
    // A data point with D_X ≥ 0.1 fails.
    assert!(!is_pentagon(&w, &capacities(&w), &[0.05, 0.2]).0);
    // Four strong features cannot form a pentagon.
    let mut four = r.clone();
    four[3] = 0.05;
    let w4 = at_angles(&deg, &four);
    assert_eq!(is_pentagon(&w4, &capacities(&w4), &dx), (false, 4));
}

#[test]
fn bump_needs_an_interior_peak_by_two_standard_errors() {
    let mean = [1.0, 1.0, 1.1, 0.9];
    // Margin 1.1 − 1.0 − 2·√(0.02² + 0.01²) ≈ 0.055 at index 2.
    let (k, m) = bump(&mean, &[0.01, 0.01, 0.02, 0.01]).expect("4 points");
    assert_eq!(k, 2);
    assert!((m - (0.1 - 2.0 * 0.0005f64.sqrt())).abs() < 1e-12, "{m}");
    // Error bars as large as the bump: no bump.
    assert!(bump(&mean, &[0.05; 4]).expect("4 points").1 < 0.0);
    // A monotone curve has no interior peak.
    assert!(bump(&[1.2, 1.1, 1.0], &[0.0; 3]).expect("3 points").1 < 0.0);
    assert!(bump(&[1.0, 2.0], &[0.0; 2]).is_none());
}

/// The CSV holds what the figure draws and checks: per T the mean and SE of the test loss
/// recomputed from the rows, D_X from the fit's hidden vectors, and the title's verdicts.
#[test]
fn quick_figure_csv_matches_its_fits() {
    let params = Params::quick();
    let data = Fig::data(&params).expect("trains");
    let (h, rows) = read(&Fig::csv(&data));
    assert_eq!(rows.len(), params.points.len() * params.data_seeds);
    let f = |s: &str| s.parse::<f64>().expect("number");
    for (k, row) in data.rows.iter().enumerate() {
        let mine = &rows[k * params.data_seeds..(k + 1) * params.data_seeds];
        let tests: Vec<f64> = mine.iter().map(|r| f(&r[col(&h, "test_loss")])).collect();
        let m = tests.iter().sum::<f64>() / tests.len() as f64;
        let se = (tests.iter().map(|x| (x - m).powi(2)).sum::<f64>()
            / (tests.len() - 1) as f64
            / tests.len() as f64)
            .sqrt();
        for r in mine {
            assert_eq!(r[col(&h, "T")], row.points.to_string());
            assert!((f(&r[col(&h, "mean_test_loss")]) - m).abs() < 1e-12);
            assert!((f(&r[col(&h, "se_test_loss")]) - se).abs() < 1e-12);
        }
        for (s, fit) in row.fits.iter().enumerate() {
            let dx: Vec<f64> = mine[s][col(&h, "d_x")].split(' ').map(f).collect();
            assert_eq!(dx, capacities(&fit.hidden()));
            assert_eq!(dx.len(), row.points);
            let check = &mine[s][col(&h, "t_gon_check")];
            if row.t_gon_checked {
                assert_eq!(check == "PASS", is_t_gon(&fit.hidden(), &dx));
            } else {
                assert!(check.is_empty());
            }
        }
    }
    let title = Fig::title(&data);
    let svg = Fig::render(&data, &Style::new(FontChoice::Serif, Width::TwoColumn));
    assert!(svg.contains("T = 30") && svg.contains("‖b‖₂"));
    assert_eq!(title.contains("T-gons PASS"), data.small_pass);
    assert_eq!(title.contains("bump PASS"), data.bump_pass());
}
