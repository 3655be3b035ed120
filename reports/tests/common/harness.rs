//! Runs the counter design through sim-core the way `dsim` runs a
//! scenario (a nemesis against the servers, a liveness phase, recording
//! on) and erases its types into the `RunRecord`s and `SeedLine`s that
//! reports read. Metrics are computed here from the history, with the
//! names and units dsim's models use.

use std::collections::BTreeMap;
use std::time::Duration;

use sim_core::history::{History, Outcome};
use sim_core::link::LinkConfig;
use sim_core::record::{RunRecord, SeedLine};
use sim_core::{LivenessConfig, NemesisConfig, NodeId, Sim, SimConfig};

use super::checks::{BoundedStaleness, ReadsNeverExceedAdds};
use super::counter::{Counter, Disk, Op};

pub const SCENARIO_NAME: &str = "counter-gossip";
pub const SCENARIO_PATH: &str = "scenarios/counter/gossip.ron";
/// What the scenario file would say; reports show it collapsed.
pub const SCENARIO_SOURCE: &str = r#"// A gossiped grow-only counter under a random nemesis.
Scenario(
    name: "counter-gossip",
    design: Counter(servers: 3, clients: 3, gossip_ms: 100, timeout_ms: 120),
    network: (default_link: (latency: Uniform(min_us: 1000, max_us: 10000),
              duplicate_per_million: 20000)),
    nemesis: Some((targets: ["server-0", "server-1", "server-2"], swarm: true)),
    liveness: Some((heal_at_ms: 8000, bound_ms: 1500)),
    duration_ms: 10000,
    expect: Violation("bounded_staleness"),
)
"#;

/// The knobs a test (or a grid axis) turns.
#[derive(Clone, Debug)]
pub struct Setup {
    pub servers: usize,
    pub clients: usize,
    pub gossip_ms: u64,
    pub staleness_bound_ms: u64,
    pub timeout_ms: u64,
    pub duration_ms: u64,
    pub nemesis: bool,
    pub recovery_bug: bool,
    pub busy_per_million: u32,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            servers: 3,
            clients: 3,
            gossip_ms: 100,
            staleness_bound_ms: 600,
            timeout_ms: 120,
            duration_ms: 10_000,
            nemesis: true,
            recovery_bug: true,
            busy_per_million: 30_000,
        }
    }
}

impl Setup {
    pub fn node_names(&self) -> Vec<String> {
        let servers = (0..self.servers).map(|i| format!("server-{i}"));
        servers
            .chain((0..self.clients).map(|i| format!("client-{i}")))
            .collect()
    }

    fn config(&self, seed: u64) -> SimConfig {
        let mut config = SimConfig::new(seed);
        config.record_trace = true;
        config.node_names = self.node_names().into();
        config.duration = Duration::from_millis(self.duration_ms);
        // No loss on healthy links, or clients would time out after the
        // heal and fail liveness for a reason no one planted.
        config.network.default_link = LinkConfig {
            duplicate_per_million: 20_000,
            ..LinkConfig::default()
        };
        if self.nemesis {
            config.nemesis = Some(NemesisConfig {
                targets: (0..self.servers as u32).map(NodeId).collect(),
                interval_ms_min: 300,
                interval_ms_max: 1_500,
                duration_ms_min: 100,
                duration_ms_max: 1_800,
                ..NemesisConfig::default()
            });
        }
        let heal_at_ms = self
            .duration_ms
            .saturating_sub(2_000)
            .max(self.duration_ms / 2);
        config.liveness = Some(LivenessConfig {
            heal_at_ms,
            bound_ms: 1_500.min(self.duration_ms - heal_at_ms),
            require_ok: false,
        });
        config
    }

    fn disks(&self) -> Vec<Disk> {
        let servers: Vec<NodeId> = (0..self.servers as u32).map(NodeId).collect();
        let mut disks: Vec<Disk> = (0..self.servers)
            .map(|index| Disk::Server {
                index,
                servers: servers.clone(),
                gossip_ms: self.gossip_ms,
                busy_per_million: self.busy_per_million,
                recovery_bug: self.recovery_bug,
                shares: vec![0; self.servers],
                boots: 0,
            })
            .collect();
        disks.extend((0..self.clients).map(|_| Disk::Client {
            servers: servers.clone(),
            timeout_ms: self.timeout_ms,
        }));
        disks
    }
}

