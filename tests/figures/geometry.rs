//! The geometry figures: their numbers come from the computation (capacities from (C1),
//! blocks from `decompose`, trained models from the training engine), checked against closed
//! forms.

use approx::assert_relative_eq;
use polycap::figures::Figure;
use polycap::figures::Parameters;
use polycap::figures::style::Style;
use polycap::figures::{
    block_structure, capacity_examples, feature_geometry, sparsity_sweep, two_block,
};

use super::{col, read, xml};

fn f(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// (C1) by loops, independent of the library: Cᵢ = (Wᵢ·Wᵢ)² / Σⱼ (Wᵢ·Wⱼ)², 0 for a zero column.
fn capacities_by_loops(cols: &[Vec<f64>]) -> Vec<f64> {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    cols.iter()
        .map(|a| {
            let den: f64 = cols.iter().map(|b| dot(a, b).powi(2)).sum();
            if den == 0.0 {
                0.0
            } else {
                dot(a, a).powi(2) / den
            }
        })
        .collect()
}

/// (C9) and spec §2.4: the four cases' capacities, from the closed forms, not from the
/// figure's code.
#[test]
fn fig6_capacities_match_the_closed_forms() {
    let d = capacity_examples::Fig::data(&capacity_examples::Params::paper()).expect("data");
    let cos30 = 30f64.to_radians().cos();
    let expected: [&[f64]; 4] = [
        &[2.0 / 3.0; 3],
        &[1.0, 0.5, 0.5],
        &[1.0, 0.1, 0.9],
        &[1.0 / (1.0 + cos30 * cos30); 2],
    ];
    assert_eq!(d.cases.len(), 4);
    for (c, e) in d.cases.iter().zip(expected) {
        assert_eq!(c.capacities.len(), e.len());
        for (x, y) in c.capacities.iter().zip(e) {
            assert_relative_eq!(*x, *y, epsilon = 1e-12);
        }
    }
    // The CSV holds the drawn vectors and their capacities: (C1) of its own w1, w2 columns.
    let (h, rows) = read(&capacity_examples::Fig::csv(&d));
    for (c, case) in d.cases.iter().zip(&expected) {
        let mine: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| r[col(&h, "case")] == c.case.letter.to_string())
            .collect();
        let w: Vec<Vec<f64>> = mine
            .iter()
            .map(|r| vec![f(&r[col(&h, "w1")]), f(&r[col(&h, "w2")])])
            .collect();
        let by_loops = capacities_by_loops(&w);
        assert_eq!(mine.len(), case.len());
        for ((r, x), y) in mine.iter().zip(&by_loops).zip(case.iter()) {
            assert_relative_eq!(f(&r[col(&h, "capacity")]), *x, epsilon = 1e-12);
            assert_relative_eq!(*x, *y, epsilon = 1e-12);
        }
    }
    let eff: Vec<bool> = d.cases.iter().map(|c| c.efficient).collect();
    assert_eq!(eff, vec![true, true, true, false]);
    assert_relative_eq!(d.cases[3].total, 8.0 / 7.0, epsilon = 1e-12);
    // Labels are the computed values as fractions.
    assert_eq!(capacity_examples::capacity_label(4.0 / 7.0), "4/7");
    assert_eq!(capacity_examples::capacity_label(8.0 / 7.0), "8/7");
    assert_eq!(capacity_examples::capacity_label(0.123_456), "0.123");
    let svg = capacity_examples::Fig::render(&d, &Style::default());
    assert_eq!(xml::check(&svg), Ok("svg".to_string()));
    for l in [
        "C = 4/7",
        "C = 1/2",
        "C = 9/10",
        "1/3∠90°",
        "ΣC = 2, efficient, 2 blocks",
    ] {
        assert!(svg.contains(l), "missing {l:?}");
    }
}

