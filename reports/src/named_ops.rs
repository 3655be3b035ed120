//! The operations a verdict names (`Violation.ops`, `LivenessFailure.ops`):
//! which they are, and the table the run report lists them in, read from
//! the record's typed operations (`RunRecord::operations`), so what each
//! was asked and returned is the engine's, not re-read from history text.

use std::collections::BTreeSet;

use sim_core::check::Verdict;
use sim_core::record::OperationRecord;

use crate::html::{Cell, paragraph, table};
use crate::numbers;

/// At most this many operations are listed in the table.
const MAX_LISTED_OPERATIONS: usize = 20;

/// The operations a violation or liveness failure names, by `OpId`.
pub fn named_operations(verdict: &Verdict) -> BTreeSet<u32> {
    let ops = match verdict {
        Verdict::Violated(v) => &v.ops,
        Verdict::NotLive(l) => &l.ops,
        _ => return BTreeSet::new(),
    };
    ops.iter().map(|op| op.0).collect()
}

/// The record of operation `id`. Operations are exported in `OpId`
/// order, so a binary search finds it; a record that is not falls back to
/// a scan.
pub fn operation(operations: &[OperationRecord], id: u32) -> Option<&OperationRecord> {
    match operations.binary_search_by_key(&id, |op| op.id.0) {
        Ok(index) => Some(&operations[index]),
        Err(_) => operations.iter().find(|op| op.id.0 == id),
    }
}

/// One row per named operation: who asked what, when, and what came back.
pub fn operations_table(
    operations: &[OperationRecord],
    named: &BTreeSet<u32>,
    node_names: &[String],
) -> String {
    let rows: Vec<Vec<Cell>> = named
        .iter()
        .take(MAX_LISTED_OPERATIONS)
        .filter_map(|&id| operation(operations, id))
        .map(|op| {
            let client = node_names
                .get(op.node.index())
                .cloned()
                .unwrap_or_else(|| format!("n{}", op.node.index()));
            vec![
                Cell::Number(op.id.0.to_string()),
                Cell::Text(client),
                Cell::Number(op.process.to_string()),
                Cell::Code(op.f.clone()),
                op.key.clone().map_or(Cell::Text(String::new()), Cell::Code),
                Cell::Code(op.input.to_string()),
                Cell::Number(numbers::time(op.invoke_ns)),
                Cell::Text(op.ending.label().to_owned()),
                // Only an `ok` returns something; a failed or timed-out
                // operation returned nothing.
                Cell::Code(
                    op.output
                        .as_ref()
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                ),
                Cell::Number(op.complete_ns.map(numbers::time).unwrap_or_default()),
                Cell::Number(op.latency_ns().map(numbers::millis).unwrap_or_default()),
            ]
        })
        .collect();
    let headers = [
        "op",
        "client",
        "process",
        "f",
        "key",
        "invoked with",
        "invoked at",
        "outcome",
        "returned",
        "completed at",
        "latency",
    ];
    let mut out = table(&headers, &rows);
    if named.len() > MAX_LISTED_OPERATIONS {
        out.push_str(&paragraph(&format!(
            "… and {} more.",
            named.len() - MAX_LISTED_OPERATIONS
        )));
    }
    out
}
