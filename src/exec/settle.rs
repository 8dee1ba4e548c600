//! Reading a job's status, and resolving an unknown outcome by reading it within the settle
//! window.
//!
//! Real services show a new status late: a read right after an applied stop may still show the
//! old one. So after an unknown outcome the status is read again and again until it shows that
//! a stop took effect, or until `retry.settle` has passed with the job still as it was; only
//! then is the stop sent again. `RELEASE_RESOURCE_FAILED` shows a stop took effect unless the
//! job already had that status before it, in which case the status cannot tell and the stop is
//! not sent again.

use std::time::Duration;

use tokio::time::Instant;

use super::Context;
use super::history::At;
use super::journal::Entry;
use crate::api::client::Answer;
use crate::check;
use crate::drs::status;
use crate::live::detail::Read;
use crate::retry::Retrying;
use crate::runbook::model::Stop;

/// Status reads that may fail after the window before the outcome counts as unknown (at least;
/// a stop's `retry.attempts` allows more), and not before `give_up_at`.
const LATE_READS: u32 = 3;
/// The longest pause between two reads of the window.
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// Reads the job's status once, within the run's shared limits.
pub async fn read_status(ctx: &Context, stop: &Stop) -> Read {
    let Some(permit) = ctx.permit().await else {
        return Read::Refused;
    };
    let answer = ctx
        .client
        .detail(&stop.job, stop.settings.request_timeout.get())
        .await;
    drop(permit);
    match answer {
        Ok(a) => {
            take_notice(ctx, stop, &a);
            Read::of(&a)
        }
        Err(e) => Read::Error(e.to_string()),
    }
}

/// What a read's failed answer says to the whole run: a 401 refuses every request from now on,
/// a 429 pauses the run (and teaches it the gateway's rate).
pub(super) fn take_notice(ctx: &Context, stop: &Stop, answer: &Answer) {
    match answer.http {
        401 => ctx.refuse_auth(format!(
            "authentication refused: {}",
            check::describe(answer)
        )),
        429 => {
            let cap = stop.settings.retry.max_backoff.get();
            ctx.limits.pause(
                answer
                    .retry_after
                    .map_or(Duration::from_secs(1), |d| d.min(cap)),
            );
        }
        _ => {}
    }
}

/// What the status reads after an unknown outcome showed.
#[derive(Debug)]
pub enum Settled {
    /// A stop took effect: the job is ending or ended (this status).
    Taken(String),
    /// The window passed with the job as it was (this status): the stop did not take effect.
    NotTaken(String),
    /// The job does not exist: nothing can have been stopped.
    Missing,
    /// The status cannot tell: not sent again.
    Unknown(String),
    /// The run was interrupted meanwhile.
    Interrupted,
    /// No request may start any more.
    Refused,
}

impl Settled {
    /// Journals what the status reads came to for the stop at `seq`, as its history shows
    /// it; an interrupted or refused read settled nothing and says nothing.
    pub fn journal(&self, ctx: &Context, seq: usize) {
        let (status, reason) = match self {
            Settled::Taken(s) => (
                Some(s.clone()),
                "the status showed the stop was taken".to_owned(),
            ),
            Settled::NotTaken(s) => (
                Some(s.clone()),
                "the status showed no stop within the settle window".to_owned(),
            ),
            Settled::Missing => (None, "the job does not exist".to_owned()),
            Settled::Unknown(detail) => (None, detail.clone()),
            Settled::Interrupted | Settled::Refused => return,
        };
        ctx.note(Entry::Status {
            seq,
            status,
            reason,
            at: At::now(),
        });
    }
}

/// What is known of the job before the stop whose outcome is being settled.
#[derive(Debug, Clone, Copy)]
pub struct Prior<'a> {
    /// Its status before the stop, when known (an escalation knows it).
    pub status: Option<&'a str>,
    /// The operator asked to try a failed stop again (`--retry-failed`): a job still
    /// `RELEASE_RESOURCE_FAILED` after the window is stopped again, as a stop is how a job
    /// gets out of that status.
    pub retrying: bool,
}

/// Reads the job's status until it shows a stop took effect or `retry.settle` has passed since
/// `since`.
///
/// `RELEASE_RESOURCE_FAILED` shows a stop took effect only when the job is known to have had
/// another status before it (the prior status, or an earlier read of this window): a job that
/// shows nothing else may have had it all along, and then the status cannot tell.
pub async fn settle(
    ctx: &Context,
    stop: (usize, &Stop),
    since: Instant,
    prior: Prior<'_>,
) -> Settled {
    settle_reads(ctx, stop, since, prior, false).await
}

