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
//! most twice the better order, deterministically. The second search
//! starts at its first turn: most keys are decided in the first slice.

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
    spec: &'a S,
    searches: Vec<Search<'a, S>>,
    /// Whether the search trying known-result calls first is still to
    /// start. It starts at its first turn, after the first search's
    /// first slice: most keys are decided in that slice and never build
    /// it.
    second_pending: bool,
    /// Steps spent on this key, by both searches.
    steps: u64,
}

impl<'a, S: Spec> KeySearch<'a, S> {
    /// Sets up the first search of `key`; what it holds counts against
    /// the budget from here on.
    pub(super) fn new(
        spec: &'a S,
        key: &'a S::Key,
        operations: &'a [&'a Operation<S::Op, S::Ret>],
        budget: &mut Budget<'_>,
    ) -> Self {
        let lists = KeyLists::new(operations, |op| spec.is_read_only(op));
        // With no unknown results the two orders are the same search.
        let second_pending = lists.unknown_count > 0;
        let first = Search::new(
            spec,
            key,
            operations,
            lists,
            CallOrder::UnknownFirst,
            budget,
        );
        KeySearch {
            key,
            operations,
            spec,
            searches: vec![first],
            second_pending,
            steps: 0,
        }
    }

    /// Gives each search one slice of steps, in a fixed order; returns the
    /// key's outcome once there is one.
    pub(super) fn run_slice(&mut self, budget: &mut Budget<'_>) -> Option<SearchOutcome> {
        if let Some(outcome) = self.searches[0].run(budget, &mut self.steps) {
            return Some(outcome);
        }
        if self.second_pending {
            self.second_pending = false;
            let spec = self.spec;
            let lists = KeyLists::new(self.operations, |op| spec.is_read_only(op));
            let second = Search::new(
                spec,
                self.key,
                self.operations,
                lists,
                CallOrder::KnownFirst,
                budget,
            );
            self.searches.push(second);
        }
        self.searches.get_mut(1)?.run(budget, &mut self.steps)
    }

    /// Drops the searches and gives their memory back to the budget.
    pub(super) fn free(self, budget: &mut Budget<'_>) {
        for search in self.searches {
            search.free(budget);
        }
    }
}
