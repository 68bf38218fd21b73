//! Colour maps that survive greyscale printing and colour-vision deficiency: each is
//! monotone in luminance, so a reader without colour still reads the order of values.
//!
//! The tables are the ten-stop versions of the published maps (viridis: van der Walt &
//! Smith 2015; cividis: Nuñez, Anderton & Renslow 2018), interpolated linearly in sRGB.

use super::svg::Rgb;

/// A continuous colour map on [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colormap {
    /// viridis: dark purple → blue → green → yellow.
    Viridis,
    /// cividis: dark blue → grey → yellow, designed for deuteranopia.
    Cividis,
    /// The capacity ramp of the phase diagram: light red → deep magenta (ColorBrewer
    /// Reds/RdPu stops), monotone in luminance. Used between the grey C = 0 and the blue
    /// C = 1 plateaus ([`IGNORED`], [`MONOSEMANTIC`]).
    RedMagenta,
}

const VIRIDIS: [u32; 10] = [
    0x440154, 0x482878, 0x3e4a89, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6dcd59, 0xb4de2c,
    0xfde725,
];
const CIVIDIS: [u32; 10] = [
    0x00204d, 0x00336f, 0x39486b, 0x575c6d, 0x707173, 0x8a8779, 0xa69d75, 0xc4b56c, 0xe4cf5b,
    0xffea46,
];
const RED_MAGENTA: [u32; 6] = [0xfcbba1, 0xfc9272, 0xf768a1, 0xdd3497, 0xae017e, 0x7a0177];

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
    fn stops(self) -> &'static [u32] {
        match self {
            Colormap::Viridis => &VIRIDIS,
            Colormap::Cividis => &CIVIDIS,
            Colormap::RedMagenta => &RED_MAGENTA,
        }
    }

    /// Name of the map.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Cividis => "cividis",
            Colormap::RedMagenta => "red-magenta",
        }
    }

    /// Colour at t ∈ [0, 1] (clamped; NaN maps to 0).
    pub fn at(self, t: f64) -> Rgb {
        let stops = self.stops();
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let x = t * (stops.len() - 1) as f64;
        let j = (x.floor() as usize).min(stops.len() - 2);
        Rgb::hex(stops[j]).mix(Rgb::hex(stops[j + 1]), x - j as f64)
    }
}
