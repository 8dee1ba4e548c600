//! One phase: a pool of workers, as many as the phase's concurrency, each claiming the next
//! stop in plan order and running it to its end.
//!
//! Claiming is where the run's rules are kept: stops start in plan order; a stop an earlier run
//! finished is taken from its journal; once the run is stopping (failure budget, a fatal
//! answer, a signal) every stop still unclaimed is reported skipped. (Each stop's intent goes
//! to disk when it is about to be sent: see [`super::intents`].) A worker counts a failure before it claims again, so nothing starts
//! past the failure budget.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;

use super::journal::{Earlier, Finished};
use super::{Context, Event, Outcome, StopResult, Timing, batch, in_shard, record, stop};
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

/// What is handed out: the next seq; in batch mode, the next batch and the stops of the last
/// one that go on their own.
struct Claims {
    next: usize,
    /// The phase's batches (seqs), when its calls hold several stops: formed from the stops
    /// this run sends afresh (its shard's, none an earlier run took up).
    batches: Vec<Vec<usize>>,
    /// Groups of stops an earlier run may have sent, taken up before the fresh batches.
    resumed: Vec<Vec<usize>>,
    next_batch: usize,
    /// Stops of a batch taken up one by one: (seq, finished earlier).
    queued: std::collections::VecDeque<(usize, bool)>,
}

/// What a worker is given.
enum Claim<'a> {
    /// Run it.
    Start(usize),
    /// An earlier run finished it, with this result.
    Done(usize, &'a Finished),
    /// The run is stopping: report it not started.
    Skip(usize),
    /// Send these together (batch mode): the call's name (its first stop's seq), and its seqs.
    Batch(usize, Vec<usize>),
    /// Stops an earlier run may have sent (batch mode): their jobs' statuses read together,
    /// then those that surely did not stop sent together.
    Resumed(usize, Vec<usize>),
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
        let mut claims = Claims {
            next: first,
            batches: Vec::new(),
            resumed: Vec::new(),
            next_batch: 0,
            queued: Default::default(),
        };
        if phase.batch > 1 {
            // What an earlier run finished or saw accepted goes one by one, first; what it may
            // have sent, in groups of its own; the rest in full batches.
            for seq in (first..first + phase.stops.len()).filter(|s| in_shard(*s, shard)) {
                match ctx.earlier.get(&seq) {
                    Some(Earlier::Done(_)) => claims.queued.push_back((seq, true)),
                    Some(Earlier::Accepted(_)) => claims.queued.push_back((seq, false)),
                    _ => {}
                }
            }
            let earlier = |i: usize| ctx.earlier.get(&(first + i));
            let maybe = |i: usize| matches!(earlier(i), Some(Earlier::MaybeSent | Earlier::Retry));
            let fresh = |i: usize| earlier(i).is_none();
            let mine = |i: usize| in_shard(first + i, shard);
            let seqs = |groups: Vec<Vec<usize>>| -> Vec<Vec<usize>> {
                let shift = |g: Vec<usize>| g.into_iter().map(|i| i + first).collect();
                groups.into_iter().map(shift).collect()
            };
            claims.resumed = seqs(phase.batches_among(|i| mine(i) && maybe(i)));
            claims.resumed.reverse(); // taken from the end, so in plan order
            claims.batches = seqs(phase.batches_among(|i| mine(i) && fresh(i)));
        }
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
            if matches!(claim, Claim::Batch(..) | Claim::Resumed(..)) {
                continue; // never handed out while the run stops; the loop below covers it
            }
            done.results.push(match claim {
                Claim::Done(seq, finished) => {
                    record::resumed(&self.name, seq, &stops[seq - self.first], finished)
                }
                Claim::Skip(seq) | Claim::Start(seq) => {
                    let reason = super::skip_reason(ctx);
                    record::skipped(&self.name, seq, &stops[seq - self.first], reason)
                }
                Claim::Batch(..) | Claim::Resumed(..) => continue,
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

    /// The next stop in plan order, and what to do with it; `None` when all are handed out.
    async fn claim<'a>(&self, ctx: &'a Context) -> Option<Claim<'a>> {
        let stops = &self.plan.runbook.phases[self.index].stops;
        let mut claims = self.claim.lock().await;
        // `ctl pause`: nothing new is handed out until `go` (or a drain, or an interrupt).
        ctx.steer.released(&ctx.cancel).await;
        if self.plan.runbook.phases[self.index].batch > 1 {
            return self.claim_batch(ctx, &mut claims).await;
        }
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
                return Some(Claim::Skip(seq));
            }
            return Some(Claim::Start(seq));
        }
    }

    /// Batch mode: the next batch, sent together; the stops an earlier run took up (finished,
    /// accepted, maybe sent) go one by one first, as in single mode, and a batch claimed while
    /// the run stops is reported skipped stop by stop.
    async fn claim_batch<'a>(&self, ctx: &'a Context, claims: &mut Claims) -> Option<Claim<'a>> {
        loop {
            if let Some((seq, done)) = claims.queued.pop_front() {
                return Some(match (done, ctx.earlier.get(&seq)) {
                    (true, Some(Earlier::Done(finished))) => Claim::Done(seq, finished),
                    _ if ctx.stopping() => Claim::Skip(seq),
                    _ => Claim::Start(seq),
                });
            }
            let (seqs, resumed) = match claims.resumed.pop() {
                Some(seqs) => (seqs, true),
                None => {
                    let seqs = claims.batches.get(claims.next_batch)?.clone();
                    claims.next_batch += 1;
                    (seqs, false)
                }
            };
            let number = seqs[0];
            if ctx.stopping() {
                claims
                    .queued
                    .extend(seqs.into_iter().map(|seq| (seq, false)));
                continue;
            }
            return Some(match resumed {
                true => Claim::Resumed(number, seqs),
                false => Claim::Batch(number, seqs),
            });
        }
    }
}

