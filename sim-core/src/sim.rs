//! The simulation: node slots and the run loop. One `Sim` is one run of
//! one seed, single-threaded; sweeps run many `Sim`s in parallel, never
//! one across threads.
//!
//! The loop pops the earliest event, hands it to its node (or applies the
//! fault), then checks every invariant. It stops at the end time, at the
//! first violation, or at a limit. Nothing here allocates per event once
//! the queue's slab and heap have grown to the run's working size.

use crate::check::{
    Checks, FinalCheck, HistoryCheck, HistoryVerdict, Invariant, Limit, NoObserver, Observer, Step,
    Verdict, Violation,
};
use crate::clock::Clock;
use crate::config::SimConfig;
use crate::connection::Connections;
use crate::ctx::Ctx;
use crate::disk::Disk;
use crate::fault_log::FaultLog;
use crate::history::History;
use crate::kernel::{Event, Kernel};
use crate::metrics::Metrics;
use crate::nemesis::Nemesis;
use crate::network::{DropReason, Network, Topology};
use crate::node::{Node, NodeId};
use crate::pauses::Pauses;
use crate::queue::{EventKey, EventQueue};
use crate::result::{RunResult, RunStats};
use crate::rng::{LazyRng, SimRng, Stream};
use crate::time::SimTime;
use crate::touched::Touched;
use crate::trace::{Trace, TraceKind};
use crate::world::World;

/// A node slot: the node's volatile state (None while down), its durable
/// state and disk, and what the engine keeps for it.
#[derive(Debug)]
pub(crate) struct Slot<N: Node> {
    pub(crate) node: Option<N>,
    /// The durable state the node sees, including unsynced writes.
    pub(crate) durable: N::Durable,
    pub(crate) disk: Disk<N::Durable>,
    pub(crate) clock: Clock,
    /// The oscillator's count when the node last booted: its monotonic
    /// reading counts from there.
    pub(crate) booted_at: u64,
    /// The end of a graceful shutdown in progress.
    pub(crate) stop: Option<EventKey>,
    pub(crate) rng: SimRng,
}

/// One run of a design.
pub struct Sim<N: Node> {
    pub(crate) config: SimConfig,
    pub(crate) slots: Vec<Slot<N>>,
    pub(crate) kernel: Kernel<N>,
    /// Each invariant, with whether it reads only the history
    /// (`Invariant::reads_only_history`, asked once).
    pub(crate) invariants: Vec<(bool, Box<dyn Invariant<N>>)>,
    /// The history's `recorded()` count when the invariants last looked;
    /// `None` while no invariant reads only the history (nothing to skip,
    /// and nothing to count).
    pub(crate) history_checked: Option<u64>,
    pub(crate) history_checks: Vec<Box<dyn HistoryCheck<N>>>,
    pub(crate) final_checks: Vec<Box<dyn FinalCheck<N>>>,
    pub(crate) nemesis: Option<Nemesis>,
    /// The next nemesis strike, so the heal can call it off.
    pub(crate) nemesis_tick: Option<EventKey>,
    /// Every strike the nemesis made, as a timed fault: the plan that
    /// replays this run with the nemesis off (`dsim record`).
    pub(crate) nemesis_plan: Vec<crate::faults::TimedFault>,
    /// Undos of faults still in force: (undo id, due time, queue key).
    pub(crate) pending_undos: Vec<(u64, SimTime, EventKey)>,
    pub(crate) next_undo: u64,
    /// The nodes the current event may have changed.
    pub(crate) touched: Touched,
    pub(crate) pauses: Pauses,
    /// When each fault was in force.
    pub(crate) fault_log: FaultLog,
    pub(crate) faults_active: bool,
    pub(crate) finished: bool,
}

impl<N: Node> std::fmt::Debug for Sim<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.config.seed)
            .field("nodes", &self.slots.len())
            .finish()
    }
}

