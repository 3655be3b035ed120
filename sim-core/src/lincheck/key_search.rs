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
    /// The search trying unknown-result calls first, then, from its first
    /// turn (after the first search's first slice, which decides most
    /// keys), the one trying them last, if the key has any.
    searches: Vec<Search<'a, S>>,
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
            steps: 0,
        }
    }

    /// Gives each search one slice of steps, in a fixed order; returns the
    /// key's outcome once there is one.
    pub(super) fn run_slice(&mut self, budget: &mut Budget<'_>) -> Option<SearchOutcome> {
        if let Some(outcome) = self.searches[0].run(budget, &mut self.steps) {
            return Some(outcome);
        }
        // With no unknown results the two orders are the same search.
        if self.searches.len() == 1 && self.searches[0].has_unknown_results() {
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
