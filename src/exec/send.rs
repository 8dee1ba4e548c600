//! Sending a stop, and sending it again only when the evidence says the last one did not take
//! effect ([`super::reply`] sorts each answer; [`super::settle`] resolves an unknown outcome).

use tokio::time::Instant;

use super::history::At;
use super::journal::{Entry, Said};
use super::reply::{self, Reply};
use super::settle::{self, Prior, Settled};
use super::{Context, RunOutcome};
use crate::api::client::Answer;
use crate::retry::Retrying;
use crate::runbook::model::Stop;

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
    /// A fatal answer ended the run (401, TLS): this attempt took nothing; `reached` when an
    /// earlier attempt may have reached the server.
    Halted { reason: String, reached: bool },
    /// The run was interrupted while this stop waited; `reached` when an attempt may have
    /// reached the server.
    Interrupted { reached: bool },
    /// No request may start any more (authentication was refused elsewhere in the run).
    Refused { reached: bool },
}

impl Sent {
    /// Whether an attempt may have reached the server (false: every attempt surely did not,
    /// so a resumed run may send it without reading the job's status first).
    pub fn reached(&self) -> bool {
        match self {
            Sent::Interrupted { reached } | Sent::Refused { reached } => *reached,
            Sent::GaveUp { unsent, .. } => !unsent,
            Sent::Halted { reached, .. } => *reached,
            Sent::Answer(_) | Sent::Taken(_) => true,
        }
    }
}

/// Sends a stop, again only when the evidence says the last one did not take effect. `before`
/// is the job's status before this stop, when known (an escalation knows it).
pub async fn send(
    ctx: &Context,
    (seq, stop): (usize, &Stop),
    force: bool,
    attempts: &mut u32,
    before: Option<&str>,
) -> Sent {
    let retry = stop.settings.retry;
    let mut retrying = Retrying::new(&retry, ctx.cancel.clone());
    let mut reached = false;
    let mut first = true;
    // Why the request before a resend surely took no effect, for the journal.
    let mut again: Option<String> = None;
    loop {
        // A resend is on disk before it goes: a resumed run measures its settle window from
        // the journal's last write, which must not be older than the last send.
        let at = Some(At::now());
        let reason = again.take();
        let resend = vec![Entry::Resending {
            seq,
            job: stop.job,
            at,
            reason,
        }];
        if !std::mem::take(&mut first) && !super::intents::write_or_halt(ctx, resend).await {
            return Sent::Refused { reached };
        }
        let Some(permit) = ctx.permit().await else {
            return Sent::Refused { reached };
        };
        *attempts += 1;
        let answer = ctx
            .client
            .stop(&stop.job, force, stop.settings.request_timeout.get())
            .await;
        drop(permit);
        let said = answer.as_ref().ok().map(Said::of);
        let cause = reply::lost_cause(&answer);
        let (why, pause) = match reply::classify(answer, retry.max_backoff.get()) {
            Reply::Judged(answer) => return Sent::Answer(answer),
            Reply::AuthRefused(reason) => {
                journal_answer(ctx, seq, said);
                ctx.refuse_auth(reason.clone());
                return Sent::Halted { reason, reached };
            }
            Reply::Fatal(reason) => {
                ctx.halt(reason.clone(), RunOutcome::Aborted);
                return Sent::Halted { reason, reached };
            }
            Reply::Resend { why, pause } => {
                journal_answer(ctx, seq, said);
                again = Some(why.clone());
                (why, pause)
            }
            Reply::Unknown(why) => {
                reached = true;
                let http = said.map(|s| s.http);
                lost(ctx, seq, &format!("{cause}: {why}"), http);
                match after_unknown(ctx, (seq, stop), before, &why, *attempts).await {
                    Some(sent) => return sent,
                    None => continue,
                }
            }
        };
        let Some(delay) = retrying.next_wait(pause) else {
            let reason = format!("gave up after {}: {why}", plural_attempts(*attempts));
            return Sent::GaveUp {
                reason,
                unsent: !reached,
            };
        };
        if pause.is_some() {
            ctx.limits.pause(delay);
        }
        if !retrying.sleep(delay).await {
            return Sent::Interrupted { reached };
        }
    }
}

/// Settles an unknown outcome: `None` to send again now (the stop surely did not take effect
/// and attempts are left), or what sending came to.
async fn after_unknown(
    ctx: &Context,
    (seq, stop): (usize, &Stop),
    before: Option<&str>,
    why: &str,
    attempts: u32,
) -> Option<Sent> {
    let prior = Prior {
        status: before,
        retrying: false,
    };
    let gave_up = |reason| Sent::GaveUp {
        reason,
        unsent: false,
    };
    // The soak harness's deliberately broken build (test-only): resend without settling.
    #[cfg(feature = "failpoints")]
    if super::failpoint::resend_unknown() && attempts < stop.settings.retry.attempts {
        return None;
    }
    let settled = match before {
        Some(before) => settle::settle_escalation(ctx, (seq, stop), Instant::now(), before).await,
        None => settle::settle(ctx, (seq, stop), Instant::now(), prior).await,
    };
    settled.journal(ctx, seq);
    Some(match settled {
        Settled::Taken(status) => Sent::Taken(status),
        Settled::NotTaken(_) | Settled::Missing if attempts < stop.settings.retry.attempts => {
            return None;
        }
        Settled::NotTaken(_) | Settled::Missing => gave_up(format!(
            "gave up after {}: {why}, and the job's status showed no stop within the settle window",
            plural_attempts(attempts)
        )),
        Settled::Unknown(detail) => gave_up(format!(
            "outcome unknown: {why}, and {detail}: not sent again"
        )),
        Settled::Interrupted => Sent::Interrupted { reached: true },
        Settled::Refused => Sent::Refused { reached: true },
    })
}

/// Journals an answer that did not settle the stop (a 429, a 401), when one came.
fn journal_answer(ctx: &Context, seq: usize, said: Option<Said>) {
    if let Some(answer) = said {
        ctx.note(Entry::Answer {
            seq,
            answer,
            at: At::now(),
        });
    }
}

/// Journals that the answer to the stop at `seq` was lost (`why`), the request maybe applied.
pub(super) fn lost(ctx: &Context, seq: usize, why: &str, http: Option<u16>) {
    ctx.note(Entry::Lost {
        seq,
        reason: why.to_owned(),
        http,
        at: At::now(),
    });
}

fn plural_attempts(n: u32) -> String {
    format!("{n} attempt{}", if n == 1 { "" } else { "s" })
}
