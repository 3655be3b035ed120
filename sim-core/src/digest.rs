//! The run's fingerprint: an XXH3-128 hash over a canonical byte encoding
//! of every trace event. Two runs with equal digests did the same things in
//! the same order at the same times.
//!
//! XXH3 is a fixed, published function (its output for given bytes never
//! changes between releases or machines) and costs a fraction of a
//! cryptographic hash per byte; the digest is hashed on every event of
//! every run, and it guards against accidents (a non-deterministic
//! engine, a changed model), not against forgery, for which 128 bits
//! without a cryptographic design are enough.
//!
//! Events are encoded into a buffer that is hashed in large blocks, so the
//! per-event cost is a few byte copies. Payloads (messages, timers,
//! operations, faults) go through their `serde::Serialize` impls into our
//! own canonical encoding (`encode.rs`), never through `std::hash::Hash`,
//! whose output Rust does not promise to keep: a toolchain upgrade cannot
//! change a run's fingerprint unnoticed.

use serde::Serialize;
use twox_hash::xxhash3_128::Hasher as Xxh3;

use crate::encode::encode;

const FLUSH_AT: usize = 64 * 1024;

/// How many hex digits a digest has (128 bits).
pub const DIGEST_HEX_DIGITS: usize = 32;

#[derive(Clone)]
pub struct TraceDigest {
    hasher: Xxh3,
    buffer: Vec<u8>,
}

impl std::fmt::Debug for TraceDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceDigest")
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl Default for TraceDigest {
    fn default() -> Self {
        TraceDigest {
            hasher: Xxh3::new(),
            buffer: Vec::with_capacity(FLUSH_AT + 1024),
        }
    }
}

impl TraceDigest {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts one event: its kind tag and its fixed fields.
    pub fn event(&mut self, kind: u8, time_ns: u64, node: u32, peer: u32) {
        // One copy of the 17 header bytes, not four growth checks.
        let mut header = [0u8; 17];
        header[0] = kind;
        header[1..9].copy_from_slice(&time_ns.to_le_bytes());
        header[9..13].copy_from_slice(&node.to_le_bytes());
        header[13..17].copy_from_slice(&peer.to_le_bytes());
        self.buffer.extend_from_slice(&header);
    }

    /// Adds a payload to the current event.
    pub fn payload<T: Serialize + ?Sized>(&mut self, value: &T) {
        encode(value, &mut self.buffer);
    }

    /// Adds raw bytes (a length prefix keeps encodings unambiguous).
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.buffer
            .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        self.buffer.extend_from_slice(bytes);
    }

    /// Ends the current event, flushing the buffer when it is full.
    pub fn end_event(&mut self) {
        if self.buffer.len() >= FLUSH_AT {
            self.flush();
        }
    }

    /// Hashes whole blocks (the bytes past the last block wait for the
    /// next flush), so the hasher works on long runs of stripes. Out of
    /// line: the hot path is the test above.
    #[inline(never)]
    fn flush(&mut self) {
        let whole = self.buffer.len() / FLUSH_AT * FLUSH_AT;
        self.hasher.write(&self.buffer[..whole]);
        self.buffer.copy_within(whole.., 0);
        self.buffer.truncate(self.buffer.len() - whole);
    }

    /// The digest of everything so far, as 32 hex digits.
    pub fn hex(&self) -> String {
        let mut hasher = self.hasher.clone();
        hasher.write(&self.buffer);
        format!(
            "{:0width$x}",
            hasher.finish_128(),
            width = DIGEST_HEX_DIGITS
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(events: &[(u8, u64, &str)]) -> String {
        let mut d = TraceDigest::new();
        for &(kind, time, payload) in events {
            d.event(kind, time, 1, 2);
            d.payload(payload);
            d.end_event();
        }
        d.hex()
    }

    #[test]
    fn equal_traces_equal_digests_and_any_change_shows() {
        let base = [(1, 10, "ping"), (2, 20, "pong")];
        assert_eq!(digest_of(&base), digest_of(&base));
        assert_ne!(
            digest_of(&base),
            digest_of(&[(1, 10, "ping"), (2, 21, "pong")])
        );
        assert_ne!(
            digest_of(&base),
            digest_of(&[(2, 20, "pong"), (1, 10, "ping")])
        );
        assert_ne!(
            digest_of(&base),
            digest_of(&[(1, 10, "ping"), (2, 20, "pang")])
        );
    }

    #[test]
    fn an_empty_trace_has_the_published_xxh3_128_of_no_bytes() {
        // XXH3-128 of empty input with seed 0, from the reference
        // implementation: the digest is that function, whichever crate
        // or instruction set computes it.
        assert_eq!(TraceDigest::new().hex(), "99aa06d3014798d86001c324468d497f");
    }

    #[test]
    fn flushing_does_not_change_the_digest() {
        // Enough events to cross the flush threshold several times, and
        // one payload longer than two whole blocks.
        let long = "x".repeat(150_000);
        let mut many: Vec<(u8, u64, &str)> =
            (0..20_000).map(|i| (3u8, i as u64, "payload")).collect();
        many.insert(7_000, (4, 7_000, &long));
        let mut once = TraceDigest::new();
        for &(k, t, p) in &many {
            once.event(k, t, 1, 2);
            once.payload(p);
            once.end_event();
        }
        let mut bytes = Vec::new();
        for &(k, t, p) in &many {
            bytes.push(k);
            bytes.extend_from_slice(&t.to_le_bytes());
            bytes.extend_from_slice(&1u32.to_le_bytes());
            bytes.extend_from_slice(&2u32.to_le_bytes());
            encode(p, &mut bytes);
        }
        let whole = format!("{:032x}", Xxh3::oneshot(&bytes));
        assert_eq!(once.hex(), whole);
    }
}
