//! Seeded randomness. One `u64` seed per run; every purpose (the network,
//! the fault generator, each node, each workload) draws from its own ChaCha8
//! stream, so adding a node or a fault does not shift anyone else's draws.
//! That keeps a failing run recognisable while it is being shrunk.
//!
//! The samplers are ours, written over `next_u64`, because rand's samplers
//! may change their values between releases and a run must not.
//! Probabilities on a run's path are integers per million, never floats.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// Which stream a draw comes from. Each value is one independent stream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stream {
    /// Latency, loss and duplication draws of the simulated network.
    Network,
    /// The random fault generator (nemesis) and its per-seed rates.
    Nemesis,
    /// A node's own draws, by node index. Clients are nodes too.
    Node(u32),
    /// A node's disk (sync latencies), by node index.
    Disk(u32),
    /// Connections: their latency and how long each end takes to notice
    /// a break.
    Connections,
    /// Free for callers outside the engine (workload set-up, scenario
    /// parameters drawn per seed), numbered by the caller.
    User(u32),
}

impl Stream {
    fn id(self) -> u64 {
        match self {
            Stream::Network => 1,
            Stream::Nemesis => 2,
            Stream::Connections => 3,
            Stream::Node(i) => (1 << 32) | u64::from(i),
            Stream::User(i) => (2 << 32) | u64::from(i),
            Stream::Disk(i) => (3 << 32) | u64::from(i),
        }
    }
}

/// A deterministic random stream with our own samplers.
#[derive(Clone, Debug)]
pub struct SimRng {
    inner: ChaCha8Rng,
}

/// A stream made only when first drawn from: the draws are the same as
/// a `SimRng` made up front, but a run whose nodes never draw from it
/// (most disks never sync) pays nothing per node, and its per-node state
/// stays small enough for the cache at 10,000 nodes.
#[derive(Clone, Debug)]
pub struct LazyRng {
    seed: u64,
    stream: Stream,
    rng: Option<Box<SimRng>>,
}

impl LazyRng {
    pub fn new(seed: u64, stream: Stream) -> LazyRng {
        LazyRng {
            seed,
            stream,
            rng: None,
        }
    }

    pub fn get(&mut self) -> &mut SimRng {
        let (seed, stream) = (self.seed, self.stream);
        self.rng
            .get_or_insert_with(|| Box::new(SimRng::new(seed, stream)))
    }
}

/// One million: the denominator of every `*_per_million` rate.
pub const MILLION: u32 = 1_000_000;

