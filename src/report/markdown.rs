//! The Markdown report, for the change record: a Mermaid timeline of the phases, verdict,
//! counts and the run's context first, then failures with their reasons, then a table per phase.

use std::io::{self, Write};

use super::context::{self, RunContext};
use super::{summary, timeline};
use crate::exec::{Outcome, Report, StopResult};
use crate::markdown::escape;

/// Writes the Markdown report of `report`.
pub fn write<W: Write>(mut out: W, ctx: &RunContext, report: &Report) -> io::Result<()> {
    let s = summary(&report.results);
    let outcome = report.outcome.as_str();
    writeln!(out, "# Run report: {}", escape(&ctx.runbook))?;
    writeln!(out)?;
    let gantt = timeline::gantt(report);
    if !gantt.is_empty() {
        writeln!(out, "{gantt}")?;
    }
    writeln!(out, "- **outcome:** {outcome}")?;
    writeln!(
        out,
        "- **stops:** {} in all: {} passed, {} failed, {} skipped; {} forced, {} escalated, {} retried",
        s.total, s.passed, s.failed, s.skipped, s.forced, s.escalated, s.retried
    )?;
    writeln!(out, "- **plan_id:** `{}`", ctx.plan_id)?;
    if let Some(approved) = &ctx.approved_plan_id {
        writeln!(
            out,
            "- **approved_plan_id:** `{approved}` (an accepted drift: the approved plan less the jobs that no longer matched)"
        )?;
    }
    if let Some(reason) = &report.halted {
        writeln!(out, "- **stopped early:** {}", escape(reason))?;
    }
    write_context(&mut out, ctx, report)?;
    write_failures(&mut out, report)?;
    write_phases(&mut out, report)
}

/// Who, where, when: the run's context as list items.
fn write_context(out: &mut impl Write, ctx: &RunContext, report: &Report) -> io::Result<()> {
    let t = &ctx.target;
    writeln!(
        out,
        "- **target:** {} (project `{}`, auth {})",
        escape(&t.shown_endpoint()),
        t.project_id,
        serde_json::to_value(t.auth)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "- **when:** {} to {} ({} ms)",
        crate::timestamp::rfc3339_millis(report.started_at),
        crate::timestamp::rfc3339_millis(report.finished_at),
        context::duration_ms(report)
    )?;
    if let Some(throttling) = context::throttling(report) {
        writeln!(out, "- **throttled:** {throttling}")?;
    }
    writeln!(out, "- **runbook_sha256:** `{}`", ctx.runbook_sha256)?;
    writeln!(out, "- **stopbook_version:** {}", context::VERSION)
}

/// Failures first, then answers that broke a documented rule.
fn write_failures(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let failures = report.failures();
    if !failures.is_empty() {
        writeln!(out)?;
        writeln!(out, "## Failures")?;
        writeln!(out)?;
        for r in failures {
            let label = r
                .label
                .as_deref()
                .map_or(String::new(), |l| format!(" {}", escape(l)));
            let msg = r
                .error_msg
                .as_deref()
                .map_or(String::new(), |m| format!("; error\\_msg: {}", escape(m)));
            writeln!(
                out,
                "- **#{} `{}`**{label} ({}), expected {}: {}{msg}",
                r.seq,
                r.job,
                escape(&r.phase),
                escape(&r.expected),
                escape(r.reason.as_deref().unwrap_or("failed"))
            )?;
        }
    }
    let violations: Vec<&StopResult> = report
        .results
        .iter()
        .filter(|r| !r.violations.is_empty())
        .collect();
    if !violations.is_empty() {
        writeln!(out)?;
        writeln!(out, "## Answers that break the documented rules")?;
        writeln!(out)?;
        for r in violations {
            writeln!(
                out,
                "- #{} `{}`: {}",
                r.seq,
                r.job,
                escape(&r.violations.join("; "))
            )?;
        }
    }
    Ok(())
}

/// A table per phase, every stop in plan order; in batch mode, with the call each went out in.
fn write_phases(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let mut phase: Option<&str> = None;
    let batched = report.results.iter().any(|r| r.batch.is_some());
    let call = if batched { " call |" } else { "" };
    for r in &report.results {
        if phase != Some(&*r.phase) {
            phase = Some(&r.phase);
            writeln!(out)?;
            writeln!(out, "## Phase: {}", escape(&r.phase))?;
            writeln!(out)?;
            writeln!(
                out,
                "| # |{call} job | label | force | expected | outcome | HTTP | error_code | final status | attempts | escalated |"
            )?;
            writeln!(out, "|{}", "---|".repeat(11 + usize::from(batched)))?;
        }
        write!(out, "| {} |", r.seq)?;
        if batched {
            write!(
                out,
                " {} |",
                r.batch.map(|b| b.to_string()).unwrap_or_default()
            )?;
        }
        let outcome = match r.outcome {
            Outcome::Failed => format!("**{}**", r.outcome.as_str()),
            other => other.as_str().to_owned(),
        };
        writeln!(
            out,
            " `{}` | {} | {} | {} | {outcome} | {} | {} | {} | {} | {} |",
            r.job,
            r.label.as_deref().map(escape).unwrap_or_default(),
            if r.force { "yes" } else { "no" },
            escape(&r.expected),
            r.http_status.map(|h| h.to_string()).unwrap_or_default(),
            r.error_code.as_deref().map(escape).unwrap_or_default(),
            r.final_status.as_deref().map(escape).unwrap_or_default(),
            r.attempts,
            if r.escalated { "yes" } else { "no" },
        )?;
    }
    Ok(())
}
