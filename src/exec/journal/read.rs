//! Reading a journal back: what each stop reached, and what the window is bound to.
//!
//! A stop's state is the last thing the journal says of it: an intent or a resend written after
//! a result (a `--retry-failed` run, killed while the answer came) means the stop may have been
//! sent again, and its job's status is read before anything else. The one exception is a resend
//! during an escalation, which is the escalation's force stop again: the stop stays accepted,
//! its force stop maybe sent, so no graceful stop and no second force stop follow.

use std::collections::HashMap;
use std::path::Path;

use super::{Binding, Entry, Finished, Header, JournalError, shown};
use crate::exec::Outcome;

/// What an earlier run left for each stop.
#[derive(Debug, Clone, PartialEq)]
pub enum Earlier {
    /// Finished: its result stands.
    Done(Box<Finished>),
    /// Accepted by the server: wait for it, never resend.
    Accepted(Escalation),
    /// A request may have been sent: read the job's status before anything else.
    MaybeSent,
    /// Failed in an earlier run and to be tried again (`--retry-failed`): read the job's status
    /// first; a job still `RELEASE_RESOURCE_FAILED` is stopped again.
    Retry,
}

/// How far an accepted stop's escalation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escalation {
    /// No force stop was sent.
    None,
    /// Its force stop may have been sent: never send another.
    MaybeSent,
    /// The force stop was accepted.
    Accepted,
}

/// A journal read back: each stop's latest state, by seq, and the window's binding.
#[derive(Debug, Default)]
pub struct Window {
    /// What each stop reached.
    pub earlier: HashMap<usize, Earlier>,
    /// The target the last process that opened the journal was bound to; `None` for a journal
    /// written before headers named their target.
    pub binding: Option<Binding>,
    /// Whether any process's header was read: an empty journal says nothing of what was sent.
    pub headed: bool,
    /// Whether the journal holds the plan's stops (its first process wrote them).
    pub planned: bool,
    /// Phases whose gate was let pass.
    pub gates_passed: std::collections::HashSet<String>,
}

/// Reads a journal for `plan_id`.
pub fn read(path: &Path, plan_id: &str) -> Result<Window, JournalError> {
    let mut window = Window::default();
    each(path, |line, entry| {
        match entry {
            Entry::Run(header) => bound(path, line, plan_id, *header, &mut window)?,
            Entry::Planned { .. } => window.planned = true,
            Entry::GatePassed { phase, .. } => {
                window.gates_passed.insert(phase);
            }
            entry => apply(&mut window.earlier, entry),
        }
        Ok(())
    })?;
    Ok(window)
}

