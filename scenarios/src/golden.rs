//! Golden digests: the library pins the trace digests of a few seeds of
//! every scenario, so a change of build, platform, toolchain or dependency
//! that alters runs is caught, not just a change of outcome.
//!
//! Each scenario folder may hold a `golden-digests.txt`: one line per
//! pinned run, `<file> <seed> <digest>`, sorted, with `#` comments. `dsim
//! check` compares the first `GOLDEN_SEEDS` seeds of every scenario in a
//! folder that has the file; `dsim check --bless` rewrites it after an
//! intended change. A folder without the file is checked for outcomes
//! only.

use sim_core::digest::DIGEST_HEX_DIGITS;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How many seeds of each scenario (its first) are pinned.
pub const GOLDEN_SEEDS: usize = 3;

/// The file's name inside a scenario folder.
pub const FILE_NAME: &str = "golden-digests.txt";

/// One folder's pinned digests: (scenario file name, seed) -> digest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Golden {
    pub entries: BTreeMap<(String, u64), String>,
}

/// A pinned digest that no longer matches, or is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    Changed {
        seed: u64,
        pinned: String,
        now: String,
    },
    Missing {
        seed: u64,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Changed { seed, pinned, now } => write!(
                f,
                "seed {seed}: golden digest {} is now {}",
                &pinned[..16.min(pinned.len())],
                &now[..16.min(now.len())]
            ),
            Mismatch::Missing { seed } => write!(f, "seed {seed}: no golden digest pinned"),
        }
    }
}

/// The golden file of the folder holding `scenario`.
pub fn path_for(scenario: &Path) -> PathBuf {
    scenario
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(FILE_NAME)
}

/// Reads a golden file; `Ok(None)` if there is none. A malformed line is
/// an error naming the file and line.
pub fn read(path: &Path) -> Result<Option<Golden>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let mut golden = Golden::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [file, seed, digest] = parts[..] else {
            return Err(format!("{}: expected `<file> <seed> <digest>`", at()));
        };
        let seed: u64 = seed
            .parse()
            .map_err(|_| format!("{}: `{seed}` is not a seed", at()))?;
        if !digest.bytes().all(|b| b.is_ascii_hexdigit()) || digest.len() != DIGEST_HEX_DIGITS {
            // 64 digits: pinned before digests became XXH3-128 (issue #15).
            let hint = if digest.len() == 64 {
                " (a blake3 digest from before dsim's digests became XXH3-128: \
                 `dsim check --bless` pins the new ones)"
            } else {
                ""
            };
            return Err(format!(
                "{}: `{digest}` is not a {DIGEST_HEX_DIGITS}-digit hex digest{hint}",
                at()
            ));
        }
        golden
            .entries
            .insert((file.to_owned(), seed), digest.to_owned());
    }
    Ok(Some(golden))
}

impl Golden {
    /// Compares one scenario's digests with the pinned ones.
    pub fn compare(&self, file: &str, digests: &[(u64, String)]) -> Vec<Mismatch> {
        digests
            .iter()
            .filter_map(
                |(seed, now)| match self.entries.get(&(file.to_owned(), *seed)) {
                    None => Some(Mismatch::Missing { seed: *seed }),
                    Some(pinned) if pinned != now => Some(Mismatch::Changed {
                        seed: *seed,
                        pinned: pinned.clone(),
                        now: now.clone(),
                    }),
                    Some(_) => None,
                },
            )
            .collect()
    }

    /// Pins `digests` for `file`, replacing what was pinned for it.
    pub fn pin(&mut self, file: &str, digests: &[(u64, String)]) {
        self.entries.retain(|(f, _), _| f != file);
        for (seed, digest) in digests {
            self.entries
                .insert((file.to_owned(), *seed), digest.clone());
        }
    }

    /// The file's text: a header, then one sorted line per pinned run.
    pub fn render(&self) -> String {
        let mut text = String::from(
            "# Golden trace digests: `dsim check` fails when one changes.\n\
             # After an intended change of runs: `dsim check <folder> --bless`.\n",
        );
        for ((file, seed), digest) in &self.entries {
            text.push_str(&format!("{file} {seed} {digest}\n"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_digests_round_trip_and_compare() {
        let digest = |c: char| c.to_string().repeat(DIGEST_HEX_DIGITS);
        let mut golden = Golden::default();
        golden.pin("a.ron", &[(0, digest('a')), (1, digest('b'))]);
        let dir = std::env::temp_dir().join(format!("dsim-golden-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, golden.render()).unwrap();
        let read_back = read(&path).unwrap().unwrap();
        assert_eq!(read_back, golden);
        assert!(read_back.compare("a.ron", &[(0, digest('a'))]).is_empty());
        assert_eq!(
            read_back.compare("a.ron", &[(1, digest('c')), (2, digest('c'))]),
            vec![
                Mismatch::Changed {
                    seed: 1,
                    pinned: digest('b'),
                    now: digest('c')
                },
                Mismatch::Missing { seed: 2 }
            ]
        );
        std::fs::write(&path, "a.ron zero abc\n").unwrap();
        assert!(
            read(&path)
                .unwrap_err()
                .contains(":1: `zero` is not a seed")
        );
        assert_eq!(read(&dir.join("none.txt")), Ok(None));
    }
}