impl SimRng {
    /// The stream `stream` of the run seeded by `seed`.
    pub fn new(seed: u64, stream: Stream) -> SimRng {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream.id());
        SimRng { inner }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in `[0, n)`, without modulo bias (Lemire's method).
    ///
    /// # Panics
    /// If `n == 0`: an empty range is a bug in the caller.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "SimRng::below(0)");
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(n);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// Uniform in `[low, high)`; `low` when the range is empty.
    #[inline]
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            low
        } else {
            low + self.below(high - low)
        }
    }

    /// Uniform index into a slice of length `len` (> 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `per_million / 1_000_000`.
    #[inline]
    pub fn chance(&mut self, per_million: u32) -> bool {
        per_million > 0 && self.below(u64::from(MILLION)) < u64::from(per_million)
    }

    /// Exponentially distributed with the given mean, in the same unit,
    /// rounded down. Uses our own logarithm so the value depends only on
    /// IEEE-754 basic arithmetic, which is exact on every platform.
    pub fn exponential(&mut self, mean: u64) -> u64 {
        // 53 random bits give u in (0, 1]; -ln(u) is then finite.
        let u = ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
        let x = -crate::float::ln(u) * mean as f64;
        if x >= u64::MAX as f64 {
            u64::MAX
        } else {
            x as u64
        }
    }

    /// A partial Fisher–Yates shuffle of the positions `0..len`: for each
    /// `i` in `0..take` (clamped to `len`), swap place `i` with place `i +
    /// index(len - i)`, then hand place `i`, now final, to `each`. The
    /// same draws and the same positions as shuffling a list of `len`
    /// items that way, without the list: a user picking 4 of 500 free
    /// seats touches 8 places, not 500. `moved` is room for the places
    /// swapped ahead (at most one per draw), kept by the caller so a warm
    /// caller allocates nothing.
    pub fn shuffled_prefix(
        &mut self,
        take: usize,
        len: usize,
        moved: &mut Vec<(usize, usize)>,
        mut each: impl FnMut(usize),
    ) {
        moved.clear();
        // A place not in `moved` holds its own position.
        let held = |moved: &[(usize, usize)], place: usize| {
            moved
                .iter()
                .find(|(p, _)| *p == place)
                .map_or(place, |&(_, v)| v)
        };
        for i in 0..take.min(len) {
            let j = i + self.index(len - i);
            let (at_i, at_j) = (held(moved, i), held(moved, j));
            each(at_j);
            if j != i {
                match moved.iter_mut().find(|(p, _)| *p == j) {
                    Some(entry) => entry.1 = at_i,
                    None => moved.push((j, at_i)),
                }
            }
        }
    }

    /// Picks an index with probability proportional to its weight. Returns
    /// `None` when every weight is zero.
    pub fn weighted(&mut self, weights: &[u32]) -> Option<usize> {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        if total == 0 {
            return None;
        }
        let mut pick = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if pick < u64::from(w) {
                return Some(i);
            }
            pick -= u64::from(w);
        }
        unreachable!("pick < total")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_stream_draws_what_the_stream_made_up_front_does() {
        let mut lazy = LazyRng::new(9, Stream::Disk(3));
        let mut eager = SimRng::new(9, Stream::Disk(3));
        for _ in 0..100 {
            assert_eq!(lazy.get().next_u64(), eager.next_u64());
        }
    }

    #[test]
    fn same_seed_and_stream_repeat_and_streams_differ() {
        let draws = |seed, stream| {
            let mut rng = SimRng::new(seed, stream);
            (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7, Stream::Node(3)), draws(7, Stream::Node(3)));
        assert_ne!(draws(7, Stream::Node(3)), draws(7, Stream::Node(4)));
        assert_ne!(draws(7, Stream::Network), draws(8, Stream::Network));
        assert_ne!(draws(7, Stream::Network), draws(7, Stream::Nemesis));
    }

    #[test]
    fn a_shuffled_prefix_draws_what_shuffling_the_list_draws() {
        let mut moved = Vec::new();
        for (take, len) in [
            (0, 0),
            (3, 0),
            (0, 5),
            (1, 1),
            (4, 500),
            (7, 7),
            (9, 4),
            (60, 100),
            (3, 3),
        ] {
            let seed = take as u64 * 1_000 + len as u64;
            let (mut lazy, mut eager) = (
                SimRng::new(seed, Stream::User(1)),
                SimRng::new(seed, Stream::User(1)),
            );
            let mut list: Vec<usize> = (0..len).collect();
            for i in 0..take.min(len) {
                let j = i + eager.index(len - i);
                list.swap(i, j);
            }
            list.truncate(take);
            let mut drawn = Vec::new();
            lazy.shuffled_prefix(take, len, &mut moved, |p| drawn.push(p));
            assert_eq!(drawn, list, "{take} of {len}");
            assert_eq!(
                lazy.next_u64(),
                eager.next_u64(),
                "{take} of {len}: as many draws"
            );
        }
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = SimRng::new(1, Stream::User(0));
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            seen[rng.below(7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }

    #[test]
    fn chance_matches_its_rate() {
        let mut rng = SimRng::new(2, Stream::User(0));
        let hits = (0..100_000).filter(|_| rng.chance(250_000)).count();
        assert!((24_000..26_000).contains(&hits), "{hits}");
        assert!(!(0..1000).any(|_| rng.chance(0)));
        assert!((0..1000).all(|_| rng.chance(MILLION)));
    }

    #[test]
    fn exponential_has_its_mean() {
        let mut rng = SimRng::new(3, Stream::User(0));
        let n = 50_000u64;
        let total: u64 = (0..n).map(|_| rng.exponential(1_000)).sum();
        let mean = total / n;
        assert!((960..1040).contains(&mean), "{mean}");
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let mut rng = SimRng::new(4, Stream::User(0));
        assert_eq!(rng.weighted(&[0, 0]), None);
        assert!((0..1000).all(|_| rng.weighted(&[0, 5, 0]) == Some(1)));
    }
}
