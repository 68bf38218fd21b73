//! The drawing layer: ticks, colour maps, isolines, heat maps, text, the SVG document.

use approx::assert_relative_eq;
use polycap::figures::canvas::{Anchor, Canvas, Stroke, UNIT, text_width, text_width_in, unicode};
use polycap::figures::colour::{Colormap, IGNORED, MONOSEMANTIC, Rgb};
use polycap::figures::isolines::Grid;
use polycap::figures::panel::{
    Axis, Frame, OVERLAP, Panel, fmt_value, heatmap, pow10, superscript, ticks,
};
use polycap::figures::style::{FontChoice, Style, Width};
use proptest::prelude::*;

use super::xml;

#[test]
fn unicode_powers_of_ten() {
    assert_eq!(pow10(-3), "10⁻³");
    assert_eq!(pow10(0), "10⁰");
    assert_eq!(pow10(16), "10¹⁶");
    assert_eq!(superscript(-12), "⁻¹²");
    assert_eq!(fmt_value(1e4), "10⁴");
    assert_eq!(fmt_value(-0.5), "−0.5");
    assert_eq!(fmt_value(2.25), "2.25");
    assert_eq!(fmt_value(100.0), "100");
}

#[test]
fn log_axis_has_labelled_decades_and_minor_ticks() {
    let axis = Axis::log(1e-3, 1.0, "feature density p = 1 − S");
    let t = ticks(&axis, 200.0, 12.0);
    let labels: Vec<&str> = t.iter().filter_map(|t| t.label.as_deref()).collect();
    assert_eq!(labels, ["10⁻³", "10⁻²", "10⁻¹", "10⁰"]);
    // Minor ticks 2..9 in each of the three decades.
    let minor: Vec<f64> = t.iter().filter(|t| !t.major).map(|t| t.value).collect();
    assert_eq!(minor.len(), 3 * 8);
    assert!(minor.iter().any(|v| (v / 2e-3 - 1.0).abs() < 1e-12));
    assert!(minor.iter().any(|v| (v / 0.9 - 1.0).abs() < 1e-12));
}

#[test]
fn crowded_log_axis_thins_labels() {
    // 15 decades on 100 pt: labels at least 12 pt apart.
    let axis = Axis::log(1e1, 1e16, "m");
    let t = ticks(&axis, 100.0, 12.0);
    let labelled: Vec<f64> = t
        .iter()
        .filter(|t| t.label.is_some())
        .map(|t| t.value.log10())
        .collect();
    assert!(labelled.len() >= 3);
    for w in labelled.windows(2) {
        assert!((w[1] - w[0]) * 100.0 / 15.0 >= 12.0 - 1e-9, "{labelled:?}");
    }
}

#[test]
fn short_log_axis_labels_two_and_five() {
    let axis = Axis::log(0.3, 6.0, "m");
    let labels: Vec<String> = ticks(&axis, 100.0, 12.0)
        .into_iter()
        .filter_map(|t| t.label)
        .collect();
    assert!(
        labels.contains(&"1".to_string())
            && labels.contains(&"2".to_string())
            && labels.contains(&"5".to_string()),
        "{labels:?}"
    );
}

#[test]
fn linear_axis_ticks_and_minus_sign() {
    let axis = Axis::linear(-1.0, 1.0, "x");
    let labels: Vec<String> = ticks(&axis, 200.0, 20.0)
        .into_iter()
        .filter_map(|t| t.label)
        .collect();
    assert_eq!(labels.first().map(String::as_str), Some("−1.0"));
    assert_eq!(labels.last().map(String::as_str), Some("1.0"));
    assert!(labels.contains(&"0.0".to_string()));
    // Steps of 0.1 are float sums (0.0999…): still one decimal (Fig. 7's colour bar).
    let unit = Axis::linear(0.0, 1.0, "C");
    let labels: Vec<String> = ticks(&unit, 300.0, 20.0)
        .into_iter()
        .filter_map(|t| t.label)
        .collect();
    assert!(labels.contains(&"0.9".to_string()), "{labels:?}");
    assert!(labels.iter().all(|l| l.len() == 3), "{labels:?}");
}

