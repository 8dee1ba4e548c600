//! The plan: what a runbook will do, resolved and ordered, with a content hash.
//!
//! A reviewer approves the plan; `run --plan` later refuses a runbook that no longer plans to the
//! same `plan_id`. So the plan holds only what decides behaviour (no file paths, line numbers or
//! times), and the same runbook always gives the same bytes.
//!
//! `plan_id` is `sha256:` of the canonical JSON plan: the JSON form without `plan_id`, keys
//! sorted, no insignificant whitespace. Anyone can recompute it:
//! `jq -cS 'del(.plan_id)' plan.json | tr -d '\n' | sha256sum`.

mod json;
mod markdown;

use std::io::{self, Write};

use sha2::{Digest, Sha256};

use crate::runbook::Runbook;

/// A runbook resolved into its ordered stops, identified by `plan_id`.
#[derive(Debug)]
pub struct Plan {
    pub runbook: Runbook,
    pub plan_id: String,
}

/// Counts a reviewer checks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    pub forced: usize,
    pub phases: usize,
    pub stops: usize,
}

impl Plan {
    pub fn new(runbook: Runbook) -> Plan {
        let mut hasher = HashWriter(Sha256::new());
        // Writing into a hasher cannot fail.
        let _ = json::write_canonical(&runbook, &mut hasher);
        let digest = hasher.0.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Plan {
            runbook,
            plan_id: format!("sha256:{hex}"),
        }
    }

    pub fn totals(&self) -> Totals {
        totals(&self.runbook)
    }

    /// The plan as pretty JSON: `plan_id` first, then the canonical content.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        json::write_pretty(self, out)
    }

    /// The plan as a review-ready Markdown document.
    pub fn write_markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        markdown::write(self, out)
    }
}

fn totals(runbook: &Runbook) -> Totals {
    Totals {
        forced: runbook.stops().filter(|(_, s)| s.settings.force).count(),
        phases: runbook.phases.len(),
        stops: runbook.stop_count(),
    }
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
