//! What one read of a job's status says, in one home: the pre-flight of `plan --live` and a
//! run's status reads (waits, settle windows, listings) both sort a job-detail answer into the
//! same [`Read`].

use crate::api::client::Answer;
use crate::check;
use crate::drs::codes;

/// One read of a job's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// The job's status.
    Status(String),
    /// 400 `DRS.10000010`: the server says the job does not exist.
    Missing,
    /// No request may start: authentication was refused (here or elsewhere in the run).
    Refused,
    /// The gateway throttled the read (429): it says nothing of the job.
    Throttled(String),
    /// The read failed, or its answer shows no status; reading changes nothing, so it may be
    /// tried again.
    Error(String),
}

impl Read {
    /// What a job-detail answer says of its job.
    pub fn of(answer: &Answer) -> Read {
        match answer.http {
            200 => match answer
                .body
                .as_ref()
                .and_then(|b| b.get("job")?.get("status")?.as_str())
            {
                Some(s) => Read::Status(s.to_owned()),
                None => Read::Error("the job detail has no job.status".to_owned()),
            },
            400 if answer.field("error_code") == Some(codes::JOB_NOT_FOUND) => Read::Missing,
            401 => Read::Refused,
            429 => Read::Throttled(check::describe(answer)),
            _ => Read::Error(check::describe(answer)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn answer(http: u16, body: serde_json::Value) -> Answer {
        Answer {
            http,
            body: Some(body),
            retry_after: None,
            request_id: None,
        }
    }

    #[test]
    fn a_detail_answer_reads_as_what_it_says_of_the_job() {
        let status = json!({"job": {"status": "INCRE_TRANSFER_STARTED"}});
        let cases = [
            (
                200,
                status,
                Read::Status("INCRE_TRANSFER_STARTED".to_owned()),
            ),
            (
                200,
                json!({"job": {}}),
                Read::Error("the job detail has no job.status".to_owned()),
            ),
            (
                400,
                json!({"error_code": codes::JOB_NOT_FOUND}),
                Read::Missing,
            ),
            (401, json!({}), Read::Refused),
            (429, json!({}), Read::Throttled("HTTP 429".to_owned())),
            (503, json!({}), Read::Error("HTTP 503".to_owned())),
        ];
        for (http, body, read) in cases {
            assert_eq!(Read::of(&answer(http, body)), read, "HTTP {http}");
        }
    }
}
