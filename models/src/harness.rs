//! The model harness: what a design declares, and the one way designs
//! run. A design implements [`Model`] (its nodes and their disks, its
//! checks, its observer, its own metrics and plots); [`Harness`] turns it
//! into a [`Design`] the scenario layer can run, so every model gets the
//! same wiring, the same shared metrics and the same record.
//!
//! The metrics every model shares are computed here, once, from the
//! history and the engine's counters:
//!
//! - `requests`: operations invoked;
//! - `ok_fraction`: of the operations that completed, those that completed
//!   `Ok`;
//! - `latency_ms_p50`, `latency_ms_p99`: of `Ok` operations, in true time,
//!   nearest rank; with more than one kind of operation, also per kind
//!   (`<f>_latency_ms_p50`, named by the history's `f`);
//! - `messages_per_request`: messages sent per operation invoked;
//! - every counter a node counted (`Ctx::count`) by its name, and every
//!   distribution it observed (`Ctx::observe`) as `<name>_p50` and
//!   `<name>_p99`.
//!
//! A fraction with nothing to count is left out rather than made up.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use sim_core::metrics::{Series, nearest_rank_unsorted};
use sim_core::record::{ExportOp, PlotSpec, RunRecord};
use sim_core::{Checks, DiskConfig, Node, NodeId, Observer, RunResult, Sim, SimConfig, SimTime};

use crate::Design;

/// Everything a design declares; the harness does the rest.
pub trait Model: Debug + Send + Sync + 'static {
    /// Its durable states are kept with the design, shared by the
    /// threads of a sweep.
    type Node: Node<Op: ExportOp<<Self::Node as Node>::Ret>, Durable: Send + Sync>;
    /// Gathers what the design's own metrics need while the run goes on.
    type Observer: Observer<Self::Node>;

    /// Every node, by `NodeId` index: its name (`role-index`, so scenario
    /// files can name roles as `role-*`) and its durable state at the start.
    fn nodes(&self) -> Vec<(String, <Self::Node as Node>::Durable)>;

    /// The nodes the nemesis strikes when the scenario names none: the
    /// servers, not the clients.
    fn fault_targets(&self) -> Vec<NodeId>;

    /// How node `node`'s disk behaves unless the scenario says otherwise
    /// (default: every write on disk at once).
    fn disk(&self, _node: NodeId) -> DiskConfig {
        DiskConfig::default()
    }

    /// The design's checks, in the order they are checked. Their names are
    /// the ones scenarios' `expect` may use.
    fn checks(&self) -> Checks<Self::Node>;

    /// The checks of one run, for checks that need the run's shape (when
    /// it heals, when it ends): by default `checks()`. The names must be
    /// `checks()`'s.
    fn checks_for(&self, _config: &SimConfig) -> Checks<Self::Node> {
        self.checks()
    }

    fn observer(&self) -> Self::Observer;

    /// The design's own metrics, beside the shared ones; names carry
    /// their unit (`read_miss_fraction`, `stall_ms_p99`).
    fn metrics(&self, run: &Finished<'_, Self>) -> BTreeMap<String, f64>;

    /// Series of the design's own, beside the counters nodes counted.
    fn series(&self, _run: &Finished<'_, Self>) -> Vec<Series> {
        Vec::new()
    }

    /// The plots of the design's run report, drawn from the series.
    fn plots(&self) -> Vec<PlotSpec> {
        Vec::new()
    }

    /// The metrics a grid sweep summarises and draws first.
    fn headline_metrics(&self) -> Vec<&'static str> {
        vec!["ok_fraction", "latency_ms_p99", "messages_per_request"]
    }

    /// The "sometimes" labels its nodes mark with `Ctx::reached`, each
    /// with what it means. A scenario may require them (`reach: [...]`).
    fn labels(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }

    /// Sentences the run summary and report print beside the metrics: the
    /// math a measurement should meet (the birthday bound beside the IDs a
    /// random-ID run drew).
    fn notes(&self, _run: &Finished<'_, Self>) -> Vec<String> {
        Vec::new()
    }
}

/// A model's run result, with its types.
pub type TypedResult<M> =
    RunResult<<<M as Model>::Node as Node>::Op, <<M as Model>::Node as Node>::Ret>;

/// A finished run, as the design's metrics see it.
#[derive(Debug)]
pub struct Finished<'a, M: Model + ?Sized> {
    pub result: &'a TypedResult<M>,
    pub observer: &'a M::Observer,
    /// When the run was set to end: series are bucketed over this span.
    pub end: SimTime,
}

/// A design ready to run: any `Model`, as the scenario layer sees it.
#[derive(Debug)]
pub struct Harness<M: Model> {
    model: M,
    names: Arc<[String]>,
    /// Every node's durable state at the start, copied for each seed (a
    /// crowd of 5,000 users would otherwise be named afresh every run).
    durables: Vec<<M::Node as Node>::Durable>,
    /// The names of the design's checks, in order.
    check_names: Vec<String>,
}

