//! The page shell every report shares: escaping, the document frame with
//! its inline style sheet, sections, tables and collapsed blocks.
//!
//! All HTML is written by hand, and every piece of text that came from a
//! run, a scenario or a user passes through [`escape`] exactly once, at
//! the point it is written into markup. Helpers here take plain text and
//! escape it themselves; only arguments named `html` are markup already.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The style sheet, inlined into every page so a report is one file.
const STYLE: &str = include_str!("page.css");

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A report page being built: a title, a line under it, then sections in
/// the order they were added, each listed in the navigation bar.
#[derive(Debug)]
pub struct Page {
    title: String,
    subtitle: String,
    sections: Vec<Section>,
}

#[derive(Debug)]
struct Section {
    id: String,
    heading: String,
    html: String,
}

impl Page {
    pub fn new(title: &str, subtitle: &str) -> Page {
        Page {
            title: title.to_owned(),
            subtitle: subtitle.to_owned(),
            sections: Vec::new(),
        }
    }

    /// Adds a section. `id` is the anchor the navigation bar and tests use.
    pub fn section(&mut self, id: &str, heading: &str, html: String) {
        self.sections.push(Section {
            id: id.to_owned(),
            heading: heading.to_owned(),
            html,
        });
    }

    /// The whole document.
    pub fn finish(self) -> String {
        let body_size: usize = self.sections.iter().map(|s| s.html.len()).sum();
        let mut out = String::with_capacity(body_size + STYLE.len() + 4096);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(out, "<title>{}</title>", escape(&self.title));
        let _ = writeln!(out, "<style>\n{STYLE}</style>\n</head>\n<body>");
        let _ = writeln!(
            out,
            "<header>\n<h1>{}</h1>\n<p class=\"subtitle\">{}</p>\n<nav>",
            escape(&self.title),
            escape(&self.subtitle)
        );
        for section in &self.sections {
            let _ = write!(
                out,
                "<a href=\"#{}\">{}</a> ",
                section.id,
                escape(&section.heading)
            );
        }
        out.push_str("\n</nav>\n</header>\n<main>\n");
        for section in &self.sections {
            let _ = writeln!(
                out,
                "<section id=\"{}\">\n<h2>{}</h2>\n{}</section>",
                section.id,
                escape(&section.heading),
                section.html
            );
        }
        out.push_str("</main>\n<footer>dsim report: one self-contained file, no scripts, no network.</footer>\n</body>\n</html>\n");
        out
    }
}

/// One table cell.
#[derive(Clone, Debug)]
pub enum Cell {
    /// Plain text, escaped.
    Text(String),
    /// Text in a monospace `<code>`, escaped.
    Code(String),
    /// A number or a time, right-aligned.
    Number(String),
    /// Text with a status colour class (`pass`, `fail`, `muted`, ...).
    Status(String, &'static str),
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_owned())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

/// A table with a header row.
pub fn table(headers: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut out = String::from("<table>\n<thead><tr>");
    for header in headers {
        let _ = write!(out, "<th>{}</th>", escape(header));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            match cell {
                Cell::Text(text) => {
                    let _ = write!(out, "<td>{}</td>", escape(text));
                }
                Cell::Code(text) => {
                    let _ = write!(out, "<td><code>{}</code></td>", escape(text));
                }
                Cell::Number(text) => {
                    let _ = write!(out, "<td class=\"number\">{}</td>", escape(text));
                }
                Cell::Status(text, class) => {
                    let _ = write!(out, "<td class=\"{class}\">{}</td>", escape(text));
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// A collapsed block: `summary` is shown, `html` is revealed on click.
pub fn details(summary: &str, html: &str, open: bool) -> String {
    format!(
        "<details{}>\n<summary>{}</summary>\n{html}</details>\n",
        if open { " open" } else { "" },
        escape(summary)
    )
}

/// A paragraph of plain text.
pub fn paragraph(text: &str) -> String {
    format!("<p>{}</p>\n", escape(text))
}

/// A figure: an inline SVG with a caption under it (none if empty).
pub fn figure(svg: &str, caption: &str) -> String {
    if caption.is_empty() {
        return format!("<figure>\n{svg}</figure>\n");
    }
    format!(
        "<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
        escape(caption)
    )
}

/// Hands out element ids, each once per page: a second claim of the same
/// base gets `-2`, then `-3`, so two metrics whose names differ only in
/// punctuation still get distinct anchors.
#[derive(Debug, Default)]
pub struct Ids {
    used: BTreeSet<String>,
}

impl Ids {
    /// Reserves ids the page already uses (section anchors, fixed plots).
    pub fn new(reserved: &[&str]) -> Ids {
        Ids {
            used: reserved.iter().map(|id| (*id).to_owned()).collect(),
        }
    }

    /// A fresh id made from `text` (see [`anchor_id`]).
    pub fn claim(&mut self, text: &str) -> String {
        let base = anchor_id(text);
        let mut id = base.clone();
        let mut next = 2;
        while !self.used.insert(id.clone()) {
            id = format!("{base}-{next}");
            next += 1;
        }
        id
    }
}

/// Text made fit for an `id` attribute: lowercase letters, digits and
/// dashes (`latency_ms_p99` becomes `latency-ms-p99`).
pub fn anchor_id(text: &str) -> String {
    let mut id = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_matches('-');
    if id.is_empty() {
        "x".to_owned()
    } else {
        id.to_owned()
    }
}

/// A key–value list (`<dl>`), values as markup.
pub fn facts(rows: &[(&str, String)]) -> String {
    let mut out = String::from("<dl class=\"facts\">\n");
    for (key, html) in rows {
        let _ = writeln!(out, "<dt>{}</dt><dd>{html}</dd>", escape(key));
    }
    out.push_str("</dl>\n");
    out
}

/// Text in `<code>`, escaped.
pub fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn anchor_ids_are_lowercase_words_joined_by_dashes() {
        assert_eq!(anchor_id("latency_ms_p99"), "latency-ms-p99");
        assert_eq!(anchor_id("  R+W>N "), "r-w-n");
        assert_eq!(anchor_id("%%"), "x");
    }

    #[test]
    fn ids_are_handed_out_once() {
        let mut ids = Ids::new(&["summary"]);
        assert_eq!(ids.claim("summary"), "summary-2");
        assert_eq!(ids.claim("a_b"), "a-b");
        assert_eq!(ids.claim("a-b"), "a-b-2");
    }

    #[test]
    fn sections_appear_in_order_with_their_anchors() {
        let mut page = Page::new("t <1>", "sub");
        page.section("first", "First", "<p>a</p>\n".to_owned());
        page.section("second", "Second", String::new());
        let html = page.finish();
        assert!(html.contains("<title>t &lt;1&gt;</title>"));
        let first = html.find("<section id=\"first\">").unwrap();
        let second = html.find("<section id=\"second\">").unwrap();
        assert!(first < second);
        assert!(!html.contains("<script"));
    }
}
