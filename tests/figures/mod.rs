//! Tests of figures (mirrors src/figures): the drawing layer, then every registered figure.

mod drawing;
mod geometry;
mod registry;
mod shards;
mod verify_figures;
mod xml;
mod zoo_finite;

/// Reads a figure's CSV into (header, rows).
pub fn read(csv_text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let header = rdr
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = rdr
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Index of the column `name` in a CSV header.
pub fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}
