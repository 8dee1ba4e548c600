//! Judging answers: the documented body rules every answer must keep, whether a stop met the
//! outcome its runbook expects, and the rule catalogue the conformance suite checks endpoints
//! against. Failed checks are values, not errors.

pub mod conform;
pub(crate) mod fixtures;
pub mod rules;

use crate::api::client::Answer;
use crate::runbook::model::Expectation;
use crate::runbook::raw::ResultWord;

/// The documented rules an answer of the stop call breaks [T4]/[T5]: `error_code` exactly 12
/// characters, `error_msg` 1 to 512, and `status` present in a 200.
pub fn body_violations(answer: &Answer) -> Vec<String> {
    let mut found = Vec::new();
    let Some(body) = &answer.body else {
        if matches!(answer.http, 200 | 400) {
            found.push(format!("the {} answer is not JSON", answer.http));
        }
        return found;
    };
    let table = if answer.http == 200 { "T4" } else { "T5" };
    if let Some(code) = body.get("error_code") {
        match code.as_str() {
            Some(c) if c.chars().count() == 12 => {}
            Some(c) => found.push(format!(
                "[{table}.error_code] error_code `{c}` is {} characters, not 12",
                c.chars().count()
            )),
            None => found.push(format!("[{table}.error_code] error_code is not a string")),
        }
    } else if answer.http == 400 {
        found.push("[T5.error_code] the 400 answer has no error_code".to_owned());
    }
    if let Some(msg) = body.get("error_msg") {
        match msg.as_str().map(|m| m.chars().count()) {
            Some(1..=512) => {}
            Some(n) => found.push(format!(
                "[{table}.error_msg] error_msg is {n} characters, not 1 to 512"
            )),
            None => found.push(format!("[{table}.error_msg] error_msg is not a string")),
        }
    } else if answer.http == 400 {
        found.push("[T5.error_msg] the 400 answer has no error_msg".to_owned());
    }
    if answer.http == 200 && body.get("status").and_then(|s| s.as_str()).is_none() {
        found.push("[T4.status] the 200 answer has no status".to_owned());
    }
    found
}

/// Whether an answer is the one `expect` asks for (waiting aside); if not, what differed.
pub fn judge_answer(expect: &Expectation, answer: &Answer) -> Result<(), Mismatch> {
    answer_differences(expect, answer).map_err(Mismatch)
}

fn answer_differences(expect: &Expectation, answer: &Answer) -> Result<(), String> {
    let status = answer.field("status");
    match expect {
        Expectation::Stopped | Expectation::Accepted => {
            if answer.http == 200 && status == Some("success") {
                Ok(())
            } else {
                Err(format!(
                    "expected 200 with status success, got {}",
                    describe(answer)
                ))
            }
        }
        Expectation::Answer {
            http,
            error_code,
            error_msg_contains,
            result,
        } => {
            let mut differences = Vec::new();
            if answer.http != *http {
                differences.push(format!("HTTP {} instead of {http}", answer.http));
            }
            if let Some(code) = error_code
                && answer.field("error_code") != Some(code.as_str())
            {
                differences.push(format!(
                    "error_code {:?} instead of {code}",
                    answer.field("error_code")
                ));
            }
            if let Some(text) = error_msg_contains
                && !answer
                    .field("error_msg")
                    .is_some_and(|m| m.contains(text.as_str()))
            {
                differences.push(format!(
                    "error_msg {:?} does not contain {text:?}",
                    answer.field("error_msg")
                ));
            }
            if let Some(word) = result {
                let wanted = word.as_str();
                if status != Some(wanted) {
                    differences.push(format!("status {status:?} instead of {wanted}"));
                }
            }
            match differences.is_empty() {
                true => Ok(()),
                false => Err(format!(
                    "expected {}, got {}: {}",
                    expect,
                    describe(answer),
                    differences.join("; ")
                )),
            }
        }
    }
}

/// Why an observed outcome is not the expected one: recorded as the stop's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch(pub String);

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Mismatch {
    /// The reason, as recorded.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// `HTTP 400 DRS.10000010` or `HTTP 200 status success`, for messages.
pub fn describe(answer: &Answer) -> String {
    match (answer.field("error_code"), answer.field("status")) {
        (Some(code), _) => format!("HTTP {} {code}", answer.http),
        (None, Some(status)) => format!("HTTP {} status {status}", answer.http),
        _ if answer.body.is_none() => format!("HTTP {} (not JSON)", answer.http),
        _ => format!("HTTP {}", answer.http),
    }
}

/// Judges a stop whose answer was lost but whose job's status (`status`) showed the stop was
/// taken: that is what `stopped` and `accepted` ask for; an exact answer cannot be checked.
pub fn judge_taken(expect: &Expectation, status: &str) -> Result<(), Mismatch> {
    taken_differences(expect, status).map_err(Mismatch)
}

fn taken_differences(expect: &Expectation, status: &str) -> Result<(), String> {
    let accepted = matches!(
        expect,
        Expectation::Stopped
            | Expectation::Accepted
            | Expectation::Answer {
                http: 200,
                error_code: None,
                error_msg_contains: None,
                result: None | Some(ResultWord::Success),
            }
    );
    match accepted {
        true => Ok(()),
        false => Err(format!(
            "expected {}, but the answer was lost and the job's status ({status}) shows a stop was taken: outcome unknown",
            expect
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::runbook::raw::ResultWord;

    fn answer(http: u16, body: serde_json::Value) -> Answer {
        Answer {
            http,
            body: Some(body),
            retry_after: None,
            request_id: None,
        }
    }

    #[test]
    fn documented_body_rules() {
        assert!(body_violations(&answer(200, json!({"status": "success"}))).is_empty());
        assert!(
            body_violations(&answer(
                400,
                json!({"error_code": "DRS.10000010", "error_msg": "x"})
            ))
            .is_empty()
        );
        let short = body_violations(&answer(
            400,
            json!({"error_code": "DRS.M00202", "error_msg": "x"}),
        ));
        assert!(short[0].contains("10 characters"), "{short:?}");
        assert_eq!(
            body_violations(&answer(
                400,
                json!({"error_code": "DRS.10000010", "error_msg": ""})
            ))
            .len(),
            1
        );
        assert_eq!(body_violations(&answer(200, json!({"id": "x"}))).len(), 1);
        assert_eq!(
            body_violations(&Answer {
                http: 200,
                body: None,
                retry_after: None,
                request_id: None
            })
            .len(),
            1
        );
    }

    #[test]
    fn expectations() {
        let ok = answer(200, json!({"status": "success"}));
        let missing = answer(
            400,
            json!({"error_code": "DRS.10000010", "error_msg": "Job does not exist"}),
        );
        assert!(judge_answer(&Expectation::Stopped, &ok).is_ok());
        assert!(judge_answer(&Expectation::Accepted, &missing).is_err());
        let expect = Expectation::Answer {
            http: 400,
            error_code: Some("DRS.10000010".into()),
            error_msg_contains: Some("not exist".into()),
            result: None,
        };
        assert!(judge_answer(&expect, &missing).is_ok());
        let e = judge_answer(&expect, &ok).unwrap_err();
        assert!(e.0.contains("HTTP 200 instead of 400"), "{e}");
        let failed = Expectation::Answer {
            http: 200,
            error_code: None,
            error_msg_contains: None,
            result: Some(ResultWord::Failed),
        };
        assert!(judge_answer(&failed, &answer(200, json!({"status": "failed"}))).is_ok());
        assert!(judge_answer(&failed, &ok).is_err());
    }
}
