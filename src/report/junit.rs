//! The JUnit report: one test suite per phase, one test case per stop; a failure carries what
//! was expected and what was observed.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::exec::{Outcome, Report};

/// Writes the JUnit report of a run of the runbook named `runbook`.
pub fn write<W: Write>(out: W, runbook: &str, report: &Report) -> io::Result<()> {
    let timings: HashMap<usize, u64> = report
        .timings
        .iter()
        .map(|t| (t.seq, t.duration_ms))
        .collect();
    let mut junit = quick_junit::Report::new(format!("stopbook: {runbook}"));
    let mut suites: Vec<TestSuite> = Vec::new();
    for r in &report.results {
        if suites.last().is_none_or(|s| s.name.as_str() != &*r.phase) {
            suites.push(TestSuite::new(r.phase.to_string()));
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
                status.set_message(r.reason.clone().unwrap_or_else(|| "failed".to_owned()));
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
