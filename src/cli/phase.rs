//! `polycap phase`: the analytic phase diagram of the varied feature's capacity C₁ over
//! (importance V, density p = 1 − S) or (V, kurtosis k), its closed-form boundaries, the
//! critical point, and (`--symbolic`) the boundary formulas derived exactly.

use std::path::PathBuf;
use std::time::Instant;

use polycap::base::{Magnitude, resources};
use polycap::theory::phase::{
    self, CONTOUR_LEVELS, DEFAULT_DENSITY_RANGE, DEFAULT_IMPORTANCE_RANGE, Fraction, PhaseGrid,
    PhaseSetting, VerticalAxis,
};
use serde_json::{Value, json};

use super::output::{Format, csv_text, emit, num, table, usage, write_atomic};
use polycap::figures::style::{FontChoice, Style, Width};

/// Flags of `polycap phase`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of features N (feature 1 is varied, the other N − 1 have importance 1).
    #[arg(long, default_value_t = 6)]
    features: usize,
    /// Embedding dimension D.
    #[arg(long, default_value_t = 3)]
    dims: usize,
    /// Magnitude law of a non-zero feature: uniform, gaussian, laplace, rademacher,
    /// student-t:NU (k = Kurt[z]/p).
    #[arg(long, default_value = "uniform")]
    input: String,
    /// Grid size W×H: W importances by H densities (or kurtoses); 'x' or '×'.
    #[arg(long, default_value = "400x400")]
    grid: String,
    /// Range of the relative importance V, A:B (log-spaced, both ends included).
    #[arg(long, default_value = "0.01:100", allow_hyphen_values = true)]
    v_range: String,
    /// Range of the density p = 1 − S, A:B with 0 < A < B ≤ 1 (log-spaced) [default 0.001:1].
    #[arg(long, allow_hyphen_values = true)]
    p_range: Option<String>,
    /// Use the kurtosis k = E[x⁴] as vertical axis instead of p, range A:B with 1 ≤ A < B.
    #[arg(long, allow_hyphen_values = true)]
    kurtosis_axis: Option<String>,
    /// Print the boundary formulas derived symbolically (text and LaTeX) instead of the grid.
    #[arg(long)]
    symbolic: bool,
    /// Also draw the diagram as a paper-ready SVG to this file (boundaries, contours,
    /// critical point); the table/JSON/CSV still goes to stdout.
    #[arg(long, value_name = "FILE.svg")]
    out: Option<PathBuf>,
    /// Font family of the SVG.
    #[arg(long, value_enum, default_value_t = SvgFont::Serif)]
    font: SvgFont,
    /// Printed width of the SVG: one column (3.3 in) or two columns (7 in).
    #[arg(long, value_enum, default_value_t = SvgWidth::One)]
    width: SvgWidth,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Font family of `--out` SVGs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SvgFont {
    /// Serif (journals).
    Serif,
    /// Sans-serif (slides).
    Sans,
}

/// Printed width of `--out` SVGs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SvgWidth {
    /// One column, 3.3 in.
    One,
    /// Two columns, 7 in.
    Two,
}

/// Parses `W×H`, `WxH` or `WXH` into (W, H), both ≥ 1.
pub(super) fn parse_grid(s: &str) -> anyhow::Result<(usize, usize)> {
    let parts: Vec<&str> = s.split(['x', 'X', '×']).collect();
    let bad = || usage(format!("--grid: expected W×H (e.g. 400x400), got '{s}'"));
    if parts.len() != 2 {
        return Err(bad());
    }
    let w: usize = parts[0].trim().parse().map_err(|_| bad())?;
    let h: usize = parts[1].trim().parse().map_err(|_| bad())?;
    if w == 0 || h == 0 {
        return Err(usage(format!("--grid: W and H must be ≥ 1, got '{s}'")));
    }
    Ok((w, h))
}

/// Parses `A:B` with 0 < A < B (finite).
fn parse_range(flag: &str, s: &str) -> anyhow::Result<(f64, f64)> {
    let bad = || usage(format!("{flag}: expected A:B with 0 < A < B, got '{s}'"));
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let a: f64 = a.trim().parse().map_err(|_| bad())?;
    let b: f64 = b.trim().parse().map_err(|_| bad())?;
    if !(a.is_finite() && b.is_finite() && a > 0.0 && a < b) {
        return Err(bad());
    }
    Ok((a, b))
}

