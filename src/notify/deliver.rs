//! One webhook's deliveries: a queue worked in order (a chat reads `phase_done` before
//! `run_done`), each POST retried a bounded number of times with backoff. Nothing here waits
//! on the run, and the run never waits on it.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::api::transport::Transport;
use crate::secret::Secret;

/// Attempts per notification, and the time each may take.
pub const ATTEMPTS: usize = 3;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// A notification to send: its event's name and its body.
pub struct Note {
    /// The event, as the body names it.
    pub event: &'static str,
    /// The JSON body, signed as sent.
    pub body: Bytes,
}

/// A notification given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missed {
    /// The webhook, as shown (scheme, host and port: its path may be its secret).
    pub url: String,
    /// The event it was to tell.
    pub event: &'static str,
    /// Why.
    pub error: String,
}

/// Works the queue of one webhook until it closes; returns what it could not deliver.
pub async fn work(
    transport: Result<Transport, String>,
    url: url::Url,
    secret: Secret,
    mut queue: mpsc::UnboundedReceiver<Note>,
) -> Vec<Missed> {
    let shown = super::shown(&url);
    let mut missed = Vec::new();
    while let Some(note) = queue.recv().await {
        let sent = match &transport {
            Ok(transport) => post(transport, &url, &secret, &note).await,
            Err(e) => Err(e.clone()),
        };
        if let Err(error) = sent {
            missed.push(Missed {
                url: shown.clone(),
                event: note.event,
                error,
            });
        }
    }
    missed
}

/// POSTs `note`, again after a pause while the answer is not a 2xx that could change (a
/// refused connection, a 5xx, a 408 or 429); a 4xx else is final.
async fn post(
    transport: &Transport,
    url: &url::Url,
    secret: &Secret,
    note: &Note,
) -> Result<(), String> {
    let mut pauses = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(2))
        .with_max_times(ATTEMPTS - 1)
        .with_jitter()
        .build();
    loop {
        let error = match transport
            .send(request(url, secret, note)?, ATTEMPT_TIMEOUT)
            .await
        {
            Ok(answer) if answer.status().is_success() => return Ok(()),
            Ok(answer) => {
                let status = answer.status();
                let again = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
                if !again {
                    return Err(format!("answered {status}"));
                }
                format!("answered {status}")
            }
            Err(e) => e.to_string(),
        };
        match pauses.next() {
            Some(pause) => tokio::time::sleep(pause).await,
            None => return Err(format!("{error} (after {ATTEMPTS} attempts)")),
        }
    }
}

fn request(url: &url::Url, secret: &Secret, note: &Note) -> Result<http::Request<Bytes>, String> {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    http::Request::post(url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(
            http::header::USER_AGENT,
            concat!("stopbook/", env!("CARGO_PKG_VERSION")),
        )
        .header(
            "X-Stopbook-Signature-256",
            super::sign::signature(secret.expose().as_bytes(), &note.body),
        )
        .header("X-Stopbook-Timestamp", timestamp.to_string())
        .header("X-Stopbook-Event", note.event)
        .body(note.body.clone())
        .map_err(|e| format!("cannot build the request: {e}"))
}
