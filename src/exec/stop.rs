//! One stop, start to end: resume from the journal, send with safe retries, judge the answer,
//! wait for the job to end, escalate.
//!
//! A stop changes state, so it is resent only when that is surely safe: after a connect failure
//! (it never arrived), a 429 or a 502/503/504, or a refusal. When the outcome is unknown (a
//! timeout, a reset, a cut 200) the job's status is read first, and a job already ending or
//! ended counts as accepted: the stop is never sent twice.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;

use super::journal::{Earlier, Entry, Finished};
use super::{Context, Outcome, RunOutcome, StopResult};
use crate::api::client::{Answer, CallError};
use crate::api::status;
use crate::check;
use crate::runbook::model::{Expectation, Settings, Stop};

/// The fewest tries an unknown outcome's status read gets before the stop is given up on.
const STATUS_READS: u32 = 3;

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
        expected: expected_text(&stop.settings.effective_expect()).into(),
        outcome: Outcome::Failed,
        http_status: None,
        error_code: None,
        final_status: None,
        attempts: 0,
        escalated: false,
        reason: None,
        violations: Vec::new(),
        resumed: false,
    }
}

fn expected_text(e: &Expectation) -> String {
    match e {
        Expectation::Stopped => "stopped".to_owned(),
        Expectation::Accepted => "accepted".to_owned(),
        Expectation::Answer {
            http,
            error_code: Some(code),
            ..
        } => format!("HTTP {http} {code}"),
        Expectation::Answer {
            http,
            result: Some(word),
            ..
        } => format!("HTTP {http} status {}", word.as_str()),
        Expectation::Answer { http, .. } => format!("HTTP {http}"),
    }
}

pub async fn execute(ctx: &Context, phase: &Arc<str>, seq: usize, stop: &Stop) -> StopResult {
    let mut result = blank(phase, seq, stop);
    let settings: &Settings = &stop.settings;
    let expect = settings.effective_expect();

    let mut accepted = false;
    match ctx.earlier.get(&seq) {
        Some(Earlier::Accepted) => {
            accepted = true;
            result.resumed = true;
        }
        Some(Earlier::MaybeSent) => {
            result.resumed = true;
            match taken_already(ctx, stop).await {
                Ok(true) => accepted = true,
                Ok(false) => {}
                Err(reason) => return finish(ctx, result, Outcome::Failed, format!("an earlier run may have sent this stop and its status cannot be read ({reason}): not resent")).await,
            }
        }
        _ => {}
    }

    // The scheduler put this stop's intent on disk before starting it (see `intents`).
    if !accepted {
        match send(ctx, stop, settings.force, &mut result.attempts).await {
            Sent::Answer(answer) => {
                result.http_status = Some(answer.http);
                result.error_code = answer.field("error_code").map(str::to_owned);
                result.violations = check::body_violations(&answer);
                if let Err(reason) = check::judge_answer(&expect, &answer) {
                    return finish(ctx, result, Outcome::Failed, reason).await;
                }
                accepted = answer.http == 200 && answer.field("status") == Some("success");
            }
            Sent::Taken => {
                accepted = true;
                result.reason = Some("the outcome of the request was unknown; the job's status showed the stop was taken".to_owned());
                if !matches!(expect, Expectation::Stopped | Expectation::Accepted) {
                    return finish(
                        ctx,
                        result,
                        Outcome::Failed,
                        format!(
                            "expected {}, but the stop was taken",
                            expected_text(&expect)
                        ),
                    )
                    .await;
                }
            }
            Sent::GaveUp(reason) => return finish(ctx, result, Outcome::Failed, reason).await,
            Sent::Fatal(reason) => {
                ctx.halt(reason.clone(), RunOutcome::Aborted);
                return finish(ctx, result, Outcome::Failed, reason).await;
            }
        }
    }

    let Some(wait) = settings.effective_wait().filter(|_| accepted) else {
        // The result, written next, says as much as an `accepted` entry would.
        return finish_keep(ctx, result, Outcome::Passed).await;
    };
    if !matches!(ctx.earlier.get(&seq), Some(Earlier::Accepted))
        && let Some(journal) = &ctx.journal
    {
        journal.record(Entry::Accepted { seq, job: stop.job });
    }
    wait_for_end(ctx, stop, wait, settings, result).await
}

