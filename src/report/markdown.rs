//! The Markdown report, for the change record: verdict and counts first, then failures with
//! their reasons, then a table per phase.

use std::io::{self, Write};

use super::summary;
use crate::exec::{Outcome, Report, StopResult};
use crate::markdown::escape;

/// Writes the Markdown report of `report`.
pub fn write<W: Write>(
    mut out: W,
    runbook: &str,
    plan_id: &str,
    report: &Report,
) -> io::Result<()> {
    let s = summary(&report.results);
    let outcome = report.outcome.as_str();
    writeln!(out, "# Run report: {}", escape(runbook))?;
    writeln!(out)?;
    writeln!(out, "- **outcome:** {outcome}")?;
    writeln!(
        out,
        "- **stops:** {} in all: {} passed, {} failed, {} skipped",
        s.total, s.passed, s.failed, s.skipped
    )?;
    writeln!(out, "- **plan_id:** `{plan_id}`")?;
    if let Some(reason) = &report.halted {
        writeln!(out, "- **stopped early:** {}", escape(reason))?;
    }
    write_failures(&mut out, report)?;
    write_phases(&mut out, report)
}

/// Failures first, then answers that broke a documented rule.
fn write_failures(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let failures = report.failures();
    if !failures.is_empty() {
        writeln!(out)?;
        writeln!(out, "## Failures")?;
        writeln!(out)?;
        for r in failures {
            writeln!(
                out,
                "- **#{} `{}`** ({}), expected {}: {}",
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

/// A table per phase, every stop in plan order.
fn write_phases(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let mut phase: Option<&str> = None;
    for r in &report.results {
        if phase != Some(&*r.phase) {
            phase = Some(&r.phase);
            writeln!(out)?;
            writeln!(out, "## Phase: {}", escape(&r.phase))?;
            writeln!(out)?;
            writeln!(
                out,
                "| # | job | label | force | expected | outcome | HTTP | error_code | final status | attempts | escalated |"
            )?;
            writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|")?;
        }
        let outcome = match r.outcome {
            Outcome::Passed => "passed",
            Outcome::Failed => "**failed**",
            Outcome::Skipped => "skipped",
        };
        writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {outcome} | {} | {} | {} | {} | {} |",
            r.seq,
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
