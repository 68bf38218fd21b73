//! The list of figures `polycap reproduce` writes: one [`Entry`] per figure.
//!
//! To add a figure: write `src/figures/<name>.rs` with `Params::{paper, quick, describe}`,
//! `data`, `title`, `render` and `csv`, then add one `Entry` to [`registry`].

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

/// Every figure, in the order of the index.
pub fn registry() -> Vec<Entry> {
    vec![
        Entry {
            id: "fig2-marginal-benefit",
            source: "[S] Fig. 2; spec §11 S2, (Q16), (A8)",
            width: Width::OneColumn,
            make: |q, style| {
                use super::marginal as f;
                let p = match q {
                    Quality::Full => f::Params::paper(),
                    Quality::Quick => f::Params::quick(),
                };
                let d = f::data(&p)?;
                Ok(Rendered {
                    title: f::title(&d),
                    params: p.describe(),
                    svg: f::render(&d, style),
                    csv: f::csv(&d),
                })
            },
        },
        Entry {
            id: "fig4-phase-diagram",
            source: "[S] Fig. 4 top left; spec §7, §11 S4",
            width: Width::OneColumn,
            make: |q, style| {
                use super::phase_diagram as f;
                let p = match q {
                    Quality::Full => f::Params::paper(),
                    Quality::Quick => f::Params::quick(),
                };
                let d = f::data(&p)?;
                Ok(Rendered {
                    title: f::title(&d),
                    params: p.describe(),
                    svg: f::render(&d, style),
                    csv: f::csv(&d),
                })
            },
        },
        Entry {
        id: "loss-allocation",
        source: "spec §5.5 (Q15)–(Q17) and §6 (A7)",
        width: Width::TwoColumn,
        make: |q, style| {
            use super::loss_allocation as f;
            let p = match q {
                Quality::Full => f::Params::paper(),
                Quality::Quick => f::Params::quick(),
            };
            let d = f::data(&p)?;
            Ok(Rendered {
                title: f::title(&d),
                params: p.describe(),
                svg: f::render(&d, style),
                csv: f::csv(&d),
            })
        },
    },
        Entry {
            id: "e3-elhage-theory",
            source: "[E] phase diagrams, theory panel; spec §9.4, §11 E3",
            width: Width::TwoColumn,
            make: |q, style| {
                use super::elhage_phase as f;
                let p = match q {
                    Quality::Full => f::Params::paper(),
                    Quality::Quick => f::Params::quick(),
                };
                let d = f::data(&p)?;
                Ok(Rendered {
                    title: f::title(&d),
                    params: p.describe(),
                    svg: f::render(&d, style),
                    csv: f::csv(&d),
                })
            },
        },
    ]
}
