//! The journal: an append-only record of every stop, so an interrupted run resumes without
//! stopping anything twice.
//!
//! Each stop writes its intent before the request is sent (durably: `fsync` before sending),
//! `accepted` once the server took it, and its result at the end. Writes from all stops go
//! through one writer thread that commits them in groups, so a large run pays one `fsync` per
//! batch, not per line. A torn last line (a `kill -9` mid-write) is ignored on reading.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::StopResult;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    Run {
        plan_id: String,
        runbook: String,
    },
    Intent {
        seq: usize,
        job: String,
        force: bool,
    },
    Accepted {
        seq: usize,
        job: String,
    },
    Result {
        seq: usize,
        result: Box<StopResult>,
    },
}

/// What an earlier run left for each stop.
#[derive(Debug, Clone)]
pub enum Earlier {
    /// Finished: its result stands.
    Done(Box<StopResult>),
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
            Entry::Result { seq, result } => {
                earlier.insert(seq, Earlier::Done(result));
            }
        }
    }
    Ok(earlier)
}

/// Appends entries through a group-committing writer thread.
#[derive(Clone)]
pub struct Journal {
    sender: mpsc::UnboundedSender<(Entry, oneshot::Sender<Result<(), String>>)>,
}

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
            .write(Entry::Run {
                plan_id: plan_id.to_owned(),
                runbook: runbook.to_owned(),
            })
            .await?;
        Ok(journal)
    }

    /// Appends `entry` without waiting for the disk. For entries whose loss a resume survives:
    /// an intent alone makes the resumed run read the job's status before anything else.
    pub fn record(&self, entry: Entry) {
        let (done, _) = oneshot::channel();
        let _ = self.sender.send((entry, done));
    }

    /// Appends `entry` and returns once it is on disk.
    pub async fn write(&self, entry: Entry) -> Result<(), String> {
        let (done, written) = oneshot::channel();
        self.sender
            .send((entry, done))
            .map_err(|_| "the journal writer stopped".to_owned())?;
        written
            .await
            .map_err(|_| "the journal writer stopped".to_owned())?
    }
}

fn writer(
    file: File,
    path: PathBuf,
    mut receiver: mpsc::UnboundedReceiver<(Entry, oneshot::Sender<Result<(), String>>)>,
) {
    let mut out = BufWriter::new(file);
    while let Some(first) = receiver.blocking_recv() {
        let mut batch = vec![first];
        while let Ok(more) = receiver.try_recv() {
            batch.push(more);
        }
        let mut result = Ok(());
        for (entry, _) in &batch {
            let line = serde_json::to_string(entry).map_err(|e| e.to_string());
            result = result.and(line.and_then(|l| writeln!(out, "{l}").map_err(|e| e.to_string())));
        }
        result = result
            .and(out.flush().map_err(|e| e.to_string()))
            .and(out.get_ref().sync_data().map_err(|e| e.to_string()));
        let result =
            result.map_err(|e| format!("cannot write the journal `{}`: {e}", path.display()));
        for (_, done) in batch {
            let _ = done.send(result.clone());
        }
    }
}
