//! Webhooks told of a run's events (`notify:` in the runbook): each a signed POST, delivered
//! beside the run by a worker of its own, so that a slow or refusing receiver never delays or
//! fails a stop. What could not be delivered is handed back for the journal and the reports.

mod deliver;
pub mod sign;

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::transport::Transport;
use crate::runbook::model::{Notify, NotifyOn};
use crate::secret::Secret;

pub use deliver::Missed;

/// The most `stop_failed` notifications a webhook is sent in one run; later failures are in
/// the `phase_done` and `run_done` notifications.
pub const MAX_STOP_FAILED: usize = 20;

/// The webhooks of a run, each with its queue and worker.
pub struct Notifier {
    hooks: Vec<Hook>,
}

struct Hook {
    on: Vec<NotifyOn>,
    url: String,
    queue: mpsc::UnboundedSender<deliver::Note>,
    worker: JoinHandle<Vec<Missed>>,
    /// `stop_failed` notifications queued so far.
    failed_told: usize,
}

impl Notifier {
    /// Starts a worker for each webhook, with its secret (as [`Notifier::secrets`] read them).
    pub fn start(hooks: &[Notify], secrets: Vec<Secret>) -> Notifier {
        let hooks = hooks
            .iter()
            .zip(secrets)
            .map(|(hook, secret)| {
                let (queue, taken) = mpsc::unbounded_channel();
                let uri = hook.url.as_str().parse::<http::Uri>();
                let transport = uri
                    .map_err(|e| e.to_string())
                    .and_then(|uri| Transport::new(&uri, 1, None).map_err(|e| e.to_string()));
                let worker =
                    tokio::spawn(deliver::work(transport, hook.url.clone(), secret, taken));
                Hook {
                    on: hook.on.clone(),
                    url: shown(&hook.url),
                    queue,
                    worker,
                    failed_told: 0,
                }
            })
            .collect();
        Notifier { hooks }
    }

    /// Each webhook's secret, read from its variable; refused (naming the variable, never its
    /// value) when one is not set: found before anything is sent.
    pub fn secrets(hooks: &[Notify]) -> Result<Vec<Secret>, String> {
        secrets(hooks)
    }

    /// Queues `body` for every webhook told of `event`; returns at once.
    pub fn tell(&mut self, event: NotifyOn, body: &serde_json::Value) {
        let body = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        for hook in self.hooks.iter_mut().filter(|h| h.on.contains(&event)) {
            if event == NotifyOn::StopFailed {
                if hook.failed_told == MAX_STOP_FAILED {
                    continue;
                }
                hook.failed_told += 1;
            }
            let note = deliver::Note {
                event: event.as_str(),
                body: body.clone(),
            };
            let _ = hook.queue.send(note);
        }
    }

    /// Lets each worker finish its queue for at most `within`, then gives up on the rest:
    /// everything not delivered, each once.
    pub async fn finish(self, within: Duration) -> Vec<Missed> {
        let mut missed = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        for hook in self.hooks {
            drop(hook.queue);
            let mut worker = hook.worker;
            match tokio::time::timeout_at(deadline, &mut worker).await {
                Ok(Ok(more)) => missed.extend(more),
                Ok(Err(_)) | Err(_) => {
                    worker.abort();
                    missed.push(Missed {
                        url: hook.url.clone(),
                        event: "(the rest of its queue)",
                        error: format!(
                            "not delivered within {}s of the run's end",
                            within.as_secs()
                        ),
                    });
                }
            }
        }
        missed
    }
}

fn secrets(hooks: &[Notify]) -> Result<Vec<Secret>, String> {
    hooks
        .iter()
        .map(|hook| {
            let name = hook.secret_env.as_str();
            match std::env::var(name) {
                Ok(value) if !value.is_empty() => Ok(Secret::new(value)),
                _ => Err(format!(
                    "the webhook {}'s secret_env `{name}` is not set (or empty): set it, or remove the webhook; nothing was sent",
                    shown(&hook.url)
                )),
            }
        })
        .collect()
}

/// A webhook as messages and reports show it: scheme, host and port, never its path or query
/// (a chat webhook's path is its credential).
pub fn shown(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}