#[test]
fn panel_maps_log_data_to_page() {
    let panel = Panel {
        frame: Frame {
            x: 10.0,
            y: 20.0,
            w: 100.0,
            h: 50.0,
        },
        x: Axis::log(1e-2, 1e2, "V"),
        y: Axis::linear(0.0, 1.0, "C"),
    };
    assert_relative_eq!(panel.px(1.0), 60.0, epsilon = 1e-12);
    assert_relative_eq!(panel.px(1e-2), 10.0, epsilon = 1e-12);
    assert_relative_eq!(panel.py(0.0), 70.0, epsilon = 1e-12);
    assert_relative_eq!(panel.py(1.0), 20.0, epsilon = 1e-12);
}

fn luminances(map: Colormap) -> Vec<f64> {
    (0..=200)
        .map(|j| map.at(f64::from(j) / 200.0).luminance())
        .collect()
}

#[test]
fn colour_maps_are_monotone_in_luminance() {
    let l = luminances(Colormap::Viridis);
    for w in l.windows(2) {
        assert!(w[1] >= w[0] - 1e-3, "viridis not increasing: {w:?}");
    }
    assert!(
        l[200] - l[0] > 0.5,
        "viridis has too little luminance range"
    );
    let l = luminances(Colormap::RedMagenta);
    for w in l.windows(2) {
        assert!(w[1] <= w[0] + 1e-3, "red-magenta not decreasing: {w:?}");
    }
    // The plateaus extend the order: grey lighter than the ramp, blue darker.
    assert!(IGNORED.luminance() > l[0]);
    assert!(MONOSEMANTIC.luminance() < l[200]);
}

#[test]
fn colour_map_ends_are_the_published_ones() {
    assert_eq!(Colormap::Viridis.at(0.0), Rgb::hex(0x440154));
    assert_eq!(Colormap::Viridis.at(1.0), Rgb::hex(0xfde725));
}

/// A seeded pseudo-random grid (xorshift), values in [0, 1).
fn random_grid(nx: usize, ny: usize, seed: u64) -> Grid {
    let mut s = seed.max(1);
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    Grid {
        xs: (0..nx).map(|i| i as f64).collect(),
        ys: (0..ny).map(|j| j as f64).collect(),
        z: (0..nx * ny).map(|_| next()).collect(),
    }
}

fn on_grid_edge(p: (f64, f64), nx: usize, ny: usize) -> bool {
    let on_line = |v: f64| (v - v.round()).abs() < 1e-12;
    (on_line(p.0) || on_line(p.1))
        && p.0 >= -1e-12
        && p.1 >= -1e-12
        && p.0 <= (nx - 1) as f64 + 1e-12
        && p.1 <= (ny - 1) as f64 + 1e-12
}

