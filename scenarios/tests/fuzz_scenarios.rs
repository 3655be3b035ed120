//! Property test: mutants of the shipped scenario files (every model
//! folder's `*.ron`) never make the loader panic. Each case takes one file and applies one
//! to three mutations (truncation, deletion, inserted tokens or unicode,
//! two tokens swapped, a number made extreme, a line duplicated). A mutant
//! that fails to load must get a diagnostic a person can act on: a
//! message, and a place (a line and column inside the text, or a field
//! path), the same in the one-line and the rendered form. A mutant that
//! still loads is sometimes run for one seed, which must not panic either:
//! bad numbers that pass validation reach the engine.
//!
//! 256 cases by default, under a second in a debug build. Run it longer:
//!
//! ```text
//! PROPTEST_CASES=10000 cargo test -p scenarios --release --test fuzz_scenarios
//! ```
//!
//! Release runs more cases per second; only a debug build also turns
//! arithmetic overflow in the engine into a panic the test can see.

use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use scenarios::diagnostic::Diagnostic;
use scenarios::load::{Prepared, prepare};
use scenarios::runner::run_seed;

/// One shipped scenario file.
#[derive(Debug)]
struct Source {
    name: String,
    text: String,
}

/// Every scenario of the library (every model folder), read once, sorted
/// so a case number means the same file on every machine.
static LIBRARY: LazyLock<Vec<Source>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let paths = scenarios::commands::check::scenario_files(root);
    assert!(
        paths.len() >= 8,
        "too few scenarios under {}",
        root.display()
    );
    let models: std::collections::BTreeSet<_> = paths.iter().filter_map(|p| p.parent()).collect();
    assert!(models.len() >= 2, "the library covers every model folder");
    paths
        .iter()
        .map(|path| Source {
            name: path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string(),
            text: std::fs::read_to_string(path).unwrap(),
        })
        .collect()
});

/// One edit of a scenario's text.
#[derive(Clone, Debug)]
enum Mutation {
    Truncate(At),
    Delete(At, usize),
    Insert(At, String),
    SwapTokens(At, At),
    ExtremeNumber(At, &'static str),
    /// A small count, where quorums, replicas and clients live.
    SmallNumber(At, u8),
    DuplicateLine(At),
}

/// A position as a fraction of whatever it indexes (bytes, tokens,
/// lines), so it stays meaningful as earlier mutations change the text,
/// and shrinks towards the start.
#[derive(Clone, Copy, Debug)]
struct At(u64);

impl At {
    /// `0 ..= len - 1`, for `len > 0`.
    fn index(self, len: usize) -> usize {
        ((len as u128 * u128::from(self.0)) >> 64) as usize
    }

    /// The `At` whose index in `len` items is `i`.
    fn of(i: usize, len: usize) -> At {
        At(((i as u128) << 64).div_ceil(len as u128) as u64)
    }
}

/// Numbers at and past the edges of every integer type the format uses,
/// and numbers that are not integers at all.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "1000001",
    "1e308",
    "-0",
    "0.5",
    "NaN",
    "inf",
    "0x10",
];

/// Structure, and names the format knows, so mutants get past the parser
/// and into validation and the engine.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "-",
    "'",
    "\\",
    "#",
    "//",
    "/*",
    "*/",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "\0",
    "r#\"",
    "b\"",
    "Some(",
    "None",
    "true",
    "false",
    "()",
    ",,",
    "::",
    "duration_ms: 1,",
    "replicas",
    "read_quorum",
    "Crash(\"replica-0\")",
    "(at_ms: 1, fault: Heal),",
    "Partition(Isolate(\"client-0\"))",
    "\"replica-9\"",
    "\"client-0\": (drift_ppm: 500000),",
    "Constant(us: 18446744073709551615)",
    "Uniform(min_us: 0, max_us: 0)",
    "UncheckedQuorums",
    "Violation(\"linearizable\")",
    "#![enable(implicit_some)]",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(TOKENS).prop_map(String::from),
        2 => "[0-9]{1,24}",
        2 => "[a-z_][a-z0-9_]{0,15}",
        2 => "\\PC{1,3}",
        1 => any::<char>().prop_map(String::from),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = || any::<u64>().prop_map(At);
    prop_oneof![
        1 => at().prop_map(Mutation::Truncate),
        2 => (at(), 1..40usize).prop_map(|(at, len)| Mutation::Delete(at, len)),
        3 => (at(), fragment()).prop_map(|(at, s)| Mutation::Insert(at, s)),
        2 => (at(), at()).prop_map(|(a, b)| Mutation::SwapTokens(a, b)),
        3 => (at(), select(EXTREMES)).prop_map(|(at, n)| Mutation::ExtremeNumber(at, n)),
        4 => (at(), 0..=12u8).prop_map(|(at, n)| Mutation::SmallNumber(at, n)),
        1 => at().prop_map(Mutation::DuplicateLine),
    ]
}

