//! Issue 13: a table of bad inputs across every subcommand, run through the real binary. Each
//! must exit with its code (2 usage, 1 runtime), print exactly one line `error: …` naming the
//! problem and nothing on stdout, leave no file behind (not even a partial or temporary one),
//! and finish under a memory cap (`ulimit -v`: an attempt to allocate 80 GB fails the case)
//! and a watchdog (a hang fails the case instead of stalling the suite).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address-space cap of each run, in KiB (4 GiB): far above what a rejected input may use.
const MEMORY_KIB: u64 = 4 << 20;

/// Watchdog: a case still running after this is a hang.
const WATCHDOG: Duration = Duration::from_secs(60);

/// One row: arguments (`{in}` stands for the input directory), exit code, and a piece of the
/// message that names the problem.
struct Case {
    args: &'static str,
    code: i32,
    says: &'static str,
}

const fn case(args: &'static str, code: i32, says: &'static str) -> Case {
    Case { args, code, says }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // no or unknown subcommand
    case("", 2, "'polycap' needs a subcommand: one of allocate, capacity"),
    case("bench", 2, "'polycap bench' needs a subcommand: one of tms, tiny, quadratic, gelu, phase, finite, figure"),
    case("alocate --dims 3", 2, "allocate"),
    // allocate: clap keeps the whole message; library validation names the 1-based feature
    case("allocate --importance 1 --density 0.1 --features 6", 2, "--dims <D>"),
    case("allocate --dim 3 --importance 1 --density 0.1 --features 6", 2, "--dims"),
    case("allocate --dims 3 --importance 1", 2, "--density SPEC or --kurtosis SPEC"),
    case("allocate --dims 3 --importance 0.5,1,1,NaN,1,1 --density 0.1", 2, "feature 4"),
    case("allocate --dims 3 --importance -1 --density 0.1 --features 2", 2, "feature 1 must be in [0, 1e12], got -1"),
    case("allocate --dims 3 --features 6 --importance 1e308 --density 0.1", 2, "[0, 1e12]"),
    case("allocate --dims 3 --features 6 --importance geom:1e300 --density 0.1", 2, "feature 2 must be in [0, 1e12]"),
    case("allocate --dims 3 --features 6 --importance 1 --kurtosis 1e308", 2, "[1, 1e12]"),
    case("allocate --dims 3 --features 6 --importance 1 --kurtosis 0.5", 2, "kurtosis"),
    case("allocate --dims 3 --features 6 --importance 1 --density 1e-308", 2, "raise the density"),
    case("allocate --dims 3 --features 6 --importance 1 --density 0", 2, "(0, 1]"),
    case("allocate --dims 3 --features 6 --importance 1 --density 1.5", 2, "(0, 1]"),
    case("allocate --dims 0 --features 6 --importance 1 --density 0.1", 2, "≥ 1"),
    case("allocate --dims -3 --features 6 --importance 1 --density 0.1", 2, "invalid value '-3'"),
    case("allocate --dims 3 --features 100000000000 --importance 1 --density 0.1", 2, "--features = 100000000000 needs about"),
    case("allocate --dims 3 --features 6 --importance 1 --density 0.1 --kurtosis 5", 2, "mutually exclusive"),
    case("allocate --dims 3 --features 6 --importance 1 --kurtosis 5 --input gaussian", 2, "--input only applies"),
    case("allocate --dims 3 --features 6 --importance 1 --density 0.1 --input cauchy", 2, "unknown input distribution"),
    case("allocate --dims 3 --features 6 --importance 1 --density 0.1 --input student-t:3", 2, "> 4"),
    case("allocate --dims 3 --importance 1,2 --density 0.1,0.2,0.3", 2, "expected 2 values"),
    case("allocate --dims 3 --features 6 --importance 1 --density 0.1 --format xml", 2, "invalid value 'xml'"),
    case("allocate --dims 3 --features 6 --importance 1 --density 0.1 --format json --out r.png", 2, "extension .png does not match --format json"),
    case("allocate --dims 3 --features 6 --importance 1 --density 0.1 --output r.txt", 2, "--out"),
    // capacity
    case("capacity", 2, "--matrix <FILE>"),
    case("capacity --matrix {in}/missing.csv", 1, "missing.csv"),
    case("capacity --matrix {in}/nan.csv", 2, "NaN"),
    case("capacity --matrix {in}/ragged.csv", 2, "ragged.csv"),
    case("capacity --matrix {in}/huge.csv", 2, "1e154"),
    case("capacity --matrix {in}/bad.npy", 2, "bad.npy"),
    case("capacity --matrix {in}/ok.csv --format csv --out c.json", 2, "extension .json"),
    // phase
    case("phase --grid 100000x100000", 2, "needs about"),
    case("phase --grid 20000x20000 --format csv", 2, "--grid = 20000x20000 needs about"),
    case("phase --grid 0x5", 2, "≥ 1"),
    case("phase --grid 10", 2, "W×H"),
    case("phase --kurtosis-axis 0.5:1000", 2, "k = E[x⁴] must be in [1, 1e12], got 0.5"),
    case("phase --p-range 0.1:2", 2, "p = 1 − S must be in (0, 1]"),
    case("phase --v-range 5:1", 2, "0 < A < B"),
    case("phase --out p.png", 2, ".svg"),
    case("phase --symbolic --out p.svg", 2, "--symbolic"),
    case("phase --symbolic --format csv", 2, "table or json"),
    case("phase --dims 0", 2, "D must be ≥ 1, got 0"),
    case("phase --input student-t:4", 2, "> 4"),
    // marginal
    case("marginal --importance 1 --kurtosis 5 --features 6 --dims 3 --points 100000000 --format csv", 2, "--points = 100000000 needs about"),
    case("marginal --importance 1 --kurtosis 5 --features 6 --dims 3 --points 1", 2, "≥ 2"),
    case("marginal --importance 1 --kurtosis 5 --features 6 --dims 3 --lambda 1", 2, "not both"),
    case("marginal --importance 1 --kurtosis 5 --features 6 --lambda -1", 2, "λ"),
    case("marginal --importance 1 --kurtosis 5 --features 6 --lambda NaN", 2, "λ"),
    case("marginal --importance 1 --kurtosis 5 --features 6 --dims 3 --input gaussian", 2, "--input only applies"),
    case("marginal --importance 1 --kurtosis 5 --features 6 --dims 3 --format json --out m.csv", 2, "extension .csv"),
    // train: validation in the library, inapplicable options, divergence, sizes
    case("train --model nope --dims 2 --features 3", 2, "unknown model 'nope'"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --lr -1", 2, "learning rate must be finite and > 0, got -1"),
    case("train --model tms-relu --dims 2 --features 3 --steps 0", 2, "at least 1 step"),
    case("train --model quadratic-exact --dims 2 --features 3 --steps 0", 2, "at least 1 step"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --batch 0", 2, "batch"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --seeds 0", 2, "--seeds"),
    case("train --model quadratic --features 6 --dims 3 --density 0.1 --lr 1e3 --steps 200 --batch 64 --eval-batch 256", 1, "training diverged at step"),
    case("train --model tms-relu --features 5 --dims 2 --lr 1e308 --steps 30 --batch 64 --eval-batch 256", 1, "training diverged at step"),
    case("train --model quadratic-exact --features 6 --dims 3 --density 0.1 --lr 1e3 --steps 300", 1, "training diverged at step"),
    case("train --model tms-relu --dims 1000000000 --features 3", 2, "needs about"),
    case("train --model tms-relu --features 10000000 --dims 5", 2, "needs about"),
    case("train --model quadratic-exact --features 100000 --dims 5", 2, "floating-point operations"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --threads 100000", 2, "at most 1024"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --weight-decay 0.1", 2, "--optimizer adamw"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --input gaussian", 2, "--input does not apply"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --density 0.1 --instances-density logspace:1:0.01:3", 2, "give one of them"),
    case("train --model quadratic-exact --dims 2 --features 3 --steps 20 --batch 10", 2, "--batch does not apply"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --format csv --out t.json", 2, "extension .json"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --init normal:-1", 2, "-1"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --schedule warmup:0", 2, "warmup"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --optimizer lion", 2, "unknown optimizer 'lion'"),
    case("train --model tms-relu --dims 2 --features 3 --steps 20 --density 0.1,0.2", 2, "expected 3 values"),
    // verify
    case("verify --grid 100000x100000", 2, "needs about"),
    case("verify --tolerance NaN --steps 10 --seeds 1 --grid 1x1", 2, "verify tolerances must be finite and ≥ 0, got |ΔCᵢ| ≤ NaN"),
    case("verify --format csv", 2, "invalid value 'csv'"),
    case("verify --model quadratic --lr 0", 2, "learning rate must be finite and > 0, got 0"),
    case("verify --model tms-relu --lr inf", 2, "learning rate must be finite and > 0, got inf"),
    case("verify --model tms-gelu", 2, "only tms-relu"),
    case("verify --model tms-relu --features 4 --dims 2", 2, "--features 2 --dims 1 or --features 3 --dims 2"),
    case("verify --shard 3/2 --grid 2x2", 2, "--shard"),
    case("verify --importance 1 --features 3 --shard 0/2", 2, "--shard applies to grids"),
    case("verify --steps 0", 2, "--steps"),
    case("verify --importance 1 --features 6 --dims 100000000 --steps 10 --seeds 1", 2, "needs about"),
    case("verify --out v.csv --grid 1x1 --steps 10", 2, "extension .csv"),
    case("verify merge", 2, "<FILES>"),
    case("verify merge {in}/missing.json", 1, "missing.json"),
    case("verify merge {in}/ok.csv", 2, "not a verify report"),
    // geometry
    case("geometry --from-train {in}/run.json --instance 0", 2, "numbered from 1"),
    case("geometry --from-train {in}/run.json --instance 3", 2, "1 instance(s)"),
    case("geometry --matrix {in}/ok.csv --from-train {in}/run.json", 2, "cannot be used with"),
    case("geometry --matrix {in}/ok.csv --tolerance 2", 2, "(0, 1)"),
    case("geometry --matrix {in}/ok.csv --tolerance NaN", 2, "(0, 1)"),
    case("geometry --matrix {in}/ok.csv --max-denominator 0", 2, "≥ 1"),
    case("geometry --matrix {in}/ok.csv --instance 1", 2, "--from-train"),
    case("geometry --from-train {in}/ok.csv", 2, "not JSON"),
    // bench
    case("bench tms --threads 100000 --steps 10", 2, "at most 1024"),
    case("bench tms --instances 0", 2, "instance"),
    case("bench tms --features 10000000 --dims 5 --steps 10", 2, "needs about"),
    case("bench phase --grid 100000x100000", 2, "needs about"),
    case("bench gelu --evals 0", 2, "1 ≤ evals"),
    case("bench finite --evals 0", 2, "1 ≤ evals"),
    case("bench finite --points 0", 2, "--points must be"),
    case("bench tms --steps 10 --format csv --out b.json", 2, "extension .json"),
    case("bench nope", 2, "nope"),
    // reproduce
    case("reproduce --only nope", 2, "unknown figure id"),
    case("reproduce --font comic", 2, "invalid value 'comic'"),
];

/// The input files the cases read.
fn inputs(dir: &Path) {
    std::fs::create_dir_all(dir).expect("invariant: temp dir");
    let put = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).expect("invariant: temp file");
    };
    put("ok.csv", b"1,0,0.5\n0,1,0.5\n");
    put("nan.csv", b"1,0\n0,NaN\n");
    put("ragged.csv", b"1,0,1\n0,1\n");
    // 5 × 20 entries near 1e160: squared lengths overflow f64.
    let row = vec!["1e160"; 20].join(",");
    put(
        "huge.csv",
        format!("{}\n", vec![row; 5].join("\n")).as_bytes(),
    );
    put("bad.npy", b"\x93NUMPY\x01\x00garbage");
    put(
        "run.json",
        br#"{"instances": [{"density": 1.0, "w": [[1.0, 0.0], [0.0, 1.0]]}]}"#,
    );
}