proptest! {
    #![proptest_config(crate::prop_config(40))]

    /// Every contour point lies on a grid edge where the linear interpolation of the two
    /// node values equals the level; open lines end on the border.
    #[test]
    fn contour_points_sit_on_the_level(seed in 1u64..u64::MAX, level in 0.05f64..0.95, nx in 2usize..12, ny in 2usize..12) {
        let g = random_grid(nx, ny, seed);
        for line in g.contour_lines(level) {
            prop_assert!(line.len() >= 2);
            for p in &line {
                prop_assert!(on_grid_edge(*p, nx, ny), "{p:?} not on an edge");
                prop_assert!((g.edge_value(*p) - level).abs() < 1e-9, "value {} at {p:?}", g.edge_value(*p));
            }
            let closed = line.first() == line.last();
            if !closed {
                for p in [line[0], line[line.len() - 1]] {
                    let border = p.0.abs() < 1e-12 || p.1.abs() < 1e-12
                        || (p.0 - (nx - 1) as f64).abs() < 1e-12 || (p.1 - (ny - 1) as f64).abs() < 1e-12;
                    prop_assert!(border, "open line ends inside at {p:?}");
                }
            }
        }
    }

    /// The number of crossings found equals the number of grid edges whose two node values
    /// lie on opposite sides of the level.
    #[test]
    fn contour_finds_every_crossing(seed in 1u64..u64::MAX, level in 0.05f64..0.95) {
        let (nx, ny) = (9, 7);
        let g = random_grid(nx, ny, seed);
        let mut expected = 0;
        for j in 0..ny {
            for i in 0..nx {
                let a = g.at(i, j) >= level;
                if i + 1 < nx && a != (g.at(i + 1, j) >= level) { expected += 1; }
                if j + 1 < ny && a != (g.at(i, j + 1) >= level) { expected += 1; }
            }
        }
        let mut pts: Vec<(i64, i64)> = Vec::new();
        for line in g.contour_lines(level) {
            for p in line {
                pts.push(((p.0 * 1e9).round() as i64, (p.1 * 1e9).round() as i64));
            }
        }
        pts.sort_unstable();
        pts.dedup();
        prop_assert_eq!(pts.len(), expected);
    }
}

fn area(loops: &[Vec<(f64, f64)>]) -> f64 {
    // Even-odd fill of nested loops: signed areas with alternating orientation would need
    // the nesting; here the sets are simply connected, so the absolute sum is the area.
    loops
        .iter()
        .map(|l| {
            let n = l.len();
            ((0..n)
                .map(|k| l[k].0 * l[(k + 1) % n].1 - l[(k + 1) % n].0 * l[k].1)
                .sum::<f64>()
                / 2.0)
                .abs()
        })
        .sum()
}

#[test]
fn superlevel_set_of_a_plane_is_exact() {
    // z = x + y on [0, 8] × [0, 5]: {z ≥ l} is the rectangle minus the triangle x + y < l.
    let (nx, ny) = (9, 6);
    let g = Grid {
        xs: (0..nx).map(|i| i as f64).collect(),
        ys: (0..ny).map(|j| j as f64).collect(),
        z: (0..ny)
            .flat_map(|j| (0..nx).map(move |i| (i + j) as f64))
            .collect(),
    };
    for l in [0.5, 2.25, 4.75] {
        let loops = g.superlevel_loops(l);
        assert_eq!(loops.len(), 1);
        assert_relative_eq!(area(&loops), 40.0 - l * l / 2.0, epsilon = 1e-9);
    }
    // Below every value: the whole domain; above: nothing.
    assert_relative_eq!(area(&g.superlevel_loops(-1.0)), 40.0, epsilon = 1e-9);
    assert!(g.superlevel_loops(100.0).is_empty());
}

#[test]
fn superlevel_set_with_a_hole() {
    // A bump of low values in the middle of a high plateau: one outer loop, one hole.
    let n = 7;
    let g = Grid {
        xs: (0..n).map(|i| i as f64).collect(),
        ys: (0..n).map(|j| j as f64).collect(),
        z: (0..n * n)
            .map(|k| if k == 3 * n + 3 { 0.0 } else { 1.0 })
            .collect(),
    };
    let loops = g.superlevel_loops(0.5);
    assert_eq!(loops.len(), 2);
    // Outer 6 × 6 = 36 minus the diamond around node (3, 3) with half-diagonals 0.5.
    let areas: Vec<f64> = loops
        .iter()
        .map(|l| area(std::slice::from_ref(l)))
        .collect();
    assert_relative_eq!(
        areas.iter().copied().fold(0.0, f64::max),
        36.0,
        epsilon = 1e-9
    );
    assert_relative_eq!(
        areas.iter().copied().fold(f64::INFINITY, f64::min),
        0.5,
        epsilon = 1e-9
    );
}

