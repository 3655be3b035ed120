//! Fault injection: how each `Fault` changes the world, how a fault with a
//! duration undoes exactly its own effect, the random nemesis's strikes,
//! and the switch into the liveness phase. Every fault that changes
//! something is a trace event; one that finds nothing to do (crashing a
//! crashed node) is skipped.
//!
//! A fault given a duration schedules its own undo: its cut is removed
//! (other cuts stay), its link change dropped (other changes stay), the
//! node restarted or resumed, the clock stepped back, the drift restored.
//! When the liveness phase begins, every undo still pending runs at once
//! and the nemesis stops, so nothing of the fault phase fires after the
//! heal.

use std::time::Duration;

use crate::connection::ConnId;
use crate::fault_log::WindowId;
use crate::faults::{Fault, TimedFault};
use crate::kernel::Event;
use crate::network::LinkLayerId;
use crate::node::{Node, NodeId};
use crate::partition::CutId;
use crate::sim::Sim;
use crate::trace::TraceKind;

/// How to undo one fault that was given a duration.
#[derive(Debug)]
pub(crate) enum Undo {
    /// Remove this cut; `fault` is the partition that made it.
    Cut {
        cut: CutId,
        fault: Fault,
        window: WindowId,
    },
    /// Drop this link change; `fault` is the change.
    Link {
        layer: LinkLayerId,
        fault: Fault,
        window: WindowId,
    },
    /// End this stall of these connections; `fault` is the stall.
    Unstall {
        conns: Vec<ConnId>,
        fault: Fault,
        window: WindowId,
    },
    /// Apply the fault that reverses it (a restart, a resume, a step
    /// back, the earlier drift).
    With(Fault),
}

impl<N: Node> Sim<N> {
    /// Applies one fault, and schedules its undo if it has a duration.
    /// Faults that find nothing to do (crashing a crashed node) are
    /// skipped without a trace event.
    #[inline(never)] // rare: kept out of the run loop's hot code
    pub(crate) fn apply_fault(&mut self, fault: Fault, duration: Option<Duration>) {
        let now = self.kernel.now;
        let undo = match &fault {
            Fault::Partition(p) => {
                let cut = self.kernel.network.partition(p);
                let window = self.record_fault(TraceKind::Partition, None, &fault);
                self.touch_named(&fault);
                self.break_cut_connections();
                Some(Undo::Cut {
                    cut,
                    fault: fault.clone(),
                    window,
                })
            }
            Fault::Heal => {
                self.kernel.network.heal();
                self.record_fault(TraceKind::Heal, None, &fault);
                self.touch_all();
                None
            }
            Fault::Crash(id) => {
                if !self.crash(*id) {
                    return;
                }
                self.record_fault(TraceKind::Crash, Some(*id), &fault);
                Some(Undo::With(Fault::Restart(*id)))
            }
            Fault::Restart(id) => {
                self.restart(*id, &fault);
                None
            }
            Fault::Shutdown { node, grace_ms } => {
                let slot = &self.slots[node.index()];
                if slot.node.is_none() || self.pauses.is_paused(*node) || slot.stop.is_some() {
                    return;
                }
                self.record_fault(TraceKind::Shutdown, Some(*node), &fault);
                self.with_node(*node, |n, ctx| n.on_shutdown(ctx));
                let grace = Duration::from_millis(*grace_ms);
                let incarnation = self.kernel.incarnation[node.index()];
                let stop = Event::Stop {
                    node: *node,
                    incarnation,
                };
                let key = self.kernel.schedule(now + grace, stop);
                self.slots[node.index()].stop = Some(key);
                // A shutdown's duration is how long the node stays down
                // after it stops.
                if let Some(down) = duration {
                    self.schedule_undo(grace + down, Undo::With(Fault::Restart(*node)));
                }
                return;
            }
            Fault::Pause(id) => {
                if self.slots[id.index()].node.is_none() || self.pauses.is_paused(*id) {
                    return;
                }
                self.pauses.pause(*id);
                self.record_fault(TraceKind::Pause, Some(*id), &fault);
                self.touch(*id);
                Some(Undo::With(Fault::Resume(*id)))
            }
            Fault::Resume(id) => {
                if !self.pauses.is_paused(*id) {
                    return;
                }
                for key in self.pauses.unpause(*id) {
                    self.kernel.queue.release(key, now);
                }
                self.record_fault(TraceKind::Resume, Some(*id), &fault);
                self.touch(*id);
                None
            }
            Fault::ClockStep { node, delta_us } => {
                self.slots[node.index()]
                    .clock
                    .step(now, delta_us.saturating_mul(1_000));
                self.record_fault(TraceKind::ClockStep, Some(*node), &fault);
                self.touch(*node);
                Some(Undo::With(Fault::ClockStep {
                    node: *node,
                    delta_us: delta_us.saturating_neg(),
                }))
            }
            Fault::ClockDrift { node, drift_ppm } => {
                let clock = &mut self.slots[node.index()].clock;
                let before = clock.drift_ppm();
                clock.set_drift(now, *drift_ppm);
                self.record_fault(TraceKind::ClockDrift, Some(*node), &fault);
                self.touch(*node);
                Some(Undo::With(Fault::ClockDrift {
                    node: *node,
                    drift_ppm: before,
                }))
            }
            Fault::Link { from, to, link } => {
                let layer = self.kernel.network.set_link(*from, *to, *link);
                let window = self.record_fault(TraceKind::LinkChange, None, &fault);
                self.touch_named(&fault);
                Some(Undo::Link {
                    layer,
                    fault: fault.clone(),
                    window,
                })
            }
            Fault::ResetLinks => {
                self.kernel.network.reset_links();
                self.record_fault(TraceKind::LinkChange, None, &fault);
                self.touch_all();
                None
            }
            Fault::ConnReset(node) => {
                if self.kernel.connections.of(*node).is_empty() {
                    return;
                }
                self.record_fault(TraceKind::ConnReset, Some(*node), &fault);
                // An instant in the fault log, for the reports' timelines.
                let window = self.fault_log.open(&fault, now, self.slots.len());
                self.fault_log.close(window, now);
                self.break_connections_of(*node);
                None
            }
            Fault::ConnStall(node) => {
                let conns = self.stall_connections_of(*node);
                if conns.is_empty() {
                    return;
                }
                let window = self.record_fault(TraceKind::ConnStall, Some(*node), &fault);
                Some(Undo::Unstall {
                    conns,
                    fault: fault.clone(),
                    window,
                })
            }
        };
        if let (Some(undo), Some(after)) = (undo, duration) {
            self.schedule_undo(after, undo);
        }
    }

