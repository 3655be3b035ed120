//! The hot loop allocates nothing per event once warm: a run twice as long
//! makes (almost) no more allocations. Counted with a wrapping allocator.

// A global allocator needs `unsafe impl`; this test file is the one place
// the workspace allows it, and it only forwards to the system allocator.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{Probe, pinging};
use sim_core::{Latency, LinkConfig, Sim, SimConfig};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
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

fn allocations_for(pings: u64) -> (u64, u64) {
    let mut c = SimConfig::new(3);
    c.duration = Duration::from_secs(3_600);
    c.network.default_link = LinkConfig {
        latency: Latency::Uniform {
            min_us: 1_000,
            max_us: 10_000,
        },
        ..Default::default()
    };
    // Node 0 pings node 1 every millisecond; node 1 answers each.
    let disks = pinging(2, Duration::from_millis(1), pings);
    let mut sim = Sim::<Probe>::new(c, disks);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let result = sim.run();
    (
        ALLOCATIONS.load(Ordering::Relaxed) - before,
        result.stats.events,
    )
}

#[test]
fn a_longer_run_does_not_allocate_more() {
    let (short_allocs, short_events) = allocations_for(20_000);
    let (long_allocs, long_events) = allocations_for(40_000);
    assert!(long_events > short_events + 50_000);
    // The probe keeps a log of received messages (a Vec that doubles) and
    // each ping is a history operation (another doubling Vec); doubling
    // costs a logarithmic number of allocations, not one per event.
    assert!(
        long_allocs <= short_allocs + 8,
        "{short_allocs} allocations for {short_events} events, {long_allocs} for {long_events}"
    );
}
