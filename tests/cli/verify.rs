//! CLI tests of polycap verify: exit codes 0/1/2, shard + merge.

use super::{polycap, stderr, stdout};

const SMALL: [&str; 4] = ["--grid", "3x2", "--seeds", "2"];

#[test]
fn agreeing_grid_exits_0_with_a_summary() {
    let o = polycap(&[&["verify"][..], &SMALL].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("points off the boundaries agree"), "{out}");
    assert!(out.contains("density p = 1 − S"));
}

#[test]
fn untrained_grid_exits_1_with_one_line() {
    let o = polycap(&[
        "verify",
        "--grid",
        "2x2",
        "--p-range",
        "0.01:0.1",
        "--steps",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("disagreement"), "{err}");
    assert_eq!(err.trim().lines().count(), 1);
    // --exit-zero keeps the verdicts in the report but exits 0.
    let o = polycap(&[
        "verify",
        "--grid",
        "2x2",
        "--p-range",
        "0.01:0.1",
        "--steps",
        "1",
        "--exit-zero",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("DISAGREE"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["verify", "--grid", "0x3"][..],
        &["verify", "--model", "tms-gelu"],
        &["verify", "--shard", "3/2"],
        &["verify", "--p-range", "0.1:2"],
        &["verify", "--seeds", "0"],
        &["verify", "--format", "csv"],
        &["verify", "--importance", "1,1", "--density", "0"],
        &["verify", "--expected-singles"],
    ] {
        let o = polycap(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("error:"), "{args:?}");
    }
}

#[test]
fn single_point_table() {
    let o = polycap(&[
        "verify",
        "--importance",
        "first:0.5",
        "--density",
        "const:0.1",
        "--features",
        "6",
        "--steps",
        "6000",
        "--seeds",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("verdict: agree"), "{out}");
    assert!(out.contains("0.2121"), "{out}");
}

#[test]
fn shards_merge_to_the_unsharded_json() {
    let dir = std::env::temp_dir().join(format!("polycap-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let base = [&["verify"][..], &SMALL, &["--format", "json"]].concat();
    let full = polycap(&base);
    assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
    let mut files = Vec::new();
    for i in 0..2 {
        let path = dir.join(format!("shard{i}.json"));
        let shard = format!("{i}/2");
        let p = path.to_str().expect("utf-8 path").to_string();
        let o = polycap(&[&base[..], &["--shard", &shard, "--out", &p]].concat());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        files.push(p);
    }
    let merged = polycap(&["verify", "merge", &files[0], &files[1]]);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    assert_eq!(stdout(&merged), stdout(&full));
    // A shard missing, or given twice: exit 2.
    let o = polycap(&["verify", "merge", &files[0]]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("miss"));
    let o = polycap(&["verify", "merge", &files[0], &files[0], &files[1]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("overlap"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `--model tms-relu`: bad sizes, ranges and inapplicable flags are one-line usage errors
/// naming what is supported.
#[test]
fn tms_relu_usage_errors_exit_2() {
    for (args, needle) in [
        (
            &[
                "verify",
                "--model",
                "tms-relu",
                "--features",
                "4",
                "--dims",
                "2",
            ][..],
            "--features 2 --dims 1 or --features 3 --dims 2",
        ),
        (
            &[
                "verify",
                "--model",
                "tms-relu",
                "--features",
                "3",
                "--dims",
                "1",
            ],
            "--features 2 --dims 1 or --features 3 --dims 2",
        ),
        (
            &["verify", "--model", "tms-relu", "--v-range", "0:1"],
            "--v-range",
        ),
        (
            &["verify", "--model", "tms-relu", "--v-range=-1:1"],
            "--v-range",
        ),
        (
            &["verify", "--model", "tms-relu", "--p-range", "0.1:1.5"],
            "(0, 1]",
        ),
        (
            &["verify", "--model", "tms-relu", "--p-range", "0:1"],
            "--p-range",
        ),
        (
            &["verify", "--model", "tms-relu", "--tolerance", "0.1"],
            "does not apply",
        ),
        (&["verify", "--model", "tms-gelu"], "only tms-relu"),
    ] {
        let o = polycap(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.starts_with("error:") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

/// A small tms-relu grid: JSON summary with the quadratic verify's keys, exit 0, and the
/// shards merge to the same JSON.
#[test]
fn tms_relu_grid_json_and_merge() {
    let dir = std::env::temp_dir().join(format!("polycap-tms-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let base = [
        "verify",
        "--model",
        "tms-relu",
        "--features",
        "2",
        "--dims",
        "1",
        "--grid",
        "3x3",
        "--p-range",
        "0.02:1",
        "--seeds",
        "2",
        "--steps",
        "3000",
        "--format",
        "json",
    ];
    let o = polycap(&base);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let full: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let s = &full["summary"];
    for k in [
        "points",
        "checked",
        "agree",
        "fraction",
        "boundary",
        "outside",
        "loss_checked",
    ] {
        assert!(!s[k].is_null(), "missing summary.{k}");
    }
    assert_eq!(s["points"], 9);
    let mut files = Vec::new();
    for i in 0..2 {
        let f = dir.join(format!("shard{i}.json"));
        let shard = format!("{i}/2");
        let o = polycap(
            &[
                &base[..],
                &["--shard", &shard, "--out", f.to_str().expect("utf-8")],
            ]
            .concat(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        files.push(f);
    }
    let names: Vec<&str> = files.iter().map(|f| f.to_str().expect("utf-8")).collect();
    let o = polycap(&[&["verify", "merge"][..], &names].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(merged, full);
    let _ = std::fs::remove_dir_all(&dir);
}