    fn schedule_undo(&mut self, after: Duration, undo: Undo) {
        let id = self.next_undo;
        self.next_undo += 1;
        let at = self.kernel.now + after;
        let undo = Box::new(undo);
        let key = self.kernel.schedule(at, Event::Undo { id, undo });
        self.pending_undos.push((id, at, key));
    }

    /// Undoes one fault's own effect. A cut or link change already
    /// removed (by a heal or a reset) is skipped.
    #[inline(never)] // rare: kept out of the run loop's hot code
    pub(crate) fn apply_undo(&mut self, undo: Undo) {
        match undo {
            Undo::Cut { cut, fault, window } => {
                if self.kernel.network.remove_cut(cut) {
                    self.record_fault(TraceKind::Undo, None, &fault);
                    self.fault_log.close(window, self.kernel.now);
                    self.touch_named(&fault);
                }
            }
            Undo::Link {
                layer,
                fault,
                window,
            } => {
                if self.kernel.network.remove_layer(layer) {
                    self.record_fault(TraceKind::Undo, None, &fault);
                    self.fault_log.close(window, self.kernel.now);
                    self.touch_named(&fault);
                }
            }
            Undo::Unstall {
                conns,
                fault,
                window,
            } => {
                self.unstall(&conns);
                self.record_fault(TraceKind::Undo, None, &fault);
                self.fault_log.close(window, self.kernel.now);
                self.touch_named(&fault);
            }
            Undo::With(fault) => self.apply_fault(fault, None),
        }
    }

    /// One nemesis tick; true if it struck.
    #[inline(never)] // rare: kept out of the run loop's hot code
    pub(crate) fn nemesis_tick(&mut self) -> bool {
        self.nemesis_tick = None;
        if !self.faults_active {
            return false;
        }
        let node_count = self.slots.len();
        let Some(nemesis) = &mut self.nemesis else {
            return false;
        };
        let (slots, pauses) = (&self.slots, &self.pauses);
        let strike = nemesis.strike(
            |n| {
                let slot = &slots[n.index()];
                slot.node.is_none() || pauses.is_paused(n) || slot.stop.is_some()
            },
            node_count,
        );
        let gap = nemesis.next_gap();
        let struck = strike.is_some();
        if let Some(strike) = strike {
            self.nemesis_plan.push(TimedFault {
                at_ms: self.kernel.now.as_nanos() / 1_000_000,
                fault: strike.fault.clone(),
                // A fault that only undoes others ignores its duration.
                duration_ms: strike
                    .fault
                    .can_last()
                    .then(|| u64::try_from(strike.duration.as_millis()).unwrap_or(u64::MAX)),
            });
            self.apply_fault(strike.fault, Some(strike.duration));
        }
        let next = self.kernel.now + gap;
        self.nemesis_tick = Some(self.kernel.schedule(next, Event::NemesisTick));
        struck
    }

