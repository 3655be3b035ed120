//! How much a check may do, and which limit ended it: a step limit per
//! key, a memory limit over all keys searched at once, and a stop callback.
//!
//! Memory is not measured but counted: each search adds what its memo,
//! stack and lists hold, in bytes, by a fixed rule (`heap_block_bytes` and
//! the sizes of the types). The count is a pure function of the history
//! and the limits, so a memory limit decides the verdict as
//! deterministically as the step limit does, and it needs no allocator
//! hook. It is an estimate of the heap in use, allocator overhead
//! included: on issue #8's history, stopped at limits from 64 MB to 1 GB,
//! the process's peak resident memory was 3 to 7 % above the limit
//! (`cargo xtask bench` prints it).

use std::fmt;

/// How much work a check may do: a step limit per key, a memory limit,
/// and optionally a callback asked every few thousand steps whether to
/// stop.
///
/// The step and memory limits are deterministic: the same history and
/// limits give the same verdict on every 64-bit machine. The callback is
/// for the CLI's wall-clock deadline; once it says stop, every key not yet
/// decided is undecided.
pub struct Budget<'a> {
    max_steps_per_key: u64,
    max_memory_bytes: u64,
    steps_taken: u64,
    /// What the searches still running hold now, by the count.
    memory_bytes: u64,
    memory_bytes_peak: u64,
    /// Set once the memory limit or the callback has ended the check.
    ended_by: Option<Limit>,
    should_stop: Option<&'a mut dyn FnMut() -> bool>,
}

/// Which limit of the budget left keys undecided.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub enum Limit {
    /// Each undecided key spent its steps; every other key was decided.
    Steps,
    /// The searches running at once held more than the memory limit; the
    /// check stopped there, and keys not yet decided are undecided.
    Memory,
    /// The stop callback said stop (the CLI's time limit).
    Stop,
}

/// How often, in steps, the stop callback is asked: rarely enough that a
/// clock read costs nothing, often enough to stop within milliseconds.
const STOP_POLL_INTERVAL_STEPS: u64 = 4096;

impl<'a> Budget<'a> {
    pub fn unlimited() -> Self {
        Self::steps(u64::MAX)
    }

    /// At most `max` search steps for each key, and no memory limit; a
    /// step visits one invocation or return. The limit is per key so that
    /// one hard key cannot starve the others, and so that shrinking a
    /// history by removing other keys never changes a key's outcome. A key
    /// with timed-out operations runs two searches that share its steps.
    pub fn steps(max: u64) -> Self {
        Budget {
            max_steps_per_key: max,
            max_memory_bytes: u64::MAX,
            steps_taken: 0,
            memory_bytes: 0,
            memory_bytes_peak: 0,
            ended_by: None,
            should_stop: None,
        }
    }

    /// Also stops the check, with `Limit::Memory`, once the searches
    /// running at once hold more than `max_bytes` by the count (see the
    /// module's header). Keys run in turn and a decided key frees its
    /// memory at once, so only the keys still undecided share it.
    pub fn with_memory_limit(self, max_bytes: u64) -> Self {
        Budget {
            max_memory_bytes: max_bytes,
            ..self
        }
    }

    /// Also stops the check when `should_stop` returns true.
    pub fn with_stop(self, should_stop: &'a mut dyn FnMut() -> bool) -> Self {
        Budget {
            should_stop: Some(should_stop),
            ..self
        }
    }

    /// Search steps spent so far, over all keys and checks.
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// The memory the searches running now hold, by the count: zero
    /// between checks.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// The most memory the searches held at once so far, by the count.
    pub fn memory_bytes_peak(&self) -> u64 {
        self.memory_bytes_peak
    }

    pub(super) fn max_steps_per_key(&self) -> u64 {
        self.max_steps_per_key
    }

    pub fn max_memory_bytes(&self) -> u64 {
        self.max_memory_bytes
    }

    /// Spends one step of a key that has spent `key_steps` already, or
    /// says which limit forbids it.
    pub(super) fn spend_step(&mut self, key_steps: u64) -> Result<(), Limit> {
        if let Some(limit) = self.ended_by {
            return Err(limit);
        }
        if self.memory_bytes > self.max_memory_bytes {
            return Err(*self.ended_by.insert(Limit::Memory));
        }
        if key_steps >= self.max_steps_per_key {
            return Err(Limit::Steps);
        }
        self.steps_taken += 1;
        if self.steps_taken.is_multiple_of(STOP_POLL_INTERVAL_STEPS)
            && let Some(should_stop) = self.should_stop.as_mut()
            && should_stop()
        {
            return Err(*self.ended_by.insert(Limit::Stop));
        }
        Ok(())
    }

    /// Records that a search that held `*held` bytes now holds `now`.
    #[inline]
    pub(super) fn hold_memory(&mut self, held: &mut u64, now: u64) {
        self.memory_bytes = self.memory_bytes - *held + now;
        self.memory_bytes_peak = self.memory_bytes_peak.max(self.memory_bytes);
        *held = now;
    }
}

/// An estimate of what one heap block of `requested` bytes costs, as a
/// typical allocator (glibc's) lays it out: an 8-byte header, 16-byte
/// granules, 32 bytes at least; nothing for an empty `Vec` or `String`.
/// For `Spec::state_heap_bytes`.
pub fn heap_block_bytes(requested: usize) -> usize {
    if requested == 0 {
        0
    } else {
        (requested + 8).next_multiple_of(16).max(32)
    }
}

impl fmt::Debug for Budget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("max_steps_per_key", &self.max_steps_per_key)
            .field("max_memory_bytes", &self.max_memory_bytes)
            .field("steps_taken", &self.steps_taken)
            .field("memory_bytes", &self.memory_bytes)
            .field("memory_bytes_peak", &self.memory_bytes_peak)
            .field("ended_by", &self.ended_by)
            .field("has_stop_callback", &self.should_stop.is_some())
            .finish()
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::Steps => "the step limit",
            Limit::Memory => "the memory limit",
            Limit::Stop => "a stop request",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_blocks_round_up_to_granules_with_a_header() {
        assert_eq!(heap_block_bytes(0), 0);
        assert_eq!(heap_block_bytes(1), 32);
        assert_eq!(heap_block_bytes(24), 32);
        assert_eq!(heap_block_bytes(25), 48);
        assert_eq!(heap_block_bytes(96), 112);
    }

    #[test]
    fn the_memory_limit_ends_the_check_at_the_next_step() {
        let mut budget = Budget::unlimited().with_memory_limit(100);
        let mut held = 0;
        budget.hold_memory(&mut held, 100);
        assert_eq!(budget.spend_step(0), Ok(()));
        budget.hold_memory(&mut held, 101);
        assert_eq!(budget.spend_step(0), Err(Limit::Memory));
        // Freeing memory does not restart a check that has ended.
        budget.hold_memory(&mut held, 0);
        assert_eq!(budget.spend_step(0), Err(Limit::Memory));
        assert_eq!(budget.memory_bytes_peak(), 101);
    }
}
