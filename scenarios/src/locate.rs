//! Finds where a field path (`faults[2].at_ms`, `model.read_quorum`,
//! `clocks["replica-2"].drift_ppm`) lives in a scenario's text, so a
//! cross-field error can point at it. Best effort: a path that cannot be
//! found yields `None` and the diagnostic names the path alone.

/// A token of RON that matters for locating fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'a> {
    Ident(&'a str),
    /// A string's text between its quotes, escapes left as written.
    Str(&'a str),
    Open,
    Close,
    Comma,
    Colon,
    Other,
}

/// The byte offset of the field `path` in `text`.
pub fn locate_field(text: &str, path: &str) -> Option<usize> {
    let tokens = tokenize(text);
    let mut from = 0;
    let mut end = tokens.len();
    let mut found = None;
    for segment in segments(path) {
        let (name, selector) = match segment.split_once('[') {
            Some((name, rest)) => (name, Some(rest.strip_suffix(']').unwrap_or(rest))),
            None => (segment, None),
        };
        let key = (from..end).find(|&i| {
            matches!(tokens[i].1, Token::Ident(n) if n == name)
                && matches!(tokens.get(i + 1), Some((_, Token::Colon)))
        })?;
        found = Some(tokens[key].0);
        // The field's value runs from after the colon to the end of its
        // enclosing scope; narrow the search to it.
        from = key + 2;
        end = value_end(&tokens, from).min(end);
        if let Some(selector) = selector {
            let elements = elements(&tokens, from, end)?;
            // `[3]` is a list index; `["replica-2"]` a map key, as written;
            // `[Crash]` a map key that is an enum variant.
            let (start, element_end) = match selector.parse::<usize>() {
                Ok(index) => elements.get(index).copied()?,
                Err(_) => {
                    let quoted = selector.strip_prefix('"').and_then(|s| s.strip_suffix('"'));
                    elements.into_iter().find(|&(start, _)| {
                        let key_matches = match (tokens.get(start), quoted) {
                            (Some((_, Token::Str(k))), Some(wanted)) => *k == wanted,
                            (Some((_, Token::Ident(k))), None) => *k == selector,
                            _ => false,
                        };
                        key_matches && matches!(tokens.get(start + 1), Some((_, Token::Colon)))
                    })?
                }
            };
            found = Some(tokens.get(start).map_or(tokens[key].0, |t| t.0));
            from = start;
            end = element_end;
        }
    }
    found
}

/// The index just past the value starting at `start`.
fn value_end(tokens: &[(usize, Token<'_>)], start: usize) -> usize {
    let mut depth = 0usize;
    for (i, (_, t)) in tokens.iter().enumerate().skip(start) {
        match t {
            Token::Open => depth += 1,
            Token::Close if depth == 0 => return i,
            Token::Close => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            Token::Comma if depth == 0 => return i,
            _ => {}
        }
    }
    tokens.len()
}

/// Splits a path at its dots, except dots inside a quoted map key.
fn segments(path: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in path.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '.' if !quoted => {
                segments.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&path[start..]);
    segments
}

/// The token ranges of the elements of the list or map whose opening
/// bracket is at or after `start`.
fn elements(
    tokens: &[(usize, Token<'_>)],
    start: usize,
    end: usize,
) -> Option<Vec<(usize, usize)>> {
    let open = (start..end).find(|&i| tokens[i].1 == Token::Open)?;
    let mut elements = Vec::new();
    let mut element_start = open + 1;
    let mut depth = 0usize;
    for (i, (_, token)) in tokens.iter().enumerate().take(end).skip(open + 1) {
        match token {
            Token::Open => depth += 1,
            Token::Close if depth == 0 => {
                // A trailing comma leaves no element after it.
                if element_start < i {
                    elements.push((element_start, i));
                }
                return Some(elements);
            }
            Token::Close => depth -= 1,
            Token::Comma if depth == 0 => {
                elements.push((element_start, i));
                element_start = i + 1;
            }
            _ => {}
        }
    }
    // Unclosed: the elements seen so far are still where they are.
    Some(elements)
}

/// Splits RON into tokens, skipping strings, chars and comments.
fn tokenize(text: &str) -> Vec<(usize, Token<'_>)> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(bytes.len(), |n| i + n + 4);
                continue;
            }
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let inner = text.get(i + 1..j.min(bytes.len())).unwrap_or("");
                tokens.push((i, Token::Str(inner)));
                i = j + 1;
                continue;
            }
            b'(' | b'[' | b'{' => tokens.push((i, Token::Open)),
            b')' | b']' | b'}' => tokens.push((i, Token::Close)),
            b',' => tokens.push((i, Token::Comma)),
            b':' => tokens.push((i, Token::Colon)),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let len = text[i..]
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(text.len() - i);
                tokens.push((i, Token::Ident(&text[i..i + len])));
                i += len;
                continue;
            }
            c if c.is_ascii_whitespace() => {}
            _ => tokens.push((i, Token::Other)),
        }
        i += 1;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"(
    name: "x", // name: in a comment
    model: Dedup((read_quorum: 6, write_quorum: 3)),
    faults: [
        (at_ms: 10, fault: Heal),
        (at_ms: 99999, fault: Crash("replica-9")),
    ],
    clocks: {
        "replica-2": (offset_us: 5, drift_ppm: 900000),
        "replica-1": (drift_ppm: 7),
    },
)"#;

    fn at(path: &str) -> Option<&'static str> {
        locate_field(TEXT, path).map(|o| &TEXT[o..o + 12.min(TEXT.len() - o)])
    }

    #[test]
    fn finds_nested_fields_and_list_elements() {
        assert_eq!(at("model.read_quorum"), Some("read_quorum:"));
        assert_eq!(at("faults[1].at_ms").map(|s| &s[..5]), Some("at_ms"));
        assert_eq!(
            locate_field(TEXT, "faults[1].at_ms"),
            TEXT.find("at_ms: 99999")
        );
        assert_eq!(
            locate_field(TEXT, "faults[1].fault"),
            TEXT.find("fault: Crash")
        );
        assert_eq!(at("name").map(|s| &s[..5]), Some("name:"));
    }

    #[test]
    fn finds_map_entries_by_key_not_by_position() {
        // The file's order, not node order: `replica-1` is the second entry.
        assert_eq!(
            locate_field(TEXT, r#"clocks["replica-1"].drift_ppm"#),
            TEXT.find("drift_ppm: 7")
        );
        assert_eq!(
            locate_field(TEXT, r#"clocks["replica-2"]"#),
            TEXT.find(r#""replica-2": ("#)
        );
        assert_eq!(locate_field(TEXT, r#"clocks["replica-0"]"#), None);
        assert_eq!(segments(r#"a["x.y\"."].b"#), [r#"a["x.y\"."]"#, "b"]);
    }

    #[test]
    fn a_trailing_comma_is_not_an_element() {
        assert_eq!(locate_field(TEXT, "faults[2]"), None);
    }

    #[test]
    fn unknown_paths_are_none_not_a_panic() {
        assert_eq!(locate_field(TEXT, "faults[7].at_ms"), None);
        assert_eq!(locate_field(TEXT, "nothing.here"), None);
        assert_eq!(locate_field("(\"unterminated", "name"), None);
    }
}
