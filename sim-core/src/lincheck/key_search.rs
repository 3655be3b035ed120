//! One key's search, run a slice at a time so that `check` can take keys
//! in turn: the two call orders of `search.rs`, in lockstep.
//!
//! Which calls a configuration tries first decides how fast the search
//! ends, and no order wins everywhere. Trying unknown-result calls first
//! finds a linearization fast when timed-out operations did take effect,
//! above all for values that never repeat (appends). Trying them last
//! explores the configurations that use fewer of them first, so the memo
//! prunes the rest: this is what lets a failing search with many timeouts
//! finish. Both orders are complete, so two searches run in lockstep, in
//! fixed slices of steps, and the first to finish decides. That costs at
//! most twice the better order, deterministically.

use super::budget::Budget;
use super::entry_list::KeyLists;
use super::search::{CallOrder, Search, SearchOutcome};
use super::spec::Spec;
use crate::history::Operation;

/// The search state of one key not yet decided.
pub(super) struct KeySearch<'a, S: Spec> {
    pub key: &'a S::Key,
    /// The key's operations that may have happened, in history order.
    pub operations: &'a [&'a Operation<S::Op, S::Ret>],
    searches: Vec<Search<'a, S>>,
    /// Steps spent on this key, by both searches.
    steps: u64,
}

impl<'a, S: Spec> KeySearch<'a, S> {
    /// Sets up the searches of `key`; what they hold counts against the
    /// budget from here on.
    pub(super) fn new(
        spec: &'a S,
        key: &'a S::Key,
        operations: &'a [&'a Operation<S::Op, S::Ret>],
        budget: &mut Budget<'_>,
    ) -> Self {
        let lists = KeyLists::new(operations, |op| spec.is_read_only(op));
        // With no unknown results the two orders are the same search.
        let second = (lists.unknown_count > 0).then(|| lists.clone());
        let mut searches = vec![Search::new(
            spec,
            key,
            operations,
            lists,
            CallOrder::UnknownFirst,
            budget,
        )];
        if let Some(lists) = second {
            searches.push(Search::new(
                spec,
                key,
                operations,
                lists,
                CallOrder::KnownFirst,
                budget,
            ));
        }
        KeySearch {
            key,
            operations,
            searches,
            steps: 0,
        }
    }

    /// Gives each search one slice of steps, in a fixed order; returns the
    /// key's outcome once there is one.
    pub(super) fn run_slice(&mut self, budget: &mut Budget<'_>) -> Option<SearchOutcome> {
        self.searches
            .iter_mut()
            .find_map(|search| search.run(budget, &mut self.steps))
    }

    /// Drops the searches and gives their memory back to the budget.
    pub(super) fn free(self, budget: &mut Budget<'_>) {
        for search in self.searches {
            search.free(budget);
        }
    }
}