/// Hands each entry of the journal at `path` to `take`, in order, with its line number (from
/// 1), reading the file a line at a time. A last line torn by a crash mid-write is left out
/// (its stop's earlier lines say enough); any other line that cannot be read is an error, and
/// so is an entry before the first `run` header.
pub fn each(
    path: &Path,
    mut take: impl FnMut(usize, Entry) -> Result<(), JournalError>,
) -> Result<(), JournalError> {
    use std::io::BufRead;
    let failed = |reason: String| JournalError::Read {
        path: shown(path),
        reason,
    };
    let (file, _) =
        crate::input::open(path, crate::input::JOURNAL).map_err(|e| failed(e.to_string()))?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let mut line = Vec::with_capacity(512);
    let mut torn: Option<JournalError> = None;
    let (mut n, mut headed, mut total) = (0, false, 0u64);
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| failed(e.to_string()))?;
        if read == 0 {
            break;
        }
        n += 1;
        total += read as u64;
        if total > crate::input::JOURNAL.limit {
            let e = crate::input::InputError::TooLarge {
                input: crate::input::JOURNAL,
                size: None,
            };
            return Err(failed(e.to_string()));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // A line that could not be read counts only when another line follows it.
        if let Some(e) = torn.take() {
            return Err(e);
        }
        let entry = match serde_json::from_slice::<Entry>(&line) {
            Ok(entry) => entry,
            Err(e) => {
                torn = Some(JournalError::Unreadable {
                    path: shown(path),
                    line: n,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        match entry {
            Entry::Run(_) => headed = true,
            // Every journal opens with its run header: entries before one are not this tool's.
            _ if !headed => {
                return Err(JournalError::Unreadable {
                    path: shown(path),
                    line: n,
                    reason: "an entry before the journal's `run` header".to_owned(),
                });
            }
            _ => {}
        }
        take(n, entry)?;
    }
    Ok(())
}

/// Takes a run header: the plan must be this one; the binding is the latest header's.
fn bound(
    path: &Path,
    line: usize,
    plan_id: &str,
    header: Header,
    window: &mut Window,
) -> Result<(), JournalError> {
    if header.plan_id != plan_id {
        return Err(JournalError::OtherPlan {
            path: shown(path),
            line,
            found: header.plan_id,
            expected: plan_id.to_owned(),
        });
    }
    if header.target.is_some() {
        window.binding = header.target;
    }
    window.headed = true;
    Ok(())
}

/// One entry's effect on its stop's state, in a map of every stop's state by seq.
fn apply(earlier: &mut HashMap<usize, Earlier>, entry: Entry) {
    let Some(seq) = entry.seq() else {
        return;
    };
    if let Some(state) = step(earlier.remove(&seq), entry) {
        earlier.insert(seq, state);
    }
}

/// One entry's effect on its stop's `state`: the latest word wins. Lines that only tell what
/// happened (answers, lost answers, status reads, names) change nothing a resume decides on.
pub fn step(state: Option<Earlier>, entry: Entry) -> Option<Earlier> {
    let escalating = Some(Earlier::Accepted(Escalation::MaybeSent));
    match entry {
        Entry::Run(_)
        | Entry::Planned { .. }
        | Entry::Answer { .. }
        | Entry::Lost { .. }
        | Entry::Status { .. }
        | Entry::Name { .. }
        | Entry::Ended(_)
        | Entry::Control { .. }
        | Entry::GateWaiting { .. }
        | Entry::GatePassed { .. }
        | Entry::Undelivered(_) => state,
        Entry::Intent { .. } => Some(Earlier::MaybeSent),
        // During an escalation the resend is its force stop again: still accepted.
        Entry::Resending { .. } if state == escalating => state,
        Entry::Resending { .. } => Some(Earlier::MaybeSent),
        Entry::Accepted { .. } => Some(Earlier::Accepted(Escalation::None)),
        Entry::Escalating { .. } => escalating,
        Entry::Escalated { .. } => Some(Earlier::Accepted(Escalation::Accepted)),
        // A force stop refused, or that surely never left, took no effect: a resume may send
        // another.
        Entry::EscalationUnsent { .. } | Entry::EscalationRefused { .. } if state == escalating => {
            Some(Earlier::Accepted(Escalation::None))
        }
        Entry::EscalationUnsent { .. } | Entry::EscalationRefused { .. } => state,
        // A stop that never reached the server is tried again, as if never started.
        Entry::Unsent { .. } if state == Some(Earlier::MaybeSent) => None,
        Entry::Unsent { .. } => state,
        Entry::Result { result, .. } if result.unsent => None,
        Entry::Result { result, .. } => Some(Earlier::Done(result)),
    }
}

/// For `--retry-failed`: the stops that failed are taken up again. A stop whose one request
/// was refused (a 4xx other than 429) surely took no effect, and is sent afresh, judged on its
/// new answer; any other failed stop may have been taken, and its job's status is read first.
pub fn retry_failed(earlier: &mut HashMap<usize, Earlier>) -> usize {
    let mut count = 0;
    earlier.retain(|_, entry| {
        let Earlier::Done(f) = entry else {
            return true;
        };
        if f.outcome != Outcome::Failed {
            return true;
        }
        count += 1;
        let refused = f.attempts == 1
            && f.http_status
                .is_some_and(|h| (400..500).contains(&h) && h != 429);
        *entry = Earlier::Retry;
        !refused
    });
    count
}

/// For `--retarget`: a stop accepted at the earlier endpoint, whose escalation sent nothing, is
/// in doubt at the new one. Its job's status is read there first (the settle window), and a job
/// showing no stop gets a graceful one, as if its first send had been lost. A stop whose force
/// stop may have left keeps waiting: a second force stop is never sent.
pub fn retarget(earlier: &mut HashMap<usize, Earlier>) -> usize {
    let mut count = 0;
    for entry in earlier.values_mut() {
        if *entry == Earlier::Accepted(Escalation::None) {
            *entry = Earlier::MaybeSent;
            count += 1;
        }
    }
    count
}

/// How long ago the journal was last written: an earlier run sent nothing after that.
pub fn age(path: &Path) -> std::time::Duration {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .unwrap_or_default()
}
