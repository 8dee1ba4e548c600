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
    mut out: W,
    endpoint: &str,
    verdicts: &[Verdict],
    subjects: &[(String, Vec<u8>)],
) -> io::Result<()> {
    let sha256 = |bytes: &[u8]| {
        ring::digest::digest(&ring::digest::SHA256, bytes)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut subject: Vec<serde_json::Value> = subjects
        .iter()
        .map(|(name, bytes)| serde_json::json!({"name": name, "digest": {"sha256": sha256(bytes)}}))
        .collect();
    if subject.is_empty() {
        let mut report = Vec::new();
        write_json(&mut report, endpoint, verdicts)?;
        subject.push(serde_json::json!({"name": "conformance-report.json", "digest": {"sha256": sha256(&report)}}));
    }
    let named = |o: Outcome| -> Vec<&str> {
        verdicts
            .iter()
            .filter(|v| v.outcome == o)
            .map(|v| v.id)
            .collect()
    };
    let (passed, failed, warned) = (
        named(Outcome::Pass),
        named(Outcome::Fail),
        named(Outcome::Skip),
    );
    let result = match (failed.is_empty(), warned.is_empty()) {
        (false, _) => "FAILED",
        (true, false) => "WARNED",
        (true, true) => "PASSED",
    };
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subject,
        "predicateType": "https://in-toto.io/attestation/test-result/v0.1",
        "predicate": {
            "result": result,
            "configuration": [{
                "name": "stopbook conform",
                "uri": endpoint,
                "annotations": {"stopbook_version": env!("CARGO_PKG_VERSION")},
            }],
            "passedTests": passed,
            "failedTests": failed,
            "warnedTests": warned,
        },
    });
    serde_json::to_writer_pretty(&mut out, &statement).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
