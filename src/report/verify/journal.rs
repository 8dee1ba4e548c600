//! A report held against its journal: the journal is rendered anew (as `stopbook report` does)
//! and each comparable field of the two is compared, stop by stop. Histories and timings are
//! left out, as they are of every comparison. Each difference names the stop, the field, what
//! the report says and what the journal says, in words.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Difference;
use crate::exec::StopResult;
use crate::report::json::ReadReport;
use crate::report::{summary, window};

/// What the journals (one, or a window's shards) say that `report` does not, and a note when
/// the window went on after the report was written.
pub fn differences(report: &ReadReport, journals: &[PathBuf]) -> (Vec<Difference>, Vec<String>) {
    let rendered = match window::render(journals) {
        Ok(rendered) => rendered,
        Err(e) => {
            let (path, reason) = (journals[0].clone(), e.to_string());
            return (vec![Difference::Journal { path, reason }], Vec::new());
        }
    };
    let journal = &rendered.report;
    let mut found = Vec::new();
    let mut field = |name: &str, said: String, journaled: String| {
        if said != journaled {
            found.push(Difference::Field {
                stop: None,
                field: name.to_owned(),
                report: said,
                journal: journaled,
            });
        }
    };
    if report.plan_id != rendered.ctx.plan_id {
        // Another plan's journal: its stops are not this report's, and nothing else compares.
        field(
            "plan_id",
            quoted(&report.plan_id),
            quoted(&rendered.ctx.plan_id),
        );
        return (found, Vec::new());
    }
    field(
        "outcome",
        quoted(report.outcome.as_str()),
        quoted(journal.outcome.as_str()),
    );
    if let Some(said) = &report.summary {
        let counted = summary(&journal.results);
        field("summary", words_of(said), words_of(&counted));
    }
    if let Some(sha) = &report.runbook_sha256 {
        field(
            "runbook_sha256",
            quoted(sha),
            quoted(&rendered.ctx.runbook_sha256),
        );
    }
    field(
        "timings",
        format!("{} stops timed", report.timings.len()),
        format!("{} stops timed", journal.timings.len()),
    );
    if let (Some(said), Some(kept)) = (&report.window, &journal.window) {
        field("window.processes", processes(said), processes(kept));
    } else if journal.window.is_some() {
        field("window", "nothing".to_owned(), "its processes".to_owned());
    }
    stops(&report.results, &journal.results, &mut found);
    (found, moved_on(report, journal))
}

/// Each stop of either side against the other's.
fn stops(reported: &[StopResult], journaled: &[StopResult], found: &mut Vec<Difference>) {
    let journaled: BTreeMap<usize, &StopResult> = journaled.iter().map(|r| (r.seq, r)).collect();
    let reported_seqs: BTreeMap<usize, &StopResult> = reported.iter().map(|r| (r.seq, r)).collect();
    for (seq, r) in &reported_seqs {
        let stop = Some((*seq, r.job.to_string()));
        let Some(j) = journaled.get(seq) else {
            found.push(Difference::Field {
                stop,
                field: "result".to_owned(),
                report: format!("\"{}\"", r.outcome.as_str()),
                journal: "no such stop".to_owned(),
            });
            continue;
        };
        for (name, said, journal) in fields(r, j) {
            if said != journal {
                found.push(Difference::Field {
                    stop: stop.clone(),
                    field: name.to_owned(),
                    report: said,
                    journal,
                });
            }
        }
    }
    for (seq, j) in journaled
        .iter()
        .filter(|(s, _)| !reported_seqs.contains_key(s))
    {
        found.push(Difference::Field {
            stop: Some((*seq, j.job.to_string())),
            field: "result".to_owned(),
            report: "no such stop".to_owned(),
            journal: format!("\"{}\"", j.outcome.as_str()),
        });
    }
}

/// The fields of a stop, each as words: (name, report, journal). Its history too: the report
/// must tell what the journal recorded, every event of it.
fn fields(r: &StopResult, j: &StopResult) -> Vec<(&'static str, String, String)> {
    vec![
        (
            "job",
            quoted(&r.job.to_string()),
            quoted(&j.job.to_string()),
        ),
        ("phase", quoted(&r.phase), quoted(&j.phase)),
        (
            "name",
            text_ref(r.name.as_deref()),
            text_ref(j.name.as_deref()),
        ),
        ("label", text(&r.label), text(&j.label)),
        ("force", yes_no(r.force), yes_no(j.force)),
        ("expected", quoted(&r.expected), quoted(&j.expected)),
        ("history", history(r), history(j)),
        (
            "outcome",
            quoted(r.outcome.as_str()),
            quoted(j.outcome.as_str()),
        ),
        ("http_status", number(r.http_status), number(j.http_status)),
        ("error_code", text(&r.error_code), text(&j.error_code)),
        ("final_status", text(&r.final_status), text(&j.final_status)),
        ("attempts", r.attempts.to_string(), j.attempts.to_string()),
        ("escalated", yes_no(r.escalated), yes_no(j.escalated)),
    ]
}

/// The note for a report written before the journal's later processes.
fn moved_on(report: &ReadReport, journal: &crate::exec::Report) -> Vec<String> {
    let Some(window) = &journal.window else {
        return Vec::new();
    };
    let finished = report
        .finished_at
        .as_deref()
        .and_then(crate::timestamp::parse_rfc3339)
        .map(crate::exec::history::At::of);
    let later = window
        .processes
        .iter()
        .filter(|p| finished.is_some_and(|f| p.started_at > f))
        .count();
    match later {
        0 => Vec::new(),
        n => vec![format!(
            "note: the journal holds {n} process{} that began after the report was written: the report is of an earlier point of the window (`stopbook report JOURNAL` renders the window as it stands)",
            if n == 1 { "" } else { "es" }
        )],
    }
}

/// A history in words: its events, one word each.
fn history(r: &StopResult) -> String {
    let words: Vec<String> = r
        .history
        .iter()
        .map(|h| format!("{} at {}", h.event.as_str(), h.at))
        .collect();
    match words.is_empty() {
        true => "no events".to_owned(),
        false => words.join(", "),
    }
}

/// The processes of a window in words: their commands and exits.
fn processes(w: &crate::exec::history::WindowRecord) -> String {
    let words: Vec<String> = w
        .processes
        .iter()
        .map(|p| {
            let exit = p.exit.map_or("no exit".to_owned(), |e| format!("exit {e}"));
            format!("`{}` at {} ({exit})", p.command, p.started_at)
        })
        .collect();
    format!("{} processes: {}", w.processes.len(), words.join("; "))
}

fn text_ref(s: Option<&str>) -> String {
    s.map_or("nothing".to_owned(), quoted)
}

fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

fn text(s: &Option<String>) -> String {
    s.as_deref().map_or("nothing".to_owned(), quoted)
}

fn number(n: Option<u16>) -> String {
    n.map_or("nothing".to_owned(), |n| n.to_string())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

fn words_of(s: &crate::report::Summary) -> String {
    format!(
        "{} stops: {} passed, {} failed, {} skipped",
        s.total, s.passed, s.failed, s.skipped
    )
}
