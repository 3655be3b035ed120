//! Fault injection: how each `Fault` changes the world, the random
//! nemesis's ticks, and the switch into the liveness phase. Every fault
//! that changes something is a trace event; one that finds nothing to do
//! (crashing a crashed node) is skipped.

use crate::faults::Fault;
use crate::node::{Node, NodeId};
use crate::sim::{Event, Sim};
use crate::trace::TraceKind;

impl<N: Node> Sim<N> {
    /// Faults stop; every cut heals, links return to their configured
    /// latency and ordering without loss or duplication, paused nodes
    /// resume and crashed nodes restart.
    pub(crate) fn begin_liveness_phase(&mut self) {
        self.faults_active = false;
        let k = &mut self.kernel;
        k.trace
            .push(k.event, k.now, TraceKind::LivenessPhase, None, None, &());
        self.apply_fault(Fault::Heal);
        self.apply_fault(Fault::ResetLinks);
        self.kernel.network.make_reliable();
        for i in 0..self.slots.len() {
            let id = NodeId(i as u32);
            if self.slots[i].paused {
                self.apply_fault(Fault::Resume(id));
            }
            if self.slots[i].node.is_none() {
                self.apply_fault(Fault::Restart(id));
            }
        }
    }

    pub(crate) fn nemesis_tick(&mut self) {
        if !self.faults_active {
            return;
        }
        let node_count = self.slots.len();
        let Some(nemesis) = &mut self.nemesis else {
            return;
        };
        let slots = &self.slots;
        let strike = nemesis.strike(
            |n| slots[n.index()].node.is_none() || slots[n.index()].paused,
            node_count,
        );
        let gap = nemesis.next_gap();
        if let Some(strike) = strike {
            self.apply_fault(strike.fault);
            let at = self.kernel.now + strike.undo_after;
            self.kernel.schedule(at, Event::Fault(strike.undo));
        }
        let next = self.kernel.now + gap;
        self.kernel.schedule(next, Event::NemesisTick);
    }

    /// Applies one fault. Faults that find nothing to do (crashing a
    /// crashed node) are skipped without a trace event.
    pub(crate) fn apply_fault(&mut self, fault: Fault) -> Option<NodeId> {
        let now = self.kernel.now;
        let (kind, node) = match &fault {
            Fault::Partition(p) => {
                self.kernel.network.partition(p);
                (TraceKind::Partition, None)
            }
            Fault::Heal => {
                self.kernel.network.heal();
                (TraceKind::Heal, None)
            }
            Fault::Crash(id) => (TraceKind::Crash, Some(self.crash(*id)?)),
            Fault::Restart(id) => {
                let slot = &mut self.slots[id.index()];
                if slot.node.is_some() {
                    return None;
                }
                slot.node = Some(N::boot(*id, &slot.durable));
                self.record_fault(TraceKind::Restart, Some(*id), &fault);
                return self.with_node(*id, |node, ctx| node.on_start(ctx));
            }
            Fault::Pause(id) => {
                let slot = &mut self.slots[id.index()];
                if slot.node.is_none() || slot.paused {
                    return None;
                }
                slot.paused = true;
                (TraceKind::Pause, Some(*id))
            }
            Fault::Resume(id) => {
                let slot = &mut self.slots[id.index()];
                if !slot.paused {
                    return None;
                }
                slot.paused = false;
                for key in slot.held.drain(..) {
                    self.kernel.queue.release(key, now);
                }
                (TraceKind::Resume, Some(*id))
            }
            Fault::ClockStep { node, delta_us } => {
                self.slots[node.index()]
                    .clock
                    .step(now, delta_us.saturating_mul(1_000));
                (TraceKind::ClockStep, Some(*node))
            }
            Fault::ClockDrift { node, drift_ppm } => {
                self.slots[node.index()].clock.set_drift(now, *drift_ppm);
                (TraceKind::ClockDrift, Some(*node))
            }
            Fault::Link { from, to, link } => {
                self.kernel.network.set_link(*from, *to, *link);
                (TraceKind::LinkChange, None)
            }
            Fault::ResetLinks => {
                self.kernel.network.reset_links();
                (TraceKind::LinkChange, None)
            }
        };
        self.record_fault(kind, node, &fault);
        node
    }

    fn record_fault(&mut self, kind: TraceKind, node: Option<NodeId>, fault: &Fault) {
        let k = &mut self.kernel;
        k.stats.faults += 1;
        k.trace.push_fault(k.event, k.now, kind, node, fault);
    }

    /// Drops the node's volatile state; its timers and the messages in
    /// flight to it die with its incarnation.
    fn crash(&mut self, id: NodeId) -> Option<NodeId> {
        let slot = &mut self.slots[id.index()];
        slot.node.take()?;
        slot.paused = false;
        for key in slot.held.drain(..) {
            self.kernel.queue.remove(key);
        }
        self.kernel.incarnation[id.index()] += 1;
        Some(id)
    }
}
