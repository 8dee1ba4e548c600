//! Waiting for an accepted stop's job to end, and escalating to a force stop when told to.
//!
//! Statuses show late, so a `RELEASE_RESOURCE_FAILED` read right after a stop was accepted may
//! be the job's status from before it: it is believed once the job was seen moving, or once the
//! settle window has passed. An escalation's force stop is journaled before it is sent, is sent
//! at most once across every resume, and counts as `escalated` only when it was accepted.

use tokio::time::Instant;

use super::history::At;
use super::journal::{Entry, Escalation, Said};
use super::record::{finish, finish_keep, interrupted};
use super::send::{Sent, send};
use super::{Context, Outcome, StopResult};
use crate::check;
use crate::drs::status;
use crate::live::detail::Read;
use crate::runbook::model::{Stop, Wait};

/// Polls until the job ends or the wait times out; escalates at most once.
pub async fn wait_for_end(
    ctx: &Context,
    stop: &Stop,
    wait: Wait,
    mut result: StopResult,
    mut escalation: Escalation,
) -> StopResult {
    let accepted_at = Instant::now();
    let deadline = accepted_at + wait.timeout.get();
    let escalate_at = escalate_at(stop, accepted_at);
    let settle = stop.settings.retry.settle.get();
    // When the last stop was sent (for a resumed stop: no later than the journal's last write),
    // and whether the job was seen ending since.
    let mut sent_at = match result.resumed {
        true => accepted_at
            .checked_sub(ctx.journal_age)
            .unwrap_or(accepted_at),
        false => accepted_at,
    };
    let mut moved = false;
    let mut last = None;
    // What became of this wait's escalation, when there is something to say of it.
    let mut note: Option<String> = None;
    result.awaiting = true;
    let _waiting = ctx.board.wait();
    let counted = ctx.census.enter(result.seq);
    let mut read_at = accepted_at;
    loop {
        let read = ctx.board.read(ctx, stop, read_at).await;
        read_at = Instant::now();
        match read {
            Read::Status(s) if s == status::COMPLETE => {
                result.final_status = Some(s);
                result.awaiting = false;
                return finish_keep(ctx, result, Outcome::Passed);
            }
            Read::Status(s) => {
                counted.saw(&s);
                moved |= s == status::STARTED;
                let failed = s == status::FAILED && (moved || sent_at.elapsed() >= settle);
                let due = escalate_at.is_some_and(|at| Instant::now() >= at);
                if escalate_at.is_some() && escalation == Escalation::None && (failed || due) {
                    escalation = Escalation::MaybeSent;
                    match escalate(ctx, stop, &mut result, &s).await {
                        Ok(refused) => note = refused,
                        Err(early) => return *early,
                    }
                    sent_at = Instant::now();
                    moved = false;
                } else if status::is_terminal(&s) && (s != status::FAILED || failed) {
                    result.awaiting = false;
                    result.final_status = Some(s.clone());
                    let reason =
                        ended_badly(&s, escalation_note(escalation, note.as_deref(), &result));
                    return finish(ctx, result, Outcome::Failed, reason);
                }
                last = Some(s);
            }
            Read::Missing => {
                result.awaiting = false;
                let reason = "the job disappeared while being waited for".to_owned();
                return finish(ctx, result, Outcome::Failed, reason);
            }
            Read::Refused => return interrupted(ctx, result),
            Read::Throttled(_) | Read::Error(_) => {}
        }
        if Instant::now() >= deadline {
            let note = escalation_note(escalation, note.as_deref(), &result);
            return timed_out(ctx, result, wait, last, note);
        }
        let pause = wait
            .poll
            .get()
            .min(deadline.saturating_duration_since(Instant::now()));
        if !ctx.sleep(pause).await {
            result.final_status = last;
            return interrupted(ctx, result);
        }
    }
}

/// The result of a wait that timed out; `note` says what became of its escalation.
fn timed_out(
    ctx: &Context,
    mut result: StopResult,
    wait: Wait,
    last: Option<String>,
    note: String,
) -> StopResult {
    result.awaiting = false;
    let reason = format!(
        "the job did not end within {} (last status: {}){note}",
        wait.timeout,
        last.as_deref().unwrap_or("unknown"),
    );
    result.final_status = last;
    finish(ctx, result, Outcome::Failed, reason)
}

fn ended_badly(status: &str, note: String) -> String {
    format!("the job ended in {status}, not RELEASE_RESOURCE_COMPLETE{note}")
}

/// What a failure's reason adds about the escalation: `note`, what became of the force stop
/// this wait sent, or that an earlier run may have sent one.
fn escalation_note(escalation: Escalation, note: Option<&str>, result: &StopResult) -> String {
    match note {
        Some(note) => format!("; {note}"),
        None if escalation == Escalation::MaybeSent && !result.escalated && result.resumed => {
            " (an earlier run may have sent the escalation's force stop: it was not sent again)"
                .to_owned()
        }
        None => String::new(),
    }
}

/// When the stop escalates, if it does: never when it was a force stop already, as there is
/// nothing to escalate to (soak seed 12).
fn escalate_at(stop: &Stop, accepted_at: Instant) -> Option<Instant> {
    stop.settings
        .effective_escalate()
        .filter(|_| !stop.settings.force)
        .map(|e| accepted_at + e.after.get())
}

/// Sends the escalation's force stop, its intent on disk first: what became of it when it was
/// refused or failed (also the stop's reason from then on), or `Err`, the stop's result when
/// the run cannot go on with it.
async fn escalate(
    ctx: &Context,
    stop: &Stop,
    result: &mut StopResult,
    status: &str,
) -> Result<Option<String>, Box<StopResult>> {
    let (seq, job) = (result.seq, stop.job);
    if !super::intents::write_or_halt(
        ctx,
        vec![Entry::Escalating {
            seq,
            job,
            at: Some(At::now()),
        }],
    )
    .await
    {
        return Err(Box::new(interrupted(ctx, result.clone())));
    }
    let mut attempts = 0;
    let sent = send(ctx, (seq, stop), true, &mut attempts, Some(status)).await;
    result.attempts += attempts;
    let refused = match &sent {
        Sent::Answer(a) if a.http == 200 && a.field("status") == Some("success") => None,
        Sent::Taken(_) => None,
        Sent::Answer(a) => {
            // Journaled with its answer: a resume knows the force stop took no effect.
            let answer = Said::of(a);
            ctx.note(Entry::EscalationRefused {
                seq,
                job,
                answer,
                at: At::now(),
            });
            Some(format!(
                "the escalation's force stop was refused ({})",
                check::describe(a)
            ))
        }
        Sent::GaveUp { reason, .. } => {
            Some(format!("the escalation's force stop failed: {reason}"))
        }
        Sent::Halted { .. } | Sent::Interrupted { .. } | Sent::Refused { .. } => {
            // A force stop that surely never reached the server may go out on resume.
            if !sent.reached() {
                ctx.note(Entry::EscalationUnsent {
                    seq,
                    job,
                    at: Some(At::now()),
                });
            }
            return Err(Box::new(interrupted(ctx, result.clone())));
        }
    };
    match &refused {
        None => {
            result.escalated = true;
            ctx.note(Entry::Escalated {
                seq,
                job,
                at: Some(At::now()),
            });
        }
        Some(note) => result.reason = Some(note.clone()),
    }
    Ok(refused)
}
