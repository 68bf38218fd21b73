//! XML well-formedness of the SVG documents, by parsing them with roxmltree.

/// Checks that `doc` is well-formed XML; returns the root element's name.
pub fn check(doc: &str) -> Result<String, String> {
    let parsed = roxmltree::Document::parse(doc).map_err(|e| e.to_string())?;
    Ok(parsed.root_element().tag_name().name().to_string())
}
