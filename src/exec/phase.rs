//! One phase: a pool of workers, as many as the phase's concurrency, each claiming the next
//! stop in plan order and running it to its end.
//!
//! Claiming is where the run's rules are kept: stops start in plan order; a stop an earlier run
//! finished is taken from its journal; once the run is stopping (failure budget, a fatal
//! answer, a signal) every stop still unclaimed is reported skipped; and no stop starts before
//! its intent is on disk. A worker counts a failure before it claims again, so nothing starts
//! past the failure budget.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;

use super::intents::{self, IntentWindows};
use super::journal::{Earlier, Entry, Finished};
use super::{Context, Event, Outcome, RunOutcome, StopResult, Timing, in_shard, record, stop};
use crate::plan::Plan;

/// Where a phase is and what it needs to know to hand out its stops.
pub(super) struct Phase {
    plan: Arc<Plan>,
    index: usize,
    name: Arc<str>,
    /// The seq of the phase's first stop.
    first: usize,
    shard: Option<(usize, usize)>,
    claim: Mutex<Claims>,
    /// Results as the workers finish them: the run's own lists, lent to the phase.
    done: std::sync::Mutex<Done>,
}

/// The run's results and timings (of the stops that ran), in the order they finished.
#[derive(Default)]
pub(super) struct Done {
    pub results: Vec<StopResult>,
    pub timings: Vec<Timing>,
}

/// What is handed out: the next seq and the intents written ahead of it.
struct Claims {
    next: usize,
    intents: IntentWindows,
}

/// What a worker is given.
enum Claim<'a> {
    /// Run it: its intent is on disk.
    Start(usize),
    /// An earlier run finished it, with this result.
    Done(usize, &'a Finished),
    /// The run is stopping: report it not started.
    Skip(usize),
}

impl Phase {
    pub fn new(
        ctx: &Context,
        plan: Arc<Plan>,
        index: usize,
        first: usize,
        shard: Option<(usize, usize)>,
        done: Done,
    ) -> Self {
        let phase = &plan.runbook.phases[index];
        let window = intents::window(ctx.phase_concurrency(phase), ctx.rate);
        let claims = Claims {
            next: first,
            intents: IntentWindows::new(first, phase.stops.len(), window),
        };
        Phase {
            name: Arc::from(phase.name.as_str()),
            plan,
            index,
            first,
            shard,
            claim: Mutex::new(claims),
            done: std::sync::Mutex::new(done),
        }
    }

    /// Runs every selected stop of the phase, adding their results to the lists it was given,
    /// and gives the lists back.
    pub async fn run(
        self,
        ctx: &Arc<Context>,
        selected: usize,
        events: &mpsc::UnboundedSender<Event>,
    ) -> Done {
        let concurrency = ctx.phase_concurrency(&self.plan.runbook.phases[self.index]) as usize;
        let phase = Arc::new(self);
        let mut workers = JoinSet::new();
        for _ in 0..concurrency.min(selected) {
            workers.spawn(work(Arc::clone(&phase), Arc::clone(ctx), events.clone()));
        }
        while let Some(worker) = workers.join_next().await {
            if let Err(e) = worker
                && e.is_panic()
            {
                // A bug, not a verdict: the run stops, and what it recorded is still reported.
                ctx.crash();
            }
        }
        let mut done = std::mem::take(&mut *phase.done.lock().unwrap_or_else(|p| p.into_inner()));
        phase.account_for_lost(ctx, &mut done).await;
        done
    }

