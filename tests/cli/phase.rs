//! CLI tests of polycap phase.

use super::{polycap, stderr, stdout};

#[test]
fn csv_has_the_header_and_one_row_per_grid_point() {
    let o = polycap(&["phase", "--grid", "7x5", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "importance,density,kurtosis,capacity");
    assert_eq!(lines.len(), 1 + 7 * 5);
    // Both ends of both axes appear, and C₁ ∈ [0, 1].
    let rows: Vec<Vec<f64>> = lines[1..]
        .iter()
        .map(|l| l.split(',').map(|x| x.parse().expect("numeric")).collect())
        .collect();
    let has = |col: usize, x: f64| rows.iter().any(|r| (r[col] - x).abs() < 1e-12 * x);
    assert!(has(0, 0.01) && has(0, 100.0) && has(1, 0.001) && has(1, 1.0));
    for r in &rows {
        assert!((r[2] - 1.8 / r[1]).abs() < 1e-9 * r[2]);
        assert!((0.0..=1.0).contains(&r[3]));
    }
}

#[test]
fn grid_accepts_the_multiplication_sign_and_kurtosis_axis() {
    let o = polycap(&[
        "phase",
        "--grid",
        "4×3",
        "--kurtosis-axis",
        "1:100",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 1 + 12);
}

#[test]
fn json_carries_grid_boundaries_and_critical_point() {
    let o = polycap(&["phase", "--grid", "9x6", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert_eq!(v["capacity"].as_array().expect("rows").len(), 6);
    assert_eq!(v["capacity"][0].as_array().expect("cols").len(), 9);
    assert_eq!(
        v["boundaries"]["contours"]
            .as_array()
            .expect("levels")
            .len(),
        9
    );
    assert_eq!(
        v["boundaries"]["ignored"].as_array().expect("curve").len(),
        6
    );
    let cp = &v["critical_point"];
    assert!((cp["density"].as_f64().expect("p") - 0.6).abs() < 1e-12);
    assert!((cp["importance"].as_f64().expect("V") - 1.0).abs() < 1e-12);
    // V_full at p = 0.001 (last row? rows are increasing p: first row).
    let first = &v["boundaries"]["full"][0];
    let p = first[1].as_f64().expect("p");
    let k = 1.8 / p;
    let want = 5.0 * (k - 1.0) / (2.0 * k + 4.0);
    assert!((first[0].as_f64().expect("V") - want).abs() < 1e-12 * want);
}

#[test]
fn table_summarises_and_symbolic_prints_formulas() {
    let o = polycap(&["phase", "--grid", "20x20"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(t.contains("critical point: V = 1, density p = 0.6"));
    assert!(t.contains("density p = 1 − S"));
    assert!(t.contains("polysemantic"));
    let o = polycap(&["phase", "--symbolic"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(t.contains("V_ign(k) = 10/(3k + 1)"), "{t}");
    assert!(t.contains("V_ign(p) = 50p/(5p + 27)"), "{t}");
    assert!(t.contains("\\frac{5k - 5}{2k + 4}"), "{t}");
    let o = polycap(&[
        "phase",
        "--symbolic",
        "--format",
        "json",
        "--features",
        "8",
        "--dims",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    // N = 8, D = 2: V_ign = 14/((k−3)2 + 14) = 7/(k + 4).
    assert_eq!(v["boundaries"][0]["importance_of_kurtosis"], "7/(k + 4)");
}

#[test]
fn d_at_least_n_is_all_monosemantic() {
    let o = polycap(&[
        "phase",
        "--features",
        "4",
        "--dims",
        "4",
        "--grid",
        "3x3",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert_eq!(v["boundaries"]["applicable"], false);
    assert_eq!(v["phase_counts"]["monosemantic"], 9);
}

#[test]
fn bad_inputs_are_one_line_usage_errors() {
    for args in [
        vec!["phase", "--v-range", "5:1"],
        vec!["phase", "--v-range", "0:1"],
        vec!["phase", "--p-range", "0.1:2"],
        vec!["phase", "--p-range", "-1:0.5"],
        vec!["phase", "--grid", "0x10"],
        vec!["phase", "--grid", "10"],
        vec!["phase", "--input", "cauchy"],
        vec!["phase", "--features", "1"],
        vec!["phase", "--dims", "0"],
        vec!["phase", "--kurtosis-axis", "0.5:10"],
        vec!["phase", "--symbolic", "--dims", "6"],
        vec!["phase", "--symbolic", "--format", "csv"],
        vec!["phase", "--p-range", "0.1:1", "--kurtosis-axis", "2:10"],
    ] {
        let o = polycap(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.starts_with("error: ") && e.trim_end().lines().count() == 1,
            "{args:?}: {e}"
        );
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn out_writes_the_phase_diagram_svg_beside_the_table() {
    let dir = std::env::temp_dir().join(format!("polycap-phase-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let svg = dir.join("pd.svg");
    let svg_arg = svg.to_string_lossy().to_string();
    let o = polycap(&[
        "phase", "--grid", "12x10", "--format", "csv", "--out", &svg_arg, "--font", "sans",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().count(),
        1 + 12 * 10,
        "CSV still on stdout"
    );
    let text = std::fs::read_to_string(&svg).expect("SVG written");
    assert!(
        text.starts_with("<svg") || text.starts_with("<?xml"),
        "an SVG document"
    );
    assert!(text.contains("feature density p = 1 − S"), "axis label");
    assert!(text.contains("sans-serif"), "the chosen font family");
    assert!(text.trim_end().ends_with("</svg>"), "complete document");
    // A directory that does not exist: runtime error, exit 1, nothing half-written.
    let bad = dir.join("missing").join("x.svg");
    let o = polycap(&["phase", "--grid", "4x4", "--out", &bad.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
