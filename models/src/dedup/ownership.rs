//! Who asked first: the rule that decides a write phase's answer.
//!
//! Each replica remembers the owner of X: the request whose add reached it
//! first. Owners never change, so the owners of X's N replicas form a
//! vector that only fills in. The request that owns at least W of them
//! was first (with W > N/2 at most one can). Counting only "absent" is not
//! enough: two concurrent first-time requests can each find the other's
//! add on one replica of their W, both answer `true`, and nobody answers
//! `false` for an X that was never seen (not linearizable). So a write
//! phase that sees a mixed vector keeps listening, and the first request
//! is, in general, the plurality owner of the complete vector (ties go to
//! the smaller owner). A request answers as soon as no owner of the
//! replicas it has not heard from could change that:
//!
//! - it owns W replies: `false` (the classic rule; W > N/2 makes it
//!   agree with the plurality);
//! - it cannot be the plurality owner even if it owned every unheard
//!   replica: `true`;
//! - it has heard every replica and is the plurality owner: `false`;
//! - otherwise it waits (and may time out: `Info`).
//!
//! Every request that decides agrees on the one first request, which
//! answers `false` or never learns it (then its outcome is unknown). That
//! holds only if requests invoked after any answer never own a replica of
//! X: with R + W > N their read phase always finds X and they repair it
//! under its existing owner instead of running a write phase. So both
//! R + W > N and W > N/2 are needed.

use super::store::Adder;

/// Who a replica says owns X. `Unknown` when its store cannot tell (a
/// Bloom filter); it orders first, so ties resolve the same everywhere.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize)]
pub enum Owner {
    Unknown,
    Request(Adder),
}

/// The answer of request `me` ("seen before?") from the owners it has
/// heard, or `None` while the replicas not heard from could change it.
/// `replicas` is how many replicas hold X.
///
/// Called on every write reply, with at most one owner per replica (a
/// handful): counting each owner by a scan of the few heard costs less
/// than building a map, and allocates nothing.
pub fn decide(
    me: Adder,
    heard: impl Iterator<Item = Owner> + Clone,
    write_quorum: usize,
    replicas: usize,
) -> Option<bool> {
    let me = Owner::Request(me);
    let count = |owner: Owner| heard.clone().filter(|&o| o == owner).count();
    let mine = count(me);
    if mine >= write_quorum {
        return Some(false);
    }
    let unheard = replicas.saturating_sub(heard.clone().count());
    let beats = |my_count: usize| {
        heard.clone().filter(|&other| other != me).all(|other| {
            let count = count(other);
            my_count > count || (my_count == count && me < other)
        })
    };
    if !beats(mine + unheard) {
        return Some(true);
    }
    (unheard == 0).then_some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::msg::RequestNumber;
    use sim_core::NodeId;

    fn request(client: u32) -> Adder {
        Adder {
            client: NodeId(client),
            request: RequestNumber(0),
        }
    }

    fn owners(clients: &[u32]) -> Vec<Owner> {
        clients
            .iter()
            .map(|&c| Owner::Request(request(c)))
            .collect()
    }

    #[test]
    fn a_write_quorum_of_ones_own_replies_is_first() {
        assert_eq!(decide(request(5), owners(&[5, 5]).into_iter(), 2, 3), Some(false));
    }

    #[test]
    fn a_split_waits_for_the_replica_that_breaks_it() {
        // Each of two concurrent requests owns one of three replicas.
        assert_eq!(decide(request(5), owners(&[5, 6]).into_iter(), 2, 3), None);
        assert_eq!(decide(request(6), owners(&[5, 6]).into_iter(), 2, 3), None);
        assert_eq!(decide(request(5), owners(&[5, 6, 6]).into_iter(), 2, 3), Some(true));
        assert_eq!(decide(request(6), owners(&[5, 6, 6]).into_iter(), 2, 3), Some(false));
    }

    #[test]
    fn a_request_that_cannot_catch_up_answers_true_early() {
        assert_eq!(decide(request(5), owners(&[6, 6]).into_iter(), 2, 3), Some(true));
        // Two unheard replicas could still make 5 the plurality owner.
        assert_eq!(decide(request(5), owners(&[6, 6, 5]).into_iter(), 3, 5), None);
        // One could only tie 8 with 6, and ties go to the smaller owner.
        assert_eq!(decide(request(8), owners(&[6, 6, 7, 8]).into_iter(), 3, 5), Some(true));
    }

    #[test]
    fn a_three_way_tie_goes_to_the_smallest_owner() {
        let heard = owners(&[5, 6, 7]);
        assert_eq!(decide(request(5), heard.iter().copied(), 2, 3), Some(false));
        assert_eq!(decide(request(6), heard.iter().copied(), 2, 3), Some(true));
        assert_eq!(decide(request(7), heard.iter().copied(), 2, 3), Some(true));
        let unknown = [Owner::Unknown, Owner::Unknown];
        assert_eq!(decide(request(5), unknown.iter().copied(), 2, 3), Some(true));
    }
}
