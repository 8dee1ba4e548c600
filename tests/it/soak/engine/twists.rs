//! Twists at the boundaries of one process (issue 22), drawn per seed beside the schedule: a
//! second run started on the journal in use, a first run that stops at `--until` and is
//! resumed, a `--retry-failed` resume after a run that failed, a resume at another endpoint of
//! the same backend (refused, then allowed with `--retarget`), the plan run as two shards, and
//! HTTPS with connections closed without `close_notify` after their stop was applied.
//!
//! They come from a generator of their own, so a seed's fleet, faults and interrupts stay what
//! they were before twists existed, and a replay of an old seed still names the same schedule.

/// The twists of one schedule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Twists {
    /// While the first process runs, a second one is started on its journal: it must be
    /// refused (exit 2) while the first holds it.
    pub rival: bool,
    /// The first process runs `--until p0`; its `paused` end is resumed like an interrupt.
    pub until: bool,
    /// A run that ends failed is resumed once more with `--retry-failed`.
    pub retry_failed: bool,
    /// The first resume goes to another endpoint of the same mock: refused without
    /// `--retarget` (nothing sent), then taken with it; later resumes stay there.
    pub retarget: bool,
    /// The plan runs as `--shard 1/2` then `--shard 2/2`, each with its own journal.
    pub shards: bool,
    /// The mock serves HTTPS and closes some connections without `close_notify` right after
    /// it applied their stop.
    pub tls: bool,
    /// The first process is steered from another shell: drained, paused then let go, or
    /// aborted, after a few stop calls or a moment (stops seen, milliseconds).
    pub ctl: Option<(super::steer::Action, usize, u64)>,
}

impl Twists {
    /// The twists of `seed`, for a schedule of `phases` phases and `jobs` stops.
    pub fn draw(seed: u64, phases: usize, jobs: usize) -> Twists {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed_0022_b0a4_d1e5);
        Twists {
            rival: rng.u8(0..4) == 0,
            until: phases > 1 && rng.u8(0..3) == 0,
            retry_failed: rng.u8(0..4) == 0,
            retarget: rng.u8(0..4) == 0,
            shards: jobs >= 2 && rng.u8(0..6) == 0,
            tls: rng.u8(0..5) == 0,
            // Drawn last, so the twists above stay what each seed had before.
            ctl: super::steer::Action::of(rng.u8(0..6))
                .map(|a| (a, rng.usize(0..=4), rng.u64(20..=1200))),
        }
    }

    /// The twists on, by name, for a failing schedule's description.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.rival, "rival"),
            (self.until, "until"),
            (self.retry_failed, "retry-failed"),
            (self.retarget, "retarget"),
            (self.shards, "shards"),
            (self.tls, "tls"),
            (self.ctl.is_some(), "ctl"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// The shards a schedule runs as: `None` (the whole plan) or `1/2` and `2/2`.
pub fn shards(twists: &Twists) -> Vec<Option<usize>> {
    match twists.shards {
        true => vec![Some(1), Some(2)],
        false => vec![None],
    }
}

/// Whether the stop at `seq` (from 1) belongs to `shard` of two (stopbook's `--shard K/N`:
/// the stops whose position is K modulo N).
pub fn in_shard(seq: usize, shard: Option<usize>) -> bool {
    shard.is_none_or(|k| seq % 2 == k % 2)
}

/// Another endpoint of the same mock: the same backend behind another name.
pub fn alias(url: &str) -> String {
    url.replacen("127.0.0.1", "localhost", 1)
}