/// What sending came to.
enum Sent {
    Answer(Answer),
    /// The outcome was unknown and the job's status showed the stop was taken.
    Taken,
    GaveUp(String),
    Fatal(String),
}

/// Sends the stop, retrying only when that cannot stop the job twice.
async fn send(ctx: &Context, stop: &Stop, force: bool, attempts: &mut u32) -> Sent {
    let retry = stop.settings.retry;
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(retry.backoff.get())
        .with_max_delay(retry.max_backoff.get())
        .with_max_times(retry.attempts.saturating_sub(1) as usize)
        .with_jitter()
        .build();
    loop {
        *attempts += 1;
        let answer = {
            let _permit = ctx.limits.request().await;
            ctx.client
                .stop(&stop.job, force, stop.settings.request_timeout.get())
                .await
        };
        let mut pause = None;
        let why = match answer {
            Ok(a) if a.http == 401 => {
                return Sent::Fatal(format!("authentication refused: {}", check::describe(&a)));
            }
            Ok(a) if a.http == 429 => {
                pause = a.retry_after;
                "throttled (429)".to_owned()
            }
            Ok(a) if matches!(a.http, 502..=504) => format!("server error ({})", a.http),
            Ok(a) if a.body.is_none() && a.http == 200 => match taken_already(ctx, stop).await {
                Ok(true) => return Sent::Taken,
                Ok(false) => {
                    "a 200 answer that is not JSON, and the job is not stopping".to_owned()
                }
                Err(reason) => {
                    return Sent::GaveUp(format!(
                        "a 200 answer that is not JSON, and the status cannot be read ({reason}): not resent"
                    ));
                }
            },
            Ok(a) if a.body.is_none() => format!("an answer that is not JSON (HTTP {})", a.http),
            Ok(a) => return Sent::Answer(a),
            Err(CallError::Fatal(m)) => return Sent::Fatal(m),
            Err(CallError::NotSent(m)) => format!("not sent ({m})"),
            Err(CallError::Unknown(m)) => match taken_already(ctx, stop).await {
                Ok(true) => return Sent::Taken,
                Ok(false) => format!("outcome unknown ({m}), and the job is not stopping"),
                Err(reason) => {
                    return Sent::GaveUp(format!(
                        "outcome unknown ({m}) and the status cannot be read ({reason}): not resent"
                    ));
                }
            },
        };
        let Some(delay) = delays.next() else {
            return Sent::GaveUp(format!(
                "gave up after {attempts} attempt{}: {why}",
                if *attempts == 1 { "" } else { "s" }
            ));
        };
        let delay = pause.unwrap_or(delay);
        if pause.is_some() || why.starts_with("throttled") {
            ctx.limits.pause(delay);
        }
        if !sleep_unless_cancelled(ctx, delay).await {
            return Sent::GaveUp(format!("interrupted while retrying: {why}"));
        }
    }
}

/// Whether the job's status shows that a stop was already taken (ending or ended). Reading a
/// status changes nothing, so it is retried on the stop's own policy (at least three tries).
async fn taken_already(ctx: &Context, stop: &Stop) -> Result<bool, String> {
    let retry = stop.settings.retry;
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(retry.backoff.get())
        .with_max_delay(retry.max_backoff.get())
        .with_max_times(retry.attempts.max(STATUS_READS).saturating_sub(1) as usize)
        .with_jitter()
        .build();
    loop {
        let last = match read_status(ctx, stop).await {
            Ok(Some(status)) => return Ok(status::is_ending_or_ended(&status)),
            Ok(None) => return Ok(false),
            Err(e) => e,
        };
        match delays.next() {
            Some(delay) if sleep_unless_cancelled(ctx, delay).await => {}
            _ => return Err(last),
        }
    }
}

