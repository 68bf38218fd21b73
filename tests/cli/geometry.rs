//! CLI tests of polycap geometry.

use std::path::PathBuf;

use approx::assert_relative_eq;
use serde_json::Value;

use super::{polycap, stderr, stdout};

/// A fresh directory under the system temp dir, unique per test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polycap-geometry-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

/// Writes rows of numbers as CSV.
fn write_csv(path: &PathBuf, rows: &[Vec<f64>]) {
    let text: String = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|x| format!("{x:?}"))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(path, text).expect("csv written");
}

/// The S5 matrix (spec §11): antipodal pair ⊕ triangle, γ = 1, as 3 rows × 5 columns, with a
/// zero sixth column.
fn s5_rows() -> Vec<Vec<f64>> {
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let k = (2.0f64 / 3.0).sqrt();
    let th: Vec<f64> = [90.0f64, 210.0, 330.0]
        .iter()
        .map(|t| t.to_radians())
        .collect();
    vec![
        vec![s, -s, 0.0, 0.0, 0.0, 0.0],
        vec![
            0.0,
            0.0,
            k * th[0].cos(),
            k * th[1].cos(),
            k * th[2].cos(),
            0.0,
        ],
        vec![
            0.0,
            0.0,
            k * th[0].sin(),
            k * th[1].sin(),
            k * th[2].sin(),
            0.0,
        ],
    ]
}

fn transpose(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c]).collect())
        .collect()
}

fn json(args: &[&str]) -> Value {
    let o = polycap(args);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("valid JSON")
}

fn indices(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("index"))
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

