//! Every registered figure: well-formed SVG naming its font and axis labels, CSV that parses
//! back to the data, and byte-identical output on a second render.

use polycap::base::{FeatureSet, Magnitude};
use polycap::figures::Figure;
use polycap::figures::Parameters;
use polycap::figures::style::{FontChoice, Style, Width};
use polycap::figures::{
    Quality, elhage_phase, loss_allocation, marginal, phase_cases, phase_diagram, registry,
};
use polycap::theory::allocation::allocate;

use super::{col, read, xml};

/// Text that must appear in each figure's SVG (axis labels, before markup).
fn expected_labels(id: &str) -> &'static [&'static str] {
    match id {
        "fig2-marginal-benefit" => &["capacity C", "marginal benefit −∂L/∂C", "10¹⁶", "μ = 2λ"],
        "fig4-phase-diagram" => &[
            "relative importance V = v",
            "feature density p = 1 − S",
            "10⁻³",
            "capacity C₁",
        ],
        "fig4-cases-a-f" => &["capacity C", "m(C) = −∂L/∂C", "A: V = 0.75", "F: V = 27.5"],
        "loss-allocation" => &[
            "L*(C) / L*(0)",
            "total capacity D = Σ C",
            "concave",
            "convex",
        ],
        "e3-elhage-theory" => &[
            "relative importance r of the extra feature",
            "feature density p = 1 − S",
            "n = 3 features in m = 2 dimensions",
        ],
        "fig6-capacity-examples" => &["C = 2/3", "C = 1/10", "C = 9/10", "ΣC = 8/7, not efficient"],
        "e4-e5-feature-geometry" => &[
            "1/p (p = 1 − S, feature density)",
            "2/5 pentagon",
            "3/8 square antiprism",
            "(E7) dimensions per feature",
        ],
        "fig5-two-block-matrix" => &[
            "W (3×5) and its blocks",
            "ΣC = 3",
            "C = 2/3, 2/3, 2/3, ΣC = 2",
        ],
        "block-structure-quadratic-vs-relu" => &[
            "quadratic model (exact loss)",
            "theory (A7): one block, γ = λ = 1.6404",
        ],
        "e2-superposition-sweep" => &["linear", "p = 0.1", "superposition score"],
        "fig4-trained-phase-diagram" => &[
            "importance V",
            "feature density p = 1 − S",
            "capacity C₁",
            "log₁₀ |ΔC₁|",
        ],
        "fig7-empirical-phase-diagrams" => &[
            "tms-relu, 6 in 5",
            "quadratic-gelu, 6 in 3",
            "density p = 1 − S",
            "capacity C₁ (trained)",
        ],
        "e3-elhage-trained" => &[
            "relative importance r",
            "density p = 1 − S",
            "trained: saturation = ‖W_extra‖",
            "agreement",
        ],
        "verify-scatter" => &["theory Cᵢ, allocation (A7)", "trained Cᵢ (C1)", "(T5)"],
        "z12-abs-neurons" => &["p = 1", "mono ", "computed ", "(Z13)"],
        "z7-correlated-pairs" => &["anti-2", "corr-3", "p = 0.1000"],
        "z9-neuron-model" => &["relu", "solu_ln", "mono", "p = 0.75"],
        "z22-nonuniform-pentagon" => &["r = p₁/p", "pentagon", "loss"],
        "z19-double-descent" => &["T = 3", "T (log)", "dimensionality", "loss (Z16)", "norm"],
        _ => &[],
    }
}

#[test]
fn every_figure_is_well_formed_labelled_and_deterministic() {
    let entries = registry();
    assert!(entries.len() >= 5);
    let mut ids: Vec<&str> = entries.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), entries.len(), "duplicate figure ids");
    for e in &entries {
        let r = e
            .render(Quality::Quick, FontChoice::Serif)
            .expect("figure renders");
        assert_eq!(xml::check(&r.svg), Ok("svg".to_string()), "{}", e.id);
        assert!(
            r.svg
                .contains("font-family=\"DejaVu Serif, Times New Roman, serif\""),
            "{}",
            e.id
        );
        let labels = expected_labels(e.id);
        assert!(!labels.is_empty(), "no expected labels listed for {}", e.id);
        for l in labels {
            assert!(r.svg.contains(l), "{}: missing {l:?}", e.id);
        }
        let escaped = r
            .title
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(
            r.svg.contains(&format!("<title>{escaped}</title>")),
            "{}",
            e.id
        );
        // The title (wrapped into lines) is drawn: its first three words are.
        let head: Vec<&str> = r.title.split(' ').take(3).collect();
        assert!(
            r.svg.contains(&head.join(" ")),
            "{}: title {:?} not drawn",
            e.id,
            r.title
        );
        assert!(!r.params.is_empty());
        let again = e
            .render(Quality::Quick, FontChoice::Serif)
            .expect("figure renders");
        assert_eq!(r, again, "{} is not deterministic", e.id);
        let sans = e
            .render(Quality::Quick, FontChoice::Sans)
            .expect("figure renders");
        assert!(sans.svg.contains("font-family=\"DejaVu Sans"), "{}", e.id);
        // CSV: a header and rows of equal length.
        let mut rdr = csv::Reader::from_reader(r.csv.as_bytes());
        let width = rdr.headers().expect("CSV header").len();
        let mut rows = 0;
        for rec in rdr.records() {
            assert_eq!(rec.expect("CSV record").len(), width, "{}", e.id);
            rows += 1;
        }
        assert!(rows > 0, "{}: empty CSV", e.id);
    }
}

