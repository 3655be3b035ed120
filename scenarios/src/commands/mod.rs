//! One module per `dsim` verb. Each takes its arguments (a `clap::Args`
//! struct, defined once, in its module), writes its human output to the
//! writer it is given, and returns an `Exit` or a `Failure`. A failure is
//! always bad input or an unusable file (exit 2), and `main` prints it in
//! one place: a scenario's diagnostic with its snippet, or a message that
//! names the file and what was being done.

pub mod check;
pub mod grid;
pub mod hunt;
pub mod lincheck;
pub mod math;
pub mod merge;
pub mod record;
pub mod replay;
pub mod report;
pub mod run;
pub mod shrink;
pub mod sweep;

use std::path::{Path, PathBuf};

use crate::Exit;
use crate::diagnostic::Diagnostic;
use crate::load::{Prepared, load};

/// What a command's outcome is: the exit code of a finished job, or why
/// it could not do its job.
pub type Outcome = Result<Exit, Failure>;

/// Why a command could not do its job (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A scenario file that does not load: shown with its snippet.
    #[error("{0}")]
    Scenario(Diagnostic),
    /// Bad input that says where itself (file, line, argument).
    #[error("{0}")]
    Input(String),
    /// A file that could not be read or written.
    #[error("cannot {doing} {}: {source}", path.display())]
    File {
        doing: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// Writing to standard output failed (a closed pipe is not an error).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl Failure {
    pub fn input(message: impl Into<String>) -> Failure {
        Failure::Input(message.into())
    }
}

/// Loads a scenario, or says why not.
pub fn load_scenario(path: &Path) -> Result<Prepared, Failure> {
    load(path).map_err(Failure::Scenario)
}

/// Reads a text file, or says which and why not.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|source| Failure::File {
        doing: "read",
        path: path.to_owned(),
        source,
    })
}

/// Writes a file, creating its folder, or says which and why not.
pub fn write_text(path: &Path, text: &str) -> Result<(), Failure> {
    let file_error = |source| Failure::File {
        doing: "write",
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(file_error)?;
    }
    std::fs::write(path, text).map_err(file_error)
}
