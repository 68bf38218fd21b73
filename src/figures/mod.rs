//! Paper-ready figures: one file per figure, each a [`Figure`]: `data(&Params) -> Data`
//! (compute once), `render(&Data, &Style) -> String` (SVG) and `csv(&Data) -> String` (the
//! numbers behind it).
//!
//! | module | figure |
//! |---|---|
//! | [`marginal`] | \[S\] Fig. 2: marginal benefit of 20 features with the prescribed-λ optimum |
//! | [`phase_diagram`] | \[S\] Fig. 4 top left: analytic C₁ over (V, p) with boundaries and A–F |
//! | [`phase_cases`] | \[S\] Fig. 4 bottom: the six marginal-benefit cases A–F from (Q16) |
//! | [`loss_allocation`] | L*(C) for k < 3, = 3, > 3 and the optimal allocation as D grows |
//! | [`elhage_phase`] | \[E\] theory phase diagrams for 2 features in 1 and 3 in 2 dimensions |
//! | [`elhage_trained`] | \[E\] trained 2-in-1 and 3-in-2 phase maps against (E11)/(E12), with the fitted boundary |
//! | [`feature_geometry`] | \[E\] dimensions per feature (E7) and feature dimensionality (E6) of trained models |
//! | [`two_block`] | \[S\] Fig. 5: a two-block efficient matrix, its graph and its 3-D picture |
//! | [`block_structure`] | block structure of the trained quadratic and ReLU-output models side by side |
//! | [`sparsity_sweep`] | \[E\] WᵀW and ‖Wᵢ‖ coloured by superposition (E8) across densities |
//! | [`capacity_examples`] | \[S\] Fig. 6: four 2-D embeddings with their computed capacities |
//! | [`fig4_trained`] | \[S\] Fig. 4 top right: trained C₁ beside the theory and their difference |
//! | [`fig7_empirical`] | \[S\] Fig. 7: trained C₁ of 9 models (3 × 3), compared qualitatively |
//! | [`verify_scatter`] | trained Cᵢ against theory Cᵢ over the grid, (T4) and (T3), with (T5) bands |
//! | [`abs_neurons`] | \[E\] computation in superposition: W₁ of the abs model across densities (Z12), motifs (Z13) |
//! | [`zoo_pairs`] | \[E\], \[A\]: correlated and anticorrelated pairs in 2 dimensions (Z7) |
//! | [`zoo_neuron`] | \[E\], \[A\]: the neuron model's monosemantic and polysemantic neurons (Z9), with SoLU (Z21) |
//! | [`zoo_pentagon`] | \[E\]: the pentagon with one feature's density varied (Z22) |
//! | [`zoo_finite`] | \[H\], \[A\]: finite data, memorisation (T-gons), the pentagon and the test-loss bump (Z19) |
//! | [`empirical`] | shared pieces of the trained phase diagrams |
//!
//! The drawing layer: [`canvas`] (the page, drawn through plotters' SVG backend with DejaVu
//! metrics), [`panel`] (axes through plotters' chart mesh, legends, colour bars, heat maps),
//! [`isolines`] (the `contour` crate) and [`colour`] (`colorous` maps, Okabe–Ito);
//! [`registry`] lists every figure that `polycap reproduce` writes.
//!
//! # Writing a figure
//!
//! A figure module has `Params` implementing [`Parameters`] (`paper`, `quick`, optionally
//! `paper_resolution`, and `describe` for the index) and a type implementing [`Figure`]: its
//! id, source and width, its jobs (trained figures; none for closed-form ones), `assemble`,
//! `title`, `render`, `csv` and, where another subcommand prints the same numbers in
//! seconds, `commands` as [`Invocation`]s (the CLI spells them). One line in [`registry`]
//! lists it. `render` lays out frames in points and draws on a [`canvas::Canvas`]:
//!
//! 1. `parts::page(style, title)` (width, sizes, the title block and its height), then
//!    `parts::canvas(&heading, height, style)`;
//! 2. per panel a [`panel::Panel`] (`parts::area` in points, `Axis::linear`/`Axis::log` with a
//!    Unicode label; `_{i}`/`^{2}` become scripts); `panel.clip(&mut canvas)` before data,
//!    `canvas.unclip()` after (lines and fills are clipped geometrically), then
//!    `panel.draw_axes(&mut canvas, style)` (plotters' mesh: ticks, labels, frame);
//! 3. data with `canvas.polyline(&pts, &Stroke::solid(..))`, `canvas.marker`, `canvas.loops`
//!    (even-odd fills), [`panel::heatmap`], [`isolines::Grid`] for contour lines and filled
//!    super-level sets, colours from [`colour`];
//! 4. text with `say` (parts' `Draw`) / `canvas.text` / `text_halo`, sized with
//!    [`canvas::text_width`]
//!    (DejaVu's own advances), legends with [`panel::legend`] outside the data, colour bars
//!    with [`panel::colorbar`];
//! 5. `canvas.finish()` replays it all through plotters' SVG backend.
//!
//! The CSV (`parts::table`) holds the numbers drawn; the tests (tests/figures/) parse every SVG and check
//! that no text leaves the page, measured with the same font metrics.
//!
//! # Example
//! ```
//! use polycap::figures::{Figure, Parameters, loss_allocation, style::Style};
//! let params = loss_allocation::Params::quick();
//! let data = loss_allocation::Fig::data(&params).expect("valid parameters");
//! let svg = loss_allocation::Fig::render(&data, &Style::default());
//! assert!(svg.starts_with("<?xml"));
//! ```

pub mod canvas;
pub mod colour;
pub mod isolines;
pub mod panel;
pub mod style;

pub mod abs_neurons;
pub mod block_structure;
pub mod capacity_examples;
pub mod elhage_phase;
pub mod elhage_trained;
pub mod empirical;
pub mod feature_geometry;
pub mod fig4_trained;
pub mod fig7_empirical;
pub mod loss_allocation;
pub mod marginal;
pub mod matrix_map;
pub mod phase_cases;
pub mod phase_diagram;
pub mod sparsity_sweep;
pub mod two_block;
pub mod verify_scatter;
pub mod zoo_finite;
pub mod zoo_neuron;
pub mod zoo_pairs;
pub mod zoo_pentagon;

mod parts;
mod registry;

pub use registry::{
    Entry, Figure, Invocation, Parameters, Quality, Rendered, Reproduction, ReproductionSettings,
    registry,
};

/// CSV text from a header and rows of already formatted cells.
pub(crate) fn csv_text(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let bytes = (|| -> std::result::Result<Vec<u8>, Box<dyn std::error::Error>> {
        w.write_record(header)?;
        for r in rows {
            w.write_record(r)?;
        }
        Ok(w.into_inner()?)
    })()
    .expect("invariant: writing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("invariant: CSV of UTF-8 cells is UTF-8")
}

/// Numbers as one CSV cell, separated by spaces.
pub(crate) fn joined(values: impl IntoIterator<Item = f64>) -> String {
    values.into_iter().map(cell).collect::<Vec<_>>().join(" ")
}

/// An index entry for a range: `name`, "lo … hi".
pub(crate) fn span(name: &str, (lo, hi): (f64, f64)) -> (String, String) {
    let f = panel::fmt_value;
    (name.to_string(), format!("{} … {}", f(lo), f(hi)))
}

/// A CSV cell: numbers as the shortest text that parses back to exactly them (Rust's
/// round-trip float formatting), anything else by `Display`.
pub(crate) fn cell(x: impl std::fmt::Display) -> String {
    x.to_string()
}
