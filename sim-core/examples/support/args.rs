//! The benchmarks' arguments: `--repetitions N` (default 7; under
//! callgrind, `cargo xtask bench --instructions`, one repetition is
//! enough: instruction counts do not vary), and a benchmark's own
//! `--name N` numbers.

// Each benchmark uses what it needs.
#![allow(dead_code)]

/// `--repetitions N` from the command line, or 7.
pub fn repetitions() -> usize {
    number("--repetitions").filter(|&n| n > 0).unwrap_or(7)
}

/// The number after `flag` on the command line, if there is one.
pub fn number(flag: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
}
