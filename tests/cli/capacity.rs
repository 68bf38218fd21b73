//! CLI tests of `polycap capacity`: CSV and NPY inputs written to a temp dir, the three
//! output formats, `--features-as-rows`, `--out`, and every bad-input case with its exit code.

use std::path::PathBuf;

use super::{polycap, stderr, stdout};

/// A fresh path in the system temp dir, unique per process and test.
fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polycap-capacity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("invariant: temp dir is writable");
    dir.join(name)
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let p = temp_path(name);
    std::fs::write(&p, bytes).expect("invariant: temp file is writable");
    p
}

/// NPY bytes (format `version`) for a 2-D or other array: the header dict padded with
/// spaces to a multiple of 64 bytes and terminated by '\n', as numpy writes it.
fn npy(version: u8, descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    let prefix = if version == 1 { 10 } else { 12 };
    let mut header = dict.into_bytes();
    while (prefix + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((header.len() as u16).to_le_bytes());
    } else {
        out.extend((header.len() as u32).to_le_bytes());
    }
    out.extend(header);
    out.extend(data);
    out
}

/// Fig. 6(c) of Scherlis et al. as a 2×3 matrix (rows = dims): e₁·0.7, e₂, −3e₂.
/// Capacities 1, 0.1, 0.9; squared norms 0.49, 1, 9.
const ROWS: [[f64; 3]; 2] = [[0.7, 0.0, 0.0], [0.0, 1.0, -3.0]];
const CAPS: [f64; 3] = [1.0, 0.1, 0.9];
const SQ: [f64; 3] = [0.49, 1.0, 9.0];

fn csv_text() -> String {
    ROWS.iter()
        .map(|r| r.iter().map(f64::to_string).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Runs `polycap capacity --format json` and checks the Fig. 6(c) numbers.
fn check_json(args: &[&str]) {
    let mut all = vec!["capacity", "--format", "json"];
    all.extend_from_slice(args);
    let o = polycap(&all);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let tol = 1e-6; // f32 inputs carry ~1e-7 relative error
    assert!((v["total_capacity"].as_f64().expect("number") - 2.0).abs() < tol);
    assert_eq!(v["rank"].as_u64(), Some(2));
    assert_eq!(v["efficient"].as_bool(), Some(true));
    let feats = v["features"].as_array().expect("array");
    assert_eq!(feats.len(), 3);
    for (i, f) in feats.iter().enumerate() {
        let c = f["capacity"].as_f64().expect("number");
        let s = f["sq_norm"].as_f64().expect("number");
        assert!((c - CAPS[i]).abs() < tol, "{args:?} feature {i}: C = {c}");
        assert!(
            (s - SQ[i]).abs() < tol * SQ[i],
            "{args:?} feature {i}: n = {s}"
        );
    }
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4);
}

#[test]
fn csv_input_all_formats() {
    let p = write("fig6c.csv", csv_text().as_bytes());
    let path = p.to_str().expect("utf-8 path");
    check_json(&["--matrix", path]);

    let o = polycap(&["capacity", "--matrix", path, "--format", "csv"]);
    assert!(o.status.success());
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "feature,capacity,sq_norm");
    assert_eq!(lines.len(), 4);
    let cells: Vec<f64> = lines[2]
        .split(',')
        .map(|c| c.parse().expect("number"))
        .collect();
    assert!((cells[1] - 0.1).abs() < 1e-12 && (cells[2] - 1.0).abs() < 1e-12);

    let o = polycap(&["capacity", "--matrix", path]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.contains("capacity C_i"), "{text}");
    let summary = text.lines().last().expect("summary line");
    assert!(
        summary.contains("D = 2, N = 3")
            && summary.contains("rank W = 2")
            && summary.contains("efficient"),
        "{summary}"
    );
}

