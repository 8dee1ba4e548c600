//! What the run is waiting on, right now: each stop whose job is being waited for (or whose
//! lost answer is being settled), with the last status read and since when. The progress
//! display reads it on its own clock, so a run whose stops take minutes to end is never
//! silent: every heartbeat says how many jobs are waited on, in which states, and the oldest.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The jobs waited on, by seq.
#[derive(Debug, Default)]
pub struct Census {
    waits: Mutex<HashMap<usize, Waited>>,
}

#[derive(Debug)]
struct Waited {
    status: Option<Box<str>>,
    since: Instant,
    /// The stop's answer was lost: its status is read to learn whether it was taken.
    in_doubt: bool,
}

/// The census at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Jobs waited on.
    pub waiting: usize,
    /// Of those, the stops whose answer was lost, their status read to settle it.
    pub in_doubt: usize,
    /// How many are in each status, most first (then by name, the not read yet last).
    pub by_status: Vec<(Option<String>, usize)>,
    /// How long the longest wait has lasted.
    pub oldest: Duration,
}

impl Census {
    /// Marks stop `seq` as waited on, until the guard is dropped.
    pub(crate) fn enter(&self, seq: usize) -> Entered<'_> {
        self.insert(seq, false)
    }

    /// Marks stop `seq` as in doubt (its answer lost, its status read to settle it), until the
    /// guard is dropped; a wait that follows enters again.
    pub(crate) fn enter_in_doubt(&self, seq: usize) -> Entered<'_> {
        self.insert(seq, true)
    }

    fn insert(&self, seq: usize, in_doubt: bool) -> Entered<'_> {
        let waited = Waited {
            status: None,
            since: Instant::now(),
            in_doubt,
        };
        let outer = self.lock().insert(seq, waited);
        Entered {
            census: self,
            seq,
            outer,
        }
    }

    /// Who waits now.
    pub fn snapshot(&self) -> Snapshot {
        let waits = self.lock();
        let mut counts: BTreeMap<Option<&str>, usize> = BTreeMap::new();
        let mut in_doubt = 0;
        for w in waits.values() {
            match w.in_doubt {
                true => in_doubt += 1,
                false => *counts.entry(w.status.as_deref()).or_default() += 1,
            }
        }
        let mut by_status: Vec<(Option<String>, usize)> = counts
            .into_iter()
            .map(|(s, n)| (s.map(str::to_owned), n))
            .collect();
        // Most first; among equals, statuses by name, then the jobs not read yet.
        by_status.sort_by(|a, b| {
            (b.1, a.0.is_none())
                .cmp(&(a.1, b.0.is_none()))
                .then_with(|| a.0.cmp(&b.0))
        });
        let oldest = waits
            .values()
            .map(|w| w.since.elapsed())
            .max()
            .unwrap_or_default();
        Snapshot {
            waiting: waits.len(),
            in_doubt,
            by_status,
            oldest,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Waited>> {
        self.waits.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A stop's place in the census, given back when its wait ends (to the wait it was nested in,
/// such as an escalation's settling within a wait).
pub(crate) struct Entered<'a> {
    census: &'a Census,
    seq: usize,
    outer: Option<Waited>,
}

impl Entered<'_> {
    /// The job was read in `status`.
    pub(crate) fn saw(&self, status: &str) {
        if let Some(w) = self.census.lock().get_mut(&self.seq)
            && w.status.as_deref() != Some(status)
        {
            w.status = Some(status.into());
        }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let mut waits = self.census.lock();
        match self.outer.take() {
            Some(outer) => waits.insert(self.seq, outer),
            None => waits.remove(&self.seq),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_status_most_first_and_forgets_a_finished_wait() {
        let census = Census::default();
        let a = census.enter(1);
        let b = census.enter(2);
        let c = census.enter(3);
        let _d = census.enter(4);
        let doubt = census.enter_in_doubt(5);
        a.saw("RELEASE_RESOURCE_STARTED");
        b.saw("RELEASE_RESOURCE_STARTED");
        c.saw("INCRE_TRANSFER_STARTED");
        let snap = census.snapshot();
        assert_eq!((snap.waiting, snap.in_doubt), (5, 1));
        assert_eq!(
            snap.by_status,
            [
                (Some("RELEASE_RESOURCE_STARTED".to_owned()), 2),
                (Some("INCRE_TRANSFER_STARTED".to_owned()), 1),
                (None, 1),
            ]
        );
        drop(a);
        drop(c);
        drop(doubt);
        let snap = census.snapshot();
        assert_eq!((snap.waiting, snap.in_doubt), (2, 0));
        // An escalation settled within a wait gives the wait its place back.
        let nested = census.enter_in_doubt(2);
        assert_eq!(census.snapshot().in_doubt, 1);
        drop(nested);
        let snap = census.snapshot();
        assert_eq!((snap.waiting, snap.in_doubt), (2, 0));
        assert_eq!(
            snap.by_status[0],
            (Some("RELEASE_RESOURCE_STARTED".to_owned()), 1)
        );
    }
}
