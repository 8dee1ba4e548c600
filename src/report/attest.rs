//! Unsigned in-toto Statements v1 with the test-result predicate, for `run --attest` and
//! `conform --attest`: what was checked (subjects, by sha256), how it was configured, and which
//! tests passed, failed or were warned about. The README shows how to sign one with cosign.

use std::io::{self, Write};

/// The predicate type of a test result.
pub const TEST_RESULT: &str = "https://in-toto.io/attestation/test-result/v0.1";

/// The tests of a statement, by name.
#[derive(Debug, Default)]
pub struct Tests {
    /// Tests that passed.
    pub passed: Vec<String>,
    /// Tests that failed.
    pub failed: Vec<String>,
    /// Tests neither passed nor failed (skipped).
    pub warned: Vec<String>,
}

pub use super::context::sha256_hex;

/// Writes the statement: `subjects` as (name, hex sha256), one `configuration` entry.
pub fn write_statement<W: Write>(
    mut out: W,
    subjects: &[(String, String)],
    configuration: serde_json::Value,
    tests: &Tests,
) -> io::Result<()> {
    let subject: Vec<serde_json::Value> = subjects
        .iter()
        .map(|(name, digest)| serde_json::json!({"name": name, "digest": {"sha256": digest}}))
        .collect();
    let result = match (tests.failed.is_empty(), tests.warned.is_empty()) {
        (false, _) => "FAILED",
        (true, false) => "WARNED",
        (true, true) => "PASSED",
    };
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subject,
        "predicateType": TEST_RESULT,
        "predicate": {
            "result": result,
            "configuration": [configuration],
            "passedTests": tests.passed,
            "failedTests": tests.failed,
            "warnedTests": tests.warned,
        },
    });
    serde_json::to_writer_pretty(&mut out, &statement).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
