//! The JSON report (contract): runbook, plan_id, outcome, summary, results in plan order, and
//! timings in a list of their own so results compare across runs.

use std::io::{self, Write};

use serde::Serialize;

use super::{Summary, summary};
use crate::exec::{Report, RunOutcome, StopResult, Timing};

#[derive(Serialize)]
struct Document<'a> {
    runbook: &'a str,
    plan_id: &'a str,
    outcome: RunOutcome,
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    halted: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,
    /// Answers that were 429 (throttled), stops and status reads together.
    throttled: u64,
    /// The request rate the run adapted to after 429s, in requests a second.
    #[serde(skip_serializing_if = "Option::is_none")]
    adapted_rate: Option<f64>,
    results: &'a [StopResult],
    timings: &'a [Timing],
}

/// Writes the JSON report of a run: `runbook` is its name, `shard` the `--shard` run, if any.
pub fn write<W: Write>(
    out: W,
    runbook: &str,
    plan_id: &str,
    shard: Option<(usize, usize)>,
    report: &Report,
) -> io::Result<()> {
    let document = Document {
        runbook,
        plan_id,
        outcome: report.outcome,
        summary: summary(&report.results),
        halted: report.halted.as_deref(),
        shard: shard.map(|(k, n)| format!("{k}/{n}")),
        throttled: report.throttled,
        adapted_rate: report.adapted_rate.map(|r| (r * 10.0).round() / 10.0),
        results: &report.results,
        timings: &report.timings,
    };
    let mut out = out;
    serde_json::to_writer_pretty(&mut out, &document).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
