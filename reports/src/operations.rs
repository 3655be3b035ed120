//! Client operations rebuilt from a history's events: each completion is
//! paired with the latest open invocation of the same process (a process
//! runs one operation at a time, so that is the one it answers). The
//! latency plots and the violation's operation table read these.

use std::collections::BTreeMap;

use sim_core::record::{EventType, HistoryEvent};

/// How an operation ended, as its client saw it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Ending {
    Ok,
    Fail,
    /// Timed out: it may or may not have happened.
    Info,
    /// No completion before the run ended.
    Pending,
}

impl Ending {
    pub fn label(self) -> &'static str {
        match self {
            Ending::Ok => "ok",
            Ending::Fail => "fail",
            Ending::Info => "info",
            Ending::Pending => "pending",
        }
    }
}

/// One operation: an invocation and, unless pending, its completion.
#[derive(Clone, PartialEq, Debug)]
pub struct Operation<'a> {
    /// Its place in invocation order. sim-core numbers operations (`OpId`)
    /// in invocation order and exports invocations in that order, so this
    /// is the operation's `OpId`, which violations name.
    pub index: usize,
    pub invoke: &'a HistoryEvent,
    pub completion: Option<&'a HistoryEvent>,
    pub ending: Ending,
}

impl Operation<'_> {
    pub fn invoke_ns(&self) -> u64 {
        self.invoke.time_ns.unwrap_or(0)
    }

    /// Completion time minus invocation time; `None` while pending.
    pub fn latency_ns(&self) -> Option<u64> {
        let done = self.completion?.time_ns?;
        Some(done.saturating_sub(self.invoke_ns()))
    }

    pub fn complete_ns(&self) -> Option<u64> {
        self.completion?.time_ns
    }
}

/// Pairs invocations with completions, in invocation order.
pub fn pair_operations(history: &[HistoryEvent]) -> Vec<Operation<'_>> {
    let mut operations: Vec<Operation<'_>> = Vec::new();
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    for event in history {
        match event.kind {
            EventType::Invoke => {
                open.insert(event.process, operations.len());
                operations.push(Operation {
                    index: operations.len(),
                    invoke: event,
                    completion: None,
                    ending: Ending::Pending,
                });
            }
            EventType::Ok | EventType::Fail | EventType::Info => {
                // A completion with no open invocation is malformed input;
                // it has no latency to plot, so it is left out.
                let Some(index) = open.remove(&event.process) else {
                    continue;
                };
                let operation = &mut operations[index];
                operation.completion = Some(event);
                operation.ending = match event.kind {
                    EventType::Ok => Ending::Ok,
                    EventType::Fail => Ending::Fail,
                    _ => Ending::Info,
                };
            }
        }
    }
    operations
}

/// The `q`-quantile of sorted values, by nearest rank.
pub fn quantile(sorted: &[u64], q_per_mille: u64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() as u64 * q_per_mille).div_ceil(1000).max(1);
    Some(sorted[(rank - 1) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(process: u64, kind: EventType, time_ns: u64) -> HistoryEvent {
        HistoryEvent {
            process,
            kind,
            f: "read".to_owned(),
            key: None,
            value: serde_json::Value::Null,
            time_ns: Some(time_ns),
            node: None,
        }
    }

    #[test]
    fn completions_answer_their_process_latest_invocation() {
        let history = vec![
            event(0, EventType::Invoke, 10),
            event(1, EventType::Invoke, 12),
            event(1, EventType::Ok, 20),
            event(0, EventType::Info, 110),
            event(0, EventType::Invoke, 120),
        ];
        let operations = pair_operations(&history);
        let summary: Vec<_> = operations
            .iter()
            .map(|o| (o.index, o.ending, o.latency_ns()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (0, Ending::Info, Some(100)),
                (1, Ending::Ok, Some(8)),
                (2, Ending::Pending, None)
            ]
        );
    }

    #[test]
    fn quantiles_use_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&values, 500), Some(50));
        assert_eq!(quantile(&values, 990), Some(99));
        assert_eq!(quantile(&[7], 990), Some(7));
        assert_eq!(quantile(&[], 500), None);
    }
}