/// The job's status: `Ok(None)` if the server says it does not exist.
async fn read_status(ctx: &Context, stop: &Stop) -> Result<Option<String>, String> {
    let answer = {
        let _permit = ctx.limits.request().await;
        ctx.client
            .detail(&stop.job, stop.settings.request_timeout.get())
            .await
    };
    match answer {
        Ok(a) if a.http == 200 => a
            .body
            .as_ref()
            .and_then(|b| b.get("job")?.get("status")?.as_str())
            .map(|s| Some(s.to_owned()))
            .ok_or_else(|| "the job detail has no job.status".to_owned()),
        Ok(a) if a.http == 400 && a.field("error_code") == Some("DRS.10000010") => Ok(None),
        Ok(a) if a.http == 401 => {
            ctx.halt(
                format!("authentication refused: {}", check::describe(&a)),
                RunOutcome::Aborted,
            );
            Err("authentication refused".to_owned())
        }
        Ok(a) => {
            if a.http == 429 {
                ctx.limits
                    .pause(a.retry_after.unwrap_or(Duration::from_secs(1)));
            }
            Err(check::describe(&a))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Polls until the job ends or the wait times out; escalates once when told to.
async fn wait_for_end(
    ctx: &Context,
    stop: &Stop,
    wait: crate::runbook::model::Wait,
    settings: &Settings,
    mut result: StopResult,
) -> StopResult {
    let accepted_at = Instant::now();
    let deadline = accepted_at + wait.timeout.get();
    let escalate_at = settings
        .effective_escalate()
        .map(|e| accepted_at + e.after.get());
    let mut last = None;
    loop {
        match read_status(ctx, stop).await {
            Ok(Some(status)) => {
                let ended_badly = status == status::FAILED;
                if status == status::COMPLETE {
                    result.final_status = Some(status);
                    return finish_keep(ctx, result, Outcome::Passed).await;
                }
                let due = escalate_at.is_some_and(|at| Instant::now() >= at);
                if escalate_at.is_some() && !result.escalated && (ended_badly || due) {
                    result.escalated = true;
                    let mut attempts = 0;
                    if let Sent::Fatal(reason) = send(ctx, stop, true, &mut attempts).await {
                        ctx.halt(reason.clone(), RunOutcome::Aborted);
                    }
                    result.attempts += attempts;
                } else if status::is_terminal(&status) {
                    result.final_status = Some(status.clone());
                    let reason =
                        format!("the job ended in {status}, not RELEASE_RESOURCE_COMPLETE");
                    return finish(ctx, result, Outcome::Failed, reason).await;
                }
                last = Some(status);
            }
            Ok(None) => {
                return finish(
                    ctx,
                    result,
                    Outcome::Failed,
                    "the job disappeared while being waited for".to_owned(),
                )
                .await;
            }
            Err(_) if ctx.halted.load(std::sync::atomic::Ordering::SeqCst) && !ctx.cancelled() => {
                return finish(
                    ctx,
                    result,
                    Outcome::Failed,
                    "the run was aborted while waiting".to_owned(),
                )
                .await;
            }
            Err(_) => {}
        }
        if Instant::now() >= deadline {
            result.final_status = last.clone();
            let reason = format!(
                "the job did not end within {} (last status: {})",
                wait.timeout,
                last.as_deref().unwrap_or("unknown")
            );
            return finish(ctx, result, Outcome::Failed, reason).await;
        }
        let pause = wait
            .poll
            .get()
            .min(deadline.saturating_duration_since(Instant::now()));
        if !sleep_unless_cancelled(ctx, pause).await {
            result.final_status = last;
            let reason = "interrupted while waiting: the stop was accepted, and `--resume` waits for it again".to_owned();
            return finish_unjournaled(result, Outcome::Skipped, reason);
        }
    }
}

/// Sleeps for `d`; false if the run was interrupted meanwhile.
async fn sleep_unless_cancelled(ctx: &Context, d: Duration) -> bool {
    let mut cancel = ctx.cancel.clone();
    if *cancel.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = cancel.wait_for(|c| *c) => false,
    }
}

async fn finish(
    ctx: &Context,
    mut result: StopResult,
    outcome: Outcome,
    reason: String,
) -> StopResult {
    result.reason = Some(reason);
    finish_keep(ctx, result, outcome).await
}

/// Records the result in the journal, keeping any reason already given.
async fn finish_keep(ctx: &Context, mut result: StopResult, outcome: Outcome) -> StopResult {
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

/// A result not written to the journal, so that a resumed run takes the stop up again.
fn finish_unjournaled(mut result: StopResult, outcome: Outcome, reason: String) -> StopResult {
    result.outcome = outcome;
    result.reason = Some(reason);
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
