//! Intents written ahead of the sends, a window at a time.
//!
//! A stop may be sent only once its intent is on disk. Waiting for an `fsync` before each send
//! would make the disk the run's pace, so the scheduler declares the intents of the next window
//! of stops while the current window's requests go out: one `fsync` per window, and still no
//! send before its intent is durable. The price is paid only on resume: a declared but unsent
//! stop looks like one that may have been sent, so the resumed run reads its status first (for
//! at most two windows of stops).

use std::collections::VecDeque;

use super::journal::{self, Durable, Entry, Journal};
use crate::runbook::model::Stop;
use crate::runbook::values::{Per, Rate};

/// The fewest and the most stops a window holds.
const SMALLEST: usize = 8;
const LARGEST: usize = 256;

/// Stops per window: two rounds of the phase's concurrency, and no more than a second of
/// requests at the rate ceiling, so a resume has few statuses to read.
pub fn window(concurrency: u32, rate: Option<Rate>) -> usize {
    let rounds = 2 * concurrency as usize;
    let second = rate.map_or(usize::MAX, |r| match r.per {
        Per::Second => r.count as usize,
        Per::Minute => (r.count / 60) as usize,
    });
    rounds.min(second).clamp(SMALLEST, LARGEST)
}

/// One phase's intents, declared ahead of its sends.
pub struct IntentWindows {
    /// The seqs of the phase: `first..end`.
    first: usize,
    end: usize,
    window: usize,
    /// The next seq not yet looked at for declaring.
    cursor: usize,
    /// Declared windows not yet known to be on disk: (their first seq, the answer).
    pending: VecDeque<(usize, Durable)>,
}

impl IntentWindows {
    /// For the phase whose stops hold seqs `first..first + count`.
    pub fn new(first: usize, count: usize, window: usize) -> Self {
        IntentWindows {
            first,
            end: first + count,
            window: window.max(1),
            cursor: first,
            pending: VecDeque::new(),
        }
    }

    /// Returns once the intent of the stop at `seq` is on disk, with the window after it on
    /// its way. `stops` are the phase's; `sends` says whether the stop at a seq may be sent in
    /// this run (in the shard, not finished or accepted by an earlier run). Seqs come in plan
    /// order.
    pub async fn ready(
        &mut self,
        journal: &Journal,
        stops: &[Stop],
        sends: impl Fn(usize) -> bool,
        seq: usize,
    ) -> Result<(), journal::JournalError> {
        while self.cursor <= seq && self.cursor < self.end {
            self.declare(journal, stops, &sends);
        }
        if self.pending.iter().all(|(first, _)| *first <= seq) {
            self.declare(journal, stops, &sends);
        }
        while self.pending.front().is_some_and(|(first, _)| *first <= seq) {
            if let Some((_, durable)) = self.pending.pop_front() {
                journal::settled(durable).await?;
            }
        }
        Ok(())
    }

    /// Whether the intent of the stop at `seq` was handed to the journal.
    pub fn declared(&self, seq: usize) -> bool {
        seq < self.cursor
    }

    /// Hands the next window of intents to the journal.
    fn declare(&mut self, journal: &Journal, stops: &[Stop], sends: &impl Fn(usize) -> bool) {
        let mut entries = Vec::with_capacity(self.window);
        let mut first = None;
        while self.cursor < self.end && entries.len() < self.window {
            let seq = self.cursor;
            self.cursor += 1;
            if !sends(seq) {
                continue;
            }
            let stop = &stops[seq - self.first];
            first.get_or_insert(seq);
            entries.push(Entry::Intent {
                seq,
                job: stop.job,
                force: stop.settings.force,
            });
        }
        if let Some(first) = first {
            self.pending.push_back((first, journal.declare(entries)));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::drs::JobId;
    use crate::runbook::model::Settings;

    fn stops(count: usize) -> Vec<Stop> {
        (0..count)
            .map(|n| Stop {
                job: format!("{n:08}-0000-4000-8000-{n:012}")
                    .parse::<JobId>()
                    .unwrap(),
                label: None,
                name: None,
                settings: Arc::new(Settings::default()),
            })
            .collect()
    }

    /// The seqs whose intents the journal file holds.
    fn intents_on_disk(path: &std::path::Path) -> Vec<usize> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
            .filter_map(|e| match e {
                Entry::Intent { seq, .. } => Some(seq),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn an_intent_is_on_disk_before_ready_returns_and_at_most_two_windows_are_declared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::open(&path, "sha256:x", "test").await.unwrap();
        let stops = stops(40);
        // Seqs 11..=50; every third is someone else's (a shard, or done earlier).
        let sends = |seq: usize| !seq.is_multiple_of(3);
        let mut windows = IntentWindows::new(11, stops.len(), 8);
        for seq in (11..=50).filter(|s| sends(*s)) {
            windows.ready(&journal, &stops, sends, seq).await.unwrap();
            let on_disk = intents_on_disk(&path);
            assert!(
                on_disk.contains(&seq),
                "seq {seq} was ready before its intent was written"
            );
            // The next window is on its way, not necessarily written yet: wait for it.
            journal.sync().await.unwrap();
            let ahead = intents_on_disk(&path).iter().filter(|s| **s > seq).count();
            assert!(ahead <= 16, "{ahead} intents declared ahead of seq {seq}");
            if seq < 40 {
                assert!(ahead >= 1, "nothing declared ahead of seq {seq}");
            }
        }
        let mut on_disk = intents_on_disk(&path);
        on_disk.sort_unstable();
        let expected: Vec<usize> = (11..=50).filter(|s| sends(*s)).collect();
        assert_eq!(
            on_disk, expected,
            "each sendable stop declared exactly once"
        );
    }

    #[tokio::test]
    async fn a_journal_that_cannot_be_written_refuses_the_send() {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let refused = Journal::open(std::path::Path::new("/dev/full"), "sha256:x", "t").await;
        assert!(
            refused.is_err(),
            "the run header could not have been written"
        );
    }

    #[test]
    fn windows_follow_concurrency_and_the_rate() {
        assert_eq!(window(64, None), 128);
        assert_eq!(window(1, None), SMALLEST);
        assert_eq!(window(1000, None), LARGEST);
        assert_eq!(window(64, Some("20/s".parse().unwrap())), 20);
        assert_eq!(window(64, Some("60/m".parse().unwrap())), SMALLEST);
    }
}