#[test]
fn both_widths_render() {
    for e in registry() {
        for width in [Width::OneColumn, Width::TwoColumn] {
            let style = Style::new(FontChoice::Serif, width);
            let r = e
                .render_with(Quality::Quick, &style)
                .expect("figure renders");
            assert_eq!(
                xml::check(&r.svg),
                Ok("svg".to_string()),
                "{} at {width:?}",
                e.id
            );
            let inches = if width == Width::OneColumn {
                "3.3in"
            } else {
                "7in"
            };
            assert!(r.svg.contains(&format!("width=\"{inches}\"")), "{}", e.id);
        }
    }
}

fn f(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// Exact round trip: the CSV text parses back to the same bits.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

#[test]
fn marginal_csv_round_trips() {
    let d = marginal::Fig::data(&marginal::Params::quick()).expect("data");
    let (h, rows) = read(&marginal::Fig::csv(&d));
    let (kind, feat, c, m) = (
        col(&h, "kind"),
        col(&h, "feature"),
        col(&h, "capacity_C"),
        col(&h, "marginal_benefit"),
    );
    let mut curve = 0;
    let mut opt = 0;
    for r in &rows {
        let i: usize = r[feat].parse().unwrap_or(0);
        match r[kind].as_str() {
            "curve" => {
                let j = curve % d.capacity.len();
                assert!(same(f(&r[c]), d.capacity[j]) && same(f(&r[m]), d.curves[i - 1][j]));
                curve += 1;
            }
            "optimum" => {
                assert!(
                    same(f(&r[c]), d.allocation.capacity[i - 1])
                        && same(f(&r[m]), d.optimum_benefit[i - 1])
                );
                opt += 1;
            }
            "threshold" => assert!(d.allocation.mu.is_some_and(|mu| same(f(&r[m]), mu))),
            other => panic!("unknown kind {other}"),
        }
    }
    assert_eq!(curve, d.capacity.len() * d.curves.len());
    assert_eq!(opt, d.params.count);
}

#[test]
fn phase_diagram_csv_round_trips() {
    let mut p = phase_diagram::Params::quick();
    p.columns = 23;
    p.rows = 17;
    let d = phase_diagram::Fig::data(&p).expect("data");
    let (h, all) = read(&phase_diagram::Fig::csv(&d));
    let kind = col(&h, "kind");
    let rows: Vec<&Vec<String>> = all.iter().filter(|r| r[kind] == "grid").collect();
    assert_eq!(rows.len(), 23 * 17);
    let points: Vec<&str> = all
        .iter()
        .filter(|r| r[kind] == "point")
        .map(|r| r[col(&h, "label")].as_str())
        .collect();
    assert_eq!(points, ["A", "B", "C", "D", "E", "F"]);
    assert_eq!(all.iter().filter(|r| r[kind] == "critical").count(), 1);
    // Boundary rows: the closed-form V_ign (P4) written to the CSV is where the allocation
    // solver (A7), an independent computation, switches feature 1 on: C₁ = 0 just below it
    // and C₁ > 0 just above it (6 features in 3 dims, sparse uniform inputs).
    let (vc, pc) = (col(&h, "importance_V"), col(&h, "density_p"));
    let c1 = |v: f64, p: f64| {
        let mut imp = vec![1.0; 6];
        imp[0] = v;
        let f = FeatureSet::from_densities(imp, &[p; 6], Magnitude::Uniform).expect("valid");
        allocate(&f, 3).expect("allocates").capacity[0]
    };
    let mut boundary_rows = 0;
    for r in all.iter().filter(|r| r[kind] == "v_ign") {
        let (v, p) = (f(&r[vc]), f(&r[pc]));
        if 9.0 / (5.0 * p) > 3.0 + 1e-6 {
            assert!(c1(v * (1.0 - 1e-6), p) <= 1e-9, "V_ign = {v} at p = {p}");
            assert!(c1(v * (1.0 + 1e-3), p) > 0.0, "V_ign = {v} at p = {p}");
            boundary_rows += 1;
        }
    }
    assert!(boundary_rows > 0, "no V_ign rows with k > 3");
    let (v, pp, c) = (
        col(&h, "importance_V"),
        col(&h, "density_p"),
        col(&h, "capacity_C1"),
    );
    for (k, r) in rows.iter().enumerate() {
        let (row, column) = (k / 23, k % 23);
        assert!(same(f(&r[v]), d.grid.importance[column]));
        assert!(same(f(&r[pp]), d.grid.density[row]));
        assert!(same(f(&r[c]), d.grid.capacity_at(row, column)));
    }
}

#[test]
fn phase_cases_csv_round_trips() {
    let d = phase_cases::Fig::data(&phase_cases::Params::quick()).expect("data");
    let (h, rows) = read(&phase_cases::Fig::csv(&d));
    let (pt, kind, feat, c) = (
        col(&h, "point"),
        col(&h, "kind"),
        col(&h, "feature"),
        col(&h, "capacity_C"),
    );
    for case in &d.cases {
        let label = case.point.label.to_string();
        let got: Vec<f64> = rows
            .iter()
            .filter(|r| r[pt] == label && r[kind] == "optimum")
            .map(|r| {
                let i: usize = r[feat].parse().expect("feature index");
                assert!(same(f(&r[c]), case.curves.allocation.capacity[i - 1]));
                f(&r[c])
            })
            .collect();
        assert_eq!(got.len(), case.curves.allocation.capacity.len());
    }
}

#[test]
fn loss_allocation_csv_round_trips() {
    let d = loss_allocation::Fig::data(&loss_allocation::Params::quick()).expect("data");
    let (h, rows) = read(&loss_allocation::Fig::csv(&d));
    let (panel, c, l, k) = (
        col(&h, "panel"),
        col(&h, "capacity_C"),
        col(&h, "loss_L"),
        col(&h, "kurtosis_k"),
    );
    let loss_rows: Vec<&Vec<String>> = rows.iter().filter(|r| r[panel] == "loss").collect();
    let expected: Vec<(f64, f64, f64)> = d
        .curves
        .iter()
        .flat_map(|cv| {
            cv.capacity
                .iter()
                .zip(&cv.loss)
                .map(move |(x, y)| (cv.kurtosis, *x, *y))
        })
        .collect();
    assert_eq!(loss_rows.len(), expected.len());
    for (r, (kk, x, y)) in loss_rows.iter().zip(&expected) {
        assert!(same(f(&r[k]), *kk) && same(f(&r[c]), *x) && same(f(&r[l]), *y));
    }
    let integer: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[panel] == "budget:integer-D")
        .collect();
    assert_eq!(
        integer.len(),
        d.budget.integer.len() * d.budget.importance.len()
    );
}