#[test]
fn s5_matrix_json_has_the_two_blocks() {
    let dir = temp_dir("s5");
    let path = dir.join("s5.csv");
    write_csv(&path, &s5_rows());
    let p = path.to_str().expect("utf-8 path");
    let doc = json(&["geometry", "--matrix", p, "--format", "json"]);

    let blocks = doc["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 2);
    let want = [
        (1, vec![1, 2], vec![0.5, 0.5], "1/2", "digon"),
        (2, vec![3, 4, 5], vec![2.0 / 3.0; 3], "2/3", "triangle"),
    ];
    for (b, (dims, feats, caps, frac, name)) in blocks.iter().zip(want) {
        for key in ["dims", "features", "scale", "capacities", "efficient"] {
            assert!(b.get(key).is_some(), "missing {key}");
        }
        assert_eq!(b["dims"].as_u64(), Some(dims));
        assert_eq!(indices(&b["features"]), feats);
        for (c, w) in floats(&b["capacities"]).iter().zip(caps) {
            assert_relative_eq!(*c, w, epsilon = 1e-12);
        }
        assert_relative_eq!(b["scale"].as_f64().expect("scale"), 1.0, epsilon = 1e-12);
        assert_eq!(b["efficient"].as_bool(), Some(true));
        for f in b["fractions"].as_array().expect("fractions") {
            assert_eq!(f.as_str(), Some(frac));
        }
        for f in b["polytopes"].as_array().expect("polytopes") {
            assert_eq!(f.as_str(), Some(name));
        }
    }
    assert_eq!(indices(&doc["ignored"]), vec![6]);
    assert_eq!(doc["index_base"].as_u64(), Some(1));
    assert_eq!(doc["efficient"].as_bool(), Some(true));
    assert_eq!(doc["tegum"].as_bool(), Some(true));
    assert_eq!(doc["rank"].as_u64(), Some(3));
    assert_relative_eq!(
        doc["total_capacity"].as_f64().expect("total"),
        3.0,
        epsilon = 1e-12
    );
    // D* = D/‖W‖²_F = 3/3.
    assert_relative_eq!(
        doc["dims_per_feature"].as_f64().expect("D*"),
        1.0,
        epsilon = 1e-12
    );

    // The transposed file with --features-as-rows gives the same document.
    let tpath = dir.join("s5t.csv");
    write_csv(&tpath, &transpose(&s5_rows()));
    let t = tpath.to_str().expect("utf-8 path");
    let doc_t = json(&[
        "geometry",
        "--matrix",
        t,
        "--features-as-rows",
        "--format",
        "json",
    ]);
    assert_eq!(doc_t["blocks"].as_array().map(Vec::len), Some(2));
    assert_eq!(indices(&doc_t["blocks"][1]["features"]), vec![3, 4, 5]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn table_and_csv_name_blocks_and_polytopes() {
    let dir = temp_dir("table");
    let path = dir.join("s5.csv");
    write_csv(&path, &s5_rows());
    let p = path.to_str().expect("utf-8 path");

    let o = polycap(&["geometry", "--matrix", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("digon") && text.contains("triangle"),
        "{text}"
    );
    assert!(text.contains("efficient (ΣC = D)"), "{text}");
    assert!(text.contains("tegum product"), "{text}");
    assert!(text.contains("ignored"), "{text}");

    let out = dir.join("g.csv");
    let o = polycap(&[
        "geometry",
        "--matrix",
        p,
        "--format",
        "csv",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(&out).expect("written");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 6, "{csv}");
    assert!(lines[0].starts_with("feature,block,"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("6,") && l.contains("not learned"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fig6d_is_reported_as_not_efficient_and_loose_tolerance_recognises_trained_values() {
    let dir = temp_dir("fig6d");
    let path = dir.join("d.csv");
    let t = 30f64.to_radians();
    write_csv(&path, &[vec![1.0, t.cos()], vec![0.0, t.sin()]]);
    let p = path.to_str().expect("utf-8 path");
    let doc = json(&["geometry", "--matrix", p, "--format", "json"]);
    assert_eq!(doc["efficient"].as_bool(), Some(false));
    assert_eq!(doc["blocks"][0]["efficient"].as_bool(), Some(false));
    assert_relative_eq!(
        doc["total_capacity"].as_f64().expect("total"),
        8.0 / 7.0,
        epsilon = 1e-12
    );
    assert_eq!(doc["blocks"][0]["fractions"][0].as_str(), Some("4/7"));
    assert!(doc["blocks"][0]["polytopes"][0].is_null());

    // A "trained" antipodal pair, 1% off: one 1×2 block at tolerance 0.02, fractions ½.
    let noisy = dir.join("noisy.csv");
    write_csv(&noisy, &[vec![1.0, -0.99], vec![0.0, 0.012]]);
    let n = noisy.to_str().expect("utf-8 path");
    let doc = json(&[
        "geometry",
        "--matrix",
        n,
        "--tolerance",
        "0.02",
        "--format",
        "json",
    ]);
    let b = &doc["blocks"][0];
    assert_eq!(b["dims"].as_u64(), Some(1));
    assert_eq!(b["fractions"][0].as_str(), Some("1/2"));
    assert_eq!(b["polytopes"][1].as_str(), Some("digon"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_tegum_components_are_flagged() {
    // A triangle in (e₁, e₂) and b = (ε, 0, 1)/‖·‖ with ε = 1e-3 at tolerance 0.95e-3.
    let dir = temp_dir("nontegum");
    let path = dir.join("w.csv");
    let eps: f64 = 1e-3;
    let nb = (1.0 + eps * eps).sqrt();
    let th: Vec<f64> = [90.0f64, 210.0, 330.0]
        .iter()
        .map(|t| t.to_radians())
        .collect();
    write_csv(
        &path,
        &[
            vec![th[0].cos(), th[1].cos(), th[2].cos(), eps / nb],
            vec![th[0].sin(), th[1].sin(), th[2].sin(), 0.0],
            vec![0.0, 0.0, 0.0, 1.0 / nb],
        ],
    );
    let p = path.to_str().expect("utf-8 path");
    let o = polycap(&["geometry", "--matrix", p, "--tolerance", "0.00095"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("NOT orthogonal"), "{}", stdout(&o));
    let doc = json(&[
        "geometry",
        "--matrix",
        p,
        "--tolerance",
        "0.00095",
        "--format",
        "json",
    ]);
    assert_eq!(doc["tegum"].as_bool(), Some(false));
    assert_eq!(doc["efficient"].as_bool(), Some(false));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_gives_one_line_errors_and_exit_codes() {
    let dir = temp_dir("bad");
    let good = dir.join("good.csv");
    write_csv(&good, &[vec![1.0, 0.0], vec![0.0, 1.0]]);
    let g = good.to_str().expect("utf-8 path");

    let check = |args: &[&str], code: i32, needle: &str| {
        let o = polycap(args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("error:") && err.contains(needle), "{err}");
        assert!(stdout(&o).is_empty());
    };
    check(&["geometry", "--matrix", g, "--tolerance", "0"], 2, "got 0");
    check(&["geometry", "--matrix", g, "--tolerance", "1.5"], 2, "1.5");
    check(&["geometry", "--matrix", g, "--tolerance", "NaN"], 2, "NaN");
    check(
        &["geometry", "--matrix", g, "--tolerance", "-0.1"],
        2,
        "-0.1",
    );
    check(
        &["geometry", "--matrix", g, "--max-denominator", "0"],
        2,
        "0",
    );
    check(
        &["geometry", "--matrix", g, "--fraction-tolerance", "-1"],
        2,
        "-1",
    );
    let ragged = dir.join("ragged.csv");
    std::fs::write(&ragged, "1,2\n3\n").expect("written");
    check(
        &["geometry", "--matrix", ragged.to_str().expect("utf-8")],
        2,
        "ragged.csv",
    );
    let missing = dir.join("missing.csv");
    check(
        &["geometry", "--matrix", missing.to_str().expect("utf-8")],
        1,
        "missing.csv",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A float64 C-order NPY file (format version 1.0).
fn npy_bytes(rows: &[Vec<f64>]) -> Vec<u8> {
    let (r, c) = (rows.len(), rows[0].len());
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({r}, {c}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(
        &u16::try_from(header.len())
            .expect("short header")
            .to_le_bytes(),
    );
    out.extend_from_slice(header.as_bytes());
    for row in rows {
        for x in row {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

#[test]
fn npy_input_and_all_zero_matrix() {
    let dir = temp_dir("npy");
    // Fig. 6(c): e₁ ⟂ an antiparallel pair with squared lengths 1 : 9.
    let path = dir.join("c.npy");
    std::fs::write(
        &path,
        npy_bytes(&[vec![1.0, 0.0, 0.0], vec![0.0, 1.0, -3.0]]),
    )
    .expect("written");
    let doc = json(&[
        "geometry",
        "--matrix",
        path.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let blocks = doc["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 2);
    assert_eq!(indices(&blocks[1]["features"]), vec![2, 3]);
    for (c, w) in floats(&blocks[1]["capacities"]).iter().zip([0.1, 0.9]) {
        assert_relative_eq!(*c, w, epsilon = 1e-14);
    }
    assert_relative_eq!(
        blocks[1]["scale"].as_f64().expect("scale"),
        10.0,
        epsilon = 1e-12
    );

    let zero = dir.join("zero.csv");
    write_csv(&zero, &[vec![0.0, 0.0], vec![0.0, 0.0]]);
    let z = zero.to_str().expect("utf-8");
    let doc = json(&["geometry", "--matrix", z, "--format", "json"]);
    assert_eq!(doc["blocks"].as_array().map(Vec::len), Some(0));
    assert_eq!(indices(&doc["ignored"]), vec![1, 2]);
    assert!(doc["dims_per_feature"].is_null());
    let o = polycap(&["geometry", "--matrix", z]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("no blocks"), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `polycap train … --format json` then `polycap geometry --from-train`: the quadratic model
/// trained on its exact loss (worked example, spec §6.6) is one efficient 3-D block of all
/// six features with scale λ = 187/114, read back from the training output.
#[test]
fn from_train_reads_every_instance_of_a_training_run() {
    let dir = temp_dir("from-train");
    let run = dir.join("run.json");
    let r = run.to_str().expect("utf-8");
    let o = polycap(&[
        "train",
        "--model",
        "quadratic-exact",
        "--features",
        "6",
        "--dims",
        "3",
        "--importance",
        "0.5,1,1,1,1,1",
        "--instances-density",
        "logspace:0.1:0.05:2",
        "--steps",
        "4000",
        "--format",
        "json",
        "--out",
        r,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    let doc = json(&["geometry", "--from-train", r, "--format", "json"]);
    let all = doc.as_array().expect("one report per instance");
    assert_eq!(all.len(), 2);
    let first = &all[0];
    assert_eq!(first["instance"].as_u64(), Some(1));
    assert_eq!(first["index_base"].as_u64(), Some(1));
    assert_relative_eq!(first["density"].as_f64().expect("p"), 0.1, epsilon = 1e-12);
    assert_relative_eq!(first["tolerance"].as_f64().expect("tol"), 1e-2);
    let blocks = first["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 1, "{blocks:?}");
    assert_eq!(indices(&blocks[0]["features"]), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(blocks[0]["dims"].as_u64(), Some(3));
    assert_eq!(blocks[0]["efficient"].as_bool(), Some(true));
    assert_relative_eq!(
        blocks[0]["scale"].as_f64().expect("γ"),
        187.0 / 114.0,
        max_relative = 1e-4
    );
    // C = 92/165 ≈ 0.5576 of the importance-1 features is no small fraction: not labelled
    // 5/9 (= 0.5556, within TOL but q = 9 is beyond the trained default of 8); 7/33 neither.
    let fractions = blocks[0]["fractions"].as_array().expect("fractions");
    assert!(
        fractions.iter().all(serde_json::Value::is_null),
        "{fractions:?}"
    );

    // --instance picks one; the table names it and its density.
    let one = json(&[
        "geometry",
        "--from-train",
        r,
        "--instance",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(one.as_array().map(Vec::len), Some(1));
    assert_eq!(one[0]["instance"].as_u64(), Some(2));
    let o = polycap(&["geometry", "--from-train", r, "--instance", "1"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.starts_with("instance 1, density p = 1 − S = 0.1"),
        "{text}"
    );
    assert!(text.contains("efficient (ΣC = D)"), "{text}");
    let o = polycap(&["geometry", "--from-train", r, "--format", "csv"]);
    let csv = stdout(&o);
    assert!(csv.starts_with("instance,feature,block"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 2 * 6);

    // Bad input: one line, exit 2 for malformed, 1 for unreadable.
    let check = |args: &[&str], code: i32, needle: &str| {
        let o = polycap(args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("error:") && err.contains(needle), "{err}");
        assert!(stdout(&o).is_empty());
    };
    check(
        &["geometry", "--from-train", r, "--instance", "3"],
        2,
        "--instance 3 out of range",
    );
    let bad = dir.join("bad.json");
    let b = bad.to_str().expect("utf-8");
    std::fs::write(&bad, "{\"instances\": [{\"w\": [[1, 2], [3]]}]}").expect("written");
    check(&["geometry", "--from-train", b], 2, "row 2 has 1 entries");
    std::fs::write(&bad, "{\"instances\": [{\"w\": [[1, \"x\"]]}]}").expect("written");
    check(&["geometry", "--from-train", b], 2, "column 2");
    std::fs::write(&bad, "not json").expect("written");
    check(&["geometry", "--from-train", b], 2, "not JSON");
    std::fs::write(&bad, "{\"model\": 1}").expect("written");
    check(
        &["geometry", "--from-train", b],
        2,
        "no \"instances\" array",
    );
    let missing = dir.join("missing.json");
    check(
        &["geometry", "--from-train", missing.to_str().expect("utf-8")],
        1,
        "missing.json",
    );
    check(
        &["geometry", "--instance", "1", "--matrix", r],
        2,
        "--instance",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The command lines the side-by-side figure documents train and decompose the same models:
/// the quadratic model is one block, the ReLU-output model three antipodal pairs.
#[test]
fn block_structure_command_lines_reproduce_the_figure() {
    use polycap::figures::{Parameters, block_structure};
    let dir = temp_dir("block-structure");
    let lines = block_structure::cli_equivalent(&block_structure::Params::quick());
    assert_eq!(lines.len(), 4);
    let mut blocks = Vec::new();
    for line in &lines {
        let args: Vec<String> = super::invocation_args(line)
            .into_iter()
            .map(|a| {
                if a.ends_with(".json") {
                    dir.join(a).to_string_lossy().into_owned()
                } else {
                    a
                }
            })
            .collect();
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        if args[0] == "geometry" {
            args.extend(["--format", "json"]);
            let doc = json(&args);
            blocks.push(doc[0]["blocks"].as_array().map_or(0, Vec::len));
        } else {
            let o = polycap(&args);
            assert!(o.status.success(), "{line:?}: {}", stderr(&o));
        }
    }
    assert_eq!(blocks, vec![1, 3]);
    let _ = std::fs::remove_dir_all(&dir);
}
