//! The conformance reports: JSON (`{"endpoint", "rules": [{"id", "outcome", "detail"}]}`, the
//! contract, with the evidence besides), JUnit (one test case per rule), the in-toto test-result
//! attestation (one test per rule), and the catalogue as JSON for tools.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::check::conform::{Outcome, Verdict};
use crate::check::rules::Rule;

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

/// Writes the catalogue as a JSON list: `{id, tag, meaning, reading, breaks_also}` per rule.
pub fn write_catalogue<W: Write>(mut out: W, catalogue: &[Rule]) -> io::Result<()> {
    let rules: Vec<serde_json::Value> = catalogue
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "tag": r.tag,
                "meaning": r.meaning,
                "reading": r.reading,
                "breaks_also": r.breaks_also,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut out, &rules).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// Writes an unsigned in-toto Statement v1 with the test-result predicate: one test per rule
/// (a skipped rule is a warned test). Its subjects are the report files written (`subjects`:
/// name and bytes); with none, the JSON report the run would have written.
pub fn write_attestation<W: Write>(
    out: W,
    endpoint: &str,
    verdicts: &[Verdict],
    subjects: &[(String, Vec<u8>)],
) -> io::Result<()> {
    use super::attest::{Tests, sha256_hex, write_statement};
    let mut subject: Vec<(String, String)> = subjects
        .iter()
        .map(|(name, bytes)| (name.clone(), sha256_hex(bytes)))
        .collect();
    if subject.is_empty() {
        let mut report = Vec::new();
        write_json(&mut report, endpoint, verdicts)?;
        subject.push(("conformance-report.json".to_owned(), sha256_hex(&report)));
    }
    let named = |o: Outcome| -> Vec<String> {
        verdicts
            .iter()
            .filter(|v| v.outcome == o)
            .map(|v| v.id.to_string())
            .collect()
    };
    let tests = Tests {
        passed: named(Outcome::Pass),
        failed: named(Outcome::Fail),
        warned: named(Outcome::Skip),
    };
    let configuration = serde_json::json!({
        "name": "stopbook conform",
        "uri": endpoint,
        "annotations": {"stopbook_version": env!("CARGO_PKG_VERSION")},
    });
    write_statement(out, &subject, configuration, &tests)
}
