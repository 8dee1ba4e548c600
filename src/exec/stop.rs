//! One stop, start to end: take up what an earlier run left, send ([`super::send`]), judge the
//! answer, then wait for the job to end ([`super::wait`]).
//!
//! A stop interrupted while it waited (a backoff, the settle window, status reads) is reported
//! skipped and left out of the journal's results, so `--resume` finishes it.

use std::sync::Arc;

use tokio::time::Instant;

use super::history::At;
use super::journal::{Earlier, Entry, Escalation};
use super::record::{Judged, answered, blank, finish, finish_keep, interrupted, taken};
use super::send::{Sent, send};
use super::settle::{self, Prior, Settled};
use super::{Context, Outcome, StopResult, wait};
use crate::check;
use crate::runbook::model::{Expectation, Stop};

/// Runs the stop at `seq` of `phase` to its end and returns its result.
pub async fn execute(ctx: &Context, phase: &Arc<str>, seq: usize, stop: &Stop) -> StopResult {
    #[cfg(feature = "failpoints")]
    super::failpoint::before_stop(seq);
    let mut result = blank(phase, seq, stop);
    let expect = stop.settings.effective_expect();
    let (mut accepted, escalation) = match take_up(ctx, seq, stop, &expect, &mut result).await {
        Ok(found) => found,
        Err(done) => return *done,
    };
    if !accepted {
        if !super::intents::declare(ctx, &[(seq, stop)], None).await {
            return super::record::skipped(phase, seq, stop, super::skip_reason(ctx));
        }
        match send(
            ctx,
            (seq, stop),
            stop.settings.force,
            &mut result.attempts,
            None,
        )
        .await
        {
            Sent::Answer(answer) => {
                let request_id = answer.request_id.clone();
                match answered(ctx, &mut result, &answer, request_id, &expect) {
                    Judged::Failed => return result,
                    judged => accepted = judged == Judged::Accepted,
                }
            }
            Sent::Taken(status) => match taken(ctx, &mut result, &status, &expect) {
                Judged::Failed => return result,
                _ => accepted = true,
            },
            Sent::GaveUp { reason, unsent } => {
                result.unsent = unsent;
                return finish(ctx, result, Outcome::Failed, reason);
            }
            Sent::Halted { reason, reached } => {
                // Unsent only when no attempt may have reached the server: a resume then sends
                // it unread; otherwise it reads the job's status first.
                result.unsent = !reached;
                return finish(ctx, result, Outcome::Failed, reason);
            }
            sent @ (Sent::Interrupted { .. } | Sent::Refused { .. }) => {
                // Every attempt surely never arrived: a resumed run sends it without waiting.
                result.unsent = !sent.reached();
                if result.unsent {
                    let at = Some(At::now());
                    ctx.note(Entry::Unsent {
                        seq,
                        job: stop.job,
                        at,
                    });
                }
                return interrupted(ctx, result);
            }
        }
    }
    let Some(wait) = stop.settings.effective_wait().filter(|_| accepted) else {
        // The result, written next, says as much as an `accepted` entry would.
        return finish_keep(ctx, result, Outcome::Passed);
    };
    if !matches!(ctx.earlier.get(&seq), Some(Earlier::Accepted(_))) {
        ctx.note(Entry::Accepted {
            seq,
            job: stop.job,
            request_id: result.stamps.request_id.clone(),
            at: Some(At::now()),
        });
    }
    wait::wait_for_end(ctx, stop, wait, result, escalation).await
}

/// What an earlier run left for this stop: whether it was accepted (and how far its escalation
/// got), or the result when that settles it.
pub(super) async fn take_up(
    ctx: &Context,
    seq: usize,
    stop: &Stop,
    expect: &Expectation,
    result: &mut StopResult,
) -> Result<(bool, Escalation), Box<StopResult>> {
    match ctx.earlier.get(&seq) {
        Some(Earlier::Accepted(e)) => {
            result.resumed = true;
            result.escalated = *e == Escalation::Accepted;
            Ok((true, *e))
        }
        Some(earlier @ (Earlier::MaybeSent | Earlier::Retry)) => {
            result.resumed = true;
            // An earlier run sent nothing after its journal's last write.
            let since = Instant::now()
                .checked_sub(ctx.journal_age)
                .unwrap_or_else(Instant::now);
            let done = |r: StopResult| Err(Box::new(r));
            let prior = Prior {
                status: None,
                retrying: *earlier == Earlier::Retry,
            };
            let settled = settle::settle(ctx, (seq, stop), since, prior).await;
            settled.journal(ctx, seq);
            match settled {
                Settled::Taken(status) => {
                    if let Err(reason) = check::judge_taken(expect, &status) {
                        return done(finish(
                            ctx,
                            result.clone(),
                            Outcome::Failed,
                            reason.into_string(),
                        ));
                    }
                    result.reason = Some(format!(
                        "an earlier run's stop was taken: the job's status is {status}"
                    ));
                    Ok((true, Escalation::None))
                }
                Settled::NotTaken(_) | Settled::Missing => {
                    // The send that follows is a resend: on disk before it goes, so that a
                    // later resume measures its settle window from it, not from this run's
                    // start (soak seed 71).
                    let at = Some(At::now());
                    let resend = vec![Entry::Resending {
                        seq,
                        job: stop.job,
                        at,
                        reason: None,
                    }];
                    if !super::intents::write_or_halt(ctx, resend).await {
                        return done(interrupted(ctx, result.clone()));
                    }
                    Ok((false, Escalation::None))
                }
                Settled::Unknown(why) => {
                    let reason = format!(
                        "outcome unknown: an earlier run may have sent this stop, and {why}: not sent again"
                    );
                    done(finish(ctx, result.clone(), Outcome::Failed, reason))
                }
                Settled::Interrupted | Settled::Refused => done(interrupted(ctx, result.clone())),
            }
        }
        _ => Ok((false, Escalation::None)),
    }
}