#[test]
fn elhage_csv_round_trips() {
    let mut p = elhage_phase::Params::quick();
    p.resolution = 12;
    let d = elhage_phase::Fig::data(&p).expect("data");
    let (h, rows) = read(&elhage_phase::Fig::csv(&d));
    assert_eq!(rows.len(), 2 * 12 * 12);
    let (r_col, p_col, conf) = (
        col(&h, "ratio_r"),
        col(&h, "density_p"),
        col(&h, "configuration"),
    );
    for (g_index, g) in d.grids.iter().enumerate() {
        for (k, r) in rows[g_index * 144..(g_index + 1) * 144].iter().enumerate() {
            let (i, j) = (k / 12, k % 12);
            assert!(same(f(&r[r_col]), g.ratio[j]) && same(f(&r[p_col]), g.density[i]));
            let name: Vec<&str> = g.configuration[k]
                .name()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            assert_eq!(r[conf], name.join("-"));
        }
    }
}

/// The optimum dots of Fig. 2 lie where the spec says: ignored at C = 0 below μ, full at
/// C = 1 above μ, interior ones on the μ line.
#[test]
fn fig2_dots_follow_the_threshold() {
    let d = marginal::Fig::data(&marginal::Params::quick()).expect("data");
    let mu = d.allocation.mu.expect("prescribed λ gives μ");
    assert!((mu - 2.0 * d.params.lambda * d.params.lambda).abs() <= 1e-9 * mu);
    for (c, m) in d.allocation.capacity.iter().zip(&d.optimum_benefit) {
        if *c <= 0.0 {
            assert!(*m <= mu * (1.0 + 1e-12));
        } else if *c >= 1.0 {
            assert!(*m >= mu * (1.0 - 1e-12));
        } else {
            assert!((m / mu - 1.0).abs() < 1e-9);
        }
    }
    // Σ C is not an integer for the paper's parameters (spec §13, pitfall 13).
    let total = d.allocation.total_capacity;
    assert!((total - total.round()).abs() > 1e-3, "Σ C = {total}");
}