/// One worker: claims stops until none are left, runs them, keeps their results.
async fn work(phase: Arc<Phase>, ctx: Arc<Context>, events: mpsc::UnboundedSender<Event>) {
    let stops = &phase.plan.runbook.phases[phase.index].stops;
    while let Some(claim) = phase.claim(&ctx).await {
        if let Claim::Batch(number, seqs) | Claim::Resumed(number, seqs) = &claim {
            let resumed = matches!(claim, Claim::Resumed(..));
            run_batch(&phase, &ctx, &events, (*number, resumed), seqs.clone()).await;
            continue;
        }
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
                let mut result = stop::execute(&ctx, &phase.name, seq, stop).await;
                // Counted before claiming again, so no stop starts past the failure budget.
                if result.outcome == Outcome::Failed {
                    ctx.failed(phase.index);
                }
                let stamps = std::mem::take(&mut result.stamps);
                let timing = Timing {
                    seq,
                    started_ms: started.as_millis() as u64,
                    duration_ms: (ctx.started.elapsed() - started).as_millis() as u64,
                    accepted_ms: stamps.accepted_ms,
                    request_id: stamps.request_id,
                };
                (result, Some(timing))
            }
            Claim::Batch(..) | Claim::Resumed(..) => continue,
        };
        let _ = events.send(Event::Finished {
            outcome: result.outcome,
            failure: super::Failure::of(&result),
        });
        ctx.tell_throttled(&events);
        let mut done = phase.done.lock().unwrap_or_else(|p| p.into_inner());
        done.results.push(result);
        done.timings.extend(timing);
    }
}

/// Runs one batch (or takes up one group an earlier run may have sent) and keeps its stops'
/// results.
async fn run_batch(
    phase: &Phase,
    ctx: &Context,
    events: &mpsc::UnboundedSender<Event>,
    (number, resumed): (usize, bool),
    seqs: Vec<usize>,
) {
    let stops = &phase.plan.runbook.phases[phase.index].stops;
    let members = seqs.iter().map(|s| (*s, &stops[s - phase.first])).collect();
    let started = ctx.started.elapsed();
    let this = (&phase.name, phase.index);
    let results = match resumed {
        true => batch::take_up(ctx, this, members).await,
        false => batch::execute(ctx, this, number, members).await,
    };
    let duration_ms = (ctx.started.elapsed() - started).as_millis() as u64;
    // Each failure was counted by `batch::execute` the moment it was known.
    for mut result in results {
        let _ = events.send(Event::Finished {
            outcome: result.outcome,
            failure: super::Failure::of(&result),
        });
        ctx.tell_throttled(events);
        let stamps = std::mem::take(&mut result.stamps);
        let timing = Timing {
            seq: result.seq,
            started_ms: started.as_millis() as u64,
            duration_ms,
            accepted_ms: stamps.accepted_ms,
            request_id: stamps.request_id,
        };
        let mut done = phase.done.lock().unwrap_or_else(|p| p.into_inner());
        done.results.push(result);
        done.timings.push(timing);
    }
}
