//! CLI tests of polycap bench (no timing assertions: only that it runs and reports).

use super::{polycap, stderr, stdout};

#[test]
fn bench_tms_reports_every_instance() {
    let o = polycap(&[
        "bench",
        "tms",
        "--steps",
        "20",
        "--eval-batch",
        "2048",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let r = v["results"].as_array().expect("results");
    assert_eq!(r.len(), 8);
    let p0 = r[0]["density"].as_f64().expect("density");
    let p7 = r[7]["density"].as_f64().expect("density");
    assert!((p0 - 1.0).abs() < 1e-12 && (p7 - 1e-3).abs() < 1e-12);
    assert!(
        r.iter()
            .all(|e| e["loss"].as_f64().is_some_and(f64::is_finite))
    );
    assert!(
        v["instance_steps_per_second"]
            .as_f64()
            .is_some_and(|x| x > 0.0)
    );
}

#[test]
fn bench_rejects_zero_steps() {
    let o = polycap(&["bench", "tms", "--steps", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error:"));
}
