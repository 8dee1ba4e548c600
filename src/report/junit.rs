//! The JUnit report: one test suite per phase, one test case per stop; a failure carries what
//! was expected and what was observed; every suite carries the run's context as properties.

use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::context;
use super::failure_line;
use super::story;
use super::view::{Row, View};
use crate::exec::Outcome;

/// The run's context as JUnit properties, the same on every suite.
fn properties(view: &View) -> Vec<Property> {
    let (ctx, s) = (view.ctx, &view.summary);
    [
        ("stopbook_version", context::VERSION.to_owned()),
        ("plan_id", ctx.plan_id.clone()),
        ("runbook_sha256", ctx.runbook_sha256.clone()),
        ("endpoint", ctx.target.shown_endpoint()),
        ("project_id", ctx.target.project_id.clone()),
        ("auth", view.auth.to_owned()),
        ("started_at", view.started_at.clone()),
        ("finished_at", view.finished_at.clone()),
        ("duration_ms", view.duration_ms.to_string()),
        ("outcome", view.outcome.to_owned()),
        ("forced", s.forced.to_string()),
        ("escalated", s.escalated.to_string()),
        ("retried", s.retried.to_string()),
        ("throttled", view.report.throttled.to_string()),
    ]
    .into_iter()
    .chain(
        ctx.approved_plan_id
            .clone()
            .map(|id| ("approved_plan_id", id)),
    )
    .chain(
        ctx.rehearsal
            .clone()
            .into_iter()
            .flat_map(|p| [("rehearsal", "true".to_owned()), ("rehearsal_profile", p)]),
    )
    .map(|(k, v)| Property::new(k, v))
    .chain(processes(view))
    .collect()
}

/// The processes of the window, one property each (`window.process.1`, …).
fn processes(view: &View) -> Vec<Property> {
    let Some(window) = &view.report.window else {
        return Vec::new();
    };
    window
        .processes
        .iter()
        .enumerate()
        .map(|(i, p)| Property::new(format!("window.process.{}", i + 1), story::process_line(p)))
        .collect()
}

/// Writes the JUnit report of the run in `view`: a suite per phase.
pub fn write<W: Write>(out: W, view: &View) -> io::Result<()> {
    let mut junit = quick_junit::Report::new(format!("stopbook: {}", view.ctx.runbook));
    let properties = properties(view);
    let suites = view.phases.iter().map(|phase| {
        let mut suite = TestSuite::new(phase.name);
        suite.add_properties(properties.iter().cloned());
        suite.add_test_cases(phase.rows.iter().map(test_case));
        suite
    });
    junit.add_test_suites(suites);
    junit.serialize(out).map_err(io::Error::other)
}

/// One stop as a test case: what was expected and what was observed, when it failed.
fn test_case(row: &Row) -> TestCase {
    let r = row.result;
    let status = match r.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let observed = format!(
                "observed: http_status={} error_code={} final_status={} attempts={} escalated={}",
                r.http_status.map_or("none".to_owned(), |s| s.to_string()),
                r.error_code.as_deref().unwrap_or("none"),
                r.final_status.as_deref().unwrap_or("none"),
                r.attempts,
                r.escalated
            );
            status.set_message(failure_line(r));
            status.set_description(format!("expected: {}\n{observed}", r.expected));
            status
        }
        Outcome::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(r.reason.clone().unwrap_or_else(|| "skipped".to_owned()));
            status
        }
    };
    let name = match (&r.label, &r.name) {
        (Some(label), _) => format!("#{} {} ({label})", r.seq, r.job),
        (None, Some(name)) => format!("#{} {} ({name})", r.seq, r.job),
        (None, None) => format!("#{} {}", r.seq, r.job),
    };
    let mut case = TestCase::new(name, status);
    if story::worth_telling(r) {
        // The stop's events, for a CI page that shows a case's output.
        case.set_system_out(story::history_line(r));
    }
    case.set_classname(r.phase.to_string());
    if let Some(batch) = r.batch {
        // Which stops went out together, in batch mode.
        case.add_property(Property::new("batch", batch.to_string()));
    }
    if let Some(t) = row.timing {
        case.set_time(Duration::from_millis(t.duration_ms));
    }
    case
}
