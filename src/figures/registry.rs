//! The list of figures `polycap reproduce` writes: one [`Entry`] per figure.
//!
//! To add a figure: write `src/figures/<name>.rs` with `Params::{paper, quick, describe}`,
//! `data`, `title`, `render`, `csv` and `commands`, then add one `entry!` line to
//! [`registry`].

use crate::base::Result;

use super::style::{FontChoice, Style, Width};

/// Grid resolution of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    /// The published resolution.
    Full,
    /// Coarse grids for quick checks and tests.
    Quick,
}

/// A figure computed and rendered: everything `reproduce` writes for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Title, generated from the parameters.
    pub title: String,
    /// Parameters (name, value) for the index.
    pub params: Vec<(String, String)>,
    /// Command lines of other subcommands that print the same numbers (may be empty).
    pub commands: Vec<String>,
    /// The SVG document.
    pub svg: String,
    /// The data behind it as CSV.
    pub csv: String,
}

/// One figure of the registry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// File stem: the figure is written to `<id>.svg` and `<id>.csv`.
    pub id: &'static str,
    /// Where the figure comes from (paper figure or spec section).
    pub source: &'static str,
    /// Printed width.
    pub width: Width,
    /// Computes and renders the figure.
    pub make: fn(Quality, &Style) -> Result<Rendered>,
}

impl Entry {
    /// Computes and renders the figure at its width with the given font.
    pub fn render(&self, quality: Quality, font: FontChoice) -> Result<Rendered> {
        (self.make)(quality, &Style::new(font, self.width))
    }
}

/// An [`Entry`] for a figure module with the standard interface
/// (`Params::{paper, quick, describe}`, `data`, `title`, `render`, `csv`, `commands`).
macro_rules! entry {
    ($module:ident, $id:literal, $source:literal, $width:expr) => {
        Entry {
            id: $id,
            source: $source,
            width: $width,
            make: |quality, style| {
                use super::$module as f;
                let params = match quality {
                    Quality::Full => f::Params::paper(),
                    Quality::Quick => f::Params::quick(),
                };
                let data = f::data(&params)?;
                Ok(Rendered {
                    title: f::title(&data),
                    params: params.describe(),
                    commands: f::commands(&params),
                    svg: f::render(&data, style),
                    csv: f::csv(&data),
                })
            },
        }
    };
}

/// Every figure, in the order of the index. Add a figure with one line here.
pub fn registry() -> Vec<Entry> {
    vec![
        entry!(
            marginal,
            "fig2-marginal-benefit",
            "[S] Fig. 2; spec §11 S2, (Q16), (A8)",
            Width::OneColumn
        ),
        entry!(
            phase_diagram,
            "fig4-phase-diagram",
            "[S] Fig. 4 top left; spec §7, §11 S4",
            Width::OneColumn
        ),
        entry!(
            phase_cases,
            "fig4-cases-a-f",
            "[S] Fig. 4 bottom row; spec §7.4, §11 S4, (Q16), (A7)",
            Width::TwoColumn
        ),
        entry!(
            loss_allocation,
            "loss-allocation",
            "spec §5.5 (Q15)–(Q17), §6 (A7), (A8)",
            Width::TwoColumn
        ),
        entry!(
            elhage_phase,
            "e3-elhage-theory",
            "[E] phase diagrams, theory panel; spec §9.4, §11 E3",
            Width::TwoColumn
        ),
        entry!(
            fig4_trained,
            "fig4-trained-phase-diagram",
            "[S] Fig. 4 top right; spec §10.4, §11 S4, (T4), (T5)",
            Width::TwoColumn
        ),
        entry!(
            fig7_empirical,
            "fig7-empirical-phase-diagrams",
            "[S] Fig. 7; spec §10.4, §11 S7",
            Width::TwoColumn
        ),
        entry!(
            verify_scatter,
            "verify-scatter",
            "spec (T3)–(T5); polycap verify",
            Width::TwoColumn
        ),
    ]
}
