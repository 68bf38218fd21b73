//! Figure style: font family and column width, and the sizes that follow from them.

/// Font family of every text element of a figure (`serif` or `sans` in shard files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FontChoice {
    /// Serif text (journal default): DejaVu Serif, Times New Roman, serif.
    #[default]
    Serif,
    /// Sans-serif text (slides, posters): DejaVu Sans, Helvetica, Arial, sans-serif.
    Sans,
}

impl FontChoice {
    /// The CSS font-family list written into the SVG.
    pub fn family(self) -> &'static str {
        match self {
            FontChoice::Serif => "DejaVu Serif, Times New Roman, serif",
            FontChoice::Sans => "DejaVu Sans, Helvetica, Arial, sans-serif",
        }
    }
}

/// Printed width of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Width {
    /// One journal column, 3.3 in.
    #[default]
    OneColumn,
    /// Full page width (two columns), 7 in.
    TwoColumn,
}

/// How a figure looks on the page: font family and width. Font sizes follow from the width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Font family of all text.
    pub font: FontChoice,
    /// Printed width.
    pub width: Width,
}

impl Style {
    /// A style with the given font and width.
    pub fn new(font: FontChoice, width: Width) -> Self {
        Style { font, width }
    }

    /// `one` at one-column width, `two` at two-column width.
    fn pick(&self, one: f64, two: f64) -> f64 {
        match self.width {
            Width::OneColumn => one,
            Width::TwoColumn => two,
        }
    }

    /// Figure width in points (1 in = 72 pt): 237.6 pt (3.3 in) or 504 pt (7 in).
    pub fn width_pt(&self) -> f64 {
        self.pick(3.3 * 72.0, 7.0 * 72.0)
    }

    /// Tick-label font size in points.
    pub fn tick_size(&self) -> f64 {
        self.pick(6.5, 7.5)
    }

    /// Axis-label and legend font size in points.
    pub fn label_size(&self) -> f64 {
        self.pick(7.5, 8.5)
    }

    /// Title font size in points.
    pub fn title_size(&self) -> f64 {
        self.pick(8.0, 9.5)
    }

    /// Width of data lines in points.
    pub fn line_width(&self) -> f64 {
        self.pick(0.9, 1.0)
    }
}
