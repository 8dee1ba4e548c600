//! Batch mode: up to `batch` stops of a phase that share a force flag go out in one batch-stop
//! call, and each job is judged on its own item of the answer.
//!
//! A batch-stop answer is 200 even when some jobs failed (per-job results come inside it), so an
//! item that failed with code X is judged as a `400 X` answer of its own: an exact expectation
//! `{ http: 400, error_code: X }` matches it. A call whose outcome is unknown (a 5xx, a timeout,
//! a cut answer) is resolved job by job through the settle window, and only the jobs that surely
//! did not stop go out again, in the next call. Every job's intent is on disk before the call
//! (written together, just before it), every resend is journaled before it goes, and accepted jobs are
//! waited for (and escalated) one by one, as in single mode.

use std::sync::Arc;

use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::history::At;
use super::journal::{Entry, Escalation, Said};
use super::record::{
    Judged, answered, blank, finish, finish_keep, interrupted, refused_call, taken,
};
use super::reply::{self, Reply};
use super::settle::{self, Prior, Settled};
use super::{Context, Outcome, RunOutcome, StopResult, wait};
use crate::api::client::Answer;
use crate::check;
use crate::retry::Retrying;
use crate::runbook::model::Stop;

/// One stop of a batch: its seq, the stop, its result so far, and what went wrong with its
/// last call (said only if it gives up: a member a later call accepts keeps no word of it).
struct Member<'a> {
    seq: usize,
    stop: &'a Stop,
    result: StopResult,
    /// Why the last call left the member undecided: what a give-up says, as a single stop's.
    undecided: Option<String>,
}

/// What became of a member after a call.
enum Fate {
    /// Accepted: wait for its job.
    Accepted,
    /// Done (failed, or passed without waiting): its result stands.
    Done,
    /// The run stopped before its outcome was known.
    Interrupted { reached: bool },
}

/// Runs the stops at `seqs` (consecutive, sharing a force flag, none taken up from a journal)
/// as batch-stop calls; returns their results in the order given. `number` names the call in
/// the reports (its first stop's seq). Each failure is counted against phase `index`'s budgets as soon as it is
/// known (a refused item at once, not after the batch's other jobs have ended).
pub async fn execute(
    ctx: &Context,
    (phase, index): (&Arc<str>, usize),
    number: usize,
    members: Vec<(usize, &Stop)>,
) -> Vec<StopResult> {
    let mut members: Vec<Member> = members
        .into_iter()
        .map(|(seq, stop)| {
            let mut result = blank(phase, seq, stop);
            result.batch = Some(number);
            Member {
                seq,
                stop,
                result,
                undecided: None,
            }
        })
        .collect();
    let intents: Vec<(usize, &Stop)> = members.iter().map(|m| (m.seq, m.stop)).collect();
    if !super::intents::declare(ctx, &intents, Some(number)).await {
        let reason = super::skip_reason(ctx);
        return members
            .into_iter()
            .map(|m| super::record::skipped(phase, m.seq, m.stop, reason.clone()))
            .collect();
    }
    let fates = send_all(ctx, &mut members).await;
    let waits = members.into_iter().zip(fates).map(|(m, fate)| async move {
        let result = match fate {
            Fate::Accepted => accepted(ctx, m.seq, m.stop, m.result).await,
            Fate::Done => m.result,
            Fate::Interrupted { reached } => {
                if !reached {
                    ctx.note(Entry::Unsent {
                        seq: m.seq,
                        job: m.stop.job,
                        at: Some(At::now()),
                    });
                }
                interrupted(
                    ctx,
                    StopResult {
                        unsent: !reached,
                        ..m.result
                    },
                )
            }
        };
        if result.outcome == Outcome::Failed {
            ctx.failed(index);
        }
        result
    });
    join_all(waits).await
}