/// A mutated scenario: which file, what was done, and the result (shown
/// whole when a case fails, so it can be pasted into a file).
#[derive(Clone, Debug)]
struct Mutant {
    name: String,
    #[expect(dead_code, reason = "read through Debug, when a case fails")]
    mutations: Vec<Mutation>,
    /// Also run one short seed if the mutant loads.
    run: bool,
    text: String,
}

fn mutant() -> impl Strategy<Value = Mutant> {
    (
        0..LIBRARY.len(),
        prop::collection::vec(mutation(), 1..=3),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(file, mutations, run)| {
            let source = &LIBRARY[file];
            let text = mutations
                .iter()
                .fold(source.text.clone(), |text, m| apply(&text, m));
            Mutant {
                name: source.name.clone(),
                mutations,
                run,
                text,
            }
        })
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let at = |i: &At| text.floor_char_boundary(i.index(text.len() + 1));
    let mut out = text.to_owned();
    match mutation {
        Mutation::Truncate(i) => out.truncate(at(i)),
        Mutation::Delete(i, len) => {
            let start = at(i);
            let end = text.ceil_char_boundary((start + len).min(text.len()));
            out.replace_range(start..end, "");
        }
        Mutation::Insert(i, fragment) => out.insert_str(at(i), fragment),
        Mutation::SwapTokens(a, b) => {
            let tokens = tokens(text);
            if !tokens.is_empty() {
                let (x, y) = (tokens[a.index(tokens.len())], tokens[b.index(tokens.len())]);
                let ((s1, e1), (s2, e2)) = if x <= y { (x, y) } else { (y, x) };
                if e1 <= s2 {
                    out = [
                        &text[..s1],
                        &text[s2..e2],
                        &text[e1..s2],
                        &text[s1..e1],
                        &text[e2..],
                    ]
                    .concat();
                }
            }
        }
        Mutation::ExtremeNumber(i, number) => replace_number(&mut out, *i, number),
        Mutation::SmallNumber(i, number) => replace_number(&mut out, *i, &number.to_string()),
        Mutation::DuplicateLine(i) => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let line = i.index(lines.len());
                // The last line may lack its line break; the copy needs one between.
                let copy = match lines[line] {
                    l if l.ends_with('\n') => l.to_owned(),
                    l => format!("\n{l}"),
                };
                out = [lines[..=line].concat(), copy, lines[line + 1..].concat()].concat();
            }
        }
    }
    out
}

/// Replaces the number token `i` picks, if the text has any.
fn replace_number(text: &mut String, i: At, number: &str) {
    let numbers: Vec<_> = tokens(text)
        .into_iter()
        .filter(|&(start, _)| text.as_bytes()[start].is_ascii_digit())
        .collect();
    if !numbers.is_empty() {
        let (start, end) = numbers[i.index(numbers.len())];
        text.replace_range(start..end, number);
    }
}

/// Byte ranges (start, end) of words (identifiers, numbers, node names)
/// and of single punctuation characters; whitespace separates and is not
/// a token.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut end = start + c.len_utf8();
        if word(c) {
            while let Some(&(i, next)) = chars.peek().filter(|(_, next)| word(*next)) {
                end = i + next.len_utf8();
                chars.next();
            }
        }
        tokens.push((start, end));
    }
    tokens
}

