//! One module per `dsim` verb. Each writes its human output to the writer
//! it is given and returns an `Exit`; bad input is reported as a
//! diagnostic on stderr with `Exit::BadInput`.

pub mod check;
pub mod grid;
pub mod lincheck;
pub mod merge;
pub mod replay;
pub mod report;
pub mod run;
pub mod sweep;

use std::path::Path;

use crate::Exit;
use crate::load::{Prepared, load};

/// Loads a scenario, or prints its diagnostic and says why not.
pub fn load_or_report(path: &Path) -> Result<Prepared, Exit> {
    load(path).map_err(|d| {
        eprintln!("{}", d.render());
        Exit::BadInput
    })
}

/// Formats a count with thousands separators, for people.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
