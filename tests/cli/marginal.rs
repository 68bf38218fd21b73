//! CLI tests of polycap marginal.

use super::{polycap, stderr, stdout};

#[test]
fn worked_example_table_and_json() {
    let o = polycap(&[
        "marginal",
        "--importance",
        "0.5,1,1,1,1,1",
        "--density",
        "0.1",
        "--dims",
        "3",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let c1 = v["features"][0]["capacity"].as_f64().expect("C1");
    assert!((c1 - 7.0 / 33.0).abs() < 1e-12);
    let lam = v["lambda"].as_f64().expect("λ");
    assert!((lam - 187.0 / 114.0).abs() < 1e-12);
    assert_eq!(
        v["features"][0]["benefit"].as_array().expect("curve").len(),
        101
    );
    let o = polycap(&[
        "marginal",
        "--importance",
        "first:0.5",
        "--features",
        "6",
        "--kurtosis",
        "18",
        "--dims",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("threshold μ = 2λ² = 5.3815"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn csv_rows_and_prescribed_lambda() {
    let o = polycap(&[
        "marginal",
        "--importance",
        "geom:2",
        "--features",
        "20",
        "--kurtosis",
        "100",
        "--lambda",
        "1e4",
        "--points",
        "11",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(
        lines[0],
        "kind,feature,importance,kurtosis,capacity,marginal_benefit"
    );
    // 20 curves × 11 points, 20 optimum dots, 1 threshold.
    assert_eq!(lines.len(), 1 + 20 * 11 + 20 + 1);
    assert_eq!(lines.last().expect("rows"), &"threshold,,,,,200000000");
}

#[test]
fn bad_inputs_are_one_line_usage_errors() {
    for args in [
        vec!["marginal", "--importance", "1,2", "--kurtosis", "5"],
        vec![
            "marginal",
            "--importance",
            "1,2",
            "--kurtosis",
            "5",
            "--density",
            "0.1",
            "--dims",
            "1",
        ],
        vec!["marginal", "--importance", "1,2", "--dims", "1"],
        vec![
            "marginal",
            "--importance",
            "1,2",
            "--kurtosis",
            "5",
            "--dims",
            "1",
            "--lambda",
            "2",
        ],
        vec![
            "marginal",
            "--importance",
            "1,2",
            "--kurtosis",
            "5",
            "--lambda",
            "-1",
        ],
        vec![
            "marginal",
            "--importance",
            "1,2,3",
            "--kurtosis",
            "5,5",
            "--dims",
            "1",
        ],
        vec![
            "marginal",
            "--importance",
            "1,2",
            "--kurtosis",
            "0.5",
            "--dims",
            "1",
        ],
        vec![
            "marginal",
            "--importance",
            "1,2",
            "--density",
            "2",
            "--dims",
            "1",
        ],
        vec![
            "marginal",
            "--importance",
            "1,2",
            "--density",
            "0.5",
            "--input",
            "cauchy",
            "--dims",
            "1",
        ],
        vec![
            "marginal",
            "--importance",
            "1,2",
            "--kurtosis",
            "5",
            "--dims",
            "0",
        ],
        vec![
            "marginal",
            "--importance",
            "1,2",
            "--kurtosis",
            "5",
            "--dims",
            "1",
            "--points",
            "1",
        ],
        vec![
            "marginal",
            "--importance",
            "geom:2",
            "--kurtosis",
            "5",
            "--dims",
            "1",
        ],
    ] {
        let o = polycap(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.starts_with("error: ") && e.trim_end().lines().count() == 1,
            "{args:?}: {e}"
        );
    }
}
