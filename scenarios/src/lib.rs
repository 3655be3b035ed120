//! Scenario files, the runner, sweeps and the `dsim` commands. The binary
//! (`main.rs`) only parses arguments; everything it does lives here so
//! tests can drive it.

pub mod commands;
pub mod corpus;
pub mod diagnostic;
pub mod golden;
pub mod load;
mod locate;
pub mod runner;
pub mod schema;
pub mod shrink;
pub mod stopwatch;
pub mod sweep;

/// Exit codes, the same for every command (documented in `dsim --help`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exit {
    /// The outcome was the expected one (or: linearizable).
    Expected = 0,
    /// Something else happened: a violation a `Pass` scenario did not
    /// expect, a broken variant not caught, non-determinism (or: not
    /// linearizable).
    Unexpected = 1,
    /// Bad input: a malformed or invalid file, a bad argument.
    BadInput = 2,
    /// `lincheck` could not decide within its time limit.
    Unknown = 3,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
    /// The worse of two outcomes (bad input beats unexpected beats unknown).
    pub fn worst(self, other: Exit) -> Exit {
        let rank = |e: Exit| match e {
            Exit::Expected => 0,
            Exit::Unknown => 1,
            Exit::Unexpected => 2,
            Exit::BadInput => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}
