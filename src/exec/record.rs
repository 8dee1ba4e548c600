//! A stop's result: the blank it starts from, the ones made without running it (skipped, or
//! taken from an earlier run's journal), what its answer says (a single stop's answer and a
//! batch member's item alike), and how a finished one is recorded in the journal.

use std::sync::Arc;

use super::history::At;
use super::journal::{Entry, Finished, Said};
use super::{Context, Outcome, StopResult};
use crate::api::client::Answer;
use crate::check;
use crate::runbook::model::{Expectation, Stop};

/// What a stop's own answer came to, once recorded and judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// It does not meet the expectation: the result is finished, failed, and journaled.
    Failed,
    /// It meets it and the stop was accepted: the job is waited for (when the stop waits).
    Accepted,
    /// It meets it without the stop being accepted (an expected refusal): nothing to wait for.
    Met,
}

/// Records the stop's own answer on its result (a batch member's item is the answer it stands
/// for, with the call's `request_id`) and judges it against `expect`. An accepted stop is
/// stamped accepted only when the answer meets its expectation.
pub fn answered(
    ctx: &Context,
    result: &mut StopResult,
    answer: &Answer,
    request_id: Option<String>,
    expect: &Expectation,
) -> Judged {
    result.http_status = Some(answer.http);
    result.error_code = answer.field("error_code").map(str::to_owned);
    result.error_msg = answer.field("error_msg").map(str::to_owned);
    result.stamps.request_id = request_id;
    result.violations = check::body_violations(answer);
    // The task's name, once, when the plan did not know it (a listed stop): the answer has it.
    if result.name.is_none()
        && let Some(name) = answer.field("name").filter(|n| !n.is_empty())
    {
        result.name = Some(name.into());
        let (seq, name) = (result.seq, name.to_owned());
        ctx.note(Entry::Name { seq, name });
    }
    let accepted = answer.http == 200 && answer.field("status") == Some("success");
    if !accepted {
        let mut answer = Said::of(answer);
        answer.request_id.clone_from(&result.stamps.request_id);
        let seq = result.seq;
        ctx.note(Entry::Answer {
            seq,
            answer,
            at: At::now(),
        });
    }
    if let Err(reason) = check::judge_answer(expect, answer) {
        result.reason = Some(reason.into_string());
        record(ctx, result, Outcome::Failed);
        return Judged::Failed;
    }
    if accepted {
        result.stamps.accepted_ms = Some(ctx.started.elapsed().as_millis() as u64);
        return Judged::Accepted;
    }
    Judged::Met
}

/// Judges a stop whose answer was lost but whose job's status (`status`) showed it was taken,
/// and says so on its result (a single stop and a batch member alike): `Failed` (finished and
/// journaled) when that does not meet `expect`, else `Accepted`.
pub fn taken(ctx: &Context, result: &mut StopResult, status: &str, expect: &Expectation) -> Judged {
    if let Err(reason) = check::judge_taken(expect, status) {
        result.reason = Some(reason.into_string());
        record(ctx, result, Outcome::Failed);
        return Judged::Failed;
    }
    result.reason = Some(format!(
        "the outcome of the request was unknown; the job's status ({status}) showed the stop was taken"
    ));
    Judged::Accepted
}

/// Records a refusal of a whole batch-stop call on a member's result: the call's answer is the
/// only one it got, failed with `reason` and journaled.
pub fn refused_call(ctx: &Context, result: &mut StopResult, answer: &Answer, reason: String) {
    let seq = result.seq;
    ctx.note(Entry::Answer {
        seq,
        answer: Said::of(answer),
        at: At::now(),
    });
    result.http_status = Some(answer.http);
    result.error_code = answer.field("error_code").map(str::to_owned);
    result.error_msg = answer.field("error_msg").map(str::to_owned);
    result.reason = Some(reason);
    record(ctx, result, Outcome::Failed);
}

/// A stop the run did not start.
pub fn skipped(phase: &Arc<str>, seq: usize, stop: &Stop, reason: String) -> StopResult {
    let mut result = blank(phase, seq, stop);
    result.outcome = Outcome::Skipped;
    result.reason = Some(reason);
    result
}

