//! The journal: an append-only record of every stop, so an interrupted run resumes without
//! stopping anything twice.
//!
//! A stop's `intent` is on disk (`fsync`ed) before its request is sent. The scheduler writes
//! intents a window of stops ahead (see [`super::intents`]), so a large run pays one `fsync` per
//! window, not per stop; an intent therefore means "may have been sent from here on", and a
//! resumed run reads the job's status before doing anything for it. `accepted` (when the job is
//! waited for) and the `result` follow without waiting for the disk: they reach the file in
//! order, a `kill -9` does not lose what was written, and losing them to a power cut costs only
//! status reads. All writes go through one writer thread that commits them in groups. A torn
//! last line (a crash mid-write) is ignored on reading.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::{Outcome, StopResult};
use crate::runbook::values::JobId;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    Run {
        plan_id: String,
        runbook: String,
    },
    Intent {
        seq: usize,
        job: JobId,
        force: bool,
    },
    Accepted {
        seq: usize,
        job: JobId,
    },
    Result {
        seq: usize,
        job: JobId,
        result: Finished,
    },
}

/// What a finished stop came to: the parts of its result that the plan cannot give again
/// (phase, job, force and expectation are the plan's, and are rebuilt from it on resume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub final_status: Option<String>,
    pub attempts: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub escalated: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub violations: Vec<String>,
}

impl Finished {
    pub fn of(result: &StopResult) -> Self {
        Finished {
            outcome: result.outcome,
            http_status: result.http_status,
            error_code: result.error_code.clone(),
            final_status: result.final_status.clone(),
            attempts: result.attempts,
            escalated: result.escalated,
            reason: result.reason.clone(),
            violations: result.violations.clone(),
        }
    }
}

/// What an earlier run left for each stop.
#[derive(Debug, Clone)]
pub enum Earlier {
    /// Finished: its result stands.
    Done(Box<Finished>),
    /// Accepted by the server: wait for it, never resend.
    Accepted,
    /// A request may have been sent: read the job's status before anything else.
    MaybeSent,
}

/// Reads a journal for `plan_id`: what each stop reached, by seq.
pub fn read(path: &Path, plan_id: &str) -> Result<HashMap<usize, Earlier>, String> {
    let file = File::open(path)
        .map_err(|e| format!("cannot read the journal `{}`: {e}", path.display()))?;
    let mut earlier = HashMap::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line =
            line.map_err(|e| format!("cannot read the journal `{}`: {e}", path.display()))?;
        let Ok(entry) = serde_json::from_str::<Entry>(&line) else {
            continue; // a line torn by a crash mid-write
        };
        match entry {
            Entry::Run { plan_id: id, .. } if id != plan_id => {
                return Err(format!(
                    "the journal `{}` (line {}) belongs to plan {id}, not {plan_id}: the runbook changed since",
                    path.display(),
                    n + 1
                ));
            }
            Entry::Run { .. } => {}
            Entry::Intent { seq, .. } => {
                earlier
                    .entry(seq)
                    .and_modify(|e| {
                        if !matches!(e, Earlier::Done(_) | Earlier::Accepted) {
                            *e = Earlier::MaybeSent;
                        }
                    })
                    .or_insert(Earlier::MaybeSent);
            }
            Entry::Accepted { seq, .. } => {
                earlier.insert(seq, Earlier::Accepted);
            }
            Entry::Result { seq, result, .. } => {
                earlier.insert(seq, Earlier::Done(Box::new(result)));
            }
        }
    }
    Ok(earlier)
}

/// How long the writer lets entries that nobody waits for gather before writing them.
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

/// What the writer thread is asked to do.
enum Job {
    /// Append, without waiting for the disk.
    Append(Entry),
    /// Append (possibly nothing), then `fsync` before answering.
    Durable(Vec<Entry>, oneshot::Sender<Result<(), String>>),
}

/// Appends entries through a group-committing writer thread.
#[derive(Clone)]
pub struct Journal {
    sender: mpsc::UnboundedSender<Job>,
}

