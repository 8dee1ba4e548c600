//! One stop, start to end: take up what an earlier run left, send with safe retries, judge the
//! answer, then wait for the job to end (see [`super::wait`]).
//!
//! A stop changes state, so it is sent again only when the evidence says the first did not take
//! effect ([`super::reply`]): an unknown outcome is resolved by status reads within the settle
//! window ([`super::settle`]) before anything is resent. A stop interrupted while it waited (a
//! backoff, the settle window, status reads) is reported skipped and left out of the journal's
//! results, so `--resume` finishes it.

use std::sync::Arc;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;

use super::journal::{Earlier, Entry, Escalation, Finished};
use super::reply::{self, Reply};
use super::settle::{self, Settled};
use super::{Context, Outcome, RunOutcome, StopResult, wait};
use crate::api::client::Answer;
use crate::check;
use crate::runbook::model::Stop;

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
        final_status,
        attempts,
        escalated,
        reason,
        violations,
        unsent,
    } = finished.clone();
    StopResult {
        outcome,
        http_status,
        error_code,
        final_status,
        attempts,
        escalated,
        reason,
        violations,
        unsent,
        resumed: true,
        ..blank(phase, seq, stop)
    }
}

fn blank(phase: &Arc<str>, seq: usize, stop: &Stop) -> StopResult {
    StopResult {
        seq,
        phase: Arc::clone(phase),
        job: stop.job,
        label: stop.label.clone(),
        force: stop.settings.force,
        expected: check::expected_text(&stop.settings.effective_expect()).into(),
        outcome: Outcome::Failed,
        http_status: None,
        error_code: None,
        final_status: None,
        attempts: 0,
        escalated: false,
        reason: None,
        violations: Vec::new(),
        resumed: false,
        unsent: false,
        awaiting: false,
    }
}

pub async fn execute(ctx: &Context, phase: &Arc<str>, seq: usize, stop: &Stop) -> StopResult {
    super::failpoint::before_stop(seq);
    let mut result = blank(phase, seq, stop);
    let expect = stop.settings.effective_expect();
    let mut escalation = Escalation::None;
    let mut accepted = false;
    match ctx.earlier.get(&seq) {
        Some(Earlier::Accepted(e)) => {
            result.resumed = true;
            result.escalated = *e == Escalation::Accepted;
            escalation = *e;
            accepted = true;
        }
        Some(Earlier::MaybeSent) => {
            result.resumed = true;
            // An earlier run sent nothing after its journal's last write.
            let since = Instant::now()
                .checked_sub(ctx.journal_age)
                .unwrap_or_else(Instant::now);
            match settle::settle(ctx, stop, since, None).await {
                Settled::Taken(status) => {
                    if let Err(reason) = check::judge_taken(&expect, &status) {
                        return finish(ctx, result, Outcome::Failed, reason);
                    }
                    result.reason = Some(format!(
                        "an earlier run's stop was taken: the job's status is {status}"
                    ));
                    accepted = true;
                }
                Settled::NotTaken | Settled::Missing => {}
                Settled::Unknown(why) => {
                    let reason = format!(
                        "outcome unknown: an earlier run may have sent this stop, and {why}: not sent again"
                    );
                    return finish(ctx, result, Outcome::Failed, reason);
                }
                Settled::Interrupted => return interrupted(ctx, result),
                Settled::Refused => return interrupted(ctx, result),
            }
        }
        _ => {}
    }

    // The scheduler put this stop's intent on disk before starting it (see `intents`).
    if !accepted {
        match send(ctx, stop, stop.settings.force, &mut result.attempts, None).await {
            Sent::Answer(answer) => {
                record_answer(&mut result, &answer);
                if let Err(reason) = check::judge_answer(&expect, &answer) {
                    return finish(ctx, result, Outcome::Failed, reason);
                }
                accepted = answer.http == 200 && answer.field("status") == Some("success");
            }
            Sent::Taken(status) => {
                if let Err(reason) = check::judge_taken(&expect, &status) {
                    return finish(ctx, result, Outcome::Failed, reason);
                }
                result.reason = Some(format!(
                    "the outcome of the request was unknown; the job's status ({status}) showed the stop was taken"
                ));
                accepted = true;
            }
            Sent::GaveUp { reason, unsent } => {
                result.unsent = unsent;
                return finish(ctx, result, Outcome::Failed, reason);
            }
            Sent::Halted(reason) => {
                result.unsent = true;
                return finish(ctx, result, Outcome::Failed, reason);
            }
            Sent::Interrupted | Sent::Refused => return interrupted(ctx, result),
        }
    }

    let Some(wait) = stop.settings.effective_wait().filter(|_| accepted) else {
        // The result, written next, says as much as an `accepted` entry would.
        return finish_keep(ctx, result, Outcome::Passed);
    };
    if !matches!(ctx.earlier.get(&seq), Some(Earlier::Accepted(_)))
        && let Some(journal) = &ctx.journal
    {
        journal.record(Entry::Accepted { seq, job: stop.job });
    }
    wait::wait_for_end(ctx, stop, wait, result, escalation).await
}

