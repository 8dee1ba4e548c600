//! The Markdown report, for the change record: a Mermaid timeline of the phases, verdict,
//! counts and the run's context first, then failures with their reasons, then a table per phase.

use std::io::{self, Write};

use super::context;
use super::timeline;
use super::view::{Row, View};
use crate::exec::{Outcome, StopResult};
use crate::markdown::escape;

/// Writes the Markdown report of the run in `view`.
pub fn write<W: Write>(mut out: W, view: &View) -> io::Result<()> {
    let (ctx, s) = (view.ctx, &view.summary);
    writeln!(out, "# Run report: {}", escape(&ctx.runbook))?;
    writeln!(out)?;
    let gantt = timeline::gantt(view);
    if !gantt.is_empty() {
        writeln!(out, "{gantt}")?;
    }
    writeln!(out, "- **outcome:** {}", view.outcome)?;
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
    if let Some(reason) = &view.report.halted {
        writeln!(out, "- **stopped early:** {}", escape(reason))?;
    }
    write_context(&mut out, view)?;
    write_failures(&mut out, view)?;
    write_phases(&mut out, view)
}

/// Who, where, when: the run's context as list items.
fn write_context(out: &mut impl Write, view: &View) -> io::Result<()> {
    let t = &view.ctx.target;
    writeln!(
        out,
        "- **target:** {} (project `{}`, auth {})",
        escape(&t.shown_endpoint()),
        t.project_id,
        view.auth
    )?;
    writeln!(
        out,
        "- **when:** {} to {} ({} ms)",
        view.started_at, view.finished_at, view.duration_ms
    )?;
    if let Some(throttling) = &view.throttling {
        writeln!(out, "- **throttled:** {throttling}")?;
    }
    writeln!(out, "- **runbook_sha256:** `{}`", view.ctx.runbook_sha256)?;
    writeln!(out, "- **stopbook_version:** {}", context::VERSION)
}

/// Failures first, then answers that broke a documented rule.
fn write_failures(out: &mut impl Write, view: &View) -> io::Result<()> {
    if !view.failures.is_empty() {
        writeln!(out)?;
        writeln!(out, "## Failures")?;
        writeln!(out)?;
        for Row { result: r, .. } in &view.failures {
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
    let violations: Vec<&StopResult> = view
        .rows()
        .map(|row| row.result)
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
fn write_phases(out: &mut impl Write, view: &View) -> io::Result<()> {
    let batched = view.batched;
    let call = if batched { " call |" } else { "" };
    for phase in &view.phases {
        writeln!(out)?;
        writeln!(out, "## Phase: {}", escape(phase.name))?;
        writeln!(out)?;
        writeln!(
            out,
            "| # |{call} job | label | force | expected | outcome | HTTP | error_code | final status | attempts | escalated |"
        )?;
        writeln!(out, "|{}", "---|".repeat(11 + usize::from(batched)))?;
        for row in &phase.rows {
            write_row(out, row.result, batched)?;
        }
    }
    Ok(())
}

/// One stop's row; `batched` adds the batch-stop call it went out in.
fn write_row(out: &mut impl Write, r: &StopResult, batched: bool) -> io::Result<()> {
    write!(out, "| {} |", r.seq)?;
    if batched {
        write!(
            out,
            " {} |",
            r.batch.map(|b| b.to_string()).unwrap_or_default()
        )?;
    }
    let word = r.outcome.as_str();
    let outcome = if r.outcome == Outcome::Failed {
        format!("**{word}**")
    } else {
        word.to_owned()
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
    )
}