/// Fig. 5: the blocks are found, not typed: a 1×2 antipodal pair (C = ½) and a 2×3
/// triangle (C = ⅔), each efficient, with γ as set; changing γ changes the labels.
#[test]
fn fig5_blocks_are_found_by_decompose() {
    let mut p = two_block::Params::paper();
    p.gamma_triangle = 2.5;
    let d = two_block::Fig::data(&p).expect("data");
    let g = &d.decomposition;
    assert!(g.efficient && g.tegum);
    assert_eq!(g.blocks.len(), 2);
    assert_eq!(g.blocks[0].features, vec![0, 1]);
    assert_eq!(g.blocks[0].dims, 1);
    assert_eq!(g.blocks[1].features, vec![2, 3, 4]);
    assert_eq!(g.blocks[1].dims, 2);
    assert_relative_eq!(g.blocks[1].scale, 2.5, epsilon = 1e-12);
    for &c in &g.blocks[0].capacities {
        assert_relative_eq!(c, 0.5, epsilon = 1e-12);
    }
    for &c in &g.blocks[1].capacities {
        assert_relative_eq!(c, 2.0 / 3.0, epsilon = 1e-12);
    }
    assert_eq!(d.block_rows, vec![vec![0], vec![1, 2]]);
    // The CSV holds every drawn entry of W (neuron, feature) and (C1) of those entries.
    let (h, rows) = read(&two_block::Fig::csv(&d));
    let mut w = vec![vec![0.0; 3]; 5];
    for r in &rows {
        let (n, i): (usize, usize) = (r[0].parse().expect("neuron"), r[1].parse().expect("i"));
        w[i][n] = f(&r[col(&h, "w")]);
        assert_relative_eq!(w[i][n], d.w[(n, i)], epsilon = 0.0);
    }
    assert_eq!(rows.len(), 15);
    let by_loops = capacities_by_loops(&w);
    for r in &rows {
        let i: usize = r[1].parse().expect("feature");
        assert_relative_eq!(f(&r[col(&h, "capacity")]), by_loops[i], epsilon = 1e-12);
    }
    let svg = two_block::Fig::render(&d, &Style::default());
    assert_eq!(xml::check(&svg), Ok("svg".to_string()));
    assert!(
        svg.contains("γ = 2.5"),
        "scale label from the decomposition"
    );
    assert!(two_block::Fig::title(&d).contains("(1×2 ⊕ 2×3)"));
}

/// The side-by-side figure (quick): the quadratic model is one block of all six features at
/// γ = λ = 187/114 (to 1e-3: 3000 exact-loss steps), the ReLU-output model splits into
/// several blocks (three antipodal pairs at this point, C = ½ each).
#[test]
fn quadratic_is_one_block_and_relu_splits() {
    let d = block_structure::Fig::data(&block_structure::Params::quick()).expect("data");
    let q = &d.quadratic.decomposition;
    assert_eq!(q.blocks.len(), 1);
    assert_eq!(q.blocks[0].len(), 6);
    assert_relative_eq!(q.blocks[0].scale, 187.0 / 114.0, max_relative = 1e-3);
    let r = &d.relu.decomposition;
    assert!(r.blocks.len() >= 2, "ReLU blocks: {}", r.blocks.len());
    assert!(r.blocks.iter().all(|b| b.len() <= 3));
    assert_eq!(d.relu.fractions, vec![Some((1, 2)); 6]);
    let (order, ranges) = block_structure::block_order(r);
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..6).collect::<Vec<_>>());
    assert_eq!(ranges.len(), r.blocks.len());
    let svg = block_structure::Fig::render(&d, &Style::default());
    assert_eq!(xml::check(&svg), Ok("svg".to_string()));
    assert!(svg.contains("C as fractions: 1/2, 1/2, 1/2, 1/2, 1/2, 1/2"));
    // The CSV holds both models' capacities (drawn as the bars and fractions), and (C1) of
    // the trained W by loops.
    let (h, rows) = read(&block_structure::Fig::csv(&d));
    for (name, w) in [("quadratic", &d.quadratic.run.w), ("relu", &d.relu.run.w)] {
        let mine: Vec<f64> = rows
            .iter()
            .filter(|r| r[col(&h, "model")] == name)
            .map(|r| f(&r[col(&h, "capacity")]))
            .collect();
        let w: Vec<Vec<f64>> = w
            .column_iter()
            .map(|c| c.iter().copied().collect())
            .collect();
        let by_loops = capacities_by_loops(&w);
        assert_eq!(mine.len(), by_loops.len(), "{name}");
        for (x, y) in mine.iter().zip(&by_loops) {
            assert_relative_eq!(*x, *y, epsilon = 1e-9);
        }
    }
}