/// A stop an earlier run finished, as that run's journal has it.
pub fn resumed(phase: &Arc<str>, seq: usize, stop: &Stop, finished: &Finished) -> StopResult {
    let Finished {
        outcome,
        http_status,
        error_code,
        error_msg,
        final_status,
        attempts,
        escalated,
        reason,
        violations,
        unsent,
        batch,
        request_id,
    } = finished.clone();
    StopResult {
        outcome,
        http_status,
        error_code,
        error_msg,
        final_status,
        attempts,
        escalated,
        reason,
        violations,
        unsent,
        batch,
        resumed: true,
        stamps: super::Stamps {
            accepted_ms: None,
            request_id,
        },
        ..blank(phase, seq, stop)
    }
}

pub fn blank(phase: &Arc<str>, seq: usize, stop: &Stop) -> StopResult {
    StopResult {
        seq,
        phase: Arc::clone(phase),
        job: stop.job,
        name: stop.name.as_deref().map(Box::from),
        label: stop.label.clone(),
        force: stop.settings.force,
        expected: stop.settings.effective_expect().to_string().into(),
        outcome: Outcome::Failed,
        http_status: None,
        error_code: None,
        error_msg: None,
        final_status: None,
        attempts: 0,
        escalated: false,
        reason: None,
        violations: Vec::new(),
        resumed: false,
        unsent: false,
        awaiting: false,
        batch: None,
        history: Box::default(),
        stamps: super::Stamps::default(),
    }
}

/// Records `result` as `outcome` with `reason` in the journal.
pub fn finish(
    ctx: &Context,
    mut result: StopResult,
    outcome: Outcome,
    reason: String,
) -> StopResult {
    result.reason = Some(reason);
    finish_keep(ctx, result, outcome)
}

/// Records the result in the journal, keeping any reason already given.
pub fn finish_keep(ctx: &Context, mut result: StopResult, outcome: Outcome) -> StopResult {
    record(ctx, &mut result, outcome);
    result
}

/// The result finished as `outcome`, and its line in the journal.
fn record(ctx: &Context, result: &mut StopResult, outcome: Outcome) {
    result.outcome = outcome;
    ctx.note(Entry::Result {
        seq: result.seq,
        job: result.job,
        result: Box::new(Finished::of(result)),
        at: Some(At::now()),
    });
}

/// A stop the run could not finish (interrupted, or no request may start any more): reported
/// skipped and left out of the journal's results, so `--resume` takes it up where it was.
pub fn interrupted(ctx: &Context, mut result: StopResult) -> StopResult {
    result.outcome = Outcome::Skipped;
    let why = match ctx.cancelled() {
        true => "interrupted",
        false => "the run was halted",
    };
    result.reason = Some(match (result.awaiting, result.unsent) {
        (true, _) => format!(
            "{why} while waiting for the job to end: the stop was accepted, and `--resume` waits for it"
        ),
        (false, true) => format!("{why} before this stop reached the server: `--resume` sends it"),
        (false, false) => format!(
            "{why} before this stop's outcome was known: `--resume` reads the job's status and finishes it"
        ),
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::model::Settings;

    #[test]
    fn a_result_comes_back_whole_from_its_journal_line() {
        let stop = Stop {
            job: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9".parse().unwrap(),
            label: Some("orders".to_owned()),
            name: None,
            settings: Arc::new(Settings {
                force: true,
                ..Settings::default()
            }),
        };
        let phase: Arc<str> = Arc::from("drain");
        let original = StopResult {
            outcome: Outcome::Failed,
            http_status: Some(400),
            error_code: Some("DRS.10000010".to_owned()),
            final_status: Some("RELEASE_RESOURCE_FAILED".to_owned()),
            attempts: 3,
            escalated: true,
            reason: Some("the job ended in RELEASE_RESOURCE_FAILED".to_owned()),
            violations: vec!["error_msg is empty".to_owned()],
            ..blank(&phase, 7, &stop)
        };
        let line = serde_json::to_string(&Entry::Result {
            seq: 7,
            job: stop.job,
            result: Box::new(Finished::of(&original)),
            at: None,
        })
        .unwrap();
        let Ok(Entry::Result { result, .. }) = serde_json::from_str(&line) else {
            panic!("not a result line: {line}");
        };
        let back = resumed(&phase, 7, &stop, &result);
        assert_eq!(
            back,
            StopResult {
                resumed: true,
                ..original
            }
        );
    }
}
