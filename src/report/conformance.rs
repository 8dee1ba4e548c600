//! The conformance reports: JSON (`{"endpoint", "rules": [{"id", "outcome", "detail"}]}`, the
//! contract, with the evidence besides) and JUnit (one test case per rule).

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::check::conform::{Outcome, Verdict};

/// Writes the JSON conformance report of `endpoint`: one entry per rule with its evidence.
pub fn write_json<W: Write>(mut out: W, endpoint: &str, verdicts: &[Verdict]) -> io::Result<()> {
    #[derive(Serialize)]
    struct Document<'a> {
        endpoint: &'a str,
        rules: &'a [Verdict],
    }
    serde_json::to_writer_pretty(
        &mut out,
        &Document {
            endpoint,
            rules: verdicts,
        },
    )
    .map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// Writes the JUnit conformance report of `endpoint`: one test case per rule.
pub fn write_junit<W: Write>(out: W, endpoint: &str, verdicts: &[Verdict]) -> io::Result<()> {
    let mut report = quick_junit::Report::new("stopbook conform");
    let mut suite = TestSuite::new(format!("conformance of {endpoint}"));
    for v in verdicts {
        let status = match v.outcome {
            Outcome::Pass => TestCaseStatus::success(),
            Outcome::Skip => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(v.detail.clone());
                status
            }
            Outcome::Fail => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(format!("{} {}: {}", v.id, v.tag, v.detail));
                let evidence = format!(
                    "request: {}\nanswer: {}",
                    v.request.as_deref().unwrap_or("(none)"),
                    v.answer.as_deref().unwrap_or("(none)")
                );
                status.set_description(evidence);
                status
            }
        };
        let mut case = TestCase::new(format!("{} {}", v.id, v.tag), status);
        case.set_classname("conformance");
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report.serialize(out).map_err(io::Error::other)
}
