//! The JUnit report: one test suite per phase, one test case per stop; a failure carries what
//! was expected and what was observed; every suite carries the run's context as properties.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::context::{self, RunContext};
use super::{failure_line, summary};
use crate::exec::{Outcome, Report};

/// The run's context as JUnit properties, the same on every suite.
fn properties(ctx: &RunContext, report: &Report) -> Vec<Property> {
    let s = summary(&report.results);
    let auth = serde_json::to_value(ctx.target.auth)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    [
        ("stopbook_version", context::VERSION.to_owned()),
        ("plan_id", ctx.plan_id.clone()),
        ("runbook_sha256", ctx.runbook_sha256.clone()),
        ("endpoint", ctx.target.shown_endpoint()),
        ("project_id", ctx.target.project_id.clone()),
        ("auth", auth),
        (
            "started_at",
            crate::timestamp::rfc3339_millis(report.started_at),
        ),
        (
            "finished_at",
            crate::timestamp::rfc3339_millis(report.finished_at),
        ),
        ("duration_ms", context::duration_ms(report).to_string()),
        ("outcome", report.outcome.as_str().to_owned()),
        ("forced", s.forced.to_string()),
        ("escalated", s.escalated.to_string()),
        ("retried", s.retried.to_string()),
        ("throttled", report.throttled.to_string()),
    ]
    .into_iter()
    .chain(
        ctx.approved_plan_id
            .clone()
            .map(|id| ("approved_plan_id", id)),
    )
    .map(|(k, v)| Property::new(k, v))
    .collect()
}

/// Writes the JUnit report of a run.
pub fn write<W: Write>(out: W, ctx: &RunContext, report: &Report) -> io::Result<()> {
    let runbook = &ctx.runbook;
    let timings: HashMap<usize, u64> = report
        .timings
        .iter()
        .map(|t| (t.seq, t.duration_ms))
        .collect();
    let mut junit = quick_junit::Report::new(format!("stopbook: {runbook}"));
    let mut suites: Vec<TestSuite> = Vec::new();
    for r in &report.results {
        if suites.last().is_none_or(|s| s.name.as_str() != &*r.phase) {
            let mut suite = TestSuite::new(r.phase.to_string());
            suite.add_properties(properties(ctx, report));
            suites.push(suite);
        }
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
        let name = match &r.label {
            Some(label) => format!("#{} {} ({label})", r.seq, r.job),
            None => format!("#{} {}", r.seq, r.job),
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(r.phase.to_string());
        if let Some(batch) = r.batch {
            // Which stops went out together, in batch mode.
            case.add_property(Property::new("batch", batch.to_string()));
        }
        if let Some(ms) = timings.get(&r.seq) {
            case.set_time(Duration::from_millis(*ms));
        }
        if let Some(suite) = suites.last_mut() {
            suite.add_test_case(case);
        }
    }
    junit.add_test_suites(suites);
    junit.serialize(out).map_err(io::Error::other)
}