/// Takes up stops an earlier run may have sent, together: every job's status read at once
/// (through the settle window, from the journal's last write), those it shows taken waited for,
/// and those that surely did not stop sent in one batch of their own.
pub async fn take_up(
    ctx: &Context,
    (phase, index): (&Arc<str>, usize),
    members: Vec<(usize, &Stop)>,
) -> Vec<StopResult> {
    let reads = members.iter().map(|&(seq, stop)| async move {
        let mut result = blank(phase, seq, stop);
        let expect = stop.settings.effective_expect();
        let found = super::stop::take_up(ctx, seq, stop, &expect, &mut result).await;
        (result, found)
    });
    let mut results = Vec::new();
    let mut waits = Vec::new();
    let mut resend = Vec::new();
    for (&(seq, stop), (result, found)) in members.iter().zip(join_all(reads).await) {
        match found {
            Err(done) => results.push(*done),
            Ok((true, _)) => waits.push(accepted(ctx, seq, stop, result)),
            Ok((false, _)) => resend.push((seq, stop)),
        }
    }
    for result in &results {
        if result.outcome == Outcome::Failed {
            ctx.failed(index);
        }
    }
    let waited = async {
        let waited = join_all(waits).await;
        waited
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .for_each(|_| ctx.failed(index));
        waited
    };
    let sent = async {
        let Some(&(number, _)) = resend.first() else {
            return Vec::new();
        };
        let mut sent = execute(ctx, (phase, index), number, resend).await;
        sent.iter_mut().for_each(|r| r.resumed = true);
        sent
    };
    let (waited, sent) = tokio::join!(waited, sent);
    results.extend(waited);
    results.extend(sent);
    results
}

/// Waits for an accepted member's job, its acceptance journaled first.
async fn accepted(ctx: &Context, seq: usize, stop: &Stop, result: StopResult) -> StopResult {
    let Some(wait) = stop.settings.effective_wait() else {
        return finish_keep(ctx, result, Outcome::Passed);
    };
    ctx.note(Entry::Accepted {
        seq,
        job: stop.job,
        request_id: result.stamps.request_id.clone(),
        at: Some(At::now()),
    });
    wait::wait_for_end(ctx, stop, wait, result, Escalation::None).await
}