impl<N: Node> Sim<N> {
    /// Boots one node per durable state (node `i` gets `durables[i]`).
    /// Setup costs time and memory linear in the number of nodes.
    ///
    /// # Panics
    /// If `config` does not validate for this many nodes: callers validate
    /// user input first (`SimConfig::validate`) and report it properly.
    pub fn new(config: SimConfig, durables: Vec<N::Durable>) -> Sim<N> {
        let n = durables.len();
        if let Err(e) = config.validate(n) {
            panic!("invalid simulation configuration (validate it first): {e}");
        }
        let seed = config.seed;
        let topology = config
            .topology
            .clone()
            .unwrap_or_else(|| Topology::full_mesh(n));
        let network = Network::new(
            topology,
            config.network.clone(),
            SimRng::new(seed, Stream::Network),
        );
        let slots = durables
            .into_iter()
            .enumerate()
            .map(|(i, durable)| {
                let id = NodeId(i as u32);
                let disk_config = config.disks.get(i).copied().unwrap_or_default();
                let disk_rng = LazyRng::new(seed, Stream::Disk(i as u32));
                Slot {
                    node: Some(N::boot(id, &durable)),
                    disk: Disk::new(disk_config, &durable, disk_rng),
                    durable,
                    clock: Clock::new(config.clocks.get(i).copied().unwrap_or_default()),
                    booted_at: 0,
                    stop: None,
                    rng: SimRng::new(seed, Stream::Node(i as u32)),
                }
            })
            .collect::<Vec<_>>();
        let slots_len = slots.len();
        let kernel = Kernel {
            now: SimTime::ZERO,
            event: 0,
            queue: EventQueue::new(),
            network,
            connections: Connections::new(
                n,
                config.network.break_detection,
                SimRng::new(seed, Stream::Connections),
            ),
            incarnation: vec![0; n],
            history: History::new(),
            trace: Trace::new(config.record_trace),
            metrics: Metrics::for_duration(config.end()),
            stats: RunStats::default(),
            max_pending: config.limits.max_pending,
            pending_overflow: false,
        };
        let nemesis = config
            .nemesis
            .clone()
            .map(|c| Nemesis::new(c, n, SimRng::new(seed, Stream::Nemesis)));
        let mut sim = Sim {
            config,
            slots,
            kernel,
            invariants: Vec::new(),
            history_checked: None,
            history_checks: Vec::new(),
            final_checks: Vec::new(),
            nemesis,
            nemesis_tick: None,
            nemesis_plan: Vec::new(),
            pending_undos: Vec::new(),
            next_undo: 0,
            touched: Touched::new(slots_len),
            pauses: Pauses::new(slots_len),
            fault_log: FaultLog::default(),
            faults_active: true,
            finished: false,
        };
        sim.schedule_initial_events();
        sim
    }

    fn schedule_initial_events(&mut self) {
        for i in 0..self.slots.len() {
            self.kernel
                .schedule(SimTime::ZERO, Event::Start(NodeId(i as u32)));
        }
        let mut faults = self.config.faults.clone();
        faults.sort_by_key(|f| f.at_ms); // stable: equal times keep file order
        for f in faults {
            let event = Event::Fault {
                fault: Box::new(f.fault),
                duration: f.duration_ms.map(std::time::Duration::from_millis),
            };
            self.kernel.schedule(SimTime::from_millis(f.at_ms), event);
        }
        if let Some(nemesis) = &mut self.nemesis {
            let weights = nemesis.weights();
            self.kernel.trace.push(
                0,
                SimTime::ZERO,
                TraceKind::NemesisRates,
                None,
                None,
                &weights,
            );
            let first = SimTime::ZERO + nemesis.next_gap();
            self.nemesis_tick = Some(self.kernel.schedule(first, Event::NemesisTick));
        }
        if let Some(l) = self.config.liveness {
            self.kernel.schedule(l.heal_at(), Event::Heal);
        }
    }

    /// Adds a state invariant, checked after every event.
    pub fn add_invariant(&mut self, invariant: impl Invariant<N> + 'static) {
        self.watch(Box::new(invariant));
    }