impl<M: Model> Harness<M> {
    pub fn new(model: M) -> Harness<M> {
        let (names, durables): (Vec<String>, _) = model.nodes().into_iter().unzip();
        let names: Arc<[String]> = Arc::from(names);
        // The checks of a run given the names just made: `checks()` may
        // name every node again (5,000 users in booking's crowd).
        let mut named = SimConfig::new(0);
        named.node_names = Arc::clone(&names);
        let check_names = model.checks_for(&named).names();
        debug_assert_eq!(
            check_names,
            model.checks().names(),
            "checks_for names checks()'s checks"
        );
        Harness {
            model,
            names,
            durables,
            check_names,
        }
    }

    pub fn model(&self) -> &M {
        &self.model
    }

    /// Runs one seed and keeps the typed result and the observer, for
    /// tests that look deeper than the record.
    pub fn run_typed(&self, mut config: SimConfig) -> (TypedResult<M>, M::Observer) {
        if config.node_names.is_empty() {
            config.node_names = self.names.clone();
        }
        let durables = self.durables.clone();
        let checks = self.model.checks_for(&config);
        let mut sim = Sim::<M::Node>::new(config, durables);
        sim.add_checks(checks);
        let mut observer = self.model.observer();
        let result = sim.run_observed(&mut observer);
        (result, observer)
    }
}

impl<M: Model> Design for Harness<M> {
    fn node_names(&self) -> Arc<[String]> {
        Arc::clone(&self.names)
    }

    fn default_fault_targets(&self) -> Vec<NodeId> {
        self.model.fault_targets()
    }

    fn default_disks(&self) -> Vec<DiskConfig> {
        (0..self.names.len() as u32)
            .map(|i| self.model.disk(NodeId(i)))
            .collect()
    }

    fn checks(&self) -> Vec<String> {
        self.check_names.clone()
    }

    fn labels(&self) -> Vec<(String, String)> {
        let labels = self.model.labels();
        labels
            .into_iter()
            .map(|(l, m)| (l.to_owned(), m.to_owned()))
            .collect()
    }

    fn headline_metrics(&self) -> Vec<String> {
        let names = self.model.headline_metrics();
        names.into_iter().map(str::to_owned).collect()
    }

    fn run(&self, config: SimConfig, for_report: bool) -> RunRecord {
        let checks = self.checks();
        let end = config.end();
        let (result, observer) = self.run_typed(config);
        let finished = Finished {
            result: &result,
            observer: &observer,
            end,
        };
        let mut metrics = shared_metrics(&result);
        metrics.extend(self.model.metrics(&finished));
        let notes = self.model.notes(&finished);
        // Only a report draws series: a sweep's seeds skip them.
        let (series, plots) = if for_report {
            (self.model.series(&finished), self.model.plots())
        } else {
            Default::default()
        };
        let mut record =
            RunRecord::from_result(result, self.names.clone(), checks, metrics, for_report);
        record.series.extend(series);
        record.plots = plots;
        record.notes = notes;
        record
    }
}

/// The metrics every model shares (see the file header).
pub fn shared_metrics<O: ExportOp<R>, R>(result: &RunResult<O, R>) -> BTreeMap<String, f64> {
    let operations = result.history.operations();
    let mut metrics = BTreeMap::new();
    let requests = operations.len();
    metrics.insert("requests".to_owned(), requests as f64);
    if requests > 0 {
        let sent = result.stats.messages_sent as f64;
        metrics.insert("messages_per_request".to_owned(), sent / requests as f64);
    }
    let completed = operations.iter().filter(|op| op.completion.is_some());
    if let Some(share) = fraction(completed.map(|op| op.ok_value().is_some())) {
        metrics.insert("ok_fraction".to_owned(), share);
    }
    // Latencies of Ok operations, in ns, overall and per kind.
    let mut by_kind: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    let mut all = Vec::with_capacity(operations.len());
    for op in operations {
        if let (Some(_), Some(done)) = (op.ok_value(), &op.completion) {
            let ns = done.stamp.time.as_nanos() - op.invoke.time.as_nanos();
            by_kind.entry(op.op.f()).or_default().push(ns);
            all.push(ns);
        }
    }
    insert_latencies(&mut metrics, "", &mut all);
    if by_kind.len() > 1 {
        for (kind, latencies) in &mut by_kind {
            insert_latencies(&mut metrics, &format!("{kind}_"), latencies);
        }
    }
    for (name, total) in result.metrics.counters() {
        metrics.insert(name.to_owned(), total as f64);
    }
    for (name, summary) in result.metrics.summaries() {
        metrics.insert(format!("{name}_p50"), summary.p50 as f64);
        metrics.insert(format!("{name}_p99"), summary.p99 as f64);
    }
    metrics
}

fn insert_latencies(metrics: &mut BTreeMap<String, f64>, prefix: &str, ns: &mut [u64]) {
    for (name, per_mille) in [("latency_ms_p50", 500), ("latency_ms_p99", 990)] {
        if let Some(value) = nearest_rank_unsorted(ns, per_mille) {
            metrics.insert(format!("{prefix}{name}"), value as f64 / 1e6);
        }
    }
}

/// The fraction of `true`s, or `None` when there is nothing to count.
pub fn fraction(flags: impl Iterator<Item = bool>) -> Option<f64> {
    let (hits, total) = flags.fold((0u64, 0u64), |(h, t), f| (h + u64::from(f), t + 1));
    (total > 0).then(|| hits as f64 / total as f64)
}
