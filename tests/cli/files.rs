//! CLI tests of the file formats (src/io): `train --save` / `--export-synthetic`, and
//! `capacity` / `geometry --matrix` reading NPY stacks, NPZ, safetensors and train outputs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use approx::assert_abs_diff_eq;
use polycap::io::{Array, save};

use super::{polycap, stderr, stdout};

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polycap-files-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("invariant: temp dir is writable");
    dir
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = polycap(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("valid JSON")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

const TRAIN: [&str; 16] = [
    "train",
    "--model",
    "tms-relu",
    "--features",
    "5",
    "--dims",
    "2",
    "--instances-density",
    "logspace:1:0.1:2",
    "--steps",
    "200",
    "--batch",
    "64",
    "--eval-batch",
    "1024",
    "--seed=3",
];

#[test]
fn train_save_reads_back_as_the_trained_capacities() {
    let dir = temp_dir("save");
    let st = dir.join("run.safetensors");
    let npz = dir.join("run.npz");
    let world = dir.join("world");
    let mut args = TRAIN.to_vec();
    let (st_s, npz_s, world_s) = (
        st.to_str().expect("utf-8"),
        npz.to_str().expect("utf-8"),
        world.to_str().expect("utf-8"),
    );
    args.extend([
        "--format",
        "json",
        "--save",
        st_s,
        "--export-synthetic",
        world_s,
    ]);
    let trained = json(&args);
    let mut args = TRAIN.to_vec();
    args.extend(["--save", npz_s]);
    assert!(polycap(&args).status.success());

    let expect: Vec<Vec<f64>> = trained["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| floats(&i["capacity"]))
        .collect();
    for file in [st_s, npz_s] {
        let got = json(&["capacity", "--matrix", file, "--format", "json"]);
        let inst = got["instances"]
            .as_array()
            .expect("one result per instance");
        assert_eq!(inst.len(), 2);
        for (k, (g, e)) in inst.iter().zip(&expect).enumerate() {
            assert_eq!(g["instance"].as_u64(), Some(k as u64 + 1));
            for (a, b) in floats(
                &g["features"]
                    .as_array()
                    .expect("features")
                    .iter()
                    .map(|f| f["capacity"].clone())
                    .collect(),
            )
            .iter()
            .zip(e)
            {
                assert_abs_diff_eq!(a, b, epsilon = 1e-12);
            }
        }
    }
    // geometry of a train file decomposes trained matrices (tolerance 1e-2, as --from-train).
    let g = json(&["geometry", "--matrix", st_s, "--format", "json"]);
    let reports = g.as_array().expect("one report per instance");
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r["tolerance"] == 0.01), "{g}");
    // The synthetic-model folders (float32): one per instance, numbered from 1, read back as W.
    assert!(
        !world.join("instance-0").exists(),
        "instances are numbered from 1"
    );
    for (k, expect) in expect.iter().enumerate() {
        let folder = world.join(format!("instance-{}", k + 1));
        assert!(folder.join("synthetic_model_config.json").is_file());
        let got = json(&[
            "capacity",
            "--matrix",
            folder.to_str().expect("utf-8"),
            "--format",
            "json",
        ]);
        let caps: Vec<f64> = got["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| f["capacity"].as_f64().expect("number"))
            .collect();
        for (a, b) in caps.iter().zip(expect) {
            assert_abs_diff_eq!(a, b, epsilon = 1e-5);
        }
    }
    // A train file declares its layout: --features-as-rows is a usage error.
    let o = polycap(&["capacity", "--matrix", st_s, "--features-as-rows"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("drop --features-as-rows"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn save_needs_a_known_extension_before_training() {
    // 10⁹ steps would take hours: the error comes first.
    let o = polycap(&[
        "train",
        "--model",
        "tms-relu",
        "--features",
        "5",
        "--dims",
        "2",
        "--steps",
        "1000000000",
        "--save",
        "run.txt",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(".safetensors or .npz"),
        "{}",
        stderr(&o)
    );
}

/// Fig. 6(c) of Scherlis et al.: capacities 1, 0.1, 0.9.
fn fig6c() -> Array {
    Array::new(vec![2, 3], vec![0.7, 0.0, 0.0, 0.0, 1.0, -3.0]).expect("2×3")
}

#[test]
fn archives_choose_their_array_by_key() {
    let dir = temp_dir("key");
    let arrays = vec![
        ("enc".to_string(), fig6c()),
        (
            "other".to_string(),
            Array::new(vec![2, 2], vec![1.0; 4]).expect("2×2"),
        ),
    ];
    for name in ["two.npz", "two.safetensors"] {
        let p = dir.join(name);
        save(&p, &arrays, &BTreeMap::new()).expect("writable");
        let ps = p.to_str().expect("utf-8");
        let o = polycap(&["capacity", "--matrix", ps]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("2 arrays ('enc', 'other'): choose one with --key"),
            "{}",
            stderr(&o)
        );
        let o = polycap(&["capacity", "--matrix", ps, "--key", "missing"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("no array named 'missing'"));
        let v = json(&[
            "capacity", "--matrix", ps, "--key", "enc", "--format", "json",
        ]);
        let caps: Vec<f64> = v["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| f["capacity"].as_f64().expect("number"))
            .collect();
        for (a, b) in caps.iter().zip([1.0, 0.1, 0.9]) {
            assert_abs_diff_eq!(a, &b, epsilon = 1e-12);
        }
        let g = json(&[
            "geometry", "--matrix", ps, "--key", "enc", "--format", "json",
        ]);
        assert_eq!(g["shape"], serde_json::json!([2, 3]));
    }
}

#[test]
fn narrow_matrix_suggests_features_as_rows() {
    let dir = temp_dir("narrow");
    let p = dir.join("tall.csv");
    std::fs::write(&p, "1,0\n0,1\n1,1\n").expect("writable");
    let o = polycap(&["capacity", "--matrix", p.to_str().expect("utf-8")]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("N = 2 features in D = 3 dimensions (N < D)")
            && stderr(&o).contains("--features-as-rows"),
        "{}",
        stderr(&o)
    );
    let o = polycap(&[
        "capacity",
        "--matrix",
        p.to_str().expect("utf-8"),
        "--features-as-rows",
    ]);
    assert!(o.status.success() && stderr(&o).is_empty());
}

#[test]
fn geometry_of_a_stack_reports_each_instance() {
    let dir = temp_dir("stack");
    let a = fig6c();
    let doubled: Vec<f64> = a.data().iter().map(|x| 2.0 * x).collect();
    let stack = Array::new(vec![2, 2, 3], [a.data(), &doubled[..]].concat()).expect("2×2×3");
    let p = dir.join("stack.npy");
    save(&p, &[(String::new(), stack)], &BTreeMap::new()).expect("writable");
    let v = json(&[
        "geometry",
        "--matrix",
        p.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let inst = v.as_array().expect("one report per instance");
    assert_eq!(inst.len(), 2);
    assert_eq!(inst[1]["instance"], 2);
    let scale = |r: &serde_json::Value| r["blocks"][0]["scale"].as_f64().expect("scale");
    assert_abs_diff_eq!(scale(&inst[1]), 4.0 * scale(&inst[0]), epsilon = 1e-12);
}