    /// Adds a check of the finished history.
    pub fn add_history_check(&mut self, check: impl HistoryCheck<N> + 'static) {
        self.history_checks.push(Box::new(check));
    }

    /// Adds every check of a design, in its order.
    pub fn add_checks(&mut self, checks: Checks<N>) {
        for invariant in checks.invariants {
            self.watch(invariant);
        }
        self.history_checks.extend(checks.history_checks);
        self.final_checks.extend(checks.final_checks);
    }

    /// Adds an invariant, noting once whether it reads only the history.
    fn watch(&mut self, invariant: Box<dyn Invariant<N>>) {
        let only_history = invariant.reads_only_history();
        if only_history {
            self.history_checked.get_or_insert(0);
        }
        self.invariants.push((only_history, invariant));
    }

    /// The god's-eye view: after `run`, the final state (its history is
    /// empty: `run` hands the history to its result).
    pub fn world(&self) -> World<'_, N> {
        World::of(&self.slots, &self.pauses, &self.kernel)
    }

    /// Runs to the end, the first violation, or a limit.
    ///
    /// # Panics
    /// If called twice.
    pub fn run(&mut self) -> RunResult<N::Op, N::Ret> {
        self.run_observed(&mut NoObserver)
    }

    /// Like `run`, showing `observer` every event (after the invariants
    /// pass) so it can gather metrics; the caller keeps it and reads it
    /// afterwards. Generic, so `run`'s `NoObserver` costs nothing.
    ///
    /// # Panics
    /// If called twice.
    pub fn run_observed<O: Observer<N>>(&mut self, observer: &mut O) -> RunResult<N::Op, N::Ret> {
        assert!(!self.finished, "Sim::run called twice");
        self.finished = true;
        let stopped = self.run_loop(observer);
        self.kernel.stats.end_time = self.kernel.now;
        self.kernel.stats.events = self.kernel.event;
        self.kernel.stats.trace_events = self.kernel.trace.len();
        let verdict = self.final_verdict(stopped);
        observer.finish(&World::of(&self.slots, &self.pauses, &self.kernel));
        RunResult {
            seed: self.config.seed,
            verdict,
            digest: self.kernel.trace.digest_hex(),
            stats: self.kernel.stats,
            metrics: std::mem::take(&mut self.kernel.metrics),
            history: std::mem::take(&mut self.kernel.history),
            nemesis_weights: self.nemesis.as_ref().map(Nemesis::weights),
            fault_windows: std::mem::take(&mut self.fault_log).into_windows(),
            nemesis_plan: std::mem::take(&mut self.nemesis_plan),
            trace: self.kernel.trace.take_recorded().map(|mut events| {
                crate::trace::name_nodes(&mut events, &self.config.node_names);
                events
            }),
        }
    }

    /// The loop itself. Returns why it stopped early, if it did.
    fn run_loop<O: Observer<N>>(&mut self, observer: &mut O) -> Option<Verdict> {
        let end = self.config.end();
        let max_events = self.config.limits.max_events;
        loop {
            if self.kernel.pending_overflow {
                return Some(self.limit(Limit::PendingEvents));
            }
            // An empty queue means nothing can ever happen again: the run is over.
            let (time, key, event) = self.kernel.queue.peek()?;
            if time > end {
                return None;
            }
            if let Some(target) = event.paused_target()
                && self.pauses.is_paused(target)
            {
                self.kernel.queue.hold_next();
                self.pauses.hold(target, key);
                continue;
            }
            if let Some(conn) = event.on_connection()
                && self.kernel.connections.is_stalled(conn)
            {
                self.kernel.queue.hold_next();
                self.kernel.connections.hold(conn, key);
                continue;
            }
            if self.kernel.event >= max_events {
                return Some(self.limit(Limit::Events));
            }
            let (time, event) = self.kernel.queue.pop().expect("peeked");
            self.kernel.now = time;
            self.kernel.event += 1;
            self.touched.clear();
            if !self.dispatch(event) {
                self.kernel.event -= 1;
                continue;
            }
            if let Some(violation) = self.after_event(observer) {
                return Some(Verdict::Violated(violation));
            }
        }
    }

    pub(crate) fn limit(&self, limit: Limit) -> Verdict {
        Verdict::LimitReached {
            limit,
            event: self.kernel.event,
            time: self.kernel.now,
        }
    }

    /// Runs one event, noting in `touched` the nodes it may have changed.
    /// False for a nemesis tick that struck nothing: it changed nothing,
    /// and it is not counted as an event, so the plan `dsim record` writes
    /// (a fault event per strike) numbers its events the same.
    #[inline(always)]
    fn dispatch(&mut self, event: Event<N>) -> bool {
        match event {
            Event::Start(id) => {
                self.kernel.trace.push(
                    self.kernel.event,
                    self.kernel.now,
                    TraceKind::Start,
                    Some(id),
                    None,
                    &(),
                );
                self.with_node(id, |node, ctx| node.on_start(ctx));
            }
            Event::Deliver {
                from,
                to,
                incarnation,
                id,
                msg,
            } => {
                let k = &mut self.kernel;
                if k.incarnation[to.index()] != incarnation || self.slots[to.index()].node.is_none()
                {
                    k.dropped(from, to, id, DropReason::ReceiverCrashed, &msg);
                    return true;
                }
                if k.network.is_cut(from, to) {
                    k.dropped(from, to, id, DropReason::Partitioned, &msg);
                    return true;
                }
                k.stats.messages_delivered += 1;
                k.trace.push_full(
                    k.event,
                    k.now,
                    TraceKind::Deliver,
                    Some(to),
                    Some(from),
                    Some(id),
                    &(),
                    &msg,
                );
                self.with_node(to, |node, ctx| node.on_message(ctx, from, msg));
            }
            Event::Timer {
                node: id,
                incarnation,
                timer,
            } => {
                if !self.is_current(id, incarnation) {
                    return true; // lost with the crash
                }
                let k = &mut self.kernel;
                k.stats.timers_fired += 1;
                k.trace
                    .push(k.event, k.now, TraceKind::Timer, Some(id), None, &timer);
                self.with_node(id, |node, ctx| node.on_timer(ctx, timer));
            }
            Event::Synced {
                node: id,
                incarnation,
                copy,
                then,
            } => {
                if !self.is_current(id, incarnation) {
                    return true; // the sync never finished: the node crashed first
                }
                if let Some(copy) = copy {
                    self.slots[id.index()].disk.complete_sync(*copy);
                }
                let k = &mut self.kernel;
                k.trace
                    .push(k.event, k.now, TraceKind::Synced, Some(id), None, &then);
                self.with_node(id, |node, ctx| node.on_timer(ctx, then));
            }
            Event::Fault { fault, duration } => self.apply_fault(*fault, duration),
            Event::Undo { id, undo } => {
                self.pending_undos.retain(|(pending, _, _)| *pending != id);
                self.apply_undo(*undo);
            }
            Event::Stop { node, incarnation } => {
                if self.is_current(node, incarnation) {
                    self.stop(node);
                }
            }
            Event::NemesisTick => {
                if !self.nemesis_tick() {
                    return false;
                }
            }
            Event::Heal => self.begin_liveness_phase(),
            Event::ConnOpen { conn, to } => self.conn_open_arrives(conn, to),
            Event::ConnAccepted { conn, to } => self.conn_accepted_arrives(conn, to),
            Event::ConnDeliver { conn, to, id, msg } => {
                self.conn_message_arrives(conn, to, id, msg)
            }
            Event::ConnFin { conn, to } => self.conn_fin_arrives(conn, to),
            Event::ConnNotify {
                conn,
                to,
                side,
                reason,
            } => self.conn_notify_arrives(conn, to, side, reason),
        }
        true
    }

    /// Is `id` up in the incarnation an event was scheduled for?
    fn is_current(&self, id: NodeId, incarnation: u32) -> bool {
        self.kernel.incarnation[id.index()] == incarnation && self.slots[id.index()].node.is_some()
    }

    /// Calls a handler of node `id` with its context, if the node is up.
    #[inline(always)]
    pub(crate) fn with_node(&mut self, id: NodeId, f: impl FnOnce(&mut N, &mut Ctx<'_, N>)) {
        let slot = &mut self.slots[id.index()];
        let Some(node) = slot.node.as_mut() else {
            return;
        };
        let mut ctx = Ctx {
            id,
            incarnation: self.kernel.incarnation[id.index()],
            kernel: &mut self.kernel,
            durable: &mut slot.durable,
            disk: &mut slot.disk,
            rng: &mut slot.rng,
            clock: &slot.clock,
            booted_at: slot.booted_at,
        };
        f(node, &mut ctx);
        self.touch(id);
    }

    /// Notes that the current event may have changed node `id`.
    #[inline]
    pub(crate) fn touch(&mut self, id: NodeId) {
        self.touched.insert(id);
    }

    /// Checks every invariant, then shows the event to the observer.
    fn after_event<O: Observer<N>>(&mut self, observer: &mut O) -> Option<Violation> {
        let step = Step {
            event: self.kernel.event,
            time: self.kernel.now,
            nodes: self.touched.nodes(),
        };
        let world = World::of(&self.slots, &self.pauses, &self.kernel);
        let history_still = self.history_checked.as_mut().is_some_and(|checked| {
            let recorded = self.kernel.history.recorded();
            recorded == std::mem::replace(checked, recorded)
        });
        for (only_history, invariant) in &mut self.invariants {
            if history_still && *only_history {
                continue;
            }
            if let Err(breach) = invariant.check(&world, &step) {
                return Some(Violation {
                    invariant: invariant.name().to_owned(),
                    event: step.event,
                    time: step.time,
                    message: breach.message,
                    ops: breach.ops,
                });
            }
        }
        observer.observe(&world, &step);
        None
    }

    fn final_verdict(&mut self, stopped: Option<Verdict>) -> Verdict {
        if let Some(v @ Verdict::Violated(_)) = stopped {
            return v;
        }
        if !matches!(stopped, Some(Verdict::LimitReached { .. })) {
            let world = World::of(&self.slots, &self.pauses, &self.kernel);
            for check in &mut self.final_checks {
                if let Err(breach) = check.check(&world) {
                    return Verdict::Violated(Violation {
                        invariant: check.name().to_owned(),
                        event: self.kernel.event,
                        time: self.kernel.now,
                        message: breach.message,
                        ops: breach.ops,
                    });
                }
            }
        }
        let mut unknown = None;
        for check in &mut self.history_checks {
            match check.check(&self.kernel.history) {
                HistoryVerdict::Pass => {}
                HistoryVerdict::Violated(breach) => {
                    let history = &self.kernel.history;
                    let latest = breach
                        .ops
                        .iter()
                        .map(|&id| {
                            let op = history.get(id);
                            op.completion.as_ref().map_or(op.invoke, |c| c.stamp)
                        })
                        .max_by_key(|stamp| stamp.position);
                    return Verdict::Violated(Violation {
                        invariant: check.name().to_owned(),
                        event: latest.map_or(self.kernel.event, |s| s.event),
                        time: latest.map_or(self.kernel.now, |s| s.time),
                        message: breach.message,
                        ops: breach.ops,
                    });
                }
                HistoryVerdict::Unknown(reason) => {
                    unknown.get_or_insert(Verdict::Unknown {
                        check: check.name().to_owned(),
                        reason,
                    });
                }
            }
        }
        if let Some(limit) = stopped {
            return limit;
        }
        if let Some(l) = self.config.liveness
            && let Some(failure) = crate::liveness::judge(
                &self.kernel.history,
                l.heal_at(),
                l.bound(),
                self.config.end(),
                l.require_ok,
                &self.config.node_names,
            )
        {
            return Verdict::NotLive(failure);
        }
        unknown.unwrap_or(Verdict::Pass)
    }
}
