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
}

/// The census at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Jobs waited on.
    pub waiting: usize,
    /// How many are in each status, most first (then by name, the not read yet last).
    pub by_status: Vec<(Option<String>, usize)>,
    /// How long the longest wait has lasted.
    pub oldest: Duration,
}

impl Census {
    /// Marks stop `seq` as waited on, until the guard is dropped.
    pub(crate) fn enter(&self, seq: usize) -> Entered<'_> {
        self.lock().insert(
            seq,
            Waited {
                status: None,
                since: Instant::now(),
            },
        );
        Entered { census: self, seq }
    }

    /// Who waits now.
    pub fn snapshot(&self) -> Snapshot {
        let waits = self.lock();
        let mut counts: BTreeMap<Option<&str>, usize> = BTreeMap::new();
        for w in waits.values() {
            *counts.entry(w.status.as_deref()).or_default() += 1;
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
            by_status,
            oldest,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Waited>> {
        self.waits.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A stop's place in the census, given back when its wait ends.
pub(crate) struct Entered<'a> {
    census: &'a Census,
    seq: usize,
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
        self.census.lock().remove(&self.seq);
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
        a.saw("RELEASE_RESOURCE_STARTED");
        b.saw("RELEASE_RESOURCE_STARTED");
        c.saw("INCRE_TRANSFER_STARTED");
        let snap = census.snapshot();
        assert_eq!(snap.waiting, 4);
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
        let snap = census.snapshot();
        assert_eq!(snap.waiting, 2);
        assert_eq!(
            snap.by_status[0],
            (Some("RELEASE_RESOURCE_STARTED".to_owned()), 1)
        );
    }
}
