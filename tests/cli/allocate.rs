//! CLI tests of `polycap allocate`: the worked example end to end, every SPEC form, each
//! bad input as a one-line usage error (exit 2), and D ≥ N.

use approx::assert_abs_diff_eq;
use serde_json::Value;

use super::{polycap, stderr, stdout};

fn json(args: &[&str]) -> Value {
    let mut all = vec!["allocate", "--format", "json"];
    all.extend_from_slice(args);
    let o = polycap(&all);
    assert!(o.status.success(), "{args:?} failed: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("stdout is JSON")
}

fn capacities(doc: &Value) -> Vec<f64> {
    doc["features"]
        .as_array()
        .expect("features array")
        .iter()
        .map(|f| f["capacity"].as_f64().expect("capacity is a number"))
        .collect()
}

#[test]
fn worked_example_end_to_end() {
    let doc = json(&[
        "--dims",
        "3",
        "--importance",
        "0.5,1,1,1,1,1",
        "--density",
        "0.1",
    ]);
    let lam = 187.0 / 114.0;
    assert_abs_diff_eq!(doc["lambda"].as_f64().expect("λ"), lam, epsilon = 1e-12);
    assert_abs_diff_eq!(
        doc["mu"].as_f64().expect("μ"),
        2.0 * lam * lam,
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(
        doc["total_capacity"].as_f64().expect("ΣC"),
        3.0,
        epsilon = 1e-12
    );
    let c = capacities(&doc);
    assert_eq!(c.len(), 6);
    assert_abs_diff_eq!(c[0], 7.0 / 33.0, epsilon = 1e-12);
    for &ci in &c[1..] {
        assert_abs_diff_eq!(ci, 92.0 / 165.0, epsilon = 1e-12);
    }
    let f0 = &doc["features"][0];
    assert_abs_diff_eq!(f0["density"].as_f64().expect("p"), 0.1, epsilon = 1e-15);
    assert_abs_diff_eq!(f0["kurtosis"].as_f64().expect("k"), 18.0, epsilon = 1e-12);
    assert_abs_diff_eq!(
        f0["sq_norm"].as_f64().expect("n"),
        119.0 / 342.0,
        epsilon = 1e-12
    );
    assert_eq!(f0["phase"], "polysemantic");
    // Every marginal benefit equals μ.
    for f in doc["features"].as_array().expect("array") {
        let m = f["marginal_benefit"].as_f64().expect("m");
        assert_abs_diff_eq!(m, 2.0 * lam * lam, epsilon = 1e-11);
    }
    // Loss 1462/171 (from the exact solver; also Σ Lᵢ* by hand: 6 features…).
    assert_abs_diff_eq!(
        doc["loss"].as_f64().expect("L*"),
        1462.0 / 171.0,
        epsilon = 1e-12
    );
}

#[test]
fn every_spec_form_gives_the_same_example() {
    let base = capacities(&json(&[
        "--dims",
        "3",
        "--importance",
        "0.5,1,1,1,1,1",
        "--density",
        "0.1,0.1,0.1,0.1,0.1,0.1",
    ]));
    let forms: [&[&str]; 3] = [
        &[
            "--importance",
            "first:0.5",
            "--density",
            "const:0.1",
            "--features",
            "6",
        ],
        &[
            "--importance",
            "first:0.5",
            "--kurtosis",
            "18",
            "--features",
            "6",
        ],
        &["--importance", "0.5,1,1,1,1,1", "--kurtosis", "const:18"],
    ];
    for form in forms {
        let mut args = vec!["--dims", "3"];
        args.extend_from_slice(form);
        let c = capacities(&json(&args));
        for (a, b) in c.iter().zip(&base) {
            assert_abs_diff_eq!(*a, *b, epsilon = 1e-12);
        }
    }
    // geom:R: vᵢ = Rⁱ, so the capacities are non-increasing.
    let doc = json(&[
        "--dims",
        "2",
        "--importance",
        "geom:0.8",
        "--density",
        "0.05",
        "--features",
        "5",
    ]);
    let c = capacities(&doc);
    assert_eq!(c.len(), 5);
    assert!(c.windows(2).all(|w| w[0] >= w[1] - 1e-15), "{c:?}");
    assert_abs_diff_eq!(c.iter().sum::<f64>(), 2.0, epsilon = 1e-12);
    assert!(doc["features"][0]["density"].is_number());
    // --kurtosis: density is null.
    let doc = json(&["--dims", "1", "--importance", "1,2", "--kurtosis", "5"]);
    assert!(doc["features"][0]["density"].is_null());
    // --input laplace: k = 6/p.
    let doc = json(&[
        "--dims",
        "1",
        "--importance",
        "1,2",
        "--density",
        "0.5",
        "--input",
        "laplace",
    ]);
    assert_abs_diff_eq!(
        doc["features"][0]["kurtosis"].as_f64().expect("k"),
        12.0,
        epsilon = 1e-12
    );
}

#[test]
fn d_at_least_n_is_valid_and_all_full() {
    let doc = json(&["--dims", "8", "--importance", "0.5,1,1", "--density", "0.1"]);
    assert!(capacities(&doc).iter().all(|&c| (c - 1.0).abs() < 1e-15));
    assert_abs_diff_eq!(doc["loss"].as_f64().expect("L*"), 0.0, epsilon = 1e-15);
    assert!(doc["lambda"].is_null() && doc["mu"].is_null());
}

#[test]
fn table_and_csv_formats() {
    let o = polycap(&[
        "allocate",
        "--dims",
        "3",
        "--importance",
        "first:0.5",
        "--density",
        "0.1",
        "--features",
        "6",
    ]);
    assert!(o.status.success());
    let t = stdout(&o);
    assert!(t.contains("polysemantic") && t.contains("λ") && t.contains("L*"));
    assert!(t.contains("p = density = 1 − S"));
    let o = polycap(&[
        "allocate",
        "--dims",
        "2",
        "--importance",
        "1,1,1",
        "--kurtosis",
        "1.8",
        "--format",
        "table",
    ]);
    assert!(stdout(&o).contains("ties were broken by lower feature index"));
    let o = polycap(&[
        "allocate",
        "--dims",
        "3",
        "--importance",
        "first:0.5",
        "--density",
        "0.1",
        "--features",
        "6",
        "--format",
        "csv",
    ]);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(lines[0].starts_with("feature,importance,density,kurtosis,capacity"));
    let c1: f64 = lines[1]
        .split(',')
        .nth(4)
        .expect("capacity column")
        .parse()
        .expect("number");
    assert_abs_diff_eq!(c1, 7.0 / 33.0, epsilon = 1e-12);
}

#[test]
fn bad_inputs_are_one_line_usage_errors() {
    let cases: [(&[&str], &str); 13] = [
        (
            &["--dims", "3", "--importance", "NaN,1", "--density", "0.1"],
            "NaN",
        ),
        (
            &["--dims", "3", "--importance", "inf,1", "--density", "0.1"],
            "inf",
        ),
        (
            &["--dims", "3", "--importance", "-1,1", "--density", "0.1"],
            "-1",
        ),
        (
            &["--dims", "1", "--importance", "1,1", "--density", "0"],
            "density",
        ),
        (
            &["--dims", "1", "--importance", "1,1", "--density", "1.5"],
            "1.5",
        ),
        (
            &["--dims", "1", "--importance", "1,1", "--kurtosis", "0.5"],
            "0.5",
        ),
        (
            &["--dims", "1", "--importance", "1,1", "--kurtosis", "0.9"],
            "kurtosis k = E[x⁴] of feature 1 must be finite and in [1, 1e12], got 0.9",
        ),
        (
            &["--dims", "0", "--importance", "1,1", "--kurtosis", "5"],
            "D",
        ),
        (
            &["--dims", "1", "--importance", "1,1,1", "--kurtosis", "5,6"],
            "expected 3",
        ),
        (
            &[
                "--dims",
                "1",
                "--importance",
                "1,1",
                "--density",
                "0.1",
                "--input",
                "cauchy",
            ],
            "cauchy",
        ),
        (
            &[
                "--dims",
                "1",
                "--importance",
                "1,1",
                "--density",
                "0.1",
                "--kurtosis",
                "5",
            ],
            "mutually exclusive",
        ),
        (&["--dims", "1", "--importance", "1,1"], "--density"),
        (
            &["--dims", "1", "--importance", "const:1", "--kurtosis", "5"],
            "--features",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["allocate"];
        all.extend_from_slice(args);
        let o = polycap(&all);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: '{needle}' not in {err}");
        assert!(stdout(&o).is_empty(), "{args:?}: wrote to stdout");
    }
}

#[cfg(feature = "exact")]
#[test]
fn exact_fractions_and_certificate() {
    let doc = json(&[
        "--dims",
        "3",
        "--importance",
        "first:0.5",
        "--density",
        "0.1",
        "--features",
        "6",
        "--exact",
    ]);
    assert_eq!(doc["lambda_exact"], "187/114");
    assert_eq!(doc["features"][0]["capacity_exact"], "7/33");
    assert_eq!(doc["features"][1]["capacity_exact"], "92/165");
    assert_eq!(doc["certified"], true);
    let doc = json(&[
        "--dims",
        "2",
        "--importance",
        "0.45,0.36,0.21,0.29",
        "--kurtosis",
        "2.45,7.9,4.6,5.2",
        "--exact",
    ]);
    assert_eq!(doc["features"][0]["capacity_exact"], "53/517");
    assert_eq!(doc["loss_exact"], "84813/192500");
    let o = polycap(&[
        "allocate",
        "--dims",
        "3",
        "--importance",
        "first:0.5",
        "--density",
        "0.1",
        "--features",
        "6",
        "--exact",
    ]);
    assert!(stdout(&o).contains("(exact 187/114)"));
}

#[cfg(not(feature = "exact"))]
#[test]
fn exact_without_the_feature_says_how_to_rebuild() {
    let o = polycap(&[
        "allocate",
        "--dims",
        "3",
        "--importance",
        "1,1",
        "--kurtosis",
        "5",
        "--exact",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--features exact"), "{err}");
}
