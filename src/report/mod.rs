//! Turning a run into what people read: live progress, the closing summary, and the JSON, JUnit,
//! Markdown and HTML reports, each rendered from one [`view::View`] of the run. Reports are
//! written atomically, also when a run aborts or is interrupted.

pub mod attest;
pub mod conformance;
pub mod context;
pub mod events;
pub mod format;
pub mod html;
mod html_window;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod progress;
pub mod story;
pub mod timeline;
pub mod verify;
pub mod view;
pub mod window;

use crate::exec::{Outcome, Report, StopResult};

/// Counts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Stops selected to run.
    pub total: usize,
    /// Stops that had the outcome expected.
    pub passed: usize,
    /// Stops that did not.
    pub failed: usize,
    /// Stops not started.
    pub skipped: usize,
    /// Stops sent as force stops.
    pub forced: usize,
    /// Stops force-stopped after they did not end in time.
    pub escalated: usize,
    /// Stops that took more than one request.
    pub retried: usize,
}

/// Counts `results` by outcome.
pub fn summary(results: &[StopResult]) -> Summary {
    let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
    Summary {
        total: results.len(),
        passed: count(Outcome::Passed),
        failed: count(Outcome::Failed),
        skipped: count(Outcome::Skipped),
        forced: results
            .iter()
            .filter(|r| r.force && r.outcome != Outcome::Skipped)
            .count(),
        escalated: results.iter().filter(|r| r.escalated).count(),
        retried: results.iter().filter(|r| r.attempts > 1).count(),
    }
}

/// The closing lines on the terminal: failures first, then the counts and the verdict.
pub fn closing(report: &Report) -> String {
    let mut out = String::new();
    let failures = report.failures();
    if !failures.is_empty() {
        out.push_str(&format!("failed stops ({}):\n", failures.len()));
        for r in failures.iter().take(20) {
            out.push_str(&format!("  {}\n", failure_line(r)));
        }
        if failures.len() > 20 {
            out.push_str(&format!(
                "  … and {} more (see the reports)\n",
                failures.len() - 20
            ));
        }
    }
    // An interrupt was announced when it came, and the outcome line says it again: the reason
    // would be a third time.
    if let Some(reason) = &report.halted
        && report.outcome != crate::exec::RunOutcome::Interrupted
    {
        out.push_str(&format!("stopped early: {reason}\n"));
    }
    let s = summary(&report.results);
    let outcome = report.outcome.as_str();
    let stops = if s.total == 1 { "stop" } else { "stops" };
    out.push_str(&format!(
        "{outcome}: {} {stops}, {} passed, {} failed, {} skipped\n",
        s.total, s.passed, s.failed, s.skipped
    ));
    if s.skipped > 0 {
        out.push_str(&skipped_line(&report.results));
    }
    if report.throttled > 0 {
        let rate = report.adapted_rate.map_or(String::new(), |r| {
            format!("; the run adapted to {r:.1} requests/s")
        });
        out.push_str(&format!(
            "  throttled: {} answer{} 429{rate}\n",
            report.throttled,
            if report.throttled == 1 {
                " was"
            } else {
                "s were"
            }
        ));
    }
    // A server's `error_msg` is quoted: shown, never obeyed, by the terminal.
    crate::output::printable_lines(&out)
}

/// One failed stop in a line: seq, job, label, phase, reason and the answer's `error_msg`.
pub fn failure_line(r: &StopResult) -> String {
    let label = r
        .label
        .as_deref()
        .map_or(String::new(), |l| format!(" ({l})"));
    let msg = r
        .error_msg
        .as_deref()
        .map_or(String::new(), |m| format!(" [error_msg: {m}]"));
    let name = r
        .name
        .as_deref()
        .filter(|_| r.label.is_none())
        .map_or(String::new(), |n| format!(" ({n})"));
    format!(
        "#{} {}{label}{name} [{}]: {}{msg}",
        r.seq,
        r.job,
        r.phase,
        r.reason.as_deref().unwrap_or("failed")
    )
}

/// What the skipped stops are: accepted and not yet ended, sent with an unknown outcome, or
/// never sent (never started, or every request refused unread, as a 429 is). Only the first
/// two may have reached the server.
fn skipped_line(results: &[StopResult]) -> String {
    let skipped = || results.iter().filter(|r| r.outcome == Outcome::Skipped);
    let awaiting = skipped().filter(|r| r.awaiting).count();
    let unknown = skipped()
        .filter(|r| !r.awaiting && !r.unsent && r.attempts > 0)
        .count();
    let never_sent = skipped().count() - awaiting - unknown;
    format!(
        "  skipped: {awaiting} accepted and not yet ended, {unknown} sent with the outcome not yet known, {never_sent} never sent\n"
    )
}
