//! A minimal XML well-formedness checker for the SVG tests (no dependency): balanced and
//! properly nested elements, quoted attributes without duplicates, known entity
//! references only, a single root element, nothing but whitespace outside it.

/// Checks that `doc` is well-formed XML; returns the root element's name.
pub fn check(doc: &str) -> Result<String, String> {
    let b = doc.as_bytes();
    let mut i = 0;
    let mut stack: Vec<String> = Vec::new();
    let mut root: Option<String> = None;
    let mut closed_root = false;
    while i < b.len() {
        if b[i] == b'<' {
            let rest = &doc[i..];
            if rest.starts_with("<?") {
                let end = rest.find("?>").ok_or("unterminated <?")?;
                i += end + 2;
                continue;
            }
            if let Some(body) = rest.strip_prefix("<!--") {
                let end = body.find("-->").ok_or("unterminated comment")?;
                if body[..end].contains("--") {
                    return Err("'--' inside a comment".into());
                }
                i += 4 + end + 3;
                continue;
            }
            let end = tag_end(rest).ok_or_else(|| format!("unterminated tag at byte {i}"))?;
            let tag = &rest[1..end];
            i += end + 1;
            if let Some(name) = tag.strip_prefix('/') {
                let name = name.trim();
                match stack.pop() {
                    Some(open) if open == name => {
                        if stack.is_empty() {
                            closed_root = true;
                        }
                    }
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = parse_attributes(tag)?;
            if stack.is_empty() {
                if root.is_some() {
                    return Err(format!("second root element <{name}>"));
                }
                root = Some(name.clone());
            }
            if self_closing {
                if stack.is_empty() {
                    closed_root = true;
                }
            } else {
                stack.push(name);
            }
        } else {
            let next = doc[i..].find('<').map_or(b.len(), |k| i + k);
            let text = &doc[i..next];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside the root: {text:?}"));
            }
            check_entities(text)?;
            i = next;
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements {stack:?}"));
    }
    if !closed_root {
        return Err("no root element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

/// Index of the `>` ending the tag that starts `s`, skipping quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (k, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(k),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().enumerate().all(|(k, c)| {
            c.is_ascii_alphabetic()
                || c == '_'
                || c == ':'
                || (k > 0 && (c.is_ascii_digit() || c == '-' || c == '.'))
        })
}

/// Parses `name attr="v" …`, returns the name.
fn parse_attributes(tag: &str) -> Result<String, String> {
    let tag = tag.trim();
    let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
    let name = &tag[..name_end];
    if !is_name(name) {
        return Err(format!("bad element name {name:?}"));
    }
    let mut rest = tag[name_end..].trim_start();
    let mut seen: Vec<&str> = Vec::new();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("attribute without value in <{name}>: {rest:?}"))?;
        let attr = rest[..eq].trim();
        if !is_name(attr) {
            return Err(format!("bad attribute name {attr:?} in <{name}>"));
        }
        if seen.contains(&attr) {
            return Err(format!("duplicate attribute {attr} in <{name}>"));
        }
        seen.push(attr);
        let after = rest[eq + 1..].trim_start();
        let q = after.chars().next().ok_or("missing attribute value")?;
        if q != '"' && q != '\'' {
            return Err(format!("unquoted attribute {attr} in <{name}>"));
        }
        let close = after[1..].find(q).ok_or("unterminated attribute value")?;
        let value = &after[1..1 + close];
        if value.contains('<') {
            return Err(format!("'<' in attribute {attr}"));
        }
        check_entities(value)?;
        rest = after[close + 2..].trim_start();
    }
    Ok(name.to_string())
}

fn check_entities(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(k) = rest.find('&') {
        let tail = &rest[k + 1..];
        let end = tail
            .find(';')
            .ok_or_else(|| format!("bare '&' in {text:?}"))?;
        let ent = &tail[..end];
        let ok = matches!(ent, "amp" | "lt" | "gt" | "quot" | "apos")
            || ent
                .strip_prefix("#x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || ent
                .strip_prefix('#')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(format!("unknown entity &{ent};"));
        }
        rest = &tail[end + 1..];
    }
    Ok(())
}

#[test]
fn checker_accepts_and_rejects() {
    assert_eq!(
        check("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/>t &amp; u<!-- c --></a>\n"),
        Ok("a".to_string())
    );
    assert!(check("<a><b></a></b>").is_err());
    assert!(check("<a x=1/>").is_err());
    assert!(check("<a x=\"1\" x=\"2\"/>").is_err());
    assert!(check("<a>&nbsp;</a>").is_err());
    assert!(check("<a>x & y</a>").is_err());
    assert!(check("<a/><b/>").is_err());
    assert!(check("<a>").is_err());
}
