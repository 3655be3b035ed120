//! The benchmarks' one argument: `--repetitions N` (default 7). Under
//! callgrind (`cargo xtask bench --instructions`) one repetition is enough:
//! instruction counts do not vary.

/// `--repetitions N` from the command line, or 7.
pub fn repetitions() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--repetitions")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(7)
}
