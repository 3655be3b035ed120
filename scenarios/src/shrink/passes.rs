//! The shrinker's passes, in the order a round runs them: the cheap, big
//! cuts first (a shorter run makes every later candidate cheaper), then
//! the faults, the design's counts, each fault's length, and last the
//! network's and clocks' settings. Each pass offers candidates to
//! `Shrinker::first_failing`, most ambitious first, and repeats until
//! none is kept.

use sim_core::{Latency, LinkConfig, Verdict};

use super::Shrinker;
use super::prune::prune;
use crate::schema::Scenario;

/// One pass: its name (for the progress line) and what it does.
pub struct Pass {
    pub name: &'static str,
    pub run: fn(&mut Shrinker<'_>),
}

pub const PASSES: &[Pass] = &[
    Pass {
        name: "run length",
        run: cut_run,
    },
    Pass {
        name: "faults",
        run: remove_faults,
    },
    Pass {
        name: "liveness",
        run: drop_liveness,
    },
    Pass {
        name: "design counts",
        run: lower_counts,
    },
    Pass {
        name: "fault lengths",
        run: shorten_faults,
    },
    Pass {
        name: "network and clocks",
        run: calm_network,
    },
];

/// A shorter run: the duration (first guess: just past the violation),
/// and for a liveness failure an earlier heal.
fn cut_run(shrinker: &mut Shrinker<'_>) {
    let hint = match &shrinker.best_run.verdict {
        Verdict::Violated(v) => Some(v.time.as_nanos().div_ceil(1_000_000) + 1),
        _ => None,
    };
    let duration = shrinker.best.duration_ms;
    lower(shrinker, duration, 1, hint, |s, v| {
        let mut s = s.clone();
        s.duration_ms = v;
        Some(s)
    });
    if let Some(liveness) = shrinker.best.liveness {
        lower(shrinker, liveness.heal_at_ms, 1, None, |s, v| {
            let mut s = s.clone();
            let mut l = s.liveness?;
            l.heal_at_ms = v;
            s.liveness = Some(l);
            Some(s)
        });
    }
}

/// Fewer faults: all of them at once, then delta debugging (ddmin): keep
/// only one of `n` chunks, or remove one, refining `n` when neither fails.
fn remove_faults(shrinker: &mut Shrinker<'_>) {
    if shrinker.best.faults.is_empty() {
        return;
    }
    let none = Scenario {
        faults: Vec::new(),
        ..shrinker.best.clone()
    };
    if shrinker.first_failing(vec![none]).is_some() {
        return;
    }
    let mut n = 2;
    loop {
        let faults = shrinker.best.faults.clone();
        let len = faults.len();
        if len <= 1 {
            return;
        }
        n = n.min(len);
        let chunks: Vec<std::ops::Range<usize>> =
            (0..n).map(|i| i * len / n..(i + 1) * len / n).collect();
        let with = |kept: Vec<_>| Scenario {
            faults: kept,
            ..shrinker.best.clone()
        };
        let mut candidates = Vec::new();
        // With two chunks, keeping one is removing the other.
        let subsets = n > 2;
        if subsets {
            candidates.extend(chunks.iter().map(|r| with(faults[r.clone()].to_vec())));
        }
        candidates.extend(chunks.iter().map(|r| {
            let mut kept = faults[..r.start].to_vec();
            kept.extend_from_slice(&faults[r.end..]);
            with(kept)
        }));
        match shrinker.first_failing(candidates) {
            Some(i) if subsets && i < n => n = 2,
            Some(_) => n = (n - 1).max(2),
            None if n >= len => return,
            None => n = (2 * n).min(len),
        }
        if shrinker.stop.is_some() {
            return;
        }
    }
}

/// A violation of an invariant does not need the liveness check (nor the
/// heal it brings).
fn drop_liveness(shrinker: &mut Shrinker<'_>) {
    if shrinker.check == "liveness" || shrinker.best.liveness.is_none() {
        return;
    }
    let without = Scenario {
        liveness: None,
        ..shrinker.best.clone()
    };
    shrinker.first_failing(vec![without]);
}

/// Fewer clients, servers, requests: each count the design offers, down
/// toward its floor; faults on nodes that are gone go with them.
fn lower_counts(shrinker: &mut Shrinker<'_>) {
    for count in shrinker.best.model.shrinkable() {
        // An earlier count may have changed this one's value.
        let Some(now) = shrinker
            .best
            .model
            .shrinkable()
            .into_iter()
            .find(|c| c.param == count.param)
        else {
            continue;
        };
        lower(shrinker, now.value, now.floor, None, |s, v| {
            let mut s = s.clone();
            s.model.set_param(now.param, i64::try_from(v).ok()?).ok()?;
            s.model.validate().ok()?;
            let names = s.model.design().node_names();
            prune(&mut s, &names);
            Some(s)
        });
        if shrinker.stop.is_some() {
            return;
        }
    }
}

/// Each fault that lasts, shorter.
fn shorten_faults(shrinker: &mut Shrinker<'_>) {
    for i in 0..shrinker.best.faults.len() {
        let Some(length) = shrinker.best.faults.get(i).and_then(|f| f.duration_ms) else {
            continue;
        };
        lower(shrinker, length, 1, None, |s, v| {
            let mut s = s.clone();
            s.faults.get_mut(i)?.duration_ms = Some(v);
            Some(s)
        });
        if shrinker.stop.is_some() {
            return;
        }
    }
}

/// Benign settings where they do not matter: no loss, no duplicates, a
/// constant latency, no per-link overrides, true clocks, default disks.
/// (How soon a broken connection is noticed stays: it is the design's
/// environment more than a fault.)
fn calm_network(shrinker: &mut Shrinker<'_>) {
    loop {
        let best = &shrinker.best;
        let mut candidates = Vec::new();
        let with_link = |link: LinkConfig| {
            let mut s = best.clone();
            s.network.default_link = link;
            s
        };
        let link = best.network.default_link;
        if link.loss_per_million > 0 {
            candidates.push(with_link(LinkConfig {
                loss_per_million: 0,
                ..link
            }));
        }
        if link.duplicate_per_million > 0 {
            candidates.push(with_link(LinkConfig {
                duplicate_per_million: 0,
                ..link
            }));
        }
        if let Some(latency) = constant(link.latency) {
            candidates.push(with_link(LinkConfig { latency, ..link }));
        }
        for i in 0..best.network.links.len() {
            let mut s = best.clone();
            s.network.links.remove(i);
            candidates.push(s);
        }
        for name in best.clocks.keys() {
            let mut s = best.clone();
            s.clocks.remove(name);
            candidates.push(s);
        }
        for name in best.disks.keys() {
            let mut s = best.clone();
            s.disks.remove(name);
            candidates.push(s);
        }
        if candidates.is_empty() || shrinker.first_failing(candidates).is_none() {
            return;
        }
    }
}

/// A varying latency made constant at its least: no jitter, no overtaking.
fn constant(latency: Latency) -> Option<Latency> {
    match latency {
        Latency::Constant { .. } => None,
        Latency::Uniform { min_us, .. } | Latency::Exponential { min_us, .. } => {
            Some(Latency::Constant { us: min_us })
        }
    }
}

/// Lowers one number from `value` toward `floor`: `set` makes the
/// candidate with a value (or cannot). Each round tries a ladder from the
/// least value not known to pass up to one below the current value
/// (`floor`, halfway, three quarters, ...), keeps the least that still
/// fails, and climbs no higher than that next time: a binary search that
/// tries one rung per core at once. `hint` is a first guess.
fn lower(
    shrinker: &mut Shrinker<'_>,
    value: u64,
    floor: u64,
    hint: Option<u64>,
    set: impl Fn(&Scenario, u64) -> Option<Scenario>,
) {
    let mut value = value;
    let mut least = floor;
    if let Some(h) = hint.filter(|h| (floor..value).contains(h))
        && let Some(candidate) = set(&shrinker.best, h)
        && shrinker.first_failing(vec![candidate]).is_some()
    {
        value = h;
    }
    while least < value && shrinker.stop.is_none() {
        let rungs: Vec<(u64, Scenario)> = ladder(least, value)
            .into_iter()
            .filter_map(|v| Some((v, set(&shrinker.best, v)?)))
            .collect();
        let values: Vec<u64> = rungs.iter().map(|(v, _)| *v).collect();
        match shrinker.first_failing(rungs.into_iter().map(|(_, s)| s).collect()) {
            Some(i) => {
                if i > 0 {
                    least = values[i - 1] + 1;
                }
                value = values[i];
            }
            None => return,
        }
    }
}

/// The values to try below `value`, ascending, no repeats: `least`, then
/// a geometric climb (each rung half as far again) while it is below
/// halfway, then ever closer to `value` (`value - d/2`, `value - d/4`, ...
/// `value - 1`, where `d = value - least`). Whether a run fails is seldom
/// monotone in a count, so the climb tries small values a plain binary
/// search would skip; runs with small values are cheap.
fn ladder(least: u64, value: u64) -> Vec<u64> {
    let mut rungs = vec![least];
    let halfway = value - (value - least) / 2;
    let mut rung = least;
    loop {
        rung = (rung + 1).max(rung + rung / 2);
        if rung >= halfway {
            break;
        }
        rungs.push(rung);
    }
    let mut step = (value - least) / 2;
    while step > 0 {
        let rung = value - step;
        if rung > *rungs.last().expect("one rung") {
            rungs.push(rung);
        }
        step /= 2;
    }
    if value - 1 > *rungs.last().expect("one rung") {
        rungs.push(value - 1);
    }
    rungs
}

#[cfg(test)]
mod tests {
    use super::ladder;

    #[test]
    fn a_ladder_climbs_from_the_least_value_to_one_below_the_current() {
        assert_eq!(
            ladder(1, 300),
            vec![
                1, 2, 3, 4, 6, 9, 13, 19, 28, 42, 63, 94, 141, 151, 226, 263, 282, 291, 296, 298,
                299
            ]
        );
        assert_eq!(ladder(4, 5), vec![4]);
        assert_eq!(ladder(0, 3), vec![0, 1, 2]);
        assert_eq!(ladder(10, 20), vec![10, 15, 18, 19]);
    }
}
