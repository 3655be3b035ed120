//! Bad scenario files and the diagnostics they must produce. Each file
//! under `tests/bad/` is a small realistic scenario with one mistake; its
//! first line, `// expect: <text>`, is a substring of the one-line
//! diagnostic (`file:line:col: field: message (help)`): the line and
//! column for parse errors, the field path for cross-field errors, and the
//! key phrase. `dsim run` must reject every file with exit code 2 and the
//! rendered diagnostic on stderr, and never panic: bad input is normal
//! input.
//!
//! Adding a case means adding a file.

use std::path::{Path, PathBuf};
use std::process::Command;

use scenarios::diagnostic::Diagnostic;
use scenarios::load::{load, parse, prepare};

const EXPECT: &str = "// expect: ";

/// One bad file and the text its diagnostic must contain.
struct Case {
    path: PathBuf,
    expect: String,
}

impl Case {
    fn name(&self) -> String {
        self.path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// The diagnostic the library gives; a file that loads is a broken case.
    fn diagnostic(&self) -> Diagnostic {
        match load(&self.path) {
            Ok(_) => panic!("{} loads, but it is in the bad corpus", self.name()),
            Err(d) => d,
        }
    }
}

/// Every `*.ron` under `tests/bad/`, sorted so failures read the same on
/// every machine. Read as bytes: one file is deliberately not UTF-8.
fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "ron"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            let first = String::from_utf8_lossy(&bytes)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            let expect = first
                .strip_prefix(EXPECT)
                .unwrap_or_else(|| {
                    panic!("{}: the first line is not `{EXPECT}...`", path.display())
                })
                .to_owned();
            assert!(
                !expect.trim().is_empty(),
                "{}: empty expectation",
                path.display()
            );
            Case { path, expect }
        })
        .collect()
}