/// Runs `polycap phase`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(path) = &args.out {
        let svg = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
        if !svg {
            return Err(usage(format!(
                "--out {}: phase draws an SVG, so the file must end in .svg",
                path.display()
            )));
        }
    }
    let magnitude = Magnitude::parse(&args.input)?;
    let setting = PhaseSetting::new(args.features, args.dims, magnitude)?;
    if args.symbolic {
        if args.out.is_some() {
            return Err(usage(
                "--out draws the grid's SVG; --symbolic prints formulas only: drop one of them",
            ));
        }
        return run_symbolic(&setting, args.format);
    }
    let (w, h) = parse_grid(&args.grid)?;
    // The rendered text: about 300 bytes per cell as CSV rows, 40 as JSON, a few for a table.
    let per_cell = match args.format {
        Format::Csv => 300.0,
        Format::Json => 40.0,
        Format::Table => 8.0,
    };
    resources::check_memory("--grid", &args.grid, per_cell * w as f64 * h as f64)?;
    let (v_lo, v_hi) = parse_range("--v-range", &args.v_range)?;
    let v_axis = phase::log_axis(v_lo, v_hi, w)?;
    if args.kurtosis_axis.is_some() && args.p_range.is_some() {
        return Err(usage(
            "give either --p-range or --kurtosis-axis (the vertical axis), not both",
        ));
    }
    let grid = match &args.kurtosis_axis {
        Some(s) => {
            let (k_lo, k_hi) = parse_range("--kurtosis-axis", s)?;
            phase::phase_grid_kurtosis(&setting, &v_axis, &phase::log_axis(k_lo, k_hi, h)?)?
        }
        None => {
            let (p_lo, p_hi) = match &args.p_range {
                Some(s) => parse_range("--p-range", s)?,
                None => DEFAULT_DENSITY_RANGE,
            };
            phase::phase_grid(&setting, &v_axis, &phase::log_axis(p_lo, p_hi, h)?)?
        }
    };
    let text = match args.format {
        Format::Csv => render_csv(&grid)?,
        Format::Json => serde_json::to_string_pretty(&render_json(&grid)?)? + "\n",
        Format::Table => render_table(&grid)?,
    };
    if let Some(path) = &args.out {
        let style = Style::new(
            match args.font {
                SvgFont::Serif => FontChoice::Serif,
                SvgFont::Sans => FontChoice::Sans,
            },
            match args.width {
                SvgWidth::One => Width::OneColumn,
                SvgWidth::Two => Width::TwoColumn,
            },
        );
        let svg = polycap::figures::phase_diagram::svg_for_grid(&grid, &style)?;
        write_atomic(path, svg.as_bytes())?;
    }
    emit(None, &text)
}