/// The phase-diagram SVG for an arbitrary grid (the `polycap phase --out FILE.svg` path).
#[test]
fn phase_svg_for_any_grid() {
    use polycap::base::Magnitude;
    use polycap::theory::phase::{PhaseSetting, log_axis, phase_grid};
    let setting = PhaseSetting::new(8, 3, Magnitude::Gaussian).expect("setting");
    let v = log_axis(0.05, 20.0, 30).expect("axis");
    let p = log_axis(0.01, 1.0, 20).expect("axis");
    let grid = phase_grid(&setting, &v, &p).expect("grid");
    let svg = phase_diagram::svg_for_grid(&grid, &Style::default()).expect("svg");
    assert_eq!(xml::check(&svg), Ok("svg".to_string()));
    assert!(svg.contains("N = 8 features"));
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
    // A grid over kurtosis k instead of density (polycap phase --kurtosis-axis): the y axis
    // says so, and the critical point k = 3 is on it even for Laplace inputs (Kurt = 6, so no
    // density p ≤ 1 reaches k = 3).
    let laplace = PhaseSetting::new(6, 3, Magnitude::Laplace).expect("setting");
    let k = log_axis(1.5, 100.0, 25).expect("axis");
    let kgrid = polycap::theory::phase::phase_grid_kurtosis(&laplace, &v, &k).expect("grid");
    let data = phase_diagram::from_grid(kgrid.clone(), (0.05, 20.0), (1.5, 100.0)).expect("data");
    assert_eq!(data.critical, Some((1.0, 3.0)));
    assert!(data.ignored_boundary.iter().all(|(_, y)| *y >= 3.0));
    let svg = phase_diagram::svg_for_grid(&kgrid, &Style::default()).expect("svg");
    assert_eq!(xml::check(&svg), Ok("svg".to_string()));
    assert!(svg.contains("kurtosis k = E[x⁴]") && !svg.contains("feature density"));
    // A single column and row is still a valid document.
    let one = phase_grid(&setting, &[1.0], &[0.1]).expect("grid");
    let svg = phase_diagram::svg_for_grid(&one, &Style::default()).expect("svg");
    assert_eq!(xml::check(&svg), Ok("svg".to_string()));
    assert!(!svg.contains("NaN"));
    assert!(svg.contains("sparse gaussian inputs"));
}

/// No text runs off the page: every `<text>` element's box, measured with the font's own
/// advances (DejaVu, as drawn), lies inside the viewBox, at both widths and both fonts.
#[test]
fn no_text_leaves_the_page() {
    use polycap::figures::canvas::{UNIT, text_width_in};
    for e in registry() {
        for font in [FontChoice::Serif, FontChoice::Sans] {
            for width in [Width::OneColumn, Width::TwoColumn] {
                let style = Style::new(font, width);
                let r = e
                    .render_with(Quality::Quick, &style)
                    .expect("figure renders");
                let doc = roxmltree::Document::parse(&r.svg).expect("well-formed");
                let root = doc.root_element();
                let view: Vec<f64> = root
                    .attribute("viewBox")
                    .expect("viewBox")
                    .split(' ')
                    .map(|x| x.parse().expect("number"))
                    .collect();
                let (w, h) = (view[2], view[3]);
                for t in doc.descendants().filter(|n| n.has_tag_name("text")) {
                    let content = t.text().unwrap_or("").trim();
                    let num =
                        |n: &str| -> f64 { t.attribute(n).expect(n).parse().expect("number") };
                    let (x, y, size) = (num("x"), num("y"), num("font-size"));
                    let tw = text_width_in(font, content, size / UNIT) * UNIT;
                    let rotated = t.attribute("transform").is_some();
                    let (along, across) = if rotated { (y, x) } else { (x, y) };
                    let limit = if rotated { h } else { w };
                    let (lo, hi) = match t.attribute("text-anchor") {
                        Some("middle") => (along - tw / 2.0, along + tw / 2.0),
                        Some("end") => (along - tw, along),
                        _ => (along, along + tw),
                    };
                    let slack = 0.5 * UNIT;
                    assert!(
                        lo >= -slack && hi <= limit + slack,
                        "{} ({font:?}, {width:?}): {content:?} spans {lo:.0}..{hi:.0} of 0..{limit:.0}",
                        e.id
                    );
                    // plotters centres the line on y (dy = 0.5ex): caps reach 0.46 em above,
                    // descenders 0.51 em below.
                    let cross_limit = if rotated { w } else { h };
                    assert!(
                        across - 0.5 * size >= -slack
                            && across + 0.55 * size <= cross_limit + slack,
                        "{}: {content:?} outside across the line",
                        e.id
                    );
                }
            }
        }
    }
}