/// E2 (quick): the linear model and the dense ReLU model keep m = 5 features (D* = 1 to
/// training accuracy), and superposition grows as the density falls (D* decreases).
#[test]
fn e2_superposition_grows_as_density_falls() {
    let d = sparsity_sweep::Fig::data(&sparsity_sweep::Params::quick()).expect("data");
    assert_eq!(d.panels.len(), 5);
    assert_eq!(d.panels[0].model, "linear");
    assert_relative_eq!(d.panels[0].dims_per_feature, 1.0, epsilon = 0.05);
    assert_relative_eq!(d.panels[1].dims_per_feature, 1.0, epsilon = 0.05);
    let dstar: Vec<f64> = d.panels[1..].iter().map(|p| p.dims_per_feature).collect();
    assert!(dstar.windows(2).all(|w| w[1] < w[0] + 0.02), "{dstar:?}");
    assert!(dstar[3] < 0.6, "{dstar:?}");
    // The CSV holds the drawn bars: ‖Wᵢ‖ and (E8) Σ_{j≠i} (Ŵᵢ·Wⱼ)² of each panel's W, by loops
    // (Ŵᵢ = Wᵢ / max(‖Wᵢ‖, 10⁻⁶), the notebook's floor).
    let (h, rows) = read(&sparsity_sweep::Fig::csv(&d));
    let mut it = rows.iter();
    for p in &d.panels {
        let cols: Vec<Vec<f64>> =
            p.w.column_iter()
                .map(|c| c.iter().copied().collect())
                .collect();
        for (i, a) in cols.iter().enumerate() {
            let r = it.next().expect("a CSV row per feature");
            let norm = a.iter().map(|x| x * x).sum::<f64>().sqrt();
            let s: f64 = (0..cols.len())
                .filter(|&j| j != i)
                .map(|j| {
                    let d: f64 = a.iter().zip(&cols[j]).map(|(x, y)| x * y).sum();
                    (d / norm.max(1e-6)).powi(2)
                })
                .sum();
            assert_relative_eq!(f(&r[col(&h, "norm")]), norm, epsilon = 1e-12);
            assert_relative_eq!(f(&r[col(&h, "superposition")]), s, epsilon = 1e-9);
        }
    }
    assert!(it.next().is_none());
}

/// E4/E5 on a tiny sweep (n = 6 in m = 2, 3 densities, 200 steps): the CSV holds the drawn
/// points, D* = m/Σᵢ‖Wᵢ‖² (E7) from the CSV's own squared norms and Dᵢ (E6) of the trained W,
/// which is (C1) by loops for features above the notebook's 10⁻⁶ floor.
#[test]
fn e4_e5_csv_holds_the_drawn_points() {
    let p = feature_geometry::Params {
        features: 6,
        dims: 2,
        instances: 3,
        steps: 200,
        ..feature_geometry::Params::quick()
    };
    let d = feature_geometry::Fig::data(&p).expect("data");
    let (h, rows) = read(&feature_geometry::Fig::csv(&d));
    assert_eq!(rows.len(), 3 * 6);
    for (k, inst) in d.instances.iter().enumerate() {
        let mine: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| r[col(&h, "instance")] == k.to_string())
            .collect();
        let sq: f64 = mine.iter().map(|r| f(&r[col(&h, "sq_norm")])).sum();
        let cols: Vec<Vec<f64>> = inst
            .w
            .column_iter()
            .map(|c| c.iter().copied().collect())
            .collect();
        let by_loops = capacities_by_loops(&cols);
        for (r, (c, x)) in mine.iter().zip(cols.iter().zip(&by_loops)) {
            assert_relative_eq!(f(&r[col(&h, "density")]), inst.density, epsilon = 0.0);
            assert_relative_eq!(
                f(&r[col(&h, "dims_per_feature")]),
                2.0 / sq,
                max_relative = 1e-12
            );
            if c.iter().map(|v| v * v).sum::<f64>() > 1e-10 {
                assert_relative_eq!(f(&r[col(&h, "dimensionality")]), *x, epsilon = 1e-9);
            }
        }
    }
}
