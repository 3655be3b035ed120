//! Compact views of a report page for snapshots: the section ids, every
//! plot's id with its tooltip count, and a section's text with tables as
//! `| a | b |` rows. Snapshots of these stay readable and diff well,
//! where megabytes of HTML would not.

/// Every `<section id="…">`, in page order.
pub fn section_ids(html: &str) -> Vec<String> {
    attribute_after(html, "<section id=\"")
}

/// Every `<svg id="…">`, in page order.
pub fn svg_ids(html: &str) -> Vec<String> {
    attribute_after(html, "<svg id=\"")
}

/// Every `id` attribute that appears more than once: ids are anchors and
/// test handles, so each must be unique on its page.
pub fn duplicate_ids(html: &str) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut duplicates = Vec::new();
    for id in attribute_after(html, " id=\"") {
        if !seen.insert(id.clone()) {
            duplicates.push(id);
        }
    }
    duplicates
}

/// How many lines of data the plot `id` draws: plotters draws each line
/// as a `<polyline>`, and so are legend swatches and the backdrop's
/// vertical marks, but those have two points and a data line has more.
pub fn data_lines(html: &str, id: &str) -> usize {
    let start = html
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no plot {id}"));
    let end = html[start..]
        .find("</svg>")
        .map_or(html.len(), |e| start + e);
    html[start..end]
        .split("<polyline")
        .skip(1)
        .filter(|element| {
            let points = element.split("points=\"").nth(1).unwrap_or("");
            let points = &points[..points.find('"').unwrap_or(0)];
            points.split_whitespace().count() > 2
        })
        .count()
}

/// `id: N tooltips` for every plot.
pub fn plot_outline(html: &str) -> String {
    let mut out = String::new();
    for (start, _) in html.match_indices("<svg id=\"") {
        let end = html[start..]
            .find("</svg>")
            .map_or(html.len(), |e| start + e);
        let svg = &html[start..end];
        let id = &svg[9..svg[9..].find('"').map_or(9, |e| e + 9)];
        let titles = svg.matches("<title>").count();
        out.push_str(&format!("{id}: {titles} tooltips\n"));
    }
    out
}

/// The text of one section: tags stripped, plots left out, table rows
/// and list entries on their own lines.
pub fn section_text(html: &str, id: &str) -> String {
    let open = format!("<section id=\"{id}\">");
    let Some(start) = html.find(&open) else {
        return format!("(no section {id})");
    };
    let end = html[start..]
        .find("</section>")
        .map_or(html.len(), |e| start + e);
    let mut text = String::new();
    let mut rest = &html[start + open.len()..end];
    while let Some(tag_start) = rest.find('<') {
        text.push_str(&rest[..tag_start]);
        let tail = &rest[tag_start..];
        if tail.starts_with("<svg") {
            let skip = tail.find("</svg>").map_or(tail.len(), |e| e + 6);
            text.push_str("[plot]");
            rest = &tail[skip..];
            continue;
        }
        let tag_end = tail.find('>').map_or(tail.len(), |e| e + 1);
        let tag = &tail[..tag_end];
        let name: String = tag[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        text.push_str(match name.as_str() {
            "tr" | "dt" | "p" | "h2" | "h3" | "summary" | "figcaption" => "\n",
            "td" | "th" => " | ",
            "dd" => ": ",
            _ => "",
        });
        rest = &tail[tag_end..];
    }
    text.push_str(rest);
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn attribute_after(html: &str, prefix: &str) -> Vec<String> {
    html.match_indices(prefix)
        .map(|(at, _)| {
            let rest = &html[at + prefix.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_owned()
        })
        .collect()
}

/// The page's shape: its sections in order, then every plot.
pub fn outline(html: &str) -> String {
    format!(
        "sections: {}\n{}",
        section_ids(html).join(", "),
        plot_outline(html)
    )
}
