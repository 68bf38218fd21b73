//! The file formats of src/io: round trips, foreign dtypes, and the checks of
//! `matrix_stack` (the one validation of W for the CLI and the Python package).

use std::collections::BTreeMap;

use polycap::io::{self, Array, matrix_stack, npy};

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("polycap-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("invariant: temp dir is writable");
    dir.join(name)
}

fn sample() -> Array {
    Array::new(
        vec![2, 3, 2],
        vec![
            1.5, -2.0, 0.0, 1e-300, 3.25, 7.0, -0.5, 8.0, 9.0, 1e10, -1e-7, 2.0,
        ],
    )
    .expect("12 values")
}

#[test]
fn npz_and_safetensors_round_trip_arrays_and_metadata() {
    let arrays = vec![
        ("W".to_string(), sample()),
        (
            "v".to_string(),
            Array::new(vec![3], vec![1.0, 2.0, 3.0]).expect("3"),
        ),
    ];
    let meta = BTreeMap::from([("note".to_string(), "λ = 187/114".to_string())]);
    for name in ["x.npz", "x.safetensors"] {
        let p = temp(name);
        io::save(&p, &arrays, &meta).expect("writable");
        let back = io::read_archive(&p).expect("readable");
        assert_eq!(back.arrays, arrays, "{name}");
        assert_eq!(back.metadata, meta, "{name}");
        assert!(back.skipped.is_empty());
    }
    let p = temp("x.npy");
    io::save(&p, &arrays[..1], &BTreeMap::new()).expect("writable");
    assert_eq!(
        io::read_archive(&p).expect("readable").arrays[0].1,
        sample()
    );
    assert!(io::save(&temp("y.npy"), &arrays, &BTreeMap::new()).is_err());
    assert!(io::save(&temp("y.txt"), &arrays, &BTreeMap::new()).is_err());
}

#[test]
fn safetensors_half_precision_and_integer_tensors() {
    use safetensors::tensor::{Dtype, TensorView};
    // 1.0, -2.0 in F16 and BF16; an I32 tensor is listed as skipped.
    let f16 = [0x00u8, 0x3c, 0x00, 0xc0];
    let bf16 = [0x80u8, 0x3f, 0x00, 0xc0];
    let i32s = [1u8, 0, 0, 0];
    let views = vec![
        (
            "a",
            TensorView::new(Dtype::F16, vec![2], &f16).expect("view"),
        ),
        (
            "b",
            TensorView::new(Dtype::BF16, vec![1, 2], &bf16).expect("view"),
        ),
        (
            "c",
            TensorView::new(Dtype::I32, vec![1], &i32s).expect("view"),
        ),
    ];
    let bytes = safetensors::serialize(views, None).expect("serialises");
    let p = temp("half.safetensors");
    std::fs::write(&p, bytes).expect("writable");
    let a = io::read_archive(&p).expect("readable");
    assert_eq!(a.get("a").map(Array::data), Some(&[1.0, -2.0][..]));
    assert_eq!(a.get("b").map(Array::shape), Some(&[1, 2][..]));
    assert_eq!(a.get("b").map(Array::data), Some(&[1.0, -2.0][..]));
    assert!(
        a.skipped
            .iter()
            .any(|(n, why)| n == "c" && why.contains("I32"))
    );
    let err = io::read_matrices(&p, Some("c"), false).expect_err("not a float");
    assert!(
        err.to_string().contains("'c': dtype I32 is not a float"),
        "{err}"
    );
}

#[test]
fn matrix_stack_checks_shape_emptiness_and_finiteness() {
    let ok = matrix_stack(&[2, 2, 3], sample().data(), false).expect("a stack");
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[1][(1, 2)].to_bits(), 2f64.to_bits());
    let rows = matrix_stack(&[2, 3], &sample().data()[..6], true).expect("transposed");
    assert_eq!(rows[0].shape(), (3, 2));
    assert_eq!(rows[0][(2, 1)].to_bits(), 7f64.to_bits());
    let msg =
        |shape: &[usize], data: &[f64]| matrix_stack(shape, data, false).expect_err("invalid");
    assert!(msg(&[4], &[0.0; 4]).contains("got shape (4,) (1 dimension)"));
    assert!(msg(&[0, 3], &[]).contains("empty"));
    assert!(msg(&[2, 0, 3], &[]).contains("empty"));
    assert_eq!(
        msg(&[2, 1, 2], &[0.0, 0.0, 0.0, f64::NAN]),
        "entry at instance 2, row 1, column 2 is NaN (entries must be finite)"
    );
    assert!(msg(&[2, 2], &[0.0; 3]).contains("needs 4 values"));
}

#[test]
fn npy_strings_are_metadata_and_other_dtypes_are_named() {
    assert_eq!(
        npy::parse(&npy::text_bytes("")),
        Ok(npy::Content::Text(String::new()))
    );
    let mut int = npy::array_bytes(&Array::new(vec![1], vec![0.0]).expect("1"));
    let at = int
        .windows(3)
        .position(|w| w == b"<f8")
        .expect("descr in header");
    int[at + 1..at + 3].copy_from_slice(b"i8");
    let err = npy::parse(&int).expect_err("integers are not floats");
    assert!(err.contains("unsupported NPY dtype '<i8'"), "{err}");
}
