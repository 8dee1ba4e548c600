//! The JSON report (contract): runbook, plan_id, the run's context (version, runbook hash,
//! target, times), outcome, summary, results in plan order, and timings in a list of their own
//! so results compare across runs.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::Summary;
use super::context::{self, StopTimes, TargetInfo};
use super::view::View;
use crate::exec::history::WindowRecord;
use crate::exec::{RunOutcome, StopResult};

#[derive(Serialize)]
struct Document<'a> {
    runbook: &'a str,
    plan_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    approved_plan_id: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    rehearsal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    rehearsal_profile: Option<&'a str>,
    stopbook_version: &'a str,
    runbook_sha256: &'a str,
    target: &'a TargetInfo,
    started_at: &'a str,
    finished_at: &'a str,
    duration_ms: u64,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<&'a WindowRecord>,
    timings: Vec<StopTimes>,
}

/// A JSON report read back (by `verify` and `show`): the fields they need.
#[derive(Debug, Clone, Deserialize)]
pub struct ReadReport {
    /// The runbook's name.
    pub runbook: String,
    /// The plan's content hash.
    pub plan_id: String,
    /// The approved plan an accepted drift was run from (`run --plan --accept-drift`).
    #[serde(default)]
    pub approved_plan_id: Option<String>,
    /// Whether the run was a rehearsal (`run --plan --rehearse`).
    #[serde(default)]
    pub rehearsal: bool,
    /// The rehearsal's fault profile.
    #[serde(default)]
    pub rehearsal_profile: Option<String>,
    /// The sha256 of the runbook file.
    #[serde(default)]
    pub runbook_sha256: Option<String>,
    /// The shard a `--shard K/N` run ran (`K/N`): its report holds only that shard's stops.
    #[serde(default)]
    pub shard: Option<String>,
    /// Where the run went.
    #[serde(default)]
    pub target: Option<TargetInfo>,
    /// When the run began.
    #[serde(default)]
    pub started_at: Option<String>,
    /// When it ended.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// How long it took.
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// The run's verdict.
    pub outcome: crate::exec::RunOutcome,
    /// Its counts, as the report says them.
    #[serde(default)]
    pub summary: Option<Summary>,
    /// Why it stopped early, if it did.
    #[serde(default)]
    pub halted: Option<String>,
    /// The results, in plan order.
    pub results: Vec<StopResult>,
    /// Each stop's times.
    #[serde(default)]
    pub timings: Vec<StopTimes>,
    /// The window the report covers: its processes.
    #[serde(default)]
    pub window: Option<WindowRecord>,
}

/// Writes the JSON report of the run in `view`.
pub fn write<W: Write>(out: W, view: &View) -> io::Result<()> {
    let (ctx, report) = (view.ctx, view.report);
    let document = Document {
        runbook: &ctx.runbook,
        plan_id: &ctx.plan_id,
        approved_plan_id: ctx.approved_plan_id.as_deref(),
        rehearsal: ctx.rehearsal.is_some(),
        rehearsal_profile: ctx.rehearsal.as_deref(),
        stopbook_version: context::VERSION,
        runbook_sha256: &ctx.runbook_sha256,
        target: &ctx.target,
        started_at: &view.started_at,
        finished_at: &view.finished_at,
        duration_ms: view.duration_ms,
        outcome: report.outcome,
        summary: view.summary,
        halted: report.halted.as_deref(),
        shard: ctx.shard.map(|(k, n)| format!("{k}/{n}")),
        throttled: report.throttled,
        adapted_rate: report.adapted_rate.map(|r| (r * 10.0).round() / 10.0),
        results: &report.results,
        window: report.window.as_ref(),
        timings: context::stop_times(report),
    };
    let mut out = out;
    serde_json::to_writer_pretty(&mut out, &document).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