fn run_symbolic(setting: &PhaseSetting, format: Format) -> anyhow::Result<()> {
    let mut levels = vec![Fraction::ZERO];
    for i in 1..10 {
        levels.push(Fraction::new(i, 10)?);
    }
    levels.push(Fraction::ONE);
    let sp = phase::symbolic_phase(setting, &levels)?;
    let text = match format {
        Format::Table => format!("{}\nLaTeX:\n{}", sp.to_text(), sp.to_latex()),
        Format::Json => {
            let lines: Vec<Value> = sp
                .boundaries
                .iter()
                .map(|b| {
                    json!({
                        "level": b.level.to_text(),
                        "name": b.name(),
                        "importance_of_kurtosis": b.importance.format("k", false),
                        "importance_of_kurtosis_latex": b.importance.format("k", true),
                        "importance_of_density": b.importance_density.as_ref().map(|f| f.format("p", false)),
                        "importance_of_density_latex": b.importance_density.as_ref().map(|f| f.format("p", true)),
                        "lambda_of_kurtosis": b.lambda.format("k", false),
                        "other_capacity": b.others.to_text(),
                    })
                })
                .collect();
            let doc = json!({
                "setting": setting_json(setting),
                "valid_for": "k > 3 (V = 1 on the first-order line k ≤ 3)",
                "boundaries": lines,
                "band_width": sp.band_width.format("k", false),
                "critical_kurtosis": sp.critical_kurtosis.iter().map(Fraction::to_text).collect::<Vec<_>>(),
                "critical_density": sp.critical_density.map(|p| p.to_text()),
                "latex": sp.to_latex(),
            });
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Csv => {
            return Err(usage(
                "--symbolic prints formulas: use --format table or json",
            ));
        }
    };
    emit(None, &text)
}

fn setting_json(s: &PhaseSetting) -> Value {
    json!({
        "features": s.features(),
        "dims": s.dims(),
        "input": s.magnitude().name(),
        "magnitude_kurtosis": s.magnitude().kurtosis(),
        "varied_feature": "feature 1 has importance V, features 2..N have importance 1",
    })
}

fn render_csv(g: &PhaseGrid) -> anyhow::Result<String> {
    let mut rows = Vec::with_capacity(g.capacity.len());
    for (r, (&p, &k)) in g.density.iter().zip(&g.kurtosis).enumerate() {
        for (c, &v) in g.importance.iter().enumerate() {
            rows.push(vec![
                format!("{v}"),
                realizable(p).map(|p| p.to_string()).unwrap_or_default(),
                format!("{k}"),
                format!("{}", g.capacity_at(r, c)),
            ]);
        }
    }
    csv_text(&["importance", "density", "kurtosis", "capacity"], &rows)
}

/// The density p = Kurt[z]/k of a kurtosis-axis row, when one p ≤ 1 realises it: below
/// k = Kurt[z] none does, and no impossible p > 1 is printed (shown as "-", empty or null).
fn realizable(p: f64) -> Option<f64> {
    (p.is_finite() && p > 0.0 && p <= 1.0).then_some(p)
}

/// The closed-form curves (V, p, k) along the grid's vertical axis for level c.
fn curve_points(g: &PhaseGrid, level: f64) -> anyhow::Result<Vec<Value>> {
    let pts = phase::boundary_curve_kurtosis(&g.setting, level, &g.kurtosis)?;
    Ok(pts
        .iter()
        .zip(&g.density)
        .map(|(&(v, k), &p)| json!([v, realizable(p), k]))
        .collect())
}

fn render_json(g: &PhaseGrid) -> anyhow::Result<Value> {
    let w = g.importance.len();
    let capacity: Vec<&[f64]> = g.capacity.chunks(w).collect();
    let boundaries = if g.setting.closed_form_applies() {
        let contours = CONTOUR_LEVELS
            .iter()
            .map(|&c| Ok(json!({"level": c, "points": curve_points(g, c)?})))
            .collect::<anyhow::Result<Vec<_>>>()?;
        json!({
            "applicable": true,
            "point_format": ["importance", "density", "kurtosis"],
            "ignored": curve_points(g, 0.0)?,
            "full": curve_points(g, 1.0)?,
            "contours": contours,
        })
    } else {
        json!({
            "applicable": false,
            "reason": "D ≥ N: every feature is monosemantic (C_1 = 1 for V > 0)",
        })
    };
    let critical = phase::critical_point(&g.setting)
        .map(|(v, p)| json!({"importance": v, "density": p, "kurtosis": g.setting.kurtosis_at(p)}));
    let counts = g.phase_counts();
    Ok(json!({
        "setting": setting_json(&g.setting),
        "axes": {
            "vertical": match g.axis { VerticalAxis::Density => "density", VerticalAxis::Kurtosis => "kurtosis" },
            "importance": g.importance,
            "density": g.density.iter().map(|&p| realizable(p)).collect::<Vec<_>>(),
            "kurtosis": g.kurtosis,
        },
        "capacity": capacity,
        "boundaries": boundaries,
        "critical_point": critical,
        "phase_counts": {"ignored": counts[0], "polysemantic": counts[1], "monosemantic": counts[2]},
    }))
}

fn render_table(g: &PhaseGrid) -> anyhow::Result<String> {
    let s = &g.setting;
    let mut out = format!(
        "Phase diagram of C_1: N = {} features in D = {} dimensions, {} inputs (k = {}/p), v = (V, 1, …, 1)\n",
        s.features(),
        s.dims(),
        s.magnitude().name(),
        num(s.magnitude().kurtosis())
    );
    let (h, w) = (g.density.len(), g.importance.len());
    out.push_str(&format!(
        "grid: {w} importances V in [{}, {}] × {h} {} in [{}, {}]\n",
        num(g.importance[0]),
        num(g.importance[w - 1]),
        match g.axis {
            VerticalAxis::Density => "values of density p = 1 − S",
            VerticalAxis::Kurtosis => "values of kurtosis k",
        },
        num(first_last(g).0),
        num(first_last(g).1),
    ));
    match phase::critical_point(s) {
        Some((v, p)) => out.push_str(&format!(
            "critical point: V = {}, density p = {} (k = 3)\n",
            num(v),
            num(p)
        )),
        None if s.closed_form_applies() => {
            out.push_str("critical point: none (no density p ≤ 1 has k = 3)\n")
        }
        None => {}
    }
    if s.closed_form_applies() {
        out.push_str(
            "\nboundaries (closed forms (P3)–(P5); V = 1 on the first-order line k ≤ 3):\n",
        );
        // A few rows spread over the vertical axis (ends included).
        let picks: Vec<usize> = {
            let n = h.min(7);
            let mut v: Vec<usize> = (0..n)
                .map(|i| if n == 1 { 0 } else { i * (h - 1) / (n - 1) })
                .collect();
            v.dedup();
            v.reverse();
            v
        };
        let mut rows = Vec::new();
        for r in picks {
            let k = g.kurtosis[r];
            rows.push(vec![
                realizable(g.density[r]).map_or_else(|| "-".into(), num),
                num(k),
                num(phase::importance_ignored(s, k)?),
                num(phase::importance_at_capacity(s, 0.25, k)?),
                num(phase::importance_at_capacity(s, 0.5, k)?),
                num(phase::importance_at_capacity(s, 0.75, k)?),
                num(phase::importance_full(s, k)?),
            ]);
        }
        out.push_str(&table(
            &[
                "density p",
                "kurtosis k",
                "V_ign",
                "V_0.25",
                "V_0.5",
                "V_0.75",
                "V_full",
            ],
            &rows,
        ));
    } else {
        out.push_str("boundaries: not applicable (D ≥ N: every feature is monosemantic)\n");
    }
    let c = g.phase_counts();
    let total = g.capacity.len() as f64;
    out.push_str("\nphases on the grid:\n");
    out.push_str(&table(
        &["phase of feature 1", "points", "fraction"],
        &[
            vec![
                "ignored (C_1 = 0)".into(),
                c[0].to_string(),
                num(c[0] as f64 / total),
            ],
            vec![
                "polysemantic (0 < C_1 < 1)".into(),
                c[1].to_string(),
                num(c[1] as f64 / total),
            ],
            vec![
                "monosemantic (C_1 = 1)".into(),
                c[2].to_string(),
                num(c[2] as f64 / total),
            ],
        ],
    ));
    Ok(out)
}

fn first_last(g: &PhaseGrid) -> (f64, f64) {
    let a = match g.axis {
        VerticalAxis::Density => &g.density,
        VerticalAxis::Kurtosis => &g.kurtosis,
    };
    (a[0], a[a.len() - 1])
}

/// Times the default 6-in-3 phase grid of `width` × `height` points (one warm-up run, then
/// three timed runs) and prints the wall times and points per second.
pub fn run_bench(width: usize, height: usize) -> anyhow::Result<()> {
    if width == 0 || height == 0 {
        return Err(usage(format!(
            "bench phase: grid must be at least 1×1, got {width}×{height}"
        )));
    }
    let setting = PhaseSetting::default();
    let v = phase::log_axis(
        DEFAULT_IMPORTANCE_RANGE.0,
        DEFAULT_IMPORTANCE_RANGE.1,
        width,
    )?;
    let p = phase::log_axis(DEFAULT_DENSITY_RANGE.0, DEFAULT_DENSITY_RANGE.1, height)?;
    let _warm = phase::phase_grid(&setting, &v, &p)?;
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let g = phase::phase_grid(&setting, &v, &p)?;
        times.push(t.elapsed().as_secs_f64());
        std::hint::black_box(g);
    }
    times.sort_by(f64::total_cmp);
    let points = (width * height) as f64;
    let text = format!(
        "phase grid {width}×{height} (6 in 3, sparse uniform, {} threads): best {:.1} ms, median {:.1} ms, {} points/s\n",
        rayon::current_num_threads(),
        times[0] * 1e3,
        times[1] * 1e3,
        num(points / times[0]),
    );
    emit(None, &text)
}