/// [`settle`] for an escalation's force stop, sent after the job's graceful stop was accepted:
/// an ending status may come from that graceful stop, so only a move out of
/// `RELEASE_RESOURCE_FAILED` (the prior status or a read of this window) shows the force stop
/// took effect; a job still failed after the window did not take it; anything else cannot tell
/// (soak seed 139: a force stop that never arrived was reported escalated).
pub async fn settle_escalation(
    ctx: &Context,
    stop: (usize, &Stop),
    since: Instant,
    before: &str,
) -> Settled {
    let prior = Prior {
        status: Some(before),
        retrying: false,
    };
    settle_reads(ctx, stop, since, prior, true).await
}

/// What a status read during an escalation's window says: `None` to read again.
fn judge_escalation(status: &str, late: bool, seen_failed: &mut bool) -> Option<Settled> {
    if status == status::FAILED {
        *seen_failed = true;
        return late.then(|| Settled::NotTaken(status.to_owned()));
    }
    if *seen_failed && status::is_ending_or_ended(status) {
        return Some(Settled::Taken(status.to_owned()));
    }
    late.then(|| {
        Settled::Unknown(format!(
            "the job shows {status} and was never seen {} since its graceful stop was accepted, so its status cannot tell whether the force stop was taken",
            status::FAILED
        ))
    })
}

async fn settle_reads(
    ctx: &Context,
    (seq, stop): (usize, &Stop),
    since: Instant,
    prior: Prior<'_>,
    escalating: bool,
) -> Settled {
    let _in_doubt = ctx.census.enter_in_doubt(seq);
    let retry = stop.settings.retry;
    let deadline = since + retry.settle.get();
    let longest = (retry.settle.get() / 4).clamp(Duration::from_millis(100), LONGEST_PAUSE);
    let mut pauses = Retrying::polling(retry.backoff.get(), longest, ctx.cancel.clone());
    // Reads change nothing: after the window, failed reads go on for as long again (and a few
    // seconds at least) before the outcome counts as unknown.
    let give_up_at = deadline + retry.settle.get().max(LONGEST_PAUSE * 2);
    let hard_limit = give_up_at + (retry.settle.get() * 4).max(LONGEST_PAUSE * 10);
    // Whether the job is known to have had a status other than RELEASE_RESOURCE_FAILED.
    let mut seen_other = prior.status.is_some_and(|s| s != status::FAILED);
    let mut seen_failed = prior.status == Some(status::FAILED);
    let mut late_errors = 0;
    let _reading = ctx.board.wait();
    loop {
        let read_at = Instant::now();
        let late = read_at >= deadline;
        // A status from a listing counts only if the listing began after this read did: one
        // that began before the deadline must not say "not taken" after it.
        let read = ctx.board.read(ctx, stop, read_at).await;
        let throttled = matches!(read, Read::Throttled(_));
        match read {
            Read::Status(s) if escalating => {
                if let Some(settled) = judge_escalation(&s, late, &mut seen_failed) {
                    return settled;
                }
            }
            Read::Status(s) if status::is_ending_or_ended(&s) => return Settled::Taken(s),
            Read::Status(s) if s == status::FAILED && seen_other => return Settled::Taken(s),
            Read::Status(s) if s == status::FAILED && late && prior.retrying => {
                return Settled::NotTaken(s);
            }
            Read::Status(s) if s == status::FAILED && late => {
                return Settled::Unknown(format!(
                    "the job shows {s}, which it may have had before this stop, so its status cannot tell whether the stop was taken (`--resume --retry-failed` stops it again)"
                ));
            }
            Read::Status(s) if s == status::FAILED => {}
            Read::Status(s) if late => return Settled::NotTaken(s),
            Read::Status(_) => seen_other = true,
            Read::Missing => return Settled::Missing,
            Read::Refused => return Settled::Refused,
            Read::Throttled(e) | Read::Error(e) if late => {
                // A throttled read says nothing of the job: it waits, within a hard bound.
                if !throttled {
                    late_errors += 1;
                }
                let gave_up =
                    late_errors >= retry.attempts.max(LATE_READS) && read_at >= give_up_at;
                if gave_up || read_at >= hard_limit {
                    return Settled::Unknown(format!("its status cannot be read ({e})"));
                }
            }
            Read::Throttled(_) | Read::Error(_) => {}
        }
        let next = pauses.next_wait(None).unwrap_or(longest);
        let now = Instant::now();
        // Land one read just past the deadline rather than sleeping far beyond it.
        let pause = match deadline.checked_duration_since(now) {
            Some(left) if !left.is_zero() => next.min(left),
            _ => next,
        };
        if !pauses.sleep(pause).await {
            return Settled::Interrupted;
        }
    }
}
