//! Setup grows linearly with the number of nodes: a default full mesh
//! keeps nothing per pair of nodes. Bytes allocated while building a
//! simulation are counted with a wrapping allocator; ten times the nodes
//! must cost about ten times the bytes, not a hundred.

// A global allocator needs `unsafe impl`; it only forwards to the system
// allocator.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use common::Probe;
use sim_core::{Partition, Sim, SimConfig};

struct Counting;

static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated to build an `n`-node simulation and run its first
/// events, with one partition in force.
fn bytes_for(n: usize) -> u64 {
    let disks = vec![common::Disk::default(); n];
    let mut c = SimConfig::new(1);
    c.duration = std::time::Duration::from_millis(1);
    c.faults = vec![sim_core::TimedFault::at(
        0,
        sim_core::Fault::Partition(Partition::Isolate(sim_core::NodeId(0))),
    )];
    let before = BYTES.load(Ordering::Relaxed);
    let mut sim = Sim::<Probe>::new(c, disks);
    sim.run();
    BYTES.load(Ordering::Relaxed) - before
}

#[test]
fn setup_memory_grows_linearly_with_nodes() {
    let small = bytes_for(1_000);
    let large = bytes_for(10_000);
    assert!(
        large < 13 * small,
        "1,000 nodes: {small} bytes; 10,000 nodes: {large} bytes"
    );
    assert!(
        large < 20_000_000,
        "10,000 nodes took {large} bytes to set up"
    );
}
