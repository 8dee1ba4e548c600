//! A stop's history and the window's processes in words, for the formats people read
//! (Markdown, HTML, JUnit): which answers were lost and how each was settled, a stop's events
//! in one line, a process in one line. One home, so the formats cannot tell it differently.

use super::view::View;
use crate::exec::StopResult;
use crate::exec::history::{Happened, Process, What};

/// At most this many stops get their story told in full; the JSON report has every one.
pub const MAX_STORIES: usize = 50;

/// The stops of `view` with an answer lost, and those whose story is worth telling, in plan
/// order: what every format lists apart from its tables.
pub fn told<'a>(view: &'a View) -> (Vec<&'a StopResult>, Vec<&'a StopResult>) {
    let results = || view.rows().map(|row| row.result);
    (
        results().filter(|r| had_lost_answer(r)).collect(),
        results().filter(|r| worth_telling(r)).collect(),
    )
}

/// Whether the stop's story is worth telling apart from its row: an answer lost, more than one
/// request, an escalation, an interruption, or a failure.
pub fn worth_telling(r: &StopResult) -> bool {
    r.attempts > 1
        || r.outcome == crate::exec::Outcome::Failed
        || r.history.iter().any(|h| {
            matches!(
                h.event,
                What::Lost | What::Escalating | What::Refused | What::Interrupted
            )
        })
}

/// The answers of the stop that were lost, each with how it was settled.
pub fn lost_answers(r: &StopResult) -> Vec<String> {
    let mut out = Vec::new();
    for (i, h) in r.history.iter().enumerate() {
        if h.event != What::Lost {
            continue;
        }
        let why = h.reason().unwrap_or("no answer");
        let after = &r.history[i + 1..];
        let settled = after
            .iter()
            .find(|n| matches!(n.event, What::Status | What::Sent))
            .map_or_else(|| "not settled yet".to_owned(), settled_by);
        let interrupted = after
            .iter()
            .take_while(|n| !matches!(n.event, What::Status | What::Sent))
            .any(|n| n.event == What::Interrupted);
        let settled = match interrupted {
            true => format!("the process was interrupted first; {settled}"),
            false => settled,
        };
        out.push(format!("answer lost at {} ({why}); {settled}", time(h)));
    }
    out
}

fn settled_by(h: &Happened) -> String {
    match h.event {
        What::Status => format!(
            "settled by a status read at {}: {}{}",
            time(h),
            h.status().map_or(String::new(), |s| format!("{s}, ")),
            h.reason().unwrap_or("")
        ),
        _ => "sent again: the status showed no stop".to_owned(),
    }
}

/// Whether an answer of the stop was lost.
pub fn had_lost_answer(r: &StopResult) -> bool {
    r.history.iter().any(|h| h.event == What::Lost)
}

/// What the HTTP column says: the last answer's status, or that the answer was lost.
pub fn http_cell(r: &StopResult) -> String {
    let lost = r.history.iter().rev().find(|h| h.event == What::Lost);
    let lost_word = |lost: &Happened| match lost.http {
        Some(code) => format!("lost ({code})"),
        None => "lost".to_owned(),
    };
    match (r.http_status, lost) {
        (Some(h), Some(lost)) => format!("{h}; earlier {}", lost_word(lost)),
        (None, Some(lost)) => lost_word(lost),
        (Some(h), None) => h.to_string(),
        (None, None) => String::new(),
    }
}

/// The stop's events in one line: `sent #1 → lost (…) → status RELEASE_RESOURCE_STARTED → …`.
pub fn history_line(r: &StopResult) -> String {
    r.history
        .iter()
        .map(event_words)
        .collect::<Vec<_>>()
        .join(" → ")
}

/// One event in a few words, with its time.
pub fn event_words(h: &Happened) -> String {
    let detail = match h.event {
        What::Sent | What::Escalating => {
            let why = h.reason().map_or(String::new(), |r| format!(", {r}"));
            h.attempt
                .map_or(String::new(), |a| format!(" (attempt {a}{why})"))
        }
        What::Answer | What::Refused => {
            let code = h.error_code().map_or(String::new(), |c| format!(" {c}"));
            h.http.map_or(String::new(), |s| format!(" {s}{code}"))
        }
        What::Lost => format!(" ({})", h.reason().unwrap_or("no answer")),
        What::Status | What::Ended => h.status().map_or(String::new(), |s| format!(" {s}")),
        What::Interrupted | What::Unsent => h.reason().map_or(String::new(), |s| format!(" ({s})")),
        What::Accepted | What::Escalated => String::new(),
    };
    format!("{}{detail} at {}", h.event.as_str(), clock(h))
}

/// A process in one line: `run --resume` by ops@bastion-1, 02:00:03 to 02:41:17, exit 0.
pub fn process_line(p: &Process) -> String {
    let ended = match (&p.finished_at, p.exit) {
        (Some(at), Some(exit)) => format!("to {at}, exit {exit}"),
        (Some(at), None) => format!("last heard of at {at}, no exit: killed"),
        (None, _) => "no end recorded".to_owned(),
    };
    format!(
        "`{}` by {}@{}, {} {ended}",
        p.command, p.user, p.host, p.started_at
    )
}

/// `1 stop`, `2 stops`: a count with its noun.
pub fn count(n: usize, noun: &str) -> String {
    match (n, noun) {
        (1, _) => format!("1 {noun}"),
        (_, "process") => format!("{n} processes"),
        _ => format!("{n} {noun}s"),
    }
}

/// The event's time, RFC 3339.
fn time(h: &Happened) -> String {
    h.at.to_string()
}

/// The event's time of day, `HH:MM:SS.mmm` (UTC): enough within one window.
fn clock(h: &Happened) -> String {
    let full = h.at.to_string();
    full.get(11..23).map_or(full.clone(), str::to_owned)
}
