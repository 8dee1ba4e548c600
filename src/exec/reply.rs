//! What an answer to a state-changing call means for sending it again.
//!
//! The rule of the spec's Semantics section, in one place: resend at once only what surely never
//! reached the backend (a connection that never opened, a 429 from the gateway); everything else
//! that may have reached it (a timeout, a reset after sending, any 5xx, an answer that is not
//! JSON, an odd status code) is an unknown outcome, resolved by reading the job's status.

use std::time::Duration;

use crate::api::client::Answer;
use crate::api::error::CallError;
use crate::check;

/// What one attempt of a stop came to.
#[derive(Debug)]
pub enum Reply {
    /// A JSON answer the server gave on purpose: judge it.
    Judged(Answer),
    /// Surely not taken: safe to send again after `pause` (a 429's `Retry-After`) or the
    /// backoff.
    Resend {
        why: String,
        pause: Option<Duration>,
    },
    /// It may have been taken: read the job's status before anything else.
    Unknown(String),
    /// 401: no request may start any more.
    AuthRefused(String),
    /// TLS or another failure that makes going on pointless; nothing was taken.
    Fatal(String),
}

/// Sorts one attempt's answer; `max_pause` caps a server's `Retry-After`.
pub fn classify(answer: Result<Answer, CallError>, max_pause: Duration) -> Reply {
    match answer {
        Ok(a) if a.http == 401 => {
            Reply::AuthRefused(format!("authentication refused: {}", check::describe(&a)))
        }
        Ok(a) if a.http == 429 => Reply::Resend {
            why: format!("throttled ({})", check::describe(&a)),
            pause: Some(a.retry_after.map_or(max_pause, |d| d.min(max_pause))),
        },
        Ok(a) if a.http >= 500 => {
            Reply::Unknown(format!("a server error ({})", check::describe(&a)))
        }
        Ok(a) if a.body.is_none() => {
            Reply::Unknown(format!("an answer that is not JSON (HTTP {})", a.http))
        }
        Ok(a) if !matches!(a.http, 200..=299 | 400..=499) => {
            Reply::Unknown(format!("an unexpected status ({})", check::describe(&a)))
        }
        Ok(a) => Reply::Judged(a),
        Err(CallError::NotSent(m)) => Reply::Resend {
            why: format!("not sent ({m})"),
            pause: None,
        },
        Err(CallError::Unknown(m)) => Reply::Unknown(m.detail),
        Err(CallError::Fatal(m)) => Reply::Fatal(m.detail),
    }
}

/// What kind of loss an answer that leaves the outcome unknown is, in a word or two for the
/// journal (`reset`, `timeout`, `5xx`, `cut`, …): read from the error's kind, never its text.
pub fn lost_cause(answer: &Result<Answer, CallError>) -> &'static str {
    use crate::api::error::AfterWrite;
    match answer {
        Ok(a) if a.http >= 500 => "5xx",
        Ok(a) if a.body.is_none() => "not JSON",
        Ok(_) => "an unexpected status",
        Err(CallError::Unknown(m)) => match m.at {
            AfterWrite::Reset => "reset",
            AfterWrite::ClosedWithoutNotify => "closed without close_notify",
            AfterWrite::Closed => "closed",
            AfterWrite::Timeout => "timeout",
            AfterWrite::CutBody => "cut",
            AfterWrite::TooLarge => "too large",
            AfterWrite::Tls => "TLS",
            AfterWrite::Other => "broken",
        },
        Err(_) => "not sent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(http: u16, body: Option<serde_json::Value>) -> Result<Answer, CallError> {
        Ok(Answer {
            http,
            body,
            retry_after: None,
            request_id: None,
        })
    }

    #[test]
    fn a_lost_answer_is_named_by_its_kind_not_its_text() {
        use crate::api::error::AfterWrite;
        assert_eq!(lost_cause(&answer(504, None)), "5xx");
        assert_eq!(lost_cause(&answer(200, None)), "not JSON");
        for (at, word) in [
            (AfterWrite::Reset, "reset"),
            (AfterWrite::Timeout, "timeout"),
            (AfterWrite::CutBody, "cut"),
        ] {
            let lost: Result<Answer, CallError> = Err(CallError::unknown(at, "anything at all"));
            assert_eq!(lost_cause(&lost), word);
        }
    }

    #[test]
    fn every_5xx_is_an_unknown_outcome_json_or_not() {
        for http in [500, 502, 503, 504, 599] {
            let body = json!({"error_code": "APIGW.0202", "error_msg": "timeout"});
            assert!(matches!(
                classify(answer(http, Some(body)), Duration::from_secs(1)),
                Reply::Unknown(_)
            ));
            assert!(matches!(
                classify(answer(http, None), Duration::from_secs(1)),
                Reply::Unknown(_)
            ));
        }
    }

    #[test]
    fn where_a_call_failed_decides_not_its_text() {
        use crate::api::error::{AfterWrite, BeforeWrite, Fatal};
        let pause = Duration::from_secs(1);
        // The text a TLS close without close_notify carries: it says "TLS", and is no TLS failure.
        let text = "peer closed connection without sending TLS close_notify";
        let closed = CallError::unknown(AfterWrite::ClosedWithoutNotify, text);
        assert!(matches!(classify(Err(closed), pause), Reply::Unknown(_)));
        let refused = CallError::not_sent(BeforeWrite::Refused, "TLS certificate");
        assert!(matches!(
            classify(Err(refused), pause),
            Reply::Resend { pause: None, .. }
        ));
        let untrusted = CallError::fatal(Fatal::Tls, "invalid peer certificate");
        assert!(matches!(classify(Err(untrusted), pause), Reply::Fatal(_)));
    }

    #[test]
    fn a_429_is_resent_after_its_retry_after_capped() {
        let throttled = Ok(Answer {
            http: 429,
            body: None,
            retry_after: Some(Duration::from_secs(u32::MAX as u64)),
            request_id: None,
        });
        match classify(throttled, Duration::from_secs(30)) {
            Reply::Resend { pause, .. } => assert_eq!(pause, Some(Duration::from_secs(30))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn odd_statuses_and_bodies_that_are_not_json_are_unknown() {
        for http in [100, 302, 600, 200, 400] {
            assert!(
                matches!(
                    classify(answer(http, None), Duration::from_secs(1)),
                    Reply::Unknown(_)
                ),
                "{http}"
            );
        }
        assert!(matches!(
            classify(answer(302, Some(json!({}))), Duration::from_secs(1)),
            Reply::Unknown(_)
        ));
        assert!(matches!(
            classify(
                answer(400, Some(json!({"error_code": "DRS.10000010"}))),
                Duration::from_secs(1)
            ),
            Reply::Judged(_)
        ));
        assert!(matches!(
            classify(answer(401, Some(json!({}))), Duration::from_secs(1)),
            Reply::AuthRefused(_)
        ));
    }
}