    /// Faults stop for good. The nemesis is called off; every fault still
    /// in force is undone now, in the order its undo was due, the network
    /// and clocks before the nodes; every cut heals and links return to
    /// their configured latency and ordering without loss or duplication;
    /// then paused nodes resume, nodes shutting down stop, and stopped
    /// nodes restart, into a whole network. Nothing of the fault phase is
    /// left in the queue.
    #[inline(never)] // rare: kept out of the run loop's hot code
    pub(crate) fn begin_liveness_phase(&mut self) {
        self.faults_active = false;
        let k = &mut self.kernel;
        k.trace
            .push(k.event, k.now, TraceKind::LivenessPhase, None, None, &());
        if let Some(tick) = self.nemesis_tick.take() {
            self.kernel.queue.cancel(tick);
        }
        // Every fault still in force is undone now, in the order its undo
        // was due; the network and the clocks first, so nodes that come
        // back find them whole.
        let mut undos = std::mem::take(&mut self.pending_undos);
        undos.sort_by_key(|&(id, at, _)| (at, id));
        let mut node_undos = Vec::new();
        for (_, _, key) in undos {
            if let Some(Event::Undo { undo, .. }) = self.kernel.queue.remove(key) {
                match *undo {
                    Undo::With(fault @ (Fault::Restart(_) | Fault::Resume(_))) => {
                        node_undos.push(fault);
                    }
                    undo => self.apply_undo(undo),
                }
            }
        }
        self.apply_fault(Fault::Heal, None);
        self.apply_fault(Fault::ResetLinks, None);
        self.kernel.network.make_reliable();
        self.unstall_all();
        for fault in node_undos {
            self.apply_fault(fault, None);
        }
        for i in 0..self.slots.len() {
            if let Some(stop) = self.slots[i].stop.take() {
                self.kernel.queue.cancel(stop);
                self.stop(NodeId(i as u32));
            }
        }
        for i in 0..self.slots.len() {
            let id = NodeId(i as u32);
            if self.pauses.is_paused(id) {
                self.apply_fault(Fault::Resume(id), None);
            }
            if self.slots[i].node.is_none() {
                self.apply_fault(Fault::Restart(id), None);
            }
        }
    }

    /// Records a fault in the trace and in the fault log: a fault that
    /// strikes opens a window (returned), one that undoes others closes
    /// theirs. (An undo closes its own window by id.)
    fn record_fault(&mut self, kind: TraceKind, node: Option<NodeId>, fault: &Fault) -> WindowId {
        let k = &mut self.kernel;
        k.stats.faults += 1;
        k.trace.push_fault(k.event, k.now, kind, node, fault);
        let (now, log) = (k.now, &mut self.fault_log);
        match fault {
            Fault::Heal => log.close_where(now, |f| matches!(f, Fault::Partition(_))),
            Fault::ResetLinks => log.close_where(now, |f| matches!(f, Fault::Link { .. })),
            Fault::Restart(id) => log.close_where(
                now,
                |f| matches!(f, Fault::Crash(n) | Fault::Shutdown { node: n, .. } if n == id),
            ),
            Fault::Resume(id) => log.close_where(now, |f| matches!(f, Fault::Pause(n) if n == id)),
            _ => {}
        }
        if kind == TraceKind::Undo || !fault.can_last() {
            return WindowId::NONE;
        }
        log.open(fault, now, self.slots.len())
    }

    fn touch_named(&mut self, fault: &Fault) {
        for &node in fault.nodes() {
            self.touch(node);
        }
    }

    fn touch_all(&mut self) {
        for i in 0..self.slots.len() {
            self.touch(NodeId(i as u32));
        }
    }

    /// Drops the node's volatile state; its timers, its syncs in progress
    /// and the messages in flight to it die with its incarnation. A
    /// buffered disk rolls back to its last completed sync. Returns false
    /// if the node was already down.
    fn crash(&mut self, id: NodeId) -> bool {
        let slot = &mut self.slots[id.index()];
        if slot.node.take().is_none() {
            return false;
        }
        if let Some(synced) = slot.disk.after_crash() {
            slot.durable = synced;
        }
        self.take_down(id);
        true
    }

    /// The end of a graceful shutdown: the node stops like a crash, but
    /// everything it wrote stays on disk.
    #[inline(never)] // rare: kept out of the run loop's hot code
    pub(crate) fn stop(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        if slot.node.take().is_none() {
            return;
        }
        slot.disk.flushed(&slot.durable);
        let k = &mut self.kernel;
        k.trace
            .push(k.event, k.now, TraceKind::Stop, Some(id), None, &());
        self.take_down(id);
    }

    /// What a crash and a stop share: the engine forgets the node's
    /// pending work and starts a new incarnation.
    fn take_down(&mut self, id: NodeId) {
        for key in self.pauses.unpause(id) {
            self.kernel.queue.cancel(key);
        }
        let slot = &mut self.slots[id.index()];
        if let Some(stop) = slot.stop.take() {
            self.kernel.queue.cancel(stop);
        }
        self.kernel.incarnation[id.index()] += 1;
        // Its connections die with it; the other ends notice in time.
        self.break_connections_of(id);
        self.touch(id);
    }

    /// Boots a down node from its durable state and runs its `on_start`.
    fn restart(&mut self, id: NodeId, fault: &Fault) {
        let now = self.kernel.now;
        let slot = &mut self.slots[id.index()];
        if slot.node.is_some() {
            return;
        }
        slot.node = Some(N::boot(id, &slot.durable));
        slot.booted_at = slot.clock.oscillator(now);
        self.record_fault(TraceKind::Restart, Some(id), fault);
        self.with_node(id, |node, ctx| node.on_start(ctx));
    }
}