/// Runs one case under the memory cap and the watchdog, in its own empty directory.
fn run(args: &[String], cwd: &Path) -> (Option<i32>, String, String, Duration) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_polycap"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("invariant: sh runs");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("invariant: wait").is_some() {
            break;
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("invariant: output");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr),
        start.elapsed(),
    )
}

#[test]
fn every_bad_input_is_a_one_line_error_with_its_exit_code_and_no_file() {
    assert!(CASES.len() >= 60, "only {} cases", CASES.len());
    let root: PathBuf =
        std::env::temp_dir().join(format!("polycap-bad-inputs-{}", std::process::id()));
    let input = root.join("in");
    inputs(&input);
    let mut failures = Vec::new();
    for (k, c) in CASES.iter().enumerate() {
        let cwd = root.join(format!("case-{k}"));
        std::fs::create_dir_all(&cwd).expect("invariant: temp dir");
        let args: Vec<String> = c
            .args
            .split_whitespace()
            .map(|a| a.replace("{in}", &input.to_string_lossy()))
            .collect();
        let (code, stdout, stderr, took) = run(&args, &cwd);
        let left: Vec<String> = std::fs::read_dir(&cwd)
            .expect("invariant: readable")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let mut why = Vec::new();
        if took > WATCHDOG {
            why.push(format!("still running after {WATCHDOG:?} (killed)"));
        }
        if code != Some(c.code) {
            why.push(format!("exit {code:?}, want {}", c.code));
        }
        let lines: Vec<&str> = stderr.lines().collect();
        if lines.len() != 1 || !lines[0].starts_with("error: ") {
            why.push(format!("stderr is not one 'error: …' line: {stderr:?}"));
        }
        if !stderr.contains(c.says) {
            why.push(format!("message lacks {:?}: {stderr:?}", c.says));
        }
        if stderr.contains("panicked") || stderr.contains("{ ") {
            why.push(format!(
                "a panic or a Rust struct in the message: {stderr:?}"
            ));
        }
        if !stdout.is_empty() {
            why.push(format!("stdout not empty: {stdout:?}"));
        }
        if !left.is_empty() {
            why.push(format!("files left behind: {left:?}"));
        }
        if !why.is_empty() {
            failures.push(format!("polycap {}\n    {}", c.args, why.join("\n    ")));
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs misbehaved:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