    /// Gives every stop of the phase a result: a stop whose worker panicked has none, and is
    /// reported skipped (left out of the journal's results, so `--resume` takes it up).
    async fn account_for_lost(&self, ctx: &Context, done: &mut Done) {
        if !ctx.crashed() {
            return;
        }
        // Hand out what the panicked workers left unclaimed, as any halted run does.
        let stops = &self.plan.runbook.phases[self.index].stops;
        while let Some(claim) = self.claim(ctx).await {
            done.results.push(match claim {
                Claim::Done(seq, finished) => {
                    record::resumed(&self.name, seq, &stops[seq - self.first], finished)
                }
                Claim::Skip(seq) | Claim::Start(seq) => {
                    let reason = super::skip_reason(ctx);
                    record::skipped(&self.name, seq, &stops[seq - self.first], reason)
                }
            });
        }
        let have: std::collections::HashSet<usize> = done.results.iter().map(|r| r.seq).collect();
        for (i, stop) in stops.iter().enumerate() {
            let seq = self.first + i;
            if in_shard(seq, self.shard) && !have.contains(&seq) {
                let reason =
                    "not finished: an internal error stopped the run; `--resume` takes it up"
                        .to_owned();
                done.results
                    .push(record::skipped(&self.name, seq, stop, reason));
            }
        }
    }

    /// Whether the stop at `seq` may be sent in this run.
    fn sends(&self, ctx: &Context, seq: usize) -> bool {
        in_shard(seq, self.shard)
            && !matches!(
                ctx.earlier.get(&seq),
                Some(Earlier::Done(_) | Earlier::Accepted(_))
            )
    }

    /// The next stop in plan order, and what to do with it; `None` when all are handed out.
    async fn claim<'a>(&self, ctx: &'a Context) -> Option<Claim<'a>> {
        let stops = &self.plan.runbook.phases[self.index].stops;
        let mut claims = self.claim.lock().await;
        let end = self.first + stops.len();
        loop {
            let seq = claims.next;
            if seq >= end {
                return None;
            }
            claims.next += 1;
            if !in_shard(seq, self.shard) {
                continue;
            }
            if let Some(Earlier::Done(finished)) = ctx.earlier.get(&seq) {
                return Some(Claim::Done(seq, finished));
            }
            if ctx.stopping() {
                // An intent declared ahead for a stop that never starts: say so, so that a
                // resumed run need not read its status (unless an earlier run's intent stands).
                if let Some(journal) = &ctx.journal
                    && claims.intents.declared(seq)
                    && !matches!(
                        ctx.earlier.get(&seq),
                        Some(Earlier::MaybeSent | Earlier::Retry)
                    )
                {
                    let job = stops[seq - self.first].job;
                    journal.record(Entry::Unsent { seq, job });
                }
                return Some(Claim::Skip(seq));
            }
            if let Some(journal) = &ctx.journal {
                let sends = |seq| self.sends(ctx, seq);
                if let Err(e) = claims.intents.ready(journal, stops, sends, seq).await {
                    ctx.halt(e.to_string(), RunOutcome::Aborted);
                    return Some(Claim::Skip(seq));
                }
            }
            return Some(Claim::Start(seq));
        }
    }
}

/// One worker: claims stops until none are left, runs them, keeps their results.
async fn work(phase: Arc<Phase>, ctx: Arc<Context>, events: mpsc::UnboundedSender<Event>) {
    let stops = &phase.plan.runbook.phases[phase.index].stops;
    while let Some(claim) = phase.claim(&ctx).await {
        let (result, timing) = match claim {
            Claim::Done(seq, finished) => {
                let stop = &stops[seq - phase.first];
                (record::resumed(&phase.name, seq, stop, finished), None)
            }
            Claim::Skip(seq) => {
                let stop = &stops[seq - phase.first];
                let reason = super::skip_reason(&ctx);
                (record::skipped(&phase.name, seq, stop, reason), None)
            }
            Claim::Start(seq) => {
                let stop = &stops[seq - phase.first];
                let started = ctx.started.elapsed();
                let result = stop::execute(&ctx, &phase.name, seq, stop).await;
                // Counted before claiming again, so no stop starts past the failure budget.
                if result.outcome == Outcome::Failed {
                    ctx.failed(phase.index);
                }
                let timing = Timing {
                    seq,
                    started_ms: started.as_millis() as u64,
                    duration_ms: (ctx.started.elapsed() - started).as_millis() as u64,
                };
                (result, Some(timing))
            }
        };
        let _ = events.send(Event::Finished {
            seq: result.seq,
            outcome: result.outcome,
        });
        let mut done = phase.done.lock().unwrap_or_else(|p| p.into_inner());
        done.results.push(result);
        done.timings.extend(timing);
    }
}