/// Runs `dsim` from the crate folder: (exit code, stderr).
fn dsim(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("dsim runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Fails once, listing every case that went wrong, not just the first.
fn assert_all(problems: &[String]) {
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_corpus_has_at_least_25_mistakes() {
    let cases = corpus();
    assert!(
        cases.len() >= 25,
        "only {} bad files in tests/bad/",
        cases.len()
    );
}

#[test]
fn each_bad_file_gets_its_expected_one_line_diagnostic() {
    let mut problems = Vec::new();
    for case in corpus() {
        let d = case.diagnostic();
        let line = d.to_string();
        if !line.starts_with(&format!("{}:", case.path.display())) {
            problems.push(format!(
                "{}: does not start with the file: {line}",
                case.name()
            ));
        }
        if !line.contains(&case.expect) {
            problems.push(format!(
                "{}: expected `{}` in\n    {line}",
                case.name(),
                case.expect
            ));
        }
    }
    assert_all(&problems);
}

#[test]
fn parse_errors_name_the_line_and_column_and_cross_field_errors_the_field() {
    let mut problems = Vec::new();
    let (mut parse_errors, mut cross_field_errors) = (0, 0);
    for case in corpus() {
        let d = case.diagnostic();
        let line = d.to_string();
        // Whether RON parsing alone rejects the file decides its kind; a
        // file that is not UTF-8 never reaches the parser.
        let parses = std::fs::read_to_string(&case.path)
            .is_ok_and(|text| parse(&case.name(), &text).is_ok());
        let Some((row, col)) = d.position else {
            problems.push(format!("{}: no line and column: {line}", case.name()));
            continue;
        };
        let at = format!("{}:{row}:{col}: ", case.path.display());
        if !line.starts_with(&at) {
            problems.push(format!(
                "{}: does not start with `{at}`: {line}",
                case.name()
            ));
        }
        if parses {
            cross_field_errors += 1;
            match &d.field {
                Some(field) if line.starts_with(&format!("{at}{field}: ")) => {
                    if !case.expect.contains(field.as_str()) {
                        problems.push(format!(
                            "{}: the expectation omits the field path `{field}`",
                            case.name()
                        ));
                    }
                }
                _ => problems.push(format!("{}: no field path: {line}", case.name())),
            }
        } else {
            parse_errors += 1;
            if !case.expect.starts_with(&format!(":{row}:{col}: ")) {
                problems.push(format!(
                    "{}: the expectation does not start with `:{row}:{col}: `",
                    case.name()
                ));
            }
        }
    }
    assert_all(&problems);
    assert!(
        parse_errors >= 10 && cross_field_errors >= 10,
        "{parse_errors} parse errors, {cross_field_errors} cross-field errors"
    );
}

#[test]
fn dsim_run_rejects_each_bad_file_with_exit_code_2_and_its_diagnostic() {
    let mut problems = Vec::new();
    for case in corpus() {
        let relative = format!("tests/bad/{}", case.name());
        let (code, stderr) = dsim(&["run", &relative]);
        let name = case.name();
        if code != Some(2) {
            problems.push(format!("{name}: exit code {code:?}, not 2:\n{stderr}"));
        }
        if stderr.contains("panicked") {
            problems.push(format!("{name}: dsim panicked:\n{stderr}"));
        }
        // dsim prints the rendered diagnostic, not the one-line form the
        // expectation quotes: it must be the library's rendering of the
        // same diagnostic (named as dsim was given the file), carrying the
        // same facts: the position after the file name, the field path
        // before the message, the help.
        let d = Diagnostic {
            file: relative.clone(),
            ..case.diagnostic()
        };
        if stderr.trim_end() != d.render().trim_end() {
            problems.push(format!(
                "{name}: stderr is not the library's diagnostic:\n{stderr}\nwanted:\n{}",
                d.render()
            ));
        }
        let (row, col) = d.position.unwrap_or_default();
        let mut facts = vec![format!("{relative}:{row}:{col}"), d.message.clone()];
        facts.extend(d.field.iter().map(|f| format!("{f}: {}", d.message)));
        facts.extend(d.help.clone());
        for fact in facts.iter().filter(|f| !stderr.contains(f.as_str())) {
            problems.push(format!("{name}: `{fact}` not on stderr:\n{stderr}"));
        }
    }
    assert_all(&problems);
}

#[test]
fn zero_bytes_and_blank_text_are_diagnostics_where_the_text_ends() {
    // The parser looked past the blanks for a `(`: the end is where it
    // gave up. A text ending in a line break ends on its last line, the
    // one the snippet can show.
    for (text, position) in [
        ("", (1, 1)),
        ("   ", (1, 4)),
        ("\n\n\n", (3, 1)),
        ("// only a comment\n", (1, 18)),
    ] {
        let d = prepare("blank.ron", text).unwrap_err();
        assert_eq!(d.position, Some(position), "{text:?}: {d}");
        assert!(d.message.contains("Expected opening `(`"), "{text:?}: {d}");
        let (line, col) = position;
        assert!(
            d.render().contains(&format!("blank.ron:{line}:{col}")),
            "{}",
            d.render()
        );
    }
    // And the command line, on a real zero-byte file.
    let dir = std::env::temp_dir().join(format!("dsim-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("zero-bytes.ron");
    std::fs::write(&empty, b"").unwrap();
    let (code, stderr) = dsim(&["run", empty.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("zero-bytes.ron:1:1") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn a_missing_file_is_bad_input_with_the_file_named() {
    let (code, stderr) = dsim(&["run", "tests/bad/no-such-file.ron"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("tests/bad/no-such-file.ron") && stderr.contains("cannot read the file"),
        "{stderr}"
    );
}

/// Runs `dsim run` on `text` written to a scratch file.
fn dsim_run_text(test: &str, text: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("dsim-bad-input-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{test}.ron"));
    std::fs::write(&file, text).unwrap();
    let result = dsim(&["run", file.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The shipped `correct.ron` with one substitution.
fn correct_with(from: &str, to: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("dedup/correct.ron");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "correct.ron no longer has `{from}`");
    text.replacen(from, to, 1)
}

/// Values that once passed validation and then overflowed in the engine
/// (found by `fuzz_scenarios`; the panics need overflow checks, so a debug
/// build). Rejecting them with exit code 2 or running them are both fine;
/// a panic is not.
fn assert_no_panic(test: &str, text: &str) {
    let (code, stderr) = dsim_run_text(test, text);
    assert!(
        matches!(code, Some(0..=2)) && !stderr.contains("panicked"),
        "exit code {code:?}:\n{stderr}"
    );
}

#[test]
fn latency_us_overflow() {
    assert_no_panic(
        "latency_us_overflow",
        &correct_with("max_us: 50000)", "max_us: 9223372036854775807)"),
    );
}

#[test]
fn nemesis_max_overflow() {
    assert_no_panic(
        "nemesis_max_overflow",
        &correct_with(
            "interval_ms_max: 400",
            "interval_ms_max: 18446744073709551615",
        ),
    );
}

#[test]
fn workload_generation_overflow() {
    let text = correct_with(
        "\"replica-0\": (offset_us: 1500",
        "\"client-0\": (offset_us: 9223372036854775807",
    );
    assert_no_panic(
        "workload_generation_overflow",
        &text.replacen("hot_keys: 4,", "hot_keys: 4294967295,", 1),
    );
}