#[test]
fn heatmap_cells_overlap_their_neighbours() {
    let style = Style::default();
    let mut svg = Canvas::new(100.0, 100.0, &style);
    let panel = Panel {
        frame: Frame {
            x: 0.0,
            y: 0.0,
            w: 100.0,
            h: 100.0,
        },
        x: Axis::linear(0.0, 1.0, "x"),
        y: Axis::linear(0.0, 1.0, "y"),
    };
    let (a, b) = (Rgb::hex(0x112233), Rgb::hex(0xaabbcc));
    // Two columns, one row: a | b, each 50 pt wide.
    heatmap(&mut svg, &panel, &[0.0, 1.0], &[0.5], &[a, b]);
    let doc = svg.finish();
    xml::check(&doc).expect("well-formed");
    let reach = ((50.0 + OVERLAP) * UNIT).round() as i64;
    assert!(
        doc.contains(&format!("0,0 {reach},0 ")),
        "first cell should reach past x = 50: {doc}"
    );
    // Clipped to the frame: nothing beyond x = 100 pt.
    assert!(!doc.contains(&format!("{},", ((100.0 + OVERLAP) * UNIT).round() as i64)));
}

#[test]
fn svg_document_is_well_formed_and_names_the_font() {
    for (font, family) in [
        (FontChoice::Serif, "DejaVu Serif"),
        (FontChoice::Sans, "DejaVu Sans"),
    ] {
        let style = Style::new(font, Width::TwoColumn);
        let mut svg = Canvas::new(504.0, 200.0, &style);
        svg.text(
            10.0,
            10.0,
            "a < b & V_{ign} > 10⁻³",
            8.0,
            Anchor::Start,
            0.0,
            Rgb::BLACK,
        );
        // A dashed line 10 pt long with 2 pt dashes and 1 pt gaps: 4 dashes.
        svg.polyline(
            &[(0.0, 5.0), (10.0, 5.0)],
            &Stroke::dashed(Rgb::BLACK, 1.0, 2.0, 1.0),
        );
        let doc = svg.finish();
        assert_eq!(xml::check(&doc), Ok("svg".to_string()));
        assert!(doc.contains(&format!("font-family=\"{}", family)));
        assert!(doc.contains("width=\"7in\""));
        assert!(doc.contains("viewBox=\"0 0 50400 20000\""));
        // The subscript without Unicode forms is a text element of its own.
        for part in ["a &lt; b &amp; V\n", "\nign\n", "\n&gt; 10⁻³\n"] {
            assert!(doc.contains(part), "{part:?} in {doc}");
        }
        assert_eq!(doc.matches("<polyline").count(), 4, "{doc}");
    }
}

#[test]
fn markup_becomes_unicode_scripts() {
    assert_eq!(unicode("C_{i}"), "Cᵢ");
    assert_eq!(unicode("2λ^{2}"), "2λ²");
    assert_eq!(unicode("a_b"), "a_b");
    assert_eq!(unicode("V_{ign}"), "V_ign");
}

/// Text widths are DejaVu's advances: a digit is 0.636 em in DejaVu Sans and Serif alike
/// (tabular figures), and kerning makes "AV" narrower than "A" plus "V".
#[test]
fn text_width_uses_the_font_metrics() {
    for font in [FontChoice::Serif, FontChoice::Sans] {
        let w = text_width_in(font, "0123456789", 10.0);
        assert_relative_eq!(w, 10.0 * 6.362_304_687_5, epsilon = 1e-3);
        let av = text_width_in(font, "AV", 10.0);
        let apart = text_width_in(font, "A", 10.0) + text_width_in(font, "V", 10.0);
        assert!(av < apart, "{font:?}: {av} vs {apart}");
    }
    assert!(text_width("mmm", 10.0) > text_width("iii", 10.0));
}
