//! The limit `quorum_bench` is measured against: the same workload (5
//! replicas and 1 client, each operation to all 5, complete at 3 replies,
//! writes and reads alternating, latency uniform in [1 ms, 10 ms) drawn
//! from ChaCha8, 200,000 delivered messages) as a bare binary-heap loop
//! with no network model, no digest, no history and no checks. What a
//! discrete-event loop costs at the least; `cargo xtask bench
//! --instructions` divides one by the other.
//!
//! `--repetitions N` (default 7) runs it N times and reports the median.
//! The last line is machine-readable:
//! `bare-heap-bench msgs_per_s=<n> ns_per_msg=<n>`.

#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use sim_core::{SimRng, Stream};

#[path = "support/args.rs"]
mod args;

const REPLICAS: u64 = 5;
const QUORUM: u64 = 3;
const DELIVERED_TARGET: u64 = 200_000;
const OPERATIONS: u64 = DELIVERED_TARGET / (2 * REPLICAS);
const CLIENT: u64 = REPLICAS;

/// A message in flight: (delivery time in ns, send order) orders the
/// heap; then the receiver, the sender, the operation, whether it is a
/// reply, and a value.
type Event = Reverse<(u64, u64, u64, u64, u64, bool, u64)>;

struct Loop {
    heap: BinaryHeap<Event>,
    rng: SimRng,
    now: u64,
    seq: u64,
    delivered: u64,
    replica_values: [u64; REPLICAS as usize],
    next_op: u64,
    replies: u64,
    checksum: u64,
}

impl Loop {
    fn send(&mut self, to: u64, from: u64, op: u64, reply: bool, value: u64) {
        let latency = self.rng.between(1_000_000, 10_000_000);
        self.seq += 1;
        self.heap.push(Reverse((
            self.now + latency,
            self.seq,
            to,
            from,
            op,
            reply,
            value,
        )));
    }

    fn start_operation(&mut self) {
        if self.next_op == OPERATIONS {
            return;
        }
        let op = self.next_op;
        self.next_op += 1;
        self.replies = 0;
        for replica in 0..REPLICAS {
            self.send(replica, CLIENT, op, false, op);
        }
    }

    fn run(&mut self) {
        self.start_operation();
        while let Some(Reverse((time, _, to, from, op, reply, value))) = self.heap.pop() {
            self.now = time;
            self.delivered += 1;
            if to == CLIENT {
                // A late reply to a finished operation changes nothing.
                if reply && op + 1 == self.next_op {
                    self.replies += 1;
                    self.checksum = self.checksum.wrapping_add(value);
                    if self.replies == QUORUM {
                        self.start_operation();
                    }
                }
            } else {
                let stored = &mut self.replica_values[to as usize];
                if op % 2 == 0 {
                    *stored = value;
                }
                let answer = *stored;
                self.send(from, to, op, true, answer);
            }
        }
    }
}

fn run_once() -> (u64, std::time::Duration) {
    let mut bench = Loop {
        heap: BinaryHeap::new(),
        rng: SimRng::new(42, Stream::Network),
        now: 0,
        seq: 0,
        delivered: 0,
        replica_values: [0; REPLICAS as usize],
        next_op: 0,
        replies: 0,
        checksum: 0,
    };
    let started = Instant::now();
    bench.run();
    let wall = started.elapsed();
    assert_eq!(bench.delivered, DELIVERED_TARGET);
    (bench.checksum, wall)
}

fn main() {
    let repetitions = args::repetitions();
    let mut walls: Vec<_> = (0..repetitions).map(|_| run_once().1).collect();
    walls.sort();
    let wall_ns = walls[repetitions / 2].as_nanos().max(1) as f64;
    println!(
        "{DELIVERED_TARGET} messages delivered; median of {repetitions} runs: {:.1} ms wall",
        wall_ns / 1e6
    );
    println!(
        "bare-heap-bench msgs_per_s={:.0} ns_per_msg={:.1}",
        DELIVERED_TARGET as f64 / (wall_ns / 1e9),
        wall_ns / DELIVERED_TARGET as f64
    );
}
