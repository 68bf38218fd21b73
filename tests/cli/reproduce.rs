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

/// The committed figures/ directory is what `polycap reproduce` writes. The closed-form
/// figures are regenerated here (default --out, so the index's command lines match) and
/// compared byte for byte; the figures that train models take minutes, so for those the test
/// checks that both files are committed and indexed (`polycap reproduce` regenerates them),
/// and that the paper-resolution Fig. 7 is in figures/paper/.
/// Regenerate with `polycap reproduce` when this fails.
#[test]
fn committed_figures_are_current() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("figures");
    let dir = scratch("committed");
    let cheap: Vec<_> = registry().into_iter().filter(|e| !e.trains).collect();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_polycap"));
    cmd.arg("reproduce").current_dir(&dir);
    for e in &cheap {
        cmd.args(["--only", e.id]);
    }
    let o = cmd.output().expect("invariant: the polycap binary runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let fresh = dir.join("figures");
    for e in &cheap {
        for ext in ["svg", "csv"] {
            let name = format!("{}.{ext}", e.id);
            assert!(
                read(&committed.join(&name)) == read(&fresh.join(&name)),
                "figures/{name} is stale: run `polycap reproduce` and commit figures/"
            );
        }
    }
    let index = String::from_utf8(read(&committed.join("README.md"))).expect("UTF-8 index");
    assert!(
        !index.contains("^{") && !index.contains("_{"),
        "figures/README.md shows raw label markup instead of the scripts the SVGs draw"
    );
    let mut expected: Vec<String> = vec!["README.md".into()];
    for e in registry() {
        assert!(
            index.contains(e.id),
            "figures/README.md does not list {}",
            e.id
        );
        for ext in ["svg", "csv"] {
            let name = format!("{}.{ext}", e.id);
            assert!(
                !read(&committed.join(&name)).is_empty(),
                "figures/{name} is missing or empty"
            );
            expected.push(name);
        }
    }
    // figures/paper/: the paper-resolution Fig. 7 (`polycap reproduce --only
    // fig7-empirical-phase-diagrams --resolution paper --out figures/paper`, README).
    expected.push("paper".into());
    let paper = committed.join("paper");
    for name in [
        "README.md",
        "fig7-empirical-phase-diagrams.svg",
        "fig7-empirical-phase-diagrams.csv",
    ] {
        assert!(
            !read(&paper.join(name)).is_empty(),
            "figures/paper/{name} is missing or empty"
        );
    }
    expected.sort();
    let mut listed: Vec<String> = std::fs::read_dir(&committed)
        .expect("figures/ is readable")
        .map(|x| x.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    assert_eq!(
        listed, expected,
        "figures/ holds other files than reproduce writes"
    );
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
            let args = super::invocation_args(c);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = polycap(&args);
            assert!(o.status.success(), "{c:?}: {}", stderr(&o));
            let out = super::stdout(&o);
            assert!(
                out.lines().count() > 1 && out.contains(','),
                "{c:?} printed no CSV"
            );
            count += 1;
        }
    }
    assert!(
        count >= 2,
        "expected commands for Fig. 2 and the phase diagram"
    );
}

/// Runs `polycap ARGS…` in directory `dir`.
fn polycap_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_polycap"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("invariant: the polycap binary runs")
}

/// Every file of `dir`, sorted by name, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|d| {
            let p = d.expect("entry").path();
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                read(&p),
            )
        })
        .collect();
    v.sort();
    v
}

/// The GNU-parallel recipe of the README at a tiny resolution: one `--shard i/N` run per
/// shard, then `reproduce merge`; the figures directory equals the unsharded run's byte for
/// byte (index included), whether the shards sit in one directory or one each.
#[test]
fn sharded_reproduce_merges_to_the_unsharded_files() {
    let dir = scratch("shards");
    let only = [
        "--only",
        "fig7-empirical-phase-diagrams",
        "--only",
        "block-structure-quadratic-vs-relu",
        "--only",
        "fig2-marginal-benefit",
    ];
    let whole = dir.join("whole");
    std::fs::create_dir_all(&whole).expect("mkdir");
    let o = polycap_in(
        &whole,
        &[&["reproduce", "--resolution", "quick"][..], &only].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = files(&whole.join("figures"));
    assert_eq!(expected.len(), 7);
    for (i, layout) in ["each", "one"].iter().enumerate() {
        let run = dir.join(format!("sharded{i}"));
        std::fs::create_dir_all(&run).expect("mkdir");
        for s in 0..3 {
            let shard = format!("{s}/3");
            let out = if *layout == "each" {
                format!("shards/{s}")
            } else {
                "shards".to_string()
            };
            let o = polycap_in(
                &run,
                &[
                    &["reproduce", "--quick", "--shard", &shard, "--out", &out][..],
                    &only,
                ]
                .concat(),
            );
            assert!(o.status.success(), "{}", stderr(&o));
        }
        let o = if *layout == "each" {
            polycap_in(
                &run,
                &["reproduce", "merge", "shards/0", "shards/1", "shards/2"],
            )
        } else {
            polycap_in(&run, &["reproduce", "merge", "shards"])
        };
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(files(&run.join("figures")), expected, "layout {layout}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad shards: i ≥ N, N = 0, a missing or repeated shard, shards of different settings, a
/// file that is no shard — one-line errors, exit 2, and no figure written.
#[test]
fn bad_shards_are_usage_errors_and_write_nothing() {
    let dir = scratch("bad-shards");
    let one_line_2 = |o: &std::process::Output| {
        let err = stderr(o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with("error: ") && err.lines().count() == 1,
            "{err}"
        );
        err
    };
    for bad in ["3/3", "0/0", "x"] {
        let o = polycap_in(
            &dir,
            &["reproduce", "--quick", "--shard", bad, "--out", "s"],
        );
        assert!(one_line_2(&o).contains("--shard"));
        assert!(!dir.join("s").exists());
    }
    let o = polycap_in(&dir, &["reproduce", "--quick", "--resolution", "paper"]);
    assert_eq!(o.status.code(), Some(2));
    let fig = |id: &str, s: &str| {
        let o = polycap_in(
            &dir,
            &[
                "reproduce",
                "--quick",
                "--only",
                id,
                "--shard",
                s,
                "--out",
                "s",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    };
    fig("fig7-empirical-phase-diagrams", "0/2");
    std::fs::rename(dir.join("s/shard-0-of-2.json"), dir.join("fig7-0.json")).expect("mv");
    fig("fig7-empirical-phase-diagrams", "1/2");
    std::fs::rename(dir.join("s/shard-1-of-2.json"), dir.join("fig7-1.json")).expect("mv");
    fig("verify-scatter", "1/2");
    std::fs::write(dir.join("junk.json"), "{}").expect("write");
    for (files, says) in [
        (vec!["fig7-0.json"], "missing shard"),
        (vec!["fig7-0.json", "fig7-1.json", "fig7-1.json"], "twice"),
        (
            vec!["fig7-0.json", "s/shard-1-of-2.json"],
            "different settings",
        ),
        (vec!["fig7-0.json", "junk.json"], "not a reproduce shard"),
    ] {
        let o = polycap_in(&dir, &[&["reproduce", "merge"][..], &files].concat());
        let err = one_line_2(&o);
        assert!(err.contains(says), "{err}");
        assert!(!dir.join("figures").exists(), "{files:?} wrote figures");
    }
    let o = polycap_in(&dir, &["reproduce", "merge", "fig7-0.json", "fig7-1.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        dir.join("figures/fig7-empirical-phase-diagrams.svg")
            .exists()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
