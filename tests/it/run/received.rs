//! How many stops each job got, from the mock's own record: the one count every exactly-once
//! test judges by.
//!
//! `/__mock/jobs` lists, per job, every stop that reached the mock's model, single or in a
//! batch, whatever answer the client saw, or none (a lost answer, a reset after the stop was
//! applied, a kill): a second stop refused as "already ending" is there even when a fault
//! replaced its 400 with a 502 or a reset. Requests a fault turned away before the model (a
//! 429, a reset before, a 5xx burst) reached no job and are not there; they may be sent again.
//! Counting the answers the client saw (400s in the request log) would miss exactly the second
//! stops the faults hide.

use std::collections::BTreeMap;

use super::External;

/// One stop a job received: `(force, taken)`, `taken` false when the mock refused it (the job
/// was already ending or ended, or does not exist).
pub(crate) type Stop = (bool, bool);

/// A graceful stop the job took.
pub(crate) const TAKEN: Stop = (false, true);
/// A force stop the job took.
pub(crate) const FORCE_TAKEN: Stop = (true, true);
/// A graceful stop that reached the job and was refused.
pub(crate) const REFUSED: Stop = (false, false);
/// A force stop that reached the job and was refused.
pub(crate) const FORCE_REFUSED: Stop = (true, false);

/// The stops each job received, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received(BTreeMap<String, Vec<Stop>>);

impl External {
    /// The stops each job has received so far, from the mock's own record.
    pub(crate) fn received(&self) -> Received {
        let record = self.get("/__mock/jobs");
        let by_job = record["stops"]
            .as_object()
            .expect("`stops` in /__mock/jobs")
            .iter()
            .map(|(job, list)| {
                let stops = list
                    .as_array()
                    .expect("a list of stops")
                    .iter()
                    .map(|r| (r["force"] == true, r["taken"] == true))
                    .collect();
                (job.clone(), stops)
            })
            .collect();
        Received(by_job)
    }
}

impl Received {
    /// The stops `job` received, in arrival order.
    pub(crate) fn of(&self, job: &str) -> &[Stop] {
        self.0.get(job).map_or(&[], Vec::as_slice)
    }

    /// How many stops `job` received.
    pub(crate) fn count(&self, job: &str) -> usize {
        self.of(job).len()
    }

    /// How many stops reached any job.
    pub(crate) fn total(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }

    /// How many jobs received a stop.
    pub(crate) fn jobs(&self) -> usize {
        self.0.values().filter(|l| !l.is_empty()).count()
    }

    /// The jobs among `jobs` whose stops are not exactly `expected`, with what they got: empty
    /// when each received exactly those stops.
    pub(crate) fn other_than(
        &self,
        jobs: impl IntoIterator<Item = String>,
        expected: &[Stop],
    ) -> Vec<(String, Vec<Stop>)> {
        jobs.into_iter()
            .filter(|job| self.of(job) != expected)
            .map(|job| {
                let got = self.of(&job).to_vec();
                (job, got)
            })
            .collect()
    }
}
