//! Peak resident memory of this process, for the benchmarks' last lines.

/// The peak resident set size in KiB (`VmHWM`), or 0 where `/proc` has
/// none.
pub fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