fn record_answer(result: &mut StopResult, answer: &Answer) {
    result.http_status = Some(answer.http);
    result.error_code = answer.field("error_code").map(str::to_owned);
    result.violations = check::body_violations(answer);
}

/// What sending came to.
#[derive(Debug)]
pub enum Sent {
    /// An answer to judge.
    Answer(Answer),
    /// The outcome was unknown and the job's status (this one) showed a stop was taken.
    Taken(String),
    /// Tried as often as allowed, or the outcome cannot be known; `unsent` when no attempt
    /// reached the server.
    GaveUp { reason: String, unsent: bool },
    /// A fatal answer ended the run (401, TLS): nothing was taken.
    Halted(String),
    /// The run was interrupted while this stop waited.
    Interrupted,
    /// No request may start any more (authentication was refused elsewhere in the run).
    Refused,
}

/// Sends a stop, again only when the evidence says the last one did not take effect. `before`
/// is the job's status before this stop, when known (an escalation knows it).
pub async fn send(
    ctx: &Context,
    stop: &Stop,
    force: bool,
    attempts: &mut u32,
    before: Option<&str>,
) -> Sent {
    let retry = stop.settings.retry;
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(retry.backoff.get())
        .with_max_delay(retry.max_backoff.get())
        .with_max_times(retry.attempts.saturating_sub(1) as usize)
        .with_jitter()
        .build();
    let mut reached = false;
    loop {
        let Some(permit) = ctx.permit().await else {
            return Sent::Refused;
        };
        *attempts += 1;
        let answer = ctx
            .client
            .stop(&stop.job, force, stop.settings.request_timeout.get())
            .await;
        drop(permit);
        let (why, pause) = match reply::classify(answer, retry.max_backoff.get()) {
            Reply::Judged(answer) => return Sent::Answer(answer),
            Reply::AuthRefused(reason) => {
                ctx.refuse_auth(reason.clone());
                return Sent::Halted(reason);
            }
            Reply::Fatal(reason) => {
                ctx.halt(reason.clone(), RunOutcome::Aborted);
                return Sent::Halted(reason);
            }
            Reply::Resend { why, pause } => (why, pause),
            Reply::Unknown(why) => {
                reached = true;
                match settle::settle(ctx, stop, Instant::now(), before).await {
                    Settled::Taken(status) => return Sent::Taken(status),
                    Settled::NotTaken | Settled::Missing if *attempts < retry.attempts => continue,
                    Settled::NotTaken | Settled::Missing => {
                        let reason = format!(
                            "gave up after {}: {why}, and the job's status showed no stop within the settle window",
                            plural_attempts(*attempts)
                        );
                        return Sent::GaveUp {
                            reason,
                            unsent: false,
                        };
                    }
                    Settled::Unknown(detail) => {
                        let reason =
                            format!("outcome unknown: {why}, and {detail}: not sent again");
                        return Sent::GaveUp {
                            reason,
                            unsent: false,
                        };
                    }
                    Settled::Interrupted => return Sent::Interrupted,
                    Settled::Refused => return Sent::Refused,
                }
            }
        };
        let Some(delay) = delays.next() else {
            let reason = format!("gave up after {}: {why}", plural_attempts(*attempts));
            return Sent::GaveUp {
                reason,
                unsent: !reached,
            };
        };
        let delay = pause.unwrap_or(delay);
        if pause.is_some() {
            ctx.limits.pause(delay);
        }
        if !ctx.sleep(delay).await {
            return Sent::Interrupted;
        }
    }
}

fn plural_attempts(n: u32) -> String {
    format!("{n} attempt{}", if n == 1 { "" } else { "s" })
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
    result.outcome = outcome;
    if let Some(journal) = &ctx.journal {
        journal.record(Entry::Result {
            seq: result.seq,
            job: result.job,
            result: Finished::of(&result),
        });
    }
    result
}

/// A stop the run could not finish (interrupted, or no request may start any more): reported
/// skipped and left out of the journal's results, so `--resume` takes it up where it was.
pub fn interrupted(ctx: &Context, mut result: StopResult) -> StopResult {
    result.outcome = Outcome::Skipped;
    let why = match ctx.cancelled() {
        true => "interrupted",
        false => "the run was halted",
    };
    result.reason = Some(match result.awaiting {
        true => format!(
            "{why} while waiting for the job to end: the stop was accepted, and `--resume` waits for it"
        ),
        false => format!(
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
            result: Finished::of(&original),
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
