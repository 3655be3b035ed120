//! Diagnostics for bad input: the file, line and column, a snippet of the
//! source with the spot underlined, what was expected, and a suggestion
//! when a name looks misspelt. Bad input is normal input: nothing here
//! panics, whatever the text.

use std::fmt::{self, Write as _};
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// One problem with one input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line and column (columns count characters), when known.
    pub position: Option<(u32, u32)>,
    /// What is wrong.
    pub message: String,
    /// The field path for cross-field errors (`model.read_quorum`).
    pub field: Option<String>,
    /// A suggestion ("did you mean `duration_ms`?").
    pub help: Option<String>,
    /// The file's text and the byte range to underline, for the snippet.
    pub source: Option<Box<(String, Range<usize>)>>,
}

impl Diagnostic {
    pub fn new(file: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            position: None,
            message: message.into(),
            field: None,
            help: None,
            source: None,
        }
    }

    /// Points at 1-based `line`:`col` of `text` (clamped to the text).
    pub fn at(self, text: &str, line: usize, col: usize) -> Diagnostic {
        let offset = byte_offset(text, line, col);
        self.at_offset(text, offset)
    }

    /// Points at a byte offset of `text` (clamped to the text).
    pub fn at_offset(mut self, text: &str, offset: usize) -> Diagnostic {
        let mut start = offset.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        // The end of a text that ends with a line break is on a line that
        // does not exist: the snippet would show the last line instead and
        // the two forms would disagree. Point at that last line break.
        if start == text.len() && text.ends_with('\n') {
            start -= 1;
        }
        // The position comes from the offset, never from the caller's line
        // and column, so `Display` and the snippet name the same place.
        let (line, col) = line_col(text, start);
        self.position = Some((
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        ));
        let end = token_end(text, start);
        self.source = Some(Box::new((text.to_owned(), start..end)));
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Diagnostic {
        self.field = Some(field.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// The full rustc-style rendering, for a terminal.
    pub fn render(&self) -> String {
        let title = match &self.field {
            Some(field) => format!("{}: {}", field, self.message),
            None => self.message.clone(),
        };
        let origin = format!("--> {}", self.file);
        let group = match self.source.as_deref() {
            Some((text, span)) => Level::ERROR.primary_title(title.as_str()).element(
                Snippet::source(text.as_str())
                    .path(self.file.as_str())
                    .annotation(AnnotationKind::Primary.span(span.clone()).label("here")),
            ),
            None => Level::ERROR
                .primary_title(title.as_str())
                .element(Level::NOTE.message(origin.as_str())),
        };
        let mut report: Vec<Group<'_>> = vec![group];
        if let Some(help) = &self.help {
            report.push(Group::with_title(
                Level::HELP.secondary_title(help.as_str()),
            ));
        }
        Renderer::plain().render(&report)
    }
}

/// One line: `file:line:col: field: message`, for logs and tests.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &self.file)?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write_escaped(f, field)?;
            write!(f, ": ")?;
        }
        write_escaped(f, &self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (")?;
            write_escaped(f, help)?;
            write!(f, ")")?;
        }
        Ok(())
    }
}

/// Writes `text` with control characters escaped (`\n`, `\0`): messages
/// quote the input (a node name with a line break in it), and the one-line
/// form must stay one line whatever the input held. Bidirectional
/// overrides are escaped too, as the snippet replaces them: they would
/// make the printed line read differently from its bytes.
fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            write!(f, "{}", c.escape_unicode())?;
        } else {
            f.write_char(c)?;
        }
    }
    Ok(())
}

impl std::error::Error for Diagnostic {}

/// The byte offset of 1-based `line`:`col` (in characters), clamped to the text.
pub fn byte_offset(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let within = l
                .char_indices()
                .nth(col.saturating_sub(1))
                .map_or(l.len(), |(b, _)| b);
            return (offset + within).min(text.len());
        }
        offset += l.len();
    }
    text.len()
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The end of the identifier or number starting at `start` (at least one
/// character, so the underline is visible, unless that character is a line
/// break: underlining it would draw a span over two lines).
fn token_end(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or("");
    let len: usize = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .map(char::len_utf8)
        .sum();
    let len = match rest.chars().next() {
        _ if len > 0 => len,
        Some('\n' | '\r') | None => 0,
        Some(c) => c.len_utf8(),
    };
    start + len
}

/// The candidate closest to `found` by edit distance, if it is close
/// enough to be a plausible misspelling.
pub fn closest<'a>(found: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (found.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(found, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_with_multibyte_characters() {
        let text = "a: 1,\n// é comment\nbé: 2,\n";
        let offset = byte_offset(text, 3, 2);
        assert_eq!(&text[offset..offset + 2], "é");
        assert_eq!(line_col(text, offset), (3, 2));
        assert_eq!(
            byte_offset(text, 99, 1),
            text.len(),
            "clamped, never out of range"
        );
    }

    #[test]
    fn suggestions_pick_the_closest_plausible_name() {
        let fields = ["duration_ms", "description", "name"];
        assert_eq!(closest("duratoin_ms", fields), Some("duration_ms"));
        assert_eq!(closest("nmae", fields), Some("name"));
        assert_eq!(closest("completely_different", fields), None);
    }

    #[test]
    fn rendering_shows_file_position_snippet_and_help() {
        let text = "(\n  nmae: \"x\",\n)\n";
        let d = Diagnostic::new("s.ron", "unknown field `nmae`")
            .at(text, 2, 3)
            .with_help("did you mean `name`?");
        let rendered = d.render();
        assert!(rendered.contains("s.ron:2:3"), "{rendered}");
        assert!(rendered.contains("nmae: \"x\""), "{rendered}");
        assert!(rendered.contains("did you mean `name`?"), "{rendered}");
        assert_eq!(
            d.to_string(),
            "s.ron:2:3: unknown field `nmae` (did you mean `name`?)"
        );
    }

    #[test]
    fn the_one_line_form_is_one_line_whatever_the_input_held() {
        let d =
            Diagnostic::new("s.ron", "no node named `\nreplica-1\u{202e}`").with_field("faults[0]");
        assert_eq!(
            d.to_string(),
            "s.ron: faults[0]: no node named `\\u{a}replica-1\\u{202e}`"
        );
    }

    #[test]
    fn both_forms_name_the_same_place_at_the_end_of_the_text() {
        // A text ending in a line break ends on its last line: the snippet
        // can only show that one, so the position must name it too.
        let text = "(\n  a: 1,\n";
        let d = Diagnostic::new("s.ron", "unexpected end").at_offset(text, text.len());
        assert_eq!(d.position, Some((2, 8)));
        assert!(d.render().contains("s.ron:2:8"), "{}", d.render());
        // A line break itself is never underlined: the span would cover
        // two lines.
        let d = Diagnostic::new("s.ron", "x").at(text, 1, 2);
        assert_eq!(d.source.as_ref().map(|s| s.1.clone()), Some(1..1));
        // Past the end, and inside a character, clamp to a real place.
        let d = Diagnostic::new("s.ron", "x").at_offset("é", 1);
        assert_eq!(d.position, Some((1, 1)));
        let d = Diagnostic::new("s.ron", "x").at("ab\ncd", 9, 9);
        assert_eq!(d.position, Some((2, 3)));
    }
}
