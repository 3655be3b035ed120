//! What clients and the server say to each other. Every message carries
//! the client's request number, so a late answer to a request that timed
//! out is recognised and ignored.

use serde::Serialize;

#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub enum Msg {
    /// Set the register to `value`.
    Write { request: u64, value: u64 },
    /// The write is on disk and has this version.
    Written { request: u64, version: u64 },
    Read { request: u64 },
    /// The register holds `value`.
    Value { request: u64, value: u64 },
}