/// Sends the calls until every member's fate is decided; the members' results carry what was
/// seen. The first member's settings time the calls (a batch shares its phase's settings).
async fn send_all(ctx: &Context, members: &mut [Member<'_>]) -> Vec<Fate> {
    let mut fates: Vec<Option<Fate>> = members.iter().map(|_| None).collect();
    let settings = Arc::clone(&members[0].stop.settings);
    let retry = settings.retry;
    let mut retrying = Retrying::new(&retry, ctx.cancel.clone());
    let mut reached = false;
    for attempt in 1..=retry.attempts.max(1) {
        let pending: Vec<usize> = (0..members.len()).filter(|i| fates[*i].is_none()).collect();
        if pending.is_empty() {
            break;
        }
        if attempt > 1 && !journal_resend(ctx, members, &pending).await {
            return decide_rest(fates, Fate::Interrupted { reached });
        }
        let Some(permit) = ctx.permit().await else {
            return decide_rest(fates, Fate::Interrupted { reached });
        };
        let jobs: Vec<_> = pending
            .iter()
            .map(|i| (members[*i].stop.job, members[*i].stop.settings.force))
            .collect();
        pending
            .iter()
            .for_each(|i| members[*i].result.attempts += 1);
        let answer = ctx
            .client
            .batch_stop(&jobs, settings.request_timeout.get())
            .await;
        drop(permit);
        let said = answer.as_ref().ok().map(Said::of);
        let cause = reply::lost_cause(&answer);
        let pause = match reply::classify(answer, retry.max_backoff.get()) {
            Reply::Judged(answer) => {
                reached = true;
                let silent = judge_items(ctx, members, &pending, &answer, &mut fates);
                if !silent.is_empty() {
                    let why = "the answer had no item for the job";
                    let lost = format!("no item: {why}");
                    journal_lost(ctx, members, &silent, &lost, Some(answer.http));
                    settle_each(ctx, members, &silent, why, &mut fates).await;
                }
                None
            }
            Reply::Resend { why, pause } => {
                journal_answer(ctx, members, &pending, said);
                note(members, &pending, &why);
                pause
            }
            Reply::AuthRefused(reason) => {
                ctx.refuse_auth(reason.clone());
                return fail_rest(ctx, members, (fates, reached), &reason);
            }
            Reply::Fatal(reason) => {
                ctx.halt(reason.clone(), RunOutcome::Aborted);
                return fail_rest(ctx, members, (fates, reached), &reason);
            }
            Reply::Unknown(why) => {
                reached = true;
                let lost = format!("{cause}: {why}");
                journal_lost(ctx, members, &pending, &lost, said.map(|s| s.http));
                settle_each(ctx, members, &pending, &why, &mut fates).await;
                continue;
            }
        };
        let Some(delay) = retrying.next_wait(pause) else {
            break;
        };
        if pause.is_some() {
            ctx.limits.pause(delay);
        }
        if !retrying.sleep(delay).await {
            return decide_rest(fates, Fate::Interrupted { reached });
        }
    }
    give_up_rest(ctx, members, fates, reached)
}

/// Every resend is on disk before it goes (see `send`); false when the journal failed.
async fn journal_resend(ctx: &Context, members: &[Member<'_>], pending: &[usize]) -> bool {
    let entries = pending
        .iter()
        .map(|i| Entry::Resending {
            seq: members[*i].seq,
            job: members[*i].stop.job,
            at: Some(At::now()),
            reason: members[*i].undecided.clone(),
        })
        .collect();
    super::intents::write_or_halt(ctx, entries).await
}

/// Each pending member judged on its own item of a 200's `jobs` list; when the whole call was
/// refused (a 4xx), every member fails with the call's answer, whatever it expected: nothing
/// was judged job by job. Returns the members the answer said nothing readable of.
fn judge_items(
    ctx: &Context,
    members: &mut [Member<'_>],
    pending: &[usize],
    answer: &Answer,
    fates: &mut [Option<Fate>],
) -> Vec<usize> {
    if answer.http != 200 {
        let reason = format!(
            "the batch-stop call was refused: {}",
            check::describe(answer)
        );
        for &i in pending {
            refused_call(ctx, &mut members[i].result, answer, reason.clone());
            fates[i] = Some(Fate::Done);
        }
        return Vec::new();
    }
    let items = answer
        .body
        .as_ref()
        .and_then(|b| b.get("jobs"))
        .and_then(Value::as_array);
    let mut silent = Vec::new();
    for &i in pending {
        // An accepted call that says nothing readable of this job: its outcome is unknown.
        let Some(own) = items.and_then(|items| item_for(items, members[i].stop)) else {
            silent.push(i);
            continue;
        };
        let m = &mut members[i];
        let expect = m.stop.settings.effective_expect();
        let request_id = answer.request_id.clone();
        fates[i] = Some(
            match answered(ctx, &mut m.result, &own, request_id, &expect) {
                Judged::Failed => Fate::Done,
                Judged::Accepted => Fate::Accepted,
                Judged::Met => {
                    m.result = finish_keep(ctx, m.result.clone(), Outcome::Passed);
                    Fate::Done
                }
            },
        );
    }
    silent
}

/// The item of a batch-stop answer about `stop`'s job, as the answer it stands for: none when
/// there is none, when its `status` is neither `success` nor `failed`, or when several items
/// about the job disagree.
fn item_for(items: &[Value], stop: &Stop) -> Option<Answer> {
    let mut own = items
        .iter()
        .filter(|item| item.get("id").and_then(Value::as_str) == Some(stop.job.as_str()))
        .map(item_answer);
    let first = own.next()??;
    own.all(|other| other.is_some_and(|o| o.http == first.http && o.body == first.body))
        .then_some(first)
}

/// An item as the answer it stands for: `success` a 200, `failed` with code X a 400 X; `None`
/// for any other `status`.
fn item_answer(item: &Value) -> Option<Answer> {
    let (http, body) = match item.get("status").and_then(Value::as_str) {
        Some("success") => (
            200,
            json!({"status": "success", "id": item.get("id"), "name": item.get("name")}),
        ),
        Some("failed") => (
            400,
            json!({"error_code": item.get("error_code"), "error_msg": item.get("error_msg")}),
        ),
        _ => return None,
    };
    Some(Answer {
        http,
        body: Some(body),
        retry_after: None,
        request_id: None,
    })
}

/// After a call whose outcome is unknown: each pending member's job read through the settle
/// window, all at once; only those that surely did not stop are left to send again.
async fn settle_each(
    ctx: &Context,
    members: &mut [Member<'_>],
    pending: &[usize],
    why: &str,
    fates: &mut [Option<Fate>],
) {
    let since = Instant::now();
    let prior = Prior {
        status: None,
        retrying: false,
    };
    let reads = pending
        .iter()
        .map(|i| settle::settle(ctx, (members[*i].seq, members[*i].stop), since, prior));
    let settled = join_all(reads).await;
    for (&i, outcome) in pending.iter().zip(settled) {
        let m = &mut members[i];
        outcome.journal(ctx, m.seq);
        fates[i] = match outcome {
            Settled::Taken(status) => {
                let expect = m.stop.settings.effective_expect();
                Some(match taken(ctx, &mut m.result, &status, &expect) {
                    Judged::Failed => Fate::Done,
                    _ => Fate::Accepted,
                })
            }
            Settled::NotTaken(_) | Settled::Missing => {
                m.undecided = Some(format!(
                    "{why}, and the job's status showed no stop within the settle window"
                ));
                None
            }
            Settled::Unknown(detail) => {
                let reason = format!("outcome unknown: {why}, and {detail}: not sent again");
                m.result = finish(ctx, m.result.clone(), Outcome::Failed, reason);
                Some(Fate::Done)
            }
            Settled::Interrupted | Settled::Refused => Some(Fate::Interrupted { reached: true }),
        };
    }
}

/// Journals, for each member at `pending`, the answer that did not settle it (a 429).
fn journal_answer(ctx: &Context, members: &[Member<'_>], pending: &[usize], said: Option<Said>) {
    let Some(said) = said else {
        return;
    };
    for &i in pending {
        let (seq, answer) = (members[i].seq, said.clone());
        ctx.note(Entry::Answer {
            seq,
            answer,
            at: At::now(),
        });
    }
}

/// Journals, for each member at `pending`, that its answer was lost (`why`).
fn journal_lost(
    ctx: &Context,
    members: &[Member<'_>],
    pending: &[usize],
    why: &str,
    http: Option<u16>,
) {
    for &i in pending {
        super::send::lost(ctx, members[i].seq, why, http);
    }
}

fn note(members: &mut [Member<'_>], pending: &[usize], why: &str) {
    for &i in pending {
        members[i].undecided = Some(why.to_owned());
    }
}

fn decide_rest(fates: Vec<Option<Fate>>, fate: Fate) -> Vec<Fate> {
    fates
        .into_iter()
        .map(|f| {
            f.unwrap_or(match fate {
                Fate::Interrupted { reached } => Fate::Interrupted { reached },
                Fate::Accepted | Fate::Done => Fate::Done,
            })
        })
        .collect()
}

fn fail_rest(
    ctx: &Context,
    members: &mut [Member<'_>],
    (fates, reached): (Vec<Option<Fate>>, bool),
    reason: &str,
) -> Vec<Fate> {
    for (m, fate) in members.iter_mut().zip(&fates) {
        if fate.is_none() {
            // Unsent only when no call may have reached the server (see `send::Sent::Halted`).
            m.result.unsent = !reached;
            m.result = finish(ctx, m.result.clone(), Outcome::Failed, reason.to_owned());
        }
    }
    decide_rest(fates, Fate::Done)
}

fn give_up_rest(
    ctx: &Context,
    members: &mut [Member<'_>],
    fates: Vec<Option<Fate>>,
    reached: bool,
) -> Vec<Fate> {
    for (m, fate) in members.iter_mut().zip(&fates) {
        if fate.is_none() {
            let why = m
                .undecided
                .clone()
                .unwrap_or_else(|| "no answer".to_owned());
            let attempts = m.result.attempts;
            m.result.unsent = !reached;
            let reason = format!("gave up after {attempts} batch-stop calls: {why}");
            m.result = finish(ctx, m.result.clone(), Outcome::Failed, reason);
        }
    }
    decide_rest(fates, Fate::Done)
}
