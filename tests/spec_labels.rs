//! Every spec label cited in src/ (e.g. `(Q15)`, `(B6.iv)`) is mentioned by some
//! derivations/*.md file, so that no formula in code lacks its derivation.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

fn labels(text: &str) -> BTreeSet<String> {
    // Spec labels: one of C K Q A P E T B Z, digits, optional ".roman" suffix.
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i] == b'(' && b"CKQAPETBZ".contains(&b[i + 1]) && b[i + 2].is_ascii_digit() {
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

/// Every label of any letters — (C1), (RN6), (PH13), (B6.ii), (C1′) — cited in src/.
fn all_labels(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '(' {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_uppercase() && j - i <= 3 {
                j += 1;
            }
            let letters = j - i - 1;
            let digits_start = j;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if (1..=3).contains(&letters) && j > digits_start {
                if j < chars.len() && chars[j] == '′' {
                    j += 1;
                }
                if j + 1 < chars.len() && chars[j] == '.' {
                    let mut r = j + 1;
                    while r < chars.len() && "ivx".contains(chars[r]) {
                        r += 1;
                    }
                    if r > j + 1 {
                        j = r;
                    }
                }
                if j < chars.len() && chars[j] == ')' {
                    out.insert(chars[i + 1..j].iter().collect());
                }
            }
        }
        i += 1;
    }
    out
}

#[test]
fn every_cited_label_is_indexed_in_derivations_readme() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut src = String::new();
    walk(&root.join("src"), "rs", &mut src);
    let index = fs::read_to_string(root.join("derivations/README.md"))
        .expect("invariant: derivations/README.md exists");
    let rows: BTreeSet<String> = index
        .lines()
        .filter_map(|l| l.strip_prefix("| ("))
        .filter_map(|l| l.split_once(") |").map(|(label, _)| label.to_string()))
        .collect();
    let missing: Vec<_> = all_labels(&src).difference(&rows).cloned().collect();
    assert!(rows.len() > 100, "the index lists {} labels", rows.len());
    assert!(
        missing.is_empty(),
        "labels cited in src/ but not indexed in derivations/README.md: {missing:?}"
    );
    assert_eq!(
        all_labels("(C1′), (B6.ii), (RN6) and (PH13); not (x), (ABCD1) or (Q)"),
        ["B6.ii", "C1′", "PH13", "RN6"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}

#[test]
fn no_doc_points_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut src = String::new();
    walk(&root.join("src"), "rs", &mut src);
    assert!(
        !src.contains("capacity-theory.md"),
        "src/ cites capacity-theory.md, which is not in the repository: cite derivations/"
    );
}
