//! CLI tests of polycap reproduce: every figure and the index written, byte-identical
//! reruns, fonts, and bad ids rejected with exit code 2.

use std::path::{Path, PathBuf};

use polycap::figures::registry;

use super::{polycap, stderr};

/// A fresh, empty directory under the system temp dir, unique per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polycap-reproduce-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn quick_writes_every_figure_and_the_index() {
    let dir = scratch("quick");
    let out = dir.to_string_lossy().into_owned();
    let o = polycap(&["reproduce", "--quick", "--out", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    let index = String::from_utf8(read(&dir.join("README.md"))).expect("UTF-8 index");
    let entries = registry();
    for e in &entries {
        let svg = String::from_utf8(read(&dir.join(format!("{}.svg", e.id)))).expect("UTF-8 SVG");
        assert!(
            svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"),
            "{}",
            e.id
        );
        assert!(svg.contains("DejaVu Serif"));
        assert!(!read(&dir.join(format!("{}.csv", e.id))).is_empty());
        assert!(
            index.contains(&format!("## {}", e.id)),
            "index lacks {}",
            e.id
        );
        assert!(index.contains("![") && index.contains(&format!("]({}.svg)", e.id)));
        assert!(index.contains(&format!("polycap reproduce --only {} --quick", e.id)));
    }
    // Exactly the listed files, no temporaries left behind.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read dir")
        .map(|d| d.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = entries
        .iter()
        .flat_map(|e| [format!("{}.csv", e.id), format!("{}.svg", e.id)])
        .chain(["README.md".to_string()])
        .collect();
    expected.sort();
    assert_eq!(names, expected);

    // A second run writes the same bytes.
    let dir2 = scratch("quick-again");
    let o = polycap(&["reproduce", "--quick", "--out", &dir2.to_string_lossy()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for name in &expected {
        if name == "README.md" {
            continue; // the index names its --out directory
        }
        assert_eq!(
            read(&dir.join(name)),
            read(&dir2.join(name)),
            "{name} differs between runs"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn only_and_font_flags() {
    let dir = scratch("only");
    let o = polycap(&[
        "reproduce",
        "--quick",
        "--font",
        "sans",
        "--only",
        "fig2-marginal-benefit",
        "--out",
        &dir.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = String::from_utf8(read(&dir.join("fig2-marginal-benefit.svg"))).expect("UTF-8");
    assert!(svg.contains("font-family=\"DejaVu Sans"));
    assert!(!dir.join("fig4-phase-diagram.svg").exists());
    let index = String::from_utf8(read(&dir.join("README.md"))).expect("UTF-8");
    assert!(index.contains("--font sans"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_figure_id_is_a_usage_error() {
    let dir = scratch("bad");
    let o = polycap(&[
        "reproduce",
        "--only",
        "fig99",
        "--out",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: ") && err.contains("fig99") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!dir.join("README.md").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The committed figures/ directory is exactly what `polycap reproduce` writes: rerun it
/// in a scratch directory (default --out, so the index's command lines match) and compare
/// every file byte for byte. Regenerate with `polycap reproduce` when this fails.
#[test]
fn committed_figures_are_current() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("figures");
    let dir = scratch("committed");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_polycap"))
        .arg("reproduce")
        .current_dir(&dir)
        .output()
        .expect("invariant: the polycap binary runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let fresh = dir.join("figures");
    let list = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .map(|x| x.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        list(&committed),
        list(&fresh),
        "figures/ lists other files than reproduce writes"
    );
    for name in list(&fresh) {
        assert!(
            read(&committed.join(&name)) == read(&fresh.join(&name)),
            "figures/{name} is stale: run `polycap reproduce` and commit figures/"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The index's "same numbers" command lines run: every one exits 0 and prints CSV.
#[test]
fn equivalent_commands_run() {
    use polycap::figures::Quality;
    use polycap::figures::style::FontChoice;
    let mut count = 0;
    for e in registry() {
        let r = e
            .render(Quality::Quick, FontChoice::Serif)
            .expect("figure renders");
        for c in &r.commands {
            let args: Vec<&str> = c.split_whitespace().collect();
            assert_eq!(args.first(), Some(&"polycap"), "{c}");
            let o = polycap(&args[1..]);
            assert!(o.status.success(), "{c}: {}", stderr(&o));
            let out = super::stdout(&o);
            assert!(
                out.lines().count() > 1 && out.contains(','),
                "{c} printed no CSV"
            );
            count += 1;
        }
    }
    assert!(
        count >= 2,
        "expected commands for Fig. 2 and the phase diagram"
    );
}