/// Resolves once entries handed to [`Journal::declare`] are on disk.
pub type Durable = oneshot::Receiver<Result<(), String>>;

impl Journal {
    /// Opens `path` for appending (creating it and its folder) and writes the run header.
    pub async fn open(path: &Path, plan_id: &str, runbook: &str) -> Result<Self, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open the journal `{}`: {e}", path.display()))?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let path: PathBuf = path.to_owned();
        std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || writer(file, path, receiver))
            .map_err(|e| format!("cannot start the journal writer: {e}"))?;
        let journal = Journal { sender };
        journal
            .write(vec![Entry::Run {
                plan_id: plan_id.to_owned(),
                runbook: runbook.to_owned(),
            }])
            .await?;
        Ok(journal)
    }

    /// Appends `entry` without waiting for the disk: for entries whose loss a resume survives
    /// (an intent alone makes the resumed run read the job's status before anything else).
    pub fn record(&self, entry: Entry) {
        let _ = self.sender.send(Job::Append(entry));
    }

    /// Hands `entries` to the writer now; the answer says when they are on disk. Lets the
    /// caller go on while the `fsync` runs.
    pub fn declare(&self, entries: Vec<Entry>) -> Durable {
        let (done, durable) = oneshot::channel();
        if let Err(mpsc::error::SendError(Job::Durable(_, done))) =
            self.sender.send(Job::Durable(entries, done))
        {
            let _ = done.send(Err("the journal writer stopped".to_owned()));
        }
        durable
    }

    /// Appends `entries` and returns once they, and everything recorded before, are on disk.
    pub async fn write(&self, entries: Vec<Entry>) -> Result<(), String> {
        settled(self.declare(entries)).await
    }

    /// Returns once everything recorded so far is on disk.
    pub async fn sync(&self) -> Result<(), String> {
        self.write(Vec::new()).await
    }
}

/// What a [`Durable`] came to.
pub async fn settled(durable: Durable) -> Result<(), String> {
    durable
        .await
        .map_err(|_| "the journal writer stopped".to_owned())?
}

fn writer(file: File, path: PathBuf, mut receiver: mpsc::UnboundedReceiver<Job>) {
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    let mut line = Vec::with_capacity(512);
    let mut batch = Vec::new();
    let mut failed: Option<String> = None;
    while let Some(first) = receiver.blocking_recv() {
        batch.push(first);
        while let Ok(more) = receiver.try_recv() {
            batch.push(more);
        }
        let mut result = Ok(());
        let mut awaited = false;
        for job in &batch {
            let entries = match job {
                Job::Append(entry) => std::slice::from_ref(entry),
                Job::Durable(entries, _) => {
                    awaited = true;
                    entries.as_slice()
                }
            };
            for entry in entries {
                line.clear();
                let written = serde_json::to_writer(&mut line, entry)
                    .map_err(|e| e.to_string())
                    .and_then(|()| {
                        line.push(b'\n');
                        out.write_all(&line).map_err(|e| e.to_string())
                    });
                result = result.and(written);
            }
        }
        // Every line reaches the file at once, so a crash of this process loses none; only
        // what someone waits for is also forced to the disk.
        result = result.and(out.flush().map_err(|e| e.to_string()));
        if awaited {
            result = result.and(out.get_ref().sync_data().map_err(|e| e.to_string()));
        }
        // A failure sticks: whoever waits next learns that something was lost.
        if let Err(e) = result {
            failed.get_or_insert_with(|| {
                format!("cannot write the journal `{}`: {e}", path.display())
            });
        }
        let result = failed.clone().map_or(Ok(()), Err);
        for job in batch.drain(..) {
            if let Job::Durable(_, done) = job {
                let _ = done.send(result.clone());
            }
        }
        // With nobody waiting, let entries gather: one wake-up per linger, not per entry.
        if !awaited {
            std::thread::sleep(LINGER);
        }
    }
}
