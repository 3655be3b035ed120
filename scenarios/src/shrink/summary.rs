//! How big a failing scenario is, and what a shrink changed, in words:
//! the header of a shrunk file and the lines `dsim shrink` prints.

use sim_core::Latency;
use sim_core::record::RunRecord;

use crate::schema::Scenario;

/// The measures a shrink makes smaller.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Size {
    pub faults: usize,
    /// The faults' lengths added up, in milliseconds (a fault that lasts
    /// until the heal counts nothing).
    pub fault_ms: u64,
    pub nodes: usize,
    pub duration_ms: u64,
    /// Engine events of the run (up to the violation, for an invariant).
    pub events: u64,
}

impl Size {
    pub fn of(scenario: &Scenario, run: &RunRecord) -> Size {
        Size {
            faults: scenario.faults.len(),
            fault_ms: scenario.faults.iter().filter_map(|f| f.duration_ms).sum(),
            nodes: run.node_names.len(),
            duration_ms: scenario.duration_ms,
            events: run.stats.events,
        }
    }
}

/// What changed from `before` to `after`, one line each, in the order a
/// reader cares: the faults, the design, the run, the network.
pub fn changes(before: &Scenario, after: &Scenario) -> Vec<String> {
    let mut lines = Vec::new();
    let (b, a) = (before.faults.len(), after.faults.len());
    if a < b {
        let length = |s: &Scenario| s.faults.iter().filter_map(|f| f.duration_ms).sum::<u64>();
        let mut line = format!("faults: {b} → {a} ({} removed)", b - a);
        if length(before) > 0 {
            line.push_str(&format!(
                "; their lengths add up to {} instead of {}",
                seconds(length(after)),
                seconds(length(before))
            ));
        }
        lines.push(line);
    } else if before.faults != after.faults {
        lines.push(format!("faults: the same {a}, shorter"));
    }
    for count in before.model.shrinkable() {
        let now = after
            .model
            .shrinkable()
            .into_iter()
            .find(|c| c.param == count.param);
        if let Some(now) = now.filter(|n| n.value != count.value) {
            lines.push(format!("{}: {} → {}", count.param, count.value, now.value));
        }
    }
    if before.liveness.is_some() && after.liveness.is_none() {
        lines.push("liveness check: off (the violation needs no heal)".to_owned());
    }
    if let (Some(b), Some(a)) = (before.liveness, after.liveness)
        && a.heal_at_ms != b.heal_at_ms
    {
        lines.push(format!(
            "heal: at {} instead of {}",
            seconds(a.heal_at_ms),
            seconds(b.heal_at_ms)
        ));
    }
    if after.duration_ms != before.duration_ms {
        lines.push(format!(
            "run length: {} → {}",
            seconds(before.duration_ms),
            seconds(after.duration_ms)
        ));
    }
    let (bl, al) = (&before.network.default_link, &after.network.default_link);
    if al.loss_per_million != bl.loss_per_million {
        lines.push(format!(
            "message loss: {} → {}",
            per_million(bl.loss_per_million),
            per_million(al.loss_per_million)
        ));
    }
    if al.duplicate_per_million != bl.duplicate_per_million {
        lines.push(format!(
            "duplication: {} → {}",
            per_million(bl.duplicate_per_million),
            per_million(al.duplicate_per_million)
        ));
    }
    if al.latency != bl.latency {
        lines.push(format!(
            "latency: {} → {}",
            latency(bl.latency),
            latency(al.latency)
        ));
    }
    for (what, b, a) in [
        (
            "link overrides",
            before.network.links.len(),
            after.network.links.len(),
        ),
        ("clock settings", before.clocks.len(), after.clocks.len()),
        ("disk settings", before.disks.len(), after.disks.len()),
    ] {
        if a < b {
            lines.push(format!("{what}: {b} → {a}"));
        }
    }
    lines
}

/// Milliseconds as seconds, as people read run lengths: `2.40 s`.
pub fn seconds(ms: u64) -> String {
    format!("{:.2} s", ms as f64 / 1_000.0)
}

fn per_million(value: u32) -> String {
    if value == 0 {
        "none".to_owned()
    } else {
        format!("{}%", f64::from(value) / 10_000.0)
    }
}

fn latency(latency: Latency) -> String {
    let ms = |us: u64| format!("{}", us as f64 / 1_000.0);
    match latency {
        Latency::Constant { us } => format!("{} ms always", ms(us)),
        Latency::Uniform { min_us, max_us } => format!("{}–{} ms", ms(min_us), ms(max_us)),
        Latency::Exponential {
            min_us,
            mean_extra_us,
            max_us,
        } => format!(
            "{} ms + a tail of mean {} ms, at most {} ms",
            ms(min_us),
            ms(mean_extra_us),
            ms(max_us)
        ),
    }
}