/// A diagnostic must say what is wrong and where, in both of its forms.
fn check_diagnostic(mutant: &Mutant, d: &Diagnostic) -> Result<(), TestCaseError> {
    let text = &mutant.text;
    let line = d.to_string();
    prop_assert!(!d.message.trim().is_empty(), "empty message: {line}");
    prop_assert_eq!(&d.file, &mutant.name);
    prop_assert!(
        d.position.is_some() || d.field.is_some(),
        "neither a position nor a field path: {line}"
    );
    prop_assert!(
        !line.contains(|c: char| c.is_control()),
        "not one plain line: {line:?}"
    );
    let rendered = d.render();
    // The snippet shows control characters and bidirectional overrides in
    // the input as symbols (␀, �), so compare the message up to the first.
    let plain: String = d
        .message
        .chars()
        .take_while(|&c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    prop_assert!(rendered.contains(&plain), "{rendered}");
    if let Some((row, col)) = d.position {
        let lines: Vec<&str> = text.split('\n').collect();
        prop_assert!(
            row >= 1 && row as usize <= lines.len(),
            "line {row} of {} lines: {line}",
            lines.len()
        );
        let width = lines[row as usize - 1].chars().count();
        prop_assert!(
            col >= 1 && col as usize <= width + 1,
            "column {col} of a line of {width} characters: {line}"
        );
        let at = format!("{}:{row}:{col}", d.file);
        prop_assert!(line.starts_with(&format!("{at}: ")), "{line}");
        prop_assert!(
            rendered.contains(&at),
            "the snippet disagrees with `{at}`:\n{rendered}"
        );
    }
    if let Some(field) = &d.field {
        prop_assert!(line.contains(&format!("{field}: ")), "{line}");
    }
    Ok(())
}

/// Small enough to run in a test: bad numbers that pass validation can
/// otherwise ask for hours of simulated time or thousands of nodes (the
/// event limits below bound the rest).
fn small(prepared: &Prepared) -> bool {
    prepared.scenario.duration_ms <= 5_000
        && prepared.design.node_names().len() <= 20
        && prepared.scenario.faults.len() <= 100
}

/// Seed 0, twice, with the event limits cut so a mutant that makes the
/// run busy ends with the verdict `limit` instead of taking minutes. Odd
/// configurations must not make a run depend on anything but its seed.
fn run_twice(prepared: &mut Prepared) -> Result<(), TestCaseError> {
    let limits = &mut prepared.base.limits;
    limits.max_events = limits.max_events.min(300_000);
    limits.max_pending = limits.max_pending.min(100_000);
    let first = run_seed(prepared, 0, false, false);
    let second = run_seed(prepared, 0, false, false);
    prop_assert_eq!(first.digest, second.digest, "one seed, two runs");
    Ok(())
}

proptest! {
    // No regression files: a failure prints the whole mutant, which
    // belongs in `tests/bad/` (if it is bad input) or in a regression
    // test (if it found a bug).
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_scenarios_never_panic_and_explain_every_error(mutant in mutant()) {
        match prepare(&mutant.name, &mutant.text) {
            Err(d) => check_diagnostic(&mutant, &d)?,
            Ok(mut prepared) => {
                if mutant.run && small(&prepared) {
                    run_twice(&mut prepared)?;
                }
            }
        }
    }
}

/// The mutations themselves: a fuzzer whose mutations silently do nothing
/// would pass forever.
#[test]
fn mutations_change_the_text_as_described() {
    let text = "(\n    a: 12,\n    b: \"é\",\n)\n";
    let n = text.len() + 1;
    assert_eq!(apply(text, &Mutation::Truncate(At::of(4, n))), "(\n  ");
    // Byte 22 is inside `é`: truncation keeps a character whole or drops it.
    assert_eq!(
        apply(text, &Mutation::Truncate(At::of(22, n))),
        "(\n    a: 12,\n    b: \""
    );
    assert_eq!(
        apply(text, &Mutation::ExtremeNumber(At::of(0, 1), "-1")),
        "(\n    a: -1,\n    b: \"é\",\n)\n"
    );
    let tokens = tokens(text);
    let token = |s: &str| tokens.iter().position(|&(a, b)| &text[a..b] == s).unwrap();
    let (a, b) = (token("a"), token("b"));
    assert_eq!(
        apply(
            text,
            &Mutation::SwapTokens(At::of(b, tokens.len()), At::of(a, tokens.len()))
        ),
        "(\n    b: 12,\n    a: \"é\",\n)\n"
    );
    assert_eq!(
        apply(text, &Mutation::DuplicateLine(At::of(1, 4))),
        "(\n    a: 12,\n    a: 12,\n    b: \"é\",\n)\n"
    );
    assert_eq!(
        apply(text, &Mutation::Insert(At::of(1, n), "🦀".into())),
        "(🦀\n    a: 12,\n    b: \"é\",\n)\n"
    );
    assert_eq!(
        apply(text, &Mutation::Delete(At::of(2, n), 4)),
        "(\na: 12,\n    b: \"é\",\n)\n"
    );
    assert_eq!(At::of(0, 7).index(7), 0);
    assert_eq!(At(u64::MAX).index(7), 6);
}
