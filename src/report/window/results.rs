//! Each planned stop's result and timing, from what its journal says: a finished stop's result
//! as it was journaled (with its attempts over the whole window), an unfinished one skipped
//! with the reason a resume would act on.

use std::collections::BTreeMap;

use super::fold::{Stop, Worker};
use crate::exec::history::{At, What};
use crate::exec::journal::{Earlier, Finished};
use crate::exec::{Outcome, Report, RunOutcome, StopResult, Timing};

/// Appends the results and timings of `stops` to `report`; times count from `started`.
pub fn extend(report: &mut Report, stops: BTreeMap<usize, Stop>, workers: &[Worker], started: At) {
    let last = workers.last();
    let why = match last.and_then(|w| w.closing.as_ref()) {
        Some(c) if c.outcome == RunOutcome::Interrupted => "interrupted",
        Some(_) => "the run was halted",
        None => "the process was killed",
    };
    let not_started = not_started(last);
    for (seq, stop) in stops {
        if let Some(timing) = timing(seq, &stop, started) {
            report.timings.push(timing);
        }
        report.results.push(result(seq, stop, why, &not_started));
    }
}

fn result(seq: usize, stop: Stop, why: &str, not_started: &str) -> StopResult {
    let planned = stop.planned;
    let mut result = StopResult {
        seq,
        phase: stop.phase,
        job: planned.job,
        name: planned.name.map(String::into_boxed_str),
        label: planned.label,
        force: planned.force,
        expected: stop.expected,
        outcome: Outcome::Skipped,
        http_status: None,
        error_code: None,
        error_msg: None,
        final_status: None,
        attempts: stop.sends,
        escalated: false,
        reason: None,
        violations: Vec::new(),
        resumed: stop.resumed,
        unsent: stop.unsent,
        awaiting: false,
        batch: None,
        history: stop.history.into_boxed_slice(),
        stamps: Default::default(),
    };
    match (stop.finished, stop.earlier) {
        (Some(finished), _) => take_finished(&mut result, *finished),
        (None, earlier) => {
            if let Some(answer) = stop.last_answer.map(|a| *a) {
                result.http_status = Some(answer.http);
                result.error_code = answer.error_code;
                result.error_msg = answer.error_msg;
            }
            result.batch = result
                .history
                .iter()
                .rev()
                .find_map(|h| h.batch.map(|b| b as usize));
            result.awaiting = matches!(earlier, Some(Earlier::Accepted(_)));
            result.escalated = matches!(
                earlier,
                Some(Earlier::Accepted(
                    crate::exec::journal::Escalation::Accepted
                ))
            );
            result.reason = Some(unfinished(&result, earlier.is_some(), why, not_started));
        }
    }
    result
}

fn take_finished(result: &mut StopResult, f: Finished) {
    result.outcome = f.outcome;
    // A stop a resume took up as accepted got its answer in an earlier process.
    result.http_status = f.http_status.or_else(|| {
        let accepted = result
            .history
            .iter()
            .rev()
            .find(|h| h.event == What::Accepted);
        accepted.and_then(|h| h.http)
    });
    result.error_code = f.error_code;
    result.error_msg = f.error_msg;
    result.final_status = f.final_status;
    result.attempts = result.attempts.max(f.attempts);
    result.escalated = f.escalated;
    result.reason = f.reason;
    result.violations = f.violations;
    result.unsent = f.unsent;
    result.batch = f.batch;
}

/// Why a stop the window did not finish is skipped, in the words a run uses.
fn unfinished(result: &StopResult, begun: bool, why: &str, not_started: &str) -> String {
    match (result.awaiting, result.unsent, begun) {
        (true, _, _) => format!(
            "{why} while waiting for the job to end: the stop was accepted, and `--resume` waits for it"
        ),
        (false, true, _) => {
            format!("{why} before this stop reached the server: `--resume` sends it")
        }
        (false, false, true) => format!(
            "{why} before this stop's outcome was known: `--resume` reads the job's status and finishes it"
        ),
        (false, false, false) => not_started.to_owned(),
    }
}

/// Why the stops the last process never began were not started.
fn not_started(last: Option<&Worker>) -> String {
    match last.and_then(|w| w.closing.as_ref()) {
        None => "not started: the process was killed first".to_owned(),
        Some(c) => match (c.outcome, &c.halted) {
            (RunOutcome::Interrupted, _) => "not started: the run was interrupted".to_owned(),
            (RunOutcome::Paused, _) => {
                "not started: paused after the --until phase; `--resume` goes on".to_owned()
            }
            (_, Some(reason)) => format!("not started: {reason}"),
            (_, None) => "not started".to_owned(),
        },
    }
}

/// When the stop ran, counted from the window's start: from its first request to its end.
fn timing(seq: usize, stop: &Stop, started: At) -> Option<Timing> {
    let first = stop.history.iter().find(|h| h.attempt.is_some())?.at;
    let end = stop.ended_at.or(stop.history.last().map(|h| h.at))?;
    Some(Timing {
        seq,
        started_ms: first.since(started),
        duration_ms: end.since(first),
        accepted_ms: stop.accepted_at.map(|a| a.since(started)),
        request_id: stop.request_id.clone(),
    })
}
