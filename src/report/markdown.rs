//! The Markdown report, for the change record: a Mermaid timeline of the window's processes and
//! phases, verdict, counts and the context first, then the processes of the window, failures
//! with their reasons, the lost answers and how each was settled, the stories of the stops that
//! took more than one request, then a table per phase.

use std::io::{self, Write};

use super::context;
use super::story;
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
    if let Some(profile) = &ctx.rehearsal {
        writeln!(
            out,
            "- **rehearsal:** yes: the approved plan on the embedded mock seeded from it, fault profile `{}`; nothing was sent to the runbook's target",
            escape(profile)
        )?;
    }
    if let Some(reason) = &view.report.halted {
        writeln!(out, "- **stopped early:** {}", escape(reason))?;
    }
    write_context(&mut out, view)?;
    write_processes(&mut out, view)?;
    write_failures(&mut out, view)?;
    write_stories(&mut out, view)?;
    write_phases(&mut out, view)
}

/// The processes of the window, in the order they began.
fn write_processes(out: &mut impl Write, view: &View) -> io::Result<()> {
    let Some(window) = &view.report.window else {
        return Ok(());
    };
    writeln!(out)?;
    writeln!(
        out,
        "## Window: {}",
        story::count(window.processes.len(), "process")
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| # | command | who | started | finished | exit | outcome |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for (i, p) in window.processes.iter().enumerate() {
        writeln!(
            out,
            "| {} | `{}` | {}@{} | {} | {} | {} | {} |",
            i + 1,
            p.command,
            escape(&p.user),
            escape(&p.host),
            p.started_at,
            p.finished_at.map(|t| t.to_string()).unwrap_or_default(),
            p.exit.map_or("none: killed".to_owned(), |e| e.to_string()),
            p.outcome.as_deref().unwrap_or("")
        )?;
    }
    write_steering(out, window)
}

/// What was done to the window from outside (`ctl`, gates), and the notifications that were
/// not delivered.
fn write_steering(
    out: &mut impl Write,
    window: &crate::exec::history::WindowRecord,
) -> io::Result<()> {
    if !window.steering.is_empty() {
        writeln!(out)?;
        writeln!(out, "Steered from outside the run:")?;
        writeln!(out)?;
        for s in &window.steering {
            let what = match &s.phase {
                Some(phase) => format!("the gate before phase `{phase}` let pass"),
                None => format!("`ctl {}`", s.action),
            };
            writeln!(out, "- {}: {what} by {}", s.at, escape(&s.by))?;
        }
    }
    if !window.undelivered.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Notifications not delivered ({}):",
            window.undelivered.len()
        )?;
        writeln!(out)?;
        for u in &window.undelivered {
            writeln!(out, "- `{}` to {}: {}", u.event, u.url, escape(&u.error))?;
        }
    }
    Ok(())
}

/// The lost answers and how each was settled, then the events of every stop that took more
/// than one request, escalated, was interrupted or failed (the first [`story::MAX_STORIES`]).
fn write_stories(out: &mut impl Write, view: &View) -> io::Result<()> {
    let (lost, told) = story::told(view);
    if !lost.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "## Lost answers ({})",
            story::count(lost.len(), "stop")
        )?;
        writeln!(out)?;
        for r in lost.iter().take(story::MAX_STORIES) {
            for line in story::lost_answers(r) {
                writeln!(out, "- #{} {}: {}", r.seq, who(r), escape(&line))?;
            }
        }
        more(out, lost.len())?;
    }
    if !told.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "## Stop histories ({})",
            story::count(told.len(), "stop")
        )?;
        writeln!(out)?;
        for r in told.iter().take(story::MAX_STORIES) {
            writeln!(
                out,
                "- #{} {}: {}",
                r.seq,
                who(r),
                escape(&story::history_line(r))
            )?;
        }
        more(out, told.len())?;
    }
    Ok(())
}

fn more(out: &mut impl Write, count: usize) -> io::Result<()> {
    if count > story::MAX_STORIES {
        writeln!(
            out,
            "- … and {} more: see the JSON report's `history`",
            count - story::MAX_STORIES
        )?;
    }
    Ok(())
}

/// The stop's job, with the task's name when known.
fn who(r: &StopResult) -> String {
    match &r.name {
        Some(name) => format!("`{}` ({})", r.job, escape(name)),
        None => format!("`{}`", r.job),
    }
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
                "- **#{} {}**{label} ({}), expected {}: {}{msg}",
                r.seq,
                who(r),
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
            "| # |{call} job | name | label | force | expected | outcome | HTTP | error_code | final status | attempts | escalated |"
        )?;
        writeln!(out, "|{}", "---|".repeat(12 + usize::from(batched)))?;
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
        " `{}` | {} | {} | {} | {} | {outcome} | {} | {} | {} | {} | {} |",
        r.job,
        r.name.as_deref().map(escape).unwrap_or_default(),
        r.label.as_deref().map(escape).unwrap_or_default(),
        if r.force { "yes" } else { "no" },
        escape(&r.expected),
        story::http_cell(r),
        r.error_code.as_deref().map(escape).unwrap_or_default(),
        r.final_status.as_deref().map(escape).unwrap_or_default(),
        r.attempts,
        if r.escalated { "yes" } else { "no" },
    )
}
