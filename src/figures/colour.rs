//! Colours: sRGB values, continuous maps from `colorous` (full 256-entry viridis, ColorBrewer
//! ramps) and the fixed colours of the figures (Okabe–Ito categories, the
//! ignored/monosemantic plateaus of the capacity diagrams).
//!
//! Every map is monotone in luminance, so a reader without colour still reads the order.

use plotters::style::RGBColor;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// White.
    pub const WHITE: Rgb = Rgb(255, 255, 255);

    /// Parses `0xrrggbb`.
    pub const fn hex(code: u32) -> Rgb {
        Rgb((code >> 16) as u8, (code >> 8) as u8, code as u8)
    }

    /// Relative luminance Y (WCAG / Rec. 709 on linearised sRGB), in [0, 1].
    pub fn luminance(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(self.0) + 0.7152 * lin(self.1) + 0.0722 * lin(self.2)
    }

    /// Linear interpolation in sRGB: `self` at t = 0, `other` at t = 1.
    pub fn mix(self, other: Rgb, t: f64) -> Rgb {
        let f = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Rgb(f(self.0, other.0), f(self.1, other.1), f(self.2, other.2))
    }

    /// The plotters colour.
    pub(crate) fn plotters(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

impl From<colorous::Color> for Rgb {
    fn from(c: colorous::Color) -> Self {
        Rgb(c.r, c.g, c.b)
    }
}

/// A continuous colour map on [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colormap {
    /// viridis: dark purple → blue → green → yellow (van der Walt & Smith 2015).
    Viridis,
    /// The capacity ramp of the phase diagram: ColorBrewer RdPu from ¼ to ⅞ (light
    /// red → deep magenta). Used between the grey C = 0 and the blue C = 1 plateaus
    /// ([`IGNORED`], [`MONOSEMANTIC`]).
    RedMagenta,
    /// ColorBrewer RdBu reversed over [0, 1]: blue at 0, white at ½, red at 1.
    Diverging,
}

/// Colour of an ignored feature (C = 0): light grey, lighter than every ramp colour.
pub const IGNORED: Rgb = Rgb::hex(0xd9d9d9);
/// Colour of a monosemantic feature (C = 1): dark blue, darker than every ramp colour.
pub const MONOSEMANTIC: Rgb = Rgb::hex(0x08306b);

/// Okabe–Ito palette for categories and lines (distinguishable with colour-vision
/// deficiency): black, orange, sky blue, bluish green, blue, vermillion, reddish purple, yellow.
pub const CATEGORICAL: [Rgb; 8] = [
    Rgb::hex(0x000000),
    Rgb::hex(0xe69f00),
    Rgb::hex(0x56b4e9),
    Rgb::hex(0x009e73),
    Rgb::hex(0x0072b2),
    Rgb::hex(0xd55e00),
    Rgb::hex(0xcc79a7),
    Rgb::hex(0xf0e442),
];

impl Colormap {
    /// Colour at t ∈ [0, 1] (clamped; NaN maps to 0).
    pub fn at(self, t: f64) -> Rgb {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        match self {
            Colormap::Viridis => colorous::VIRIDIS.eval_continuous(t).into(),
            Colormap::RedMagenta => colorous::RED_PURPLE
                .eval_continuous(0.25 + 0.625 * t)
                .into(),
            Colormap::Diverging => colorous::RED_BLUE.eval_continuous(1.0 - t).into(),
        }
    }
}