#[test]
fn csv_header_comments_and_features_as_rows() {
    // Transposed file (one feature per row), with a header line and a comment.
    let mut text = String::from("# Fig. 6(c), one feature per row\nx,y\n");
    for (a, b) in ROWS[0].iter().zip(&ROWS[1]) {
        text.push_str(&format!("{a}, {b}\n"));
    }
    let p = write("fig6c_t.csv", text.as_bytes());
    check_json(&["--matrix", p.to_str().expect("utf-8"), "--features-as-rows"]);
    // Without the flag the same file is a 3×2 matrix: 2 features in D = 3.
    let o = polycap(&[
        "capacity",
        "--matrix",
        p.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert_eq!(v["features"].as_array().expect("array").len(), 2);
}

#[test]
fn whitespace_separated_and_bom() {
    // NumPy savetxt's default layout (spaces, '#' header comment) and a BOM-prefixed CSV.
    let text = "# W, 2 x 3\n0.7 0 0\n0\t1   -3\n";
    let p = write("fig6c.txt", text.as_bytes());
    check_json(&["--matrix", p.to_str().expect("utf-8")]);
    let mut bom = "\u{feff}".to_string();
    bom.push_str(&csv_text());
    let p = write("bom.csv", bom.as_bytes());
    check_json(&["--matrix", p.to_str().expect("utf-8")]);
    let p = write("ragged.txt", b"1 2 3\n4 5\n");
    expect_error(
        p.to_str().expect("utf-8"),
        2,
        "line 2 has 2 value(s), but line 1 has 3",
    );
}

#[test]
fn npy_input_f64_f32_c_and_fortran_order() {
    let c_order: Vec<f64> = ROWS.iter().flatten().copied().collect();
    let f_order: Vec<f64> = (0..3).flat_map(|c| [ROWS[0][c], ROWS[1][c]]).collect();
    let le64 = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let le32 = |v: &[f64]| {
        v.iter()
            .flat_map(|&x| (x as f32).to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let be64 = |v: &[f64]| v.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
    let cases = [
        ("c_f8.npy", npy(1, "<f8", false, "(2, 3)", &le64(&c_order))),
        ("f_f8.npy", npy(1, "<f8", true, "(2, 3)", &le64(&f_order))),
        ("c_f4.npy", npy(1, "<f4", false, "(2, 3)", &le32(&c_order))),
        (
            "f_f4_v2.npy",
            npy(2, "<f4", true, "(2, 3)", &le32(&f_order)),
        ),
        (
            "c_f8_v3.npy",
            npy(3, "<f8", false, "(2, 3)", &le64(&c_order)),
        ),
        ("c_be8.npy", npy(1, ">f8", false, "(2, 3)", &be64(&c_order))),
    ];
    for (name, bytes) in cases {
        let p = write(name, &bytes);
        check_json(&["--matrix", p.to_str().expect("utf-8")]);
    }
    // Features as rows: the C-order bytes of the transpose, shape (3, 2).
    let p = write("t_f8.npy", &npy(1, "<f8", false, "(3, 2)", &le64(&f_order)));
    check_json(&["--matrix", p.to_str().expect("utf-8"), "--features-as-rows"]);
}

#[test]
fn npy_stack_gives_one_result_per_instance() {
    // Instance 0 is Fig. 6(c), instance 1 the same matrix doubled: capacities are scale-free,
    // squared norms grow 4×.
    let le64 = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let c_order: Vec<f64> = ROWS.iter().flatten().copied().collect();
    let doubled: Vec<f64> = c_order.iter().map(|x| 2.0 * x).collect();
    let p = write(
        "stack.npy",
        &npy(
            1,
            "<f8",
            false,
            "(2, 2, 3)",
            &le64(&[c_order, doubled].concat()),
        ),
    );
    let path = p.to_str().expect("utf-8");
    let o = polycap(&["capacity", "--matrix", path, "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let inst = v["instances"].as_array().expect("instances");
    assert_eq!(inst.len(), 2);
    for (k, scale) in [(0, 1.0), (1, 4.0)] {
        assert_eq!(inst[k]["instance"], k);
        for (i, f) in inst[k]["features"]
            .as_array()
            .expect("features")
            .iter()
            .enumerate()
        {
            let c = f["capacity"].as_f64().expect("capacity");
            let s = f["sq_norm"].as_f64().expect("sq_norm");
            assert!((c - CAPS[i]).abs() < 1e-12 && (s - scale * SQ[i]).abs() < 1e-12);
        }
    }
    let table = stdout(&polycap(&["capacity", "--matrix", path]));
    assert!(
        table.starts_with("instance 0\n") && table.contains("\ninstance 1\n"),
        "{table}"
    );
    let csv = stdout(&polycap(&["capacity", "--matrix", path, "--format", "csv"]));
    assert!(csv.starts_with("instance,feature,capacity,sq_norm\n"));
    assert_eq!(csv.lines().count(), 1 + 2 * 3);
}

#[test]
fn out_flag_writes_the_file() {
    let p = write("out_in.csv", csv_text().as_bytes());
    let out = temp_path("report.json");
    let _ = std::fs::remove_file(&out);
    let o = polycap(&[
        "capacity",
        "--matrix",
        p.to_str().expect("utf-8"),
        "--format",
        "json",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    assert_eq!(v["rank"].as_u64(), Some(2));
}

/// Runs `polycap capacity --matrix PATH` and checks the exit code and a one-line error.
fn expect_error(path: &str, code: i32, needle: &str) {
    let o = polycap(&["capacity", "--matrix", path]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{path}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "{path}: expected '{needle}' in {err}");
    assert!(!err.contains("panicked"));
    assert!(stdout(&o).is_empty());
}

#[test]
fn bad_inputs_fail_cleanly() {
    let missing = temp_path("does-not-exist.csv");
    expect_error(
        missing.to_str().expect("utf-8"),
        1,
        "cannot read matrix file",
    );

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "ragged.csv",
            b"1,2,3\n4,5\n".to_vec(),
            "line 2 has 2 value(s), but line 1 has 3",
        ),
        (
            "text.csv",
            b"1,2\n3,abc\n".to_vec(),
            "line 2, column 2: 'abc' is not a number",
        ),
        (
            "mixed_header.csv",
            b"a,1\n3,4\n".to_vec(),
            "line 1, column 1: 'a'",
        ),
        (
            "nan.csv",
            b"1,2\n3,NaN\n".to_vec(),
            "row 2, column 2 is NaN",
        ),
        (
            "inf.csv",
            b"1,inf\n3,4\n".to_vec(),
            "row 1, column 2 is inf",
        ),
        ("empty.csv", b"\n\n".to_vec(), "no numeric rows"),
        ("header_only.csv", b"a,b\n".to_vec(), "no numeric rows"),
        ("binary.csv", vec![0xff, 0xfe, 0x00], "not UTF-8"),
        (
            "int.npy",
            npy(1, "<i8", false, "(1, 2)", &[0; 16]),
            "unsupported NPY dtype '<i8'",
        ),
        (
            "vec.npy",
            npy(1, "<f8", false, "(2,)", &[0; 16]),
            "must be 2-D",
        ),
        (
            "hypercube.npy",
            npy(1, "<f8", false, "(1, 1, 1, 2)", &[0; 16]),
            "must be 2-D (D×N) or a 3-D stack",
        ),
        (
            "short.npy",
            npy(1, "<f8", false, "(2, 2)", &[0; 24]),
            "truncated",
        ),
        (
            "long.npy",
            npy(1, "<f8", false, "(1, 2)", &[0; 24]),
            "trailing bytes",
        ),
        (
            "empty_shape.npy",
            npy(1, "<f8", false, "(0, 3)", &[]),
            "empty",
        ),
        (
            "nan.npy",
            npy(
                1,
                "<f8",
                false,
                "(1, 2)",
                &[f64::NAN.to_le_bytes(), 1f64.to_le_bytes()].concat(),
            ),
            "is NaN",
        ),
        (
            "version.npy",
            {
                let mut b = npy(1, "<f8", false, "(1, 1)", &[0; 8]);
                b[6] = 9;
                b
            },
            "version 9",
        ),
        ("nomagic.npy", b"1,2\n".to_vec(), "not an NPY file"),
        (
            "badheader.npy",
            {
                let mut b = npy(1, "<f8", false, "(1, 1)", &[0; 8]);
                b[10] = b'?'; // the opening brace
                b
            },
            "malformed NPY header",
        ),
        (
            "nodescr.npy",
            {
                let mut b = npy(1, "<f8", false, "(1, 1)", &[0; 8]);
                b[12] = b'x'; // 'descr' becomes 'xescr'
                b
            },
            "no 'descr' field",
        ),
        (
            "cut_header.npy",
            b"\x93NUMPY\x01\x00\xff\x00{'descr'".to_vec(),
            "truncated NPY header",
        ),
    ];
    for (name, bytes, needle) in cases {
        let p = write(name, &bytes);
        expect_error(p.to_str().expect("utf-8"), 2, needle);
    }
}

#[test]
fn unwritable_out_is_a_runtime_error() {
    let p = write("out_bad.csv", csv_text().as_bytes());
    let out = temp_path("no-such-dir").join("report.json");
    let o = polycap(&[
        "capacity",
        "--matrix",
        p.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("error: cannot write"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).trim_end().lines().count(), 1);
}

#[test]
fn help_documents_exit_codes() {
    let o = polycap(&["capacity", "--help"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.contains("Exit codes") && text.contains("--features-as-rows"),
        "{text}"
    );
}
