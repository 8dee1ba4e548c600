//! Reading live state before anything is stopped: a phase's `select` resolved against the target
//! (ListJobs pages and the tag-filter call), and the pre-flight of `plan --live` (every planned
//! job's status read, a verdict per stop). Nothing here sends a stop.
//!
//! ```text
//! Runbook (selects unresolved) ─select::resolve─▶ Runbook (selected stops appended) ─▶ Plan
//! Plan ─preflight::check─▶ one Check per stop (live status, verdict, warnings) ─▶ Markdown / JSON
//! ```
//!
//! Reads are GETs (and the tag filter's POST, which changes nothing), so they are retried after
//! a 429, a 5xx or a lost answer, within the runbook's concurrency and rate.

pub mod detail;
pub(crate) mod listing;
pub(crate) mod pace;
pub mod preflight;
pub mod select;

use crate::api::client::Answer;
use crate::api::error::CallError;
use crate::retry::{Cancel, Retrying};
use crate::runbook::model::Retry;

pub use pace::Pace;

/// Why live state could not be read: the endpoint or the credentials failed (exit 3), or what
/// it answered cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    /// 401: the credentials were refused.
    #[error("the credentials were refused (HTTP 401{})", code_suffix(.0))]
    AuthRefused(Option<String>),
    /// The call failed after every retry, or was refused.
    #[error("{call} failed: {why}")]
    Failed {
        /// Which call.
        call: String,
        /// What happened.
        why: String,
    },
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_ref().map(|c| format!(" {c}")).unwrap_or_default()
}

/// Sends `call` until it is answered with something other than 429, 5xx or a 200 that is not
/// JSON (a cut-off or garbled answer: lost, so read again), within the runbook's `retry` (its
/// attempts and its waits, [`Retrying`]: a GET is safe to send again), paced
/// by `pace`; a 401 is final.
pub(crate) async fn read<F, Fut>(
    pace: &Pace,
    retry: &Retry,
    what: &str,
    call: F,
) -> Result<Answer, LiveError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Answer, CallError>>,
{
    // No read of live state runs under a signal handler (they come before a run installs one,
    // and one installed here would leave the terminal's question deaf to Ctrl-C): SIGINT's
    // default action ends the process, so these sleeps need no interrupt of their own.
    let mut retrying = Retrying::new(retry, Cancel::never());
    let mut attempt = 0;
    loop {
        attempt += 1;
        pace.ready().await;
        let answer = call().await;
        let (last, told) = match answer {
            Ok(a) if a.http == 401 => {
                return Err(LiveError::AuthRefused(
                    a.field("error_code").map(str::to_owned),
                ));
            }
            Ok(a) if a.http == 200 && a.body.is_none() => (
                "a 200 whose body is not JSON (cut off or garbled)".to_owned(),
                None,
            ),
            Ok(a) if a.http == 429 || a.http >= 500 => (format!("HTTP {}", a.http), a.retry_after),
            Ok(a) => return Ok(a),
            Err(CallError::Fatal(why)) => return Err(failed(what, why.detail)),
            Err(e) => (e.to_string(), None),
        };
        let Some(wait) = retrying.next_wait(told) else {
            return Err(failed(what, format!("{last} (after {attempt} attempts)")));
        };
        if !retrying.sleep(wait).await {
            return Err(failed(what, format!("interrupted after {last}")));
        }
    }
}

fn failed(call: &str, why: String) -> LiveError {
    LiveError::Failed {
        call: call.to_owned(),
        why,
    }
}

/// An answer that is not the 200 a read needs, as a failure naming its code and message.
pub(crate) fn refused(call: &str, a: &Answer) -> LiveError {
    let code = a.field("error_code").unwrap_or("no error_code");
    let msg = a.field("error_msg").unwrap_or("");
    failed(
        call,
        format!("HTTP {} {code} {msg}", a.http)
            .trim_end()
            .to_owned(),
    )
}