/// Runs one seed with its history exported, as `dsim run` does.
pub fn run(setup: &Setup, seed: u64) -> RunRecord {
    let mut sim: Sim<Counter> = Sim::new(setup.config(seed), setup.disks());
    let staleness = BoundedStaleness::new(setup.staleness_bound_ms);
    let checks = vec![
        "bounded_staleness".to_owned(),
        "reads_never_exceed_adds".to_owned(),
    ];
    sim.add_invariant(staleness);
    sim.add_history_check(ReadsNeverExceedAdds);
    let result = sim.run();
    let metrics = metrics(&result.history, result.stats.messages_sent);
    RunRecord::from_result(result, setup.node_names().into(), checks, metrics, true)
}

/// One `SeedLine` per seed, in seed order, as `dsim sweep` writes them.
pub fn sweep(setup: &Setup, seeds: std::ops::Range<u64>) -> Vec<SeedLine> {
    seeds
        .map(|seed| SeedLine::new(SCENARIO_NAME, &run(setup, seed)))
        .collect()
}

/// The first seed from 0 whose run's verdict label is `label`.
pub fn first_run_labelled(setup: &Setup, label: &str) -> RunRecord {
    (0..500)
        .map(|seed| run(setup, seed))
        .find(|record| record.verdict.label() == label)
        .unwrap_or_else(|| panic!("no seed below 500 gives verdict {label}"))
}

fn metrics(history: &History<Op, u64>, messages_sent: u64) -> BTreeMap<String, f64> {
    let operations = history.operations();
    let mut latencies: Vec<u64> = operations
        .iter()
        .filter(|op| op.ok_value().is_some())
        .filter_map(|op| {
            Some((op.completion.as_ref()?.stamp.time - op.invoke.time).as_nanos() as u64)
        })
        .collect();
    latencies.sort_unstable();
    let quantile_ms = |per_mille: usize| {
        let rank = (latencies.len() * per_mille).div_ceil(1000).max(1) - 1;
        latencies.get(rank).map_or(f64::NAN, |ns| *ns as f64 / 1e6)
    };
    let mut metrics = BTreeMap::new();
    metrics.insert("latency_ms_p50".to_owned(), quantile_ms(500));
    metrics.insert("latency_ms_p99".to_owned(), quantile_ms(990));
    let requests = operations.len().max(1) as f64;
    metrics.insert(
        "messages_per_request".to_owned(),
        messages_sent as f64 / requests,
    );
    metrics.insert("read_miss_fraction".to_owned(), read_miss_fraction(history));
    metrics
}

/// Ok reads that missed an add acknowledged before they were invoked.
fn read_miss_fraction(history: &History<Op, u64>) -> f64 {
    let mut acknowledged: Vec<(u64, u64)> = history
        .operations()
        .iter()
        .filter_map(|op| match (&op.op, &op.completion) {
            (Op::Add(amount), Some(c)) if matches!(c.outcome, Outcome::Ok(_)) => {
                Some((c.stamp.position, *amount))
            }
            _ => None,
        })
        .collect();
    acknowledged.sort_unstable();
    let mut running = 0;
    let totals: Vec<(u64, u64)> = acknowledged
        .into_iter()
        .map(|(position, amount)| {
            running += amount;
            (position, running)
        })
        .collect();
    let (mut reads, mut misses) = (0u64, 0u64);
    for op in history.operations() {
        let (Op::Read, Some(value)) = (&op.op, op.ok_value()) else {
            continue;
        };
        reads += 1;
        let before = totals.partition_point(|(p, _)| *p < op.invoke.position);
        let required = before.checked_sub(1).map_or(0, |i| totals[i].1);
        misses += u64::from(*value < required);
    }
    if reads == 0 {
        f64::NAN
    } else {
        misses as f64 / reads as f64
    }
}
