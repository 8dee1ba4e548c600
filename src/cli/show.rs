//! `stopbook show FILE`: a plan JSON or a JSON run report, back as Markdown, for a reviewer who
//! was handed only the JSON. A report is rebuilt and written by the same code as
//! `run --report-md`; a plan is rendered from its JSON.

use super::Refusal;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::Exit;
use super::args::ShowArgs;
use crate::exec::{Report, Timing};
use crate::report::context::{AuthKind, RunContext, TargetInfo};
use crate::report::json::ReadReport;

/// Runs `stopbook show` and returns its exit code.
pub fn run(args: &ShowArgs) -> Exit {
    match render(&args.file) {
        Ok(text) => {
            out!("{}", crate::output::printable_lines(text.trim_end()));
            Exit::Success
        }
        Err(Refusal { exit, message }) => {
            say!("{message}");
            exit
        }
    }
}

fn render(path: &Path) -> Result<String, Refusal> {
    let text = crate::input::read_text(path, crate::input::PLAN_OR_REPORT)
        .map_err(|e| format!("error: cannot read `{}`: {e}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("error: `{}` is not JSON: {e}", path.display()))?;
    if value.get("results").is_some() {
        let report: ReadReport = serde_json::from_value(value)
            .map_err(|e| format!("error: `{}` is not a run report: {e}", path.display()))?;
        return Ok(report_markdown(report));
    }
    if value.get("phases").is_some() && value.get("plan_id").is_some() {
        return Ok(super::show_plan::render(&value));
    }
    Err(format!(
        "error: `{}` is neither a plan JSON nor a JSON run report",
        path.display()
    )
    .into())
}

fn report_markdown(read: ReadReport) -> String {
    let started_at = read
        .started_at
        .as_deref()
        .and_then(crate::timestamp::parse_rfc3339)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    // The duration as written (times are kept to the millisecond, so ends less exactly).
    let finished_at = match read.duration_ms {
        Some(ms) => started_at + Duration::from_millis(ms),
        None => read
            .finished_at
            .as_deref()
            .and_then(crate::timestamp::parse_rfc3339)
            .unwrap_or(started_at),
    };
    let offset = |at: &str| {
        crate::timestamp::parse_rfc3339(at)
            .and_then(|t| t.duration_since(started_at).ok())
            .map(|d| d.as_millis() as u64)
    };
    let timings = read
        .timings
        .iter()
        .map(|t| Timing {
            seq: t.seq,
            started_ms: t.started_ms,
            duration_ms: t.duration_ms,
            accepted_ms: t.accepted_at.as_deref().and_then(offset),
            request_id: t.request_id.clone(),
        })
        .collect();
    let outcome = read.outcome;
    let report = Report {
        outcome,
        crashed: false,
        throttled: 0,
        adapted_rate: None,
        results: read.results,
        timings,
        halted: read.halted,
        started_at,
        finished_at,
        window: read.window,
    };
    let ctx = RunContext {
        runbook: read.runbook,
        plan_id: read.plan_id,
        approved_plan_id: read.approved_plan_id,
        rehearsal: read
            .rehearsal
            .then(|| read.rehearsal_profile.clone().unwrap_or_default()),
        runbook_sha256: read.runbook_sha256.unwrap_or_default(),
        target: read.target.unwrap_or(TargetInfo {
            endpoint: "(not recorded)".to_owned(),
            project_id: String::new(),
            auth: AuthKind::Embedded,
        }),
        shard: None,
    };
    let mut out = Vec::new();
    let view = crate::report::view::View::new(&ctx, &report);
    let _ = crate::report::markdown::write(&mut out, &view);
    String::from_utf8_lossy(&out).into_owned()
}
