//! CLI tests of polycap train.

use super::{polycap, stderr, stdout};

fn json(args: &[&str]) -> serde_json::Value {
    let o = polycap(args);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("valid JSON")
}

#[test]
fn quadratic_exact_json_reproduces_the_worked_example() {
    let v = json(&[
        "train",
        "--model",
        "quadratic-exact",
        "--dims",
        "3",
        "--importance",
        "0.5,1,1,1,1,1",
        "--density",
        "0.1",
        "--seeds",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(v["model"], "quadratic-exact");
    assert_eq!(v["features"], 6);
    let inst = v["instances"].as_array().expect("instances");
    assert_eq!(inst.len(), 1);
    let c: Vec<f64> = inst[0]["capacity"]
        .as_array()
        .expect("capacity")
        .iter()
        .filter_map(|x| x.as_f64())
        .collect();
    assert_eq!(c.len(), 6);
    assert!((c[0] - 7.0 / 33.0).abs() < 0.01, "{c:?}");
    assert!(
        c[1..].iter().all(|x| (x - 92.0 / 165.0).abs() < 0.01),
        "{c:?}"
    );
    let total = inst[0]["total_capacity"].as_f64().expect("number");
    assert!((total - 3.0).abs() < 0.01);
    assert_eq!(inst[0]["w"].as_array().map(Vec::len), Some(3));
}

#[test]
fn tms_sweep_json_has_one_entry_per_density() {
    let v = json(&[
        "train",
        "--model",
        "tms-relu",
        "--features",
        "6",
        "--dims",
        "2",
        "--importance",
        "geom:0.9",
        "--instances-density",
        "logspace:1:0.01:3",
        "--steps",
        "200",
        "--batch",
        "64",
        "--seeds",
        "2",
        "--format",
        "json",
        "--threads",
        "2",
    ]);
    let inst = v["instances"].as_array().expect("instances");
    assert_eq!(inst.len(), 3);
    for (e, p) in inst.iter().zip([1.0, 0.1, 0.01]) {
        let d = e["density"].as_f64().expect("density");
        assert!((d - p).abs() < 1e-12 * p);
        assert_eq!(e["sq_norm"].as_array().map(Vec::len), Some(6));
        assert_eq!(e["bias"].as_array().map(Vec::len), Some(6));
        assert!(
            e["loss"]
                .as_f64()
                .is_some_and(|l| l.is_finite() && l >= 0.0)
        );
        assert!(e["seed"].as_u64().is_some_and(|s| s < 2));
    }
}

#[test]
fn table_output_and_file_output() {
    let dir = std::env::temp_dir().join(format!("polycap-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("r.json");
    let o = polycap(&[
        "train",
        "--model",
        "quadratic-relu",
        "--features",
        "4",
        "--dims",
        "2",
        "--density",
        "0.5",
        "--steps",
        "100",
        "--batch",
        "64",
        "--out",
        out.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    assert_eq!(
        v["instances"][0]["capacity"].as_array().map(Vec::len),
        Some(4)
    );
    let o = polycap(&[
        "train",
        "--model",
        "linear",
        "--features",
        "4",
        "--dims",
        "2",
        "--steps",
        "50",
        "--batch",
        "32",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("density p"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for args in [
        vec!["train", "--model", "mlp", "--features", "3", "--dims", "2"],
        vec![
            "train",
            "--model",
            "tms-relu",
            "--features",
            "3",
            "--dims",
            "2",
            "--density",
            "1.5",
        ],
        vec![
            "train",
            "--model",
            "tms-relu",
            "--features",
            "3",
            "--dims",
            "0",
        ],
        vec![
            "train",
            "--model",
            "quadratic",
            "--features",
            "3",
            "--dims",
            "2",
            "--lr=-1",
        ],
        vec![
            "train",
            "--model",
            "tms-relu",
            "--features",
            "3",
            "--dims",
            "2",
            "--schedule",
            "zigzag",
        ],
        vec![
            "train",
            "--model",
            "tms-relu",
            "--importance",
            "1,2",
            "--density",
            "1,1,1",
            "--dims",
            "2",
        ],
        // Issue 9: active-entry target 0, absurd, beside --batch, or for an autoencoder.
        vec![
            "train",
            "--model",
            "quadratic",
            "--features",
            "3",
            "--dims",
            "2",
            "--active",
            "0",
        ],
        vec![
            "train",
            "--model",
            "quadratic",
            "--features",
            "3",
            "--dims",
            "2",
            "--active",
            "1000000000",
        ],
        vec![
            "train",
            "--model",
            "quadratic-relu",
            "--features",
            "3",
            "--dims",
            "2",
            "--active",
            "64",
            "--batch",
            "512",
        ],
        vec![
            "train",
            "--model",
            "tms-relu",
            "--features",
            "3",
            "--dims",
            "2",
            "--active",
            "64",
        ],
        vec![
            "train",
            "--model",
            "quadratic",
            "--features",
            "3",
            "--dims",
            "2",
            "--batch",
            "0",
        ],
    ] {
        let o = polycap(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: {e}");
        assert!(e.starts_with("error:"), "{e}");
        assert!(stdout(&o).is_empty());
    }
}

/// `train --shard i/N` + `train merge` print what the unsharded run prints: the table byte
/// for byte, the JSON equal except the measured wall times (which differ between any two
/// runs); for SGD sweeps, for the exact loss and for the abs model (its own report).
#[test]
fn sharded_train_merges_to_the_unsharded_output() {
    let dir = std::env::temp_dir().join(format!("polycap-train-shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let strip = |text: &str| {
        let mut v: serde_json::Value = serde_json::from_str(text).expect("JSON");
        for inst in v["instances"].as_array_mut().expect("instances") {
            inst["wall_seconds"] = serde_json::Value::Null;
        }
        v
    };
    let sweeps: [&[&str]; 4] = [
        &[
            "train",
            "--model",
            "tms-relu",
            "--features",
            "5",
            "--dims",
            "2",
            "--instances-density",
            "logspace:1:0.05:5",
            "--seeds",
            "2",
            "--steps",
            "60",
            "--eval-batch",
            "256",
        ],
        &[
            "train",
            "--model",
            "quadratic-exact",
            "--features",
            "4",
            "--dims",
            "2",
            "--importance",
            "first:2",
            "--instances-density",
            "logspace:1:0.1:3",
            "--seeds",
            "2",
            "--steps",
            "200",
        ],
        &[
            "train",
            "--model",
            "abs",
            "--features",
            "4",
            "--dims",
            "4",
            "--instances-density",
            "logspace:1:0.1:3",
            "--seeds",
            "2",
            "--steps",
            "100",
            "--batch",
            "32",
            "--eval-batch",
            "256",
            "--positive-w2",
            "--active",
            "8",
        ],
        &[
            "train",
            "--model",
            "tms-relu",
            "--features",
            "5",
            "--dims",
            "2",
            "--dataset",
            "6",
            "--instances-density",
            "logspace:1:0.1:3",
            "--data-seeds",
            "2",
            "--seeds",
            "2",
            "--steps",
            "50",
            "--test-points",
            "64",
        ],
    ];
    for (t, sweep) in sweeps.iter().enumerate() {
        let table = polycap(sweep);
        assert!(table.status.success(), "{}", stderr(&table));
        let json = polycap(&[&sweep[..], &["--format", "json"]].concat());
        assert!(json.status.success(), "{}", stderr(&json));
        let mut files = Vec::new();
        for i in 0..2 {
            let f = dir
                .join(format!("s{t}-{i}.json"))
                .to_string_lossy()
                .into_owned();
            let shard = format!("{i}/2");
            let o = polycap(&[&sweep[..], &["--shard", &shard, "--out", &f]].concat());
            assert!(o.status.success(), "{}", stderr(&o));
            files.push(f);
        }
        let merged = polycap(&["train", "merge", &files[1], &files[0]]);
        assert!(merged.status.success(), "{}", stderr(&merged));
        assert_eq!(stdout(&merged), stdout(&table), "sweep {t}");
        let merged = polycap(&["train", "merge", &files[0], &files[1], "--format", "json"]);
        assert!(merged.status.success(), "{}", stderr(&merged));
        assert_eq!(strip(&stdout(&merged)), strip(&stdout(&json)), "sweep {t}");
    }
    // Bad shards: i ≥ N, N = 0, a missing or repeated shard, different settings — one
    // line, exit 2, no output file.
    let out = dir.join("never.txt").to_string_lossy().into_owned();
    let one_line_2 = |o: &std::process::Output| {
        let err = stderr(o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with("error: ") && err.lines().count() == 1,
            "{err}"
        );
        err
    };
    for bad in ["2/2", "0/0", "1/"] {
        let o = polycap(&[sweeps[0], &["--shard", bad, "--out", &out]].concat());
        assert!(one_line_2(&o).contains("--shard"));
    }
    let s = |t: usize, i: usize| {
        dir.join(format!("s{t}-{i}.json"))
            .to_string_lossy()
            .into_owned()
    };
    // A --dataset shard of another number of steps.
    let other = dir.join("s3-other.json").to_string_lossy().into_owned();
    let mut args = sweeps[3].to_vec();
    let at = args.iter().position(|&x| x == "50").expect("--steps 50");
    args[at] = "40";
    let o = polycap(&[&args[..], &["--shard", "1/2", "--out", &other]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    for (files, says) in [
        (vec![s(0, 0)], "missing shard"),
        (vec![s(0, 0), s(0, 1), s(0, 1)], "twice"),
        (vec![s(0, 0), s(1, 1)], "different settings"),
        (vec![s(3, 0), other.clone()], "different settings"),
        (vec![s(3, 0), s(2, 1)], "not a --dataset train shard"),
    ] {
        let o = polycap(
            &[
                &["train", "merge", "--out", &out][..],
                &files.iter().map(String::as_str).collect::<Vec<_>>(),
            ]
            .concat(),
        );
        assert!(one_line_2(&o).contains(says));
    }
    assert!(!std::path::Path::new(&out).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 14a: tms-neuron with SoLU-LN and correlated pairs from the CLI; the JSON carries the
/// neuron read-outs (Z3), recomputed here from W.
#[test]
fn tms_neuron_with_pairs_reports_neurons() {
    let v = json(&[
        "train",
        "--model",
        "tms-neuron",
        "--hidden",
        "solu_ln",
        "--features",
        "6",
        "--dims",
        "4",
        "--pairs",
        "correlated:1,anticorrelated:1",
        "--density",
        "0.2",
        "--steps",
        "300",
        "--batch",
        "128",
        "--eval-batch",
        "1024",
        "--format",
        "json",
    ]);
    assert_eq!(v["hidden"], "solu_ln");
    assert_eq!(v["pairs"], "correlated:1,anticorrelated:1");
    let inst = &v["instances"][0];
    assert_eq!(inst["hidden_params"].as_array().map(Vec::len), Some(8));
    let w: Vec<Vec<f64>> = serde_json::from_value(inst["w"].clone()).expect("W rows");
    let neurons = inst["neurons"]["per_neuron"].as_array().expect("neurons");
    assert_eq!(neurons.len(), 4);
    for (row, n) in w.iter().zip(neurons) {
        let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        let (top, big) = row.iter().enumerate().fold((0, 0.0f64), |(k, m), (i, x)| {
            if x.abs() > m { (i, x.abs()) } else { (k, m) }
        });
        let mono = n["mono"].as_f64().expect("mono");
        assert!((mono - big / norm).abs() < 1e-12);
        assert_eq!(n["top_feature"].as_u64(), Some(top as u64 + 1));
    }
}

/// Issue 14a: bad zoo options are one-line usage errors (exit 2) and write nothing.
#[test]
fn zoo_bad_options_exit_2() {
    let dir = std::env::temp_dir().join(format!("polycap-zoo-bad-{}", std::process::id()));
    let out = dir.join("o.json");
    let out_s = out.to_str().expect("utf-8 path");
    for (args, needle) in [
        (
            vec![
                "--model",
                "tms-relu",
                "--features",
                "3",
                "--pairs",
                "correlated:2",
            ],
            "N/2",
        ),
        (
            vec![
                "--model",
                "tms-relu",
                "--features",
                "4",
                "--pairs",
                "sideways:1",
            ],
            "unknown kind",
        ),
        (
            vec![
                "--model",
                "tms-relu",
                "--features",
                "4",
                "--pairs",
                "correlated:0",
            ],
            "K = 0",
        ),
        (
            vec![
                "--model",
                "quadratic",
                "--features",
                "4",
                "--pairs",
                "correlated:1",
            ],
            "--pairs",
        ),
        (
            vec![
                "--model",
                "tms-neuron",
                "--features",
                "4",
                "--hidden",
                "solu_ln",
            ],
            "solu_ln",
        ),
        (
            vec!["--model", "tms-relu", "--features", "4", "--hidden", "solu"],
            "tms-neuron",
        ),
        (
            vec![
                "--model",
                "tms-neuron",
                "--features",
                "4",
                "--hidden",
                "tanh",
            ],
            "--hidden",
        ),
        (
            vec![
                "--model",
                "tms-relu",
                "--features",
                "4",
                "--pairs",
                "anticorrelated:1",
                "--density",
                "0.7",
            ],
            "1/2",
        ),
    ] {
        let mut full = vec![
            "train", "--dims", "2", "--steps", "10", "--out", out_s, "--format", "json",
        ];
        full.extend(args.iter().copied());
        let o = polycap(&full);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.trim().lines().count(), 1, "{e}");
        assert!(
            e.starts_with("error: ") && e.contains(needle),
            "{args:?}: {e}"
        );
        assert!(!out.exists());
    }
}

// --- issue 14b ---

#[test]
fn abs_and_dataset_bad_combinations_are_usage_errors() {
    let cases: &[&[&str]] = &[
        &["--model", "tms-relu", "--dataset", "0"],
        &["--model", "quadratic-exact", "--dataset", "5"],
        &["--model", "abs", "--dataset", "5"],
        &["--model", "quadratic", "--dataset", "5"],
        &["--model", "tms-relu", "--test-points", "5"],
        &["--model", "tms-relu", "--dataset", "5", "--batch", "4"],
        &["--model", "abs", "--input", "gaussian"],
        &["--model", "abs", "--init", "xavier"],
        &["--model", "abs", "--save", "w.npz"],
        &["--model", "abs", "--pairs", "correlated:1"],
        &["--model", "abs", "--hidden", "solu_ln"],
        &["--model", "tms-relu", "--dataset", "5", "--hidden", "solu"],
        &["--model", "tms-relu", "--positive-w2"],
        &["--model", "tms-relu", "--dataset", "5", "--positive-w2"],
        &["--model", "tms-relu", "--dataset", "5", "--shard", "2/2"],
        &["--model", "tms-relu", "--dataset", "5", "--active", "4"],
        &["--model", "abs", "--shard", "2/2"],
        &["--model", "abs", "--active", "0"],
        &[
            "--model",
            "tms-relu",
            "--dataset",
            "5",
            "--schedule",
            "warmup-cosine:0",
        ],
    ];
    for extra in cases {
        let mut args = vec!["train", "--features", "4", "--dims", "2"];
        args.extend_from_slice(extra);
        let o = polycap(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.starts_with("error: ") && err.trim().lines().count() == 1,
            "{args:?}: {err}"
        );
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn abs_json_reports_neurons_and_responses() {
    let v = json(&[
        "train",
        "--model",
        "abs",
        "--features",
        "2",
        "--dims",
        "4",
        "--steps",
        "1500",
        "--batch",
        "64",
        "--eval-batch",
        "1024",
        "--format",
        "json",
    ]);
    let inst = &v["instances"][0];
    assert_eq!(inst["mono"].as_array().map(Vec::len), Some(4));
    assert_eq!(inst["responses"].as_array().map(Vec::len), Some(2));
    assert_eq!(inst["w1"].as_array().map(Vec::len), Some(4));
    assert_eq!(inst["w2"].as_array().map(Vec::len), Some(2));
    assert!(
        inst["loss"]
            .as_f64()
            .is_some_and(|l| l.is_finite() && l >= 0.0)
    );
}

/// `--positive-w2` reaches the init (ZB12): after one step of η = 10⁻¹², W₂ is its init to
/// 10⁻¹², all ≥ 0 with the flag and of both signs without it (ARENA's init).
#[test]
fn abs_positive_w2_starts_w2_nonnegative() {
    let w2 = |flag: bool| {
        let mut args = vec![
            "train",
            "--model",
            "abs",
            "--features",
            "6",
            "--dims",
            "5",
            "--steps",
            "1",
            "--lr",
            "1e-12",
            "--batch",
            "8",
            "--eval-batch",
            "8",
            "--format",
            "json",
        ];
        if flag {
            args.push("--positive-w2");
        }
        let v = json(&args);
        v["instances"][0]["w2"]
            .as_array()
            .expect("w2 rows")
            .iter()
            .flat_map(|row| row.as_array().expect("w2 row").clone())
            .map(|x| x.as_f64().expect("number"))
            .collect::<Vec<f64>>()
    };
    let (on, off) = (w2(true), w2(false));
    assert_eq!(on.len(), 30);
    assert!(on.iter().all(|&x| x > 0.0), "{on:?}");
    assert!(off.iter().any(|&x| x < 0.0) && off.iter().any(|&x| x > 0.0));
    // The same magnitudes: the flag only takes absolute values.
    for (a, b) in on.iter().zip(&off) {
        assert!((a - b.abs()).abs() < 1e-9, "{a} vs {b}");
    }
}

#[test]
fn dataset_json_reports_train_and_test_loss_and_dimensionalities() {
    let v = json(&[
        "train",
        "--model",
        "tms-relu",
        "--features",
        "20",
        "--dims",
        "2",
        "--density",
        "0.1",
        "--dataset",
        "4",
        "--steps",
        "600",
        "--test-points",
        "200",
        "--data-seeds",
        "2",
        "--format",
        "json",
    ]);
    let inst = v["instances"].as_array().expect("instances");
    assert_eq!(inst.len(), 2);
    for i in inst {
        assert_eq!(i["point_dimensionality"].as_array().map(Vec::len), Some(4));
        assert_eq!(
            i["feature_dimensionality"].as_array().map(Vec::len),
            Some(20)
        );
        let (tr, te) = (
            i["train_loss"].as_f64().expect("f"),
            i["test_loss"].as_f64().expect("f"),
        );
        assert!(tr < te, "memorised: train {tr} < test {te}");
    }
    assert_ne!(inst[0]["data_seed"], inst[1]["data_seed"]);
    assert_eq!(v["optimizer"], "adamw");
}
