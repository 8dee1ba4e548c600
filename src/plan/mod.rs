//! The plan: what a runbook will do, resolved and ordered, with a content hash.
//!
//! A reviewer approves the plan; `run --plan` later refuses a runbook that no longer plans to the
//! same `plan_id`. So the plan holds only what decides behaviour (no file paths, line numbers or
//! times), and the same runbook always gives the same bytes.
//!
//! `plan_id` is `sha256:` of the canonical JSON plan: the JSON form without `plan_id`, keys
//! sorted, no insignificant whitespace. Anyone can recompute it:
//! `jq -cS 'del(.plan_id)' plan.json | tr -d '\n' | sha256sum`.

pub(crate) mod approve;
pub(crate) mod document;
pub(crate) mod drift;
mod json;
mod markdown;
pub(crate) mod pin;

use std::io::{self, Write};
use std::sync::mpsc;

use crate::runbook::Runbook;

/// Whether the stop at `seq` (from 1) belongs to `shard` K of N: the stops whose place in the
/// plan is K modulo N (every stop when there is no shard).
pub fn in_shard(seq: usize, shard: Option<(usize, usize)>) -> bool {
    shard.is_none_or(|(k, n)| (seq - 1) % n == k - 1)
}

/// A runbook resolved into its ordered stops, identified by `plan_id`.
#[derive(Debug)]
pub struct Plan {
    /// The validated runbook the plan was made from; never changed, since `plan_id` covers it.
    pub runbook: Runbook,
    /// `sha256:` of the canonical JSON plan.
    pub plan_id: String,
}

/// Counts a reviewer checks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Stops sent with `is_force_stop: true`.
    pub forced: usize,
    /// Phases in the runbook.
    pub phases: usize,
    /// Stops over all phases.
    pub stops: usize,
}

impl Plan {
    /// Plans `runbook`, computing its `plan_id`.
    pub fn new(runbook: Runbook) -> Plan {
        let plan_id = plan_id_of(&runbook);
        Plan { runbook, plan_id }
    }

    /// The counts a reviewer checks first.
    pub fn totals(&self) -> Totals {
        totals(&self.runbook)
    }

    /// The plan as pretty JSON: `plan_id` first, then the canonical content.
    pub fn write_json<W: Write>(&self, out: W) -> io::Result<()> {
        json::write_pretty(self, out)
    }

    /// The plan as a JSON value, as `write_json` writes it (for comparing plans).
    pub fn to_json_value(&self) -> serde_json::Value {
        let mut bytes = Vec::new();
        let _ = json::write_pretty(self, &mut bytes);
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    /// The plan as a typed plan document, as a plan file holding it reads back.
    pub fn document(&self) -> document::PlanDocument {
        let mut bytes = Vec::new();
        json::write_pretty(self, &mut bytes).expect("writing to memory does not fail");
        serde_json::from_slice(&bytes).expect("a plan's own JSON reads back as a plan document")
    }

    /// The plan as a review-ready Markdown document.
    pub fn write_markdown<W: Write>(&self, mut out: W) -> io::Result<()> {
        markdown::write(self, &mut out)
    }
}

fn totals(runbook: &Runbook) -> Totals {
    Totals {
        forced: runbook.stops().filter(|(_, s)| s.settings.force).count(),
        phases: runbook.phases.len(),
        stops: runbook.stop_count(),
    }
}

/// `sha256:` of the canonical JSON. Serialising and hashing overlap: this thread writes the
/// canonical form in chunks while a helper thread hashes them (hashing is most of the cost of
/// planning a large runbook; ring's assembly does it in about half the time of a portable
/// implementation on CPUs without SHA instructions).
fn plan_id_of(runbook: &Runbook) -> String {
    let digest = std::thread::scope(|scope| {
        let (chunks, received) = mpsc::sync_channel::<Vec<u8>>(4);
        let hasher = scope.spawn(move || {
            let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
            for chunk in received {
                hasher.update(&chunk);
            }
            hasher.finish()
        });
        let mut out = ChunkWriter {
            chunk: Vec::with_capacity(CHUNK),
            chunks,
        };
        // Writing into memory cannot fail; a hasher that hung up is caught by `join`.
        let _ = json::write_canonical(runbook, &mut out);
        let _ = out.flush();
        drop(out);
        hasher.join().expect("the hashing thread does not panic")
    });
    format!("sha256:{}", hex::encode(digest))
}

/// Bytes handed to the hashing thread at a time.
const CHUNK: usize = 1 << 16;

/// Collects written bytes into chunks and hands each full chunk to the hashing thread.
struct ChunkWriter {
    chunk: Vec<u8>,
    chunks: mpsc::SyncSender<Vec<u8>>,
}

impl Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.chunk.extend_from_slice(buf);
        if self.chunk.len() >= CHUNK {
            self.flush()?;
        }
        Ok(buf.len())
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.write(buf).map(drop)
    }
    fn flush(&mut self) -> io::Result<()> {
        if !self.chunk.is_empty() {
            let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
            self.chunks
                .send(full)
                .map_err(|_| io::Error::other("the hashing thread stopped"))?;
        }
        Ok(())
    }
}
