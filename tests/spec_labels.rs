//! Every spec label cited in src/ (e.g. `(Q15)`, `(B6.iv)`) is mentioned by some
//! derivations/*.md file, so that no formula in code lacks its derivation.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

fn labels(text: &str) -> BTreeSet<String> {
    // Spec labels: one of C K Q A P E T B, digits, optional ".roman" suffix.
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i] == b'(' && b"CKQAPETB".contains(&b[i + 1]) && b[i + 2].is_ascii_digit() {
            let mut j = i + 2;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len() && b[j] == b'.' {
                let mut r = j + 1;
                while r < b.len() && b"ivx".contains(&b[r]) {
                    r += 1;
                }
                if r > j + 1 && r < b.len() && b[r] == b')' {
                    out.insert(text[i + 1..r].to_string());
                    i = r;
                    continue;
                }
            }
            if j < b.len() && b[j] == b')' {
                out.insert(text[i + 1..j].to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn walk(dir: &Path, ext: &str, acc: &mut String) {
    for entry in fs::read_dir(dir).expect("invariant: directory is readable") {
        let p = entry.expect("invariant: entry is readable").path();
        if p.is_dir() {
            walk(&p, ext, acc);
        } else if p.extension().is_some_and(|e| e == ext) {
            acc.push_str(&fs::read_to_string(&p).expect("invariant: file is text"));
            acc.push('\n');
        }
    }
}

#[test]
fn every_cited_spec_label_has_a_derivation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut src = String::new();
    walk(&root.join("src"), "rs", &mut src);
    let mut der = String::new();
    walk(&root.join("derivations"), "md", &mut der);
    let cited = labels(&src);
    let derived = labels(&der);
    let missing: Vec<_> = cited.difference(&derived).collect();
    assert!(
        !cited.is_empty(),
        "expected src/ to cite spec labels such as (C1)"
    );
    assert!(
        missing.is_empty(),
        "spec labels cited in src/ but derived nowhere in derivations/: {missing:?}"
    );
}

#[test]
fn label_scanner_finds_the_forms_used() {
    let l = labels("see (Q15), (B6.iv) and (A7); not (QM7), (D1) or (x)");
    let want: BTreeSet<String> = ["Q15", "B6.iv", "A7"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(l, want);
}
