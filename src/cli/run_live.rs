//! What a run sets up to be watched and steered while it goes: the `--events` stream, the
//! webhooks, the control socket beside its journal, and the gates' way out. Each is refused
//! before anything is sent when it cannot work (a stream that cannot be created, a webhook's
//! secret not set, a gate nobody could let pass).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Exit;
use super::Refusal;
use super::fanout::{Fanout, Live};
use crate::exec::history::{At, Undelivered};
use crate::exec::journal::{Entry, Journal};
use crate::exec::steer::Steer;
use crate::notify::{Missed, Notifier};
use crate::plan::Plan;

/// The longest path a Unix socket may have (108 bytes on Linux, 104 on the BSDs).
const SOCKET_PATH_MAX: usize = 104;

/// How long the webhooks may go on delivering after the run ended.
pub const DELIVERY_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// What the run is watched and steered by, checked before anything is sent.
pub struct Watch {
    /// The `--events` stream.
    pub stream: Option<Box<dyn Write + Send>>,
    /// The webhooks' secrets, read once (empty without webhooks).
    pub secrets: Vec<crate::secret::Secret>,
}

/// Checks the run can be watched and steered as asked: the stream opens, every webhook's
/// secret is set, and every gate can be let pass (a journal for `ctl go`, or a terminal).
pub fn prepare(
    plan: &Plan,
    events: Option<&Path>,
    journal: Option<&Path>,
) -> Result<Watch, Refusal> {
    let refuse = |message: String| Refusal {
        exit: Exit::Invalid,
        message,
    };
    let secrets =
        Notifier::secrets(&plan.runbook.notify).map_err(|e| refuse(format!("error: {e}")))?;
    let socket = journal.map(super::control::socket_path);
    let reachable = socket
        .as_ref()
        .is_some_and(|s| s.as_os_str().len() < SOCKET_PATH_MAX);
    if let Some(gated) = plan.runbook.phases.iter().find(|p| p.gate)
        && !reachable
        && !std::io::stdin().is_terminal()
    {
        let why = match &socket {
            None => "needs a journal (this run keeps none)".to_owned(),
            Some(s) => format!(
                "needs a control socket beside the journal, and `{}` is longer than a socket's path may be",
                s.display()
            ),
        };
        return Err(refuse(format!(
            "error: phase {} has `gate: manual`, and nothing could let it pass: `stopbook ctl go` {why}, and there is no terminal to ask at; nothing was sent",
            gated.name
        )));
    }
    let stream = match events {
        None => None,
        Some(path) if path == Path::new("-") => {
            Some(Box::new(std::io::stdout()) as Box<dyn Write + Send>)
        }
        // Appended to: each process of the window adds its lines, and a reader tailing the
        // file (or a pipe) keeps its place.
        Some(path) => Some(Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| {
                    refuse(format!(
                        "error: cannot open the event stream `{}`: {e}; nothing was sent",
                        path.display()
                    ))
                })?,
        ) as Box<dyn Write + Send>),
    };
    Ok(Watch { stream, secrets })
}

/// The run's steering, its control socket (when it holds a journal), and its fan-out.
pub struct Steering {
    pub steer: Arc<Steer>,
    pub fanout: Fanout,
    /// What the progress display says of the steering.
    pub display: crate::report::progress::Steering,
    /// The control socket, served until dropped.
    pub serving: Option<super::control::Serving>,
}

/// Starts the webhooks, the control socket and the fan-out; mirrors the journal into the run's
/// events when a stream or a webhook reads them.
pub fn start(
    plan: &Plan,
    watch: Watch,
    journal: (Option<&Journal>, Option<&PathBuf>),
    cancel: tokio::sync::watch::Sender<bool>,
    events: &tokio::sync::mpsc::UnboundedSender<crate::exec::Event>,
) -> Steering {
    let steer = Arc::new(Steer::default());
    let live = Arc::new(Live::default());
    let mut fanout = Fanout::new(&plan.plan_id, &plan.runbook.name, Arc::clone(&live));
    let (journal, path) = journal;
    if let Some(journal) = journal
        && (watch.stream.is_some() || !plan.runbook.notify.is_empty())
    {
        journal.mirror(events.clone());
    }
    fanout.stream = watch.stream;
    if !plan.runbook.notify.is_empty() {
        fanout.notifier = Some(Notifier::start(&plan.runbook.notify, watch.secrets));
    }
    fanout.prompt = super::gate_prompt::Prompt::on_terminal(Arc::clone(&steer), journal.cloned());
    let serving = match (journal, path) {
        (Some(journal), Some(path)) => {
            let control = super::control::Control {
                steer: Arc::clone(&steer),
                cancel,
                journal: journal.clone(),
                live: Arc::clone(&live),
                journal_path: path.clone(),
            };
            super::control::serve(control)
                .map_err(|e| say!("warning: {e}: `stopbook ctl` cannot reach this run"))
                .ok()
        }
        _ => None,
    };
    let display = crate::report::progress::Steering {
        go_hint: go_hint(path),
        steer: Arc::clone(&steer),
    };
    Steering {
        steer,
        fanout,
        display,
        serving,
    }
}

/// After the run: the socket closed, `paused` and `run_done` told, the webhooks given
/// [`DELIVERY_GRACE`] to finish; what they could not deliver is journaled and returned.
pub async fn wind_down(
    serving: Option<super::control::Serving>,
    mut fanout: Fanout,
    report: &crate::exec::Report,
    journal: Option<&Journal>,
) -> Vec<Missed> {
    drop(serving);
    fanout.run_done(report);
    let missed = match fanout.notifier.take() {
        Some(notifier) => notifier.finish(DELIVERY_GRACE).await,
        None => Vec::new(),
    };
    journal_missed(journal, &missed);
    missed
}

/// How a waiting gate is let pass, as the heartbeat says it.
fn go_hint(journal: Option<&PathBuf>) -> String {
    match journal {
        Some(path) => format!("`stopbook ctl go --journal {}`", path.display()),
        None => "answer the prompt".to_owned(),
    }
}

/// The notifications not delivered, journaled (so the window's reports name them).
fn journal_missed(journal: Option<&Journal>, missed: &[Missed]) {
    let Some(journal) = journal else {
        return;
    };
    for m in missed {
        journal.record(Entry::Undelivered(Box::new(Undelivered {
            url: m.url.clone(),
            event: m.event.to_owned(),
            error: m.error.clone(),
            at: At::now(),
        })));
    }
}

/// The closing lines' word on notifications not delivered.
pub fn say_missed(missed: &[Missed]) {
    if missed.is_empty() {
        return;
    }
    say!("notifications not delivered ({}):", missed.len());
    for m in missed {
        say!("  {} to {}: {}", m.event, m.url, m.error);
    }
}
