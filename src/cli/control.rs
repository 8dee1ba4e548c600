//! The run's side of `stopbook ctl`: a Unix socket beside the journal (`JOURNAL.ctl`, the
//! owner's only), served while the run holds the journal. Each connection is one request line
//! (`{"action": …, "by": …}`) and one answer line. Every action is journaled (who, when) before
//! it is answered; `status` is read from the run's live counts and census.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::fanout::Live;
use crate::exec::history::At;
use crate::exec::journal::{Entry, Journal};
use crate::exec::steer::{Steer, Went};

/// A request.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    /// `drain`, `pause`, `go`, `abort` or `status`.
    pub action: String,
    /// Who asks.
    pub by: String,
}

/// An answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Answer {
    /// Whether the action was taken.
    pub ok: bool,
    /// What happened, in words.
    pub message: String,
}

/// What the server steers and reads.
pub struct Control {
    /// Pause, drain and gates.
    pub steer: Arc<Steer>,
    /// The run's interrupt (`abort`).
    pub cancel: watch::Sender<bool>,
    /// Where actions are journaled.
    pub journal: Journal,
    /// What `status` reads.
    pub live: Arc<Live>,
    /// The journal's path, for the hints in answers.
    pub journal_path: PathBuf,
}

/// The socket of a journal.
pub fn socket_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".ctl");
    PathBuf::from(name)
}

/// The server, while it runs; dropping it closes and removes the socket.
pub struct Serving {
    task: tokio::task::JoinHandle<()>,
    path: PathBuf,
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves `control` on the journal's socket. The run holds the journal's lock, so a socket file
/// left there is a dead run's: it is replaced.
pub fn serve(control: Control) -> Result<Serving, String> {
    let path = socket_path(&control.journal_path);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .map_err(|e| format!("cannot open the control socket `{}`: {e}", path.display()))?;
    restrict(&path);
    let control = Arc::new(control);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, Arc::clone(&control)));
        }
    });
    Ok(Serving { task, path })
}

/// The owner only may steer the run.
fn restrict(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

/// Reads one request (4 KiB at most, within 5 s) and answers it.
async fn answer(stream: UnixStream, control: Arc<Control>) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(tokio::io::AsyncReadExt::take(read, 4096));
    let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line)).await;
    let answer = match (read, serde_json::from_str::<Request>(&line)) {
        (Ok(Ok(_)), Ok(request)) => act(&control, request),
        _ => Answer {
            ok: false,
            message: "not a request: expected one JSON line with `action` and `by`".into(),
        },
    };
    let mut text = serde_json::to_vec(&answer).unwrap_or_default();
    text.push(b'\n');
    let _ = write.write_all(&text).await;
}

/// Takes the action, journals it, and says what it did.
fn act(control: &Control, request: Request) -> Answer {
    let Request { action, by } = request;
    let go = format!(
        "stopbook ctl go --journal {}",
        control.journal_path.display()
    );
    let (ok, message) = match action.as_str() {
        "status" => return status(control),
        "drain" if control.steer.drain(&by) => (true, "draining: no new stop starts; the stops already sent finish (waits and escalations included), then the run ends paused; `run --resume` goes on".to_owned()),
        "drain" => (false, "already draining".to_owned()),
        "pause" if control.steer.pause(&by) => (true, format!("paused: new stops are held (those in flight go on) until `{go}`")),
        "pause" => (false, "already paused or draining".to_owned()),
        "go" => match control.steer.go(&by) {
            Went::Gate(phase) => (true, format!("the gate before phase {phase} is let pass")),
            Went::Released => (true, "held stops start again".to_owned()),
            Went::Nothing => (false, "nothing to let go on: no gate waits and nothing is paused".to_owned()),
        },
        "abort" => {
            let first = !*control.cancel.borrow();
            let _ = control.cancel.send(true);
            (first, "aborting, as an interrupt: the requests in flight finish, the rest is not started; `run --resume` goes on".to_owned())
        }
        other => {
            return Answer {
                ok: false,
                message: format!("unknown action `{other}`: expected drain, pause, go, abort or status"),
            };
        }
    };
    if ok {
        say!("ctl: {action} by {by}");
        control.journal.record(Entry::Control {
            action,
            by,
            at: At::now(),
        });
    }
    Answer { ok, message }
}

/// The live census: phase, done/total, waiting by status, in doubt, 429s, rate, gate.
fn status(control: &Control) -> Answer {
    let s = control
        .live
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let census = control
        .live
        .census
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let snapshot = census.map(|c| c.snapshot()).unwrap_or_default();
    let mut lines = vec![format!(
        "phase {}: {}/{} stops done, {} failed, {} skipped",
        if s.phase.is_empty() {
            "(none yet)"
        } else {
            &s.phase
        },
        s.done,
        s.total,
        s.failed,
        s.skipped
    )];
    let by_status: Vec<String> = (snapshot.by_status.iter())
        .map(|(status, n)| format!("{n} {}", status.as_deref().unwrap_or("not read yet")))
        .collect();
    lines.push(format!(
        "waiting on {}{}; in doubt {}",
        snapshot.waiting,
        if by_status.is_empty() {
            String::new()
        } else {
            format!(": {}", by_status.join(", "))
        },
        snapshot.in_doubt
    ));
    let rate = s.rate.map_or_else(
        || "no rate adapted".to_owned(),
        |r| format!("rate adapted to {r:.1}/s"),
    );
    lines.push(format!("429s: {}; {rate}", s.answers_429));
    let steer = control.steer.state();
    if let Some(phase) = &s.gate.or(steer.gate) {
        lines.push(format!("gate: waiting before phase {phase}"));
    }
    if let Some(by) = &steer.held {
        lines.push(format!("paused by {by}: new stops held until `ctl go`"));
    }
    if let Some(by) = &steer.drained {
        lines.push(format!(
            "draining (by {by}): the run ends paused once the stops in flight finish"
        ));
    }
    Answer {
        ok: true,
        message: lines.join("\n"),
    }
}
