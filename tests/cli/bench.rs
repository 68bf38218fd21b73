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

/// `--simd portable` and `--simd auto` print the same losses to the bit (the AVX2 copy of the
/// training step computes the same IEEE operations in the same order), and say which path ran.
#[test]
fn bench_tms_simd_paths_agree_bit_for_bit() {
    let run = |simd: &str| {
        let o = polycap(&[
            "bench",
            "tms",
            "--steps",
            "30",
            "--eval-batch",
            "1024",
            "--simd",
            simd,
            "--format",
            "json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str::<serde_json::Value>(&stdout(&o)).expect("JSON")
    };
    let portable = run("portable");
    let auto = run("auto");
    assert_eq!(portable["simd"], "portable");
    assert!(
        auto["simd"] == "avx2" || auto["simd"] == "portable",
        "{}",
        auto["simd"]
    );
    let losses = |v: &serde_json::Value| -> Vec<u64> {
        v["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|e| e["loss"].as_f64().expect("loss").to_bits())
            .collect()
    };
    assert_eq!(losses(&portable), losses(&auto));
    let o = polycap(&["bench", "tms", "--simd", "sse9"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
}

/// `bench tiny` on a tiny grid: JSON with the timing keys and the per-instance ratio.
#[test]
fn bench_tiny_small_json() {
    let o = super::polycap(&[
        "bench",
        "tiny",
        "--grid",
        "2x2",
        "--seeds",
        "2",
        "--steps",
        "20",
        "--per-instance",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", super::stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&super::stdout(&o)).expect("JSON");
    assert_eq!(v["models"], 8);
    assert!(v["wall_seconds"].as_f64().is_some_and(|t| t > 0.0));
    assert!(
        v["per_instance_over_lanes_per_model"]
            .as_f64()
            .is_some_and(|q| q > 0.0)
    );
    let o = super::polycap(&["bench", "tiny", "--features", "9"]);
    assert_eq!(o.status.code(), Some(2), "{}", super::stderr(&o));
}
