//! Headless Chromium, to check that a report loads in a real browser.
//! Without Chromium the browser test skips with a message, unless `CI` is
//! set: CI installs Chromium (`.ci/run`), so there a missing browser is a
//! failure, not a reason to skip.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long one Chromium run may take before it is killed, in tenths of
/// a second (polled; tests may not read the wall clock's `Instant`).
const TIMEOUT_TENTHS: u32 = 1_200;

/// Chromium on `PATH`, if installed.
pub fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

/// Chromium, or `None` after printing why the caller skips. Panics when
/// `CI` is set and Chromium is missing.
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(found) = find_chromium() {
        return Some(found);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: CI is set but `chromium` is not on PATH; .ci/run installs it with apt-get");
    }
    // Written to the stderr handle, not with `eprintln!`, which the test
    // harness captures: a skip should be seen in a plain `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: `chromium` is not installed (apt-get install --no-install-recommends chromium); \
         with CI set this would fail"
    );
    None
}

/// A fresh scratch directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsim-reports-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// The page's DOM after it loaded, as Chromium serializes it.
pub fn dump_dom(chromium: &Path, page: &Path, scratch: &Path) -> String {
    let dom_path = scratch.join("dom.html");
    let dom = std::fs::File::create(&dom_path).expect("create the DOM file");
    let mut command = headless(chromium, scratch);
    command
        .arg("--dump-dom")
        .arg(file_url(page))
        .stdout(Stdio::from(dom));
    run(command, scratch, "dump the DOM");
    std::fs::read_to_string(&dom_path).expect("read the dumped DOM")
}

fn headless(chromium: &Path, scratch: &Path) -> Command {
    let profile = scratch.join(format!("profile-{}", scratch_counter()));
    let mut command = Command::new(chromium);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    // Chromium is chatty on stderr (no D-Bus here); a file never fills up
    // and blocks it the way an unread pipe would.
    let log = std::fs::File::create(scratch.join("chromium.log")).expect("create the log");
    command.stderr(Stdio::from(log)).stdin(Stdio::null());
    command
}

/// A new number per call, so every Chromium run gets a fresh profile.
fn scratch_counter() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn file_url(page: &Path) -> String {
    let absolute = std::fs::canonicalize(page).expect("the page exists");
    format!("file://{}", absolute.display())
}

fn run(mut command: Command, scratch: &Path, what: &str) {
    let mut child = command.spawn().expect("start chromium");
    for _ in 0..TIMEOUT_TENTHS {
        if let Some(status) = child.try_wait().expect("poll chromium") {
            if !status.success() {
                let log = std::fs::read_to_string(scratch.join("chromium.log")).unwrap_or_default();
                panic!("chromium failed to {what} ({status}):\n{log}");
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("chromium did not {what} within {} s", TIMEOUT_TENTHS / 10);
}
