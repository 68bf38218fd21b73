//! Tests of figures (mirrors src/figures): the drawing layer, then every registered figure.

mod drawing;
mod geometry;
mod registry;
mod verify_figures;
mod xml;
