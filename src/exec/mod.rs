//! Running a plan: phases in order, each a barrier; stops in plan order up to the phase's
//! concurrency; one shared budget of requests ([`limits`]); a failure budget; a journal.
//!
//! `exec` never prints. It sends [`Event`]s as stops finish and returns every result in plan
//! order; `report` turns both into progress, summaries and files.

mod adaptive;
mod batch;
mod board;
mod budget;
pub mod census;
mod context;
mod failpoint;
pub mod history;
mod intents;
pub mod journal;
mod limits;
mod phase;
mod record;
mod reply;
mod send;
mod settle;
pub mod steer;
mod stop;
mod wait;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::api::client::Client;
use crate::drs::JobId;
use crate::plan::Plan;
use crate::runbook::values::Rate;
use budget::Budgets;
use context::Context;
use journal::{Earlier, Journal};
use phase::Phase;

pub use limits::Limits;

/// How one stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It had the outcome expected.
    Passed,
    /// It did not: a wrong answer, an error, or a job that did not end in time.
    Failed,
    /// It was not started (the run halted, was interrupted or paused first).
    Skipped,
}

impl Outcome {
    /// The outcome as reports write it (as it serializes).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One stop's result: what was sent, what came back, and the verdict. No timings here (see
/// [`Timing`]), so two runs against the same server state give the same results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopResult {
    /// The stop's place in the plan, from 1: the key results are ordered and journaled by.
    pub seq: usize,
    /// The phase the stop belongs to.
    pub phase: Arc<str>,
    /// The job stopped.
    pub job: JobId,
    /// The task's name, where the window learnt it (a select, the plan, a status read).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<Box<str>>,
    /// The stop's label, if the runbook gave one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub label: Option<String>,
    /// Whether it was sent as a force stop.
    pub force: bool,
    /// The expectation it was judged by, in words.
    pub expected: Arc<str>,
    /// The verdict.
    pub outcome: Outcome,
    /// The HTTP status of the last answer, if one came.
    pub http_status: Option<u16>,
    /// The `error_code` of the last answer, if it had one.
    pub error_code: Option<String>,
    /// The `error_msg` of the last answer, if it had one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_msg: Option<String>,
    /// The job's last status read, when the job was waited for.
    pub final_status: Option<String>,
    /// Requests sent for the stop, retries included.
    pub attempts: u32,
    /// A force stop was sent and accepted after the job did not end in time.
    pub escalated: bool,
    /// Why it failed or was skipped; how it passed when that is worth saying.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// Documented body rules the answers broke (reported; they do not fail the stop).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub violations: Vec<String>,
    /// Taken from the journal of an earlier run.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub resumed: bool,
    /// No request of this stop reached the server: `--resume` tries it again.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub unsent: bool,
    /// Accepted, and the run ended before the job did: `--resume` waits for it.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub awaiting: bool,
    /// The batch-stop call this stop went out in, named by the seq of the call's first stop (in
    /// batch mode).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub batch: Option<usize>,
    /// What happened to the stop over the window, in order (from the journal; left out of
    /// comparisons, as timings are).
    #[serde(skip_serializing_if = "<[_]>::is_empty", default)]
    pub history: Box<[history::Happened]>,
    /// When it was accepted and the answer's request ID: carried to its [`Timing`] (and taken
    /// out when the stop finishes), never serialized.
    #[serde(skip)]
    pub stamps: Stamps,
}

/// What a stop's [`Timing`] takes from its run, carried by the result until the stop ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamps {
    /// When the stop was accepted, in milliseconds since the run began.
    pub accepted_ms: Option<u64>,
    /// The `X-Request-Id` of the answer that decided the stop, when the server gave one.
    pub request_id: Option<String>,
}

/// When a stop ran, kept apart from its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// The stop's place in the plan, from 1.
    pub seq: usize,
    /// When the stop started (its first request was sent), in milliseconds since the run began.
    pub started_ms: u64,
    /// How long the stop took, in milliseconds.
    pub duration_ms: u64,
    /// When the stop was accepted, in milliseconds since the run began.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub accepted_ms: Option<u64>,
    /// The answer's `X-Request-Id`, when the server gave one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
}

/// What the run as a whole came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    /// Every stop that ran passed.
    Passed,
    /// Some stop failed or was skipped.
    Failed,
    /// The run stopped early: a failure budget ran out, authentication was refused, an answer
    /// made going on pointless, the journal failed, or a stop's task panicked.
    Aborted,
    /// Cancelled through [`Setup::cancel`] (SIGINT or SIGTERM): requests in flight finished, the
    /// rest was not started.
    Interrupted,
    /// Stopped cleanly after the `--until` phase; `--resume` goes on.
    Paused,
}

impl RunOutcome {
    /// The outcome as reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Passed => "passed",
            RunOutcome::Failed => "failed",
            RunOutcome::Aborted => "aborted",
            RunOutcome::Interrupted => "interrupted",
            RunOutcome::Paused => "paused",
        }
    }
}

/// Progress, as it happens.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run began.
    Started {
        /// Stops selected to run, over all phases.
        total: usize,
        /// The jobs waited on, as the run goes (read by the display on its own clock).
        census: Arc<census::Census>,
    },
    /// A phase began (phases with no stop selected send nothing).
    PhaseStarted {
        /// The phase's name.
        name: String,
        /// Stops of the phase selected to run.
        stops: usize,
    },
    /// A stop finished (its result is in the run's [`Report`]).
    Finished {
        /// Its verdict.
        outcome: Outcome,
        /// What failed, when it did (for notifications).
        failure: Option<Arc<Failure>>,
    },
    /// A phase's stops are all done (or skipped).
    PhaseDone {
        /// The phase's name.
        name: String,
        /// Its stops that passed, failed and were skipped in this process.
        counts: Counts,
    },
    /// The run waits at the gate before a phase (`gate: manual`).
    GateWaiting {
        /// The gated phase.
        phase: String,
    },
    /// The gate before a phase was let pass.
    GatePassed {
        /// The gated phase.
        phase: String,
        /// Who let it pass.
        by: String,
    },
    /// A journal line, as written (JSON), when the run mirrors its journal ([`Setup::mirror`]).
    Journaled(Arc<str>),
    /// The run stopped early, or paused (the reason is the report's).
    Halted,
    /// More answers were 429 (throttled): how many so far, and the rate the run adapted to.
    Throttled {
        /// 429 answers so far, stops and status reads together.
        count: u64,
        /// The request rate the run adapted to, in requests a second.
        rate: Option<f64>,
    },
}

/// A failed stop, as a notification names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The stop's phase.
    pub phase: Arc<str>,
    /// The job.
    pub job: JobId,
    /// The task's name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Box<str>>,
    /// The answer's `error_code`, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

impl Failure {
    /// What `result` failed with, when it failed.
    pub fn of(result: &StopResult) -> Option<Arc<Failure>> {
        (result.outcome == Outcome::Failed).then(|| {
            Arc::new(Failure {
                phase: Arc::clone(&result.phase),
                job: result.job,
                name: result.name.clone(),
                error_code: result.error_code.clone(),
            })
        })
    }
}

/// Stops by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Not started.
    pub skipped: usize,
}

impl Counts {
    /// The counts of `results`.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a StopResult>) -> Counts {
        let mut counts = Counts::default();
        for r in results {
            match r.outcome {
                Outcome::Passed => counts.passed += 1,
                Outcome::Failed => counts.failed += 1,
                Outcome::Skipped => counts.skipped += 1,
            }
        }
        counts
    }
}

/// What a run needs besides the plan. The plan is the reviewed artifact and is never changed:
/// limits the command line overrides arrive here, already validated.
pub struct Setup {
    /// The API client the stops are sent with.
    pub client: Client,
    /// Requests in flight at most (each phase's own limit is held under it).
    pub concurrency: u32,
    /// The request-rate ceiling.
    pub rate: Option<Rate>,
    /// Where stops are journaled; `None` runs without a journal.
    pub journal: Option<Journal>,
    /// What an earlier run of the same plan reached, by seq.
    pub earlier: HashMap<usize, Earlier>,
    /// How long ago the earlier run last wrote its journal (it sent nothing after that).
    pub journal_age: Duration,
    /// Stop cleanly after the phase at this index (`--until`).
    pub until: Option<usize>,
    /// `(k, n)`: run only stops whose `seq` falls in shard k of n.
    pub shard: Option<(usize, usize)>,
    /// Flips to `true` to cancel the run: in-flight requests finish, nothing new starts.
    pub cancel: watch::Receiver<bool>,
    /// Where progress [`Event`]s are sent.
    pub events: mpsc::UnboundedSender<Event>,
    /// Pause, drain and gates, as told from outside the run.
    pub steer: Arc<steer::Steer>,
    /// Phases whose gate an earlier process of the window let pass (not asked again).
    pub gates_passed: std::collections::HashSet<String>,
}

/// What a run came to: its verdict and every selected stop's result, in plan order.
pub struct Report {
    /// The run's verdict.
    pub outcome: RunOutcome,
    /// A stop's task panicked: a bug in stopbook (exit 70).
    pub crashed: bool,
    /// Answers that were 429 (throttled), stops and status reads together.
    pub throttled: u64,
    /// The request rate the run had adapted to by its end, if a 429 made it adapt.
    pub adapted_rate: Option<f64>,
    /// Every selected stop's result, in plan order.
    pub results: Vec<StopResult>,
    /// When each stop that ran started and how long it took, by seq.
    pub timings: Vec<Timing>,
    /// Why the run stopped early, if it did.
    pub halted: Option<String>,
    /// When the run began, by the wall clock (timings count from here).
    pub started_at: SystemTime,
    /// When the run ended, by the wall clock.
    pub finished_at: SystemTime,
    /// The window the report covers, when it was rendered from a journal: its processes.
    pub window: Option<history::WindowRecord>,
}

impl Report {
    /// The stops that failed, in plan order.
    pub fn failures(&self) -> Vec<&StopResult> {
        self.results
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .collect()
    }
}

pub use crate::plan::in_shard;

/// Runs `plan`: phases in order, stops within each up to its concurrency, under the shared
/// limits and budgets, journaling as it goes. Returns every selected stop's result in plan order.
pub async fn run(plan: Arc<Plan>, setup: Setup) -> Report {
    let selected = |seq: usize| in_shard(seq, setup.shard);
    let runbook = &plan.runbook;
    let total = (1..=runbook.stop_count()).filter(|s| selected(*s)).count();
    let budgets = Budgets::new(
        runbook.limits.max_failures,
        total,
        context::phase_budgets(&plan, &setup.earlier, selected),
    );
    let ctx = Arc::new(Context {
        client: setup.client,
        limits: Limits::new(setup.concurrency, setup.rate),
        board: Default::default(),
        census: Default::default(),
        concurrency: setup.concurrency,
        journal: setup.journal,
        earlier: setup.earlier,
        journal_age: setup.journal_age,
        cancel: crate::retry::Cancel::on(setup.cancel),
        budgets,
        halted: AtomicBool::new(false),
        throttled_told: Default::default(),
        budget_halted: AtomicBool::new(false),
        auth_refused: AtomicBool::new(false),
        paused: AtomicBool::new(false),
        crashed: AtomicBool::new(false),
        halt_reason: Mutex::new(None),
        started: tokio::time::Instant::now(),
        steer: setup.steer,
        gates_passed: setup.gates_passed,
    });
    let started_at = SystemTime::now();
    if let Some(reason) = ctx.budgets.exceeded() {
        let reason = format!("{reason} (failures the journal already holds)");
        ctx.halt(reason, RunOutcome::Aborted);
    }
    let done = run_phases(&plan, &ctx, &setup.events, setup.shard, setup.until, total).await;
    let mut report = conclude(&plan, &ctx, done, &setup.events, setup.until).await;
    report.started_at = started_at;
    report.finished_at = started_at + ctx.started.elapsed();
    report
}

/// Each phase in turn, a barrier between them; pauses after the `until` phase.
async fn run_phases(
    plan: &Arc<Plan>,
    ctx: &Arc<Context>,
    events: &mpsc::UnboundedSender<Event>,
    shard: Option<(usize, usize)>,
    until: Option<usize>,
    total: usize,
) -> phase::Done {
    let mut seq = 0;
    let phases: Vec<(String, usize)> = plan
        .runbook
        .phases
        .iter()
        .map(|p| {
            let first = seq + 1;
            seq += p.stops.len();
            let selected = (first..=seq).filter(|s| in_shard(*s, shard)).count();
            (p.name.clone(), selected)
        })
        .collect();
    let census = Arc::clone(&ctx.census);
    let _ = events.send(Event::Started { total, census });
    let mut done = phase::Done {
        results: Vec::with_capacity(total),
        timings: Vec::with_capacity(total),
    };
    let mut first = 1;
    for (index, (name, stops)) in phases.into_iter().enumerate() {
        let phase_first = first;
        first += plan.runbook.phases[index].stops.len();
        if stops == 0 {
            continue;
        }
        if plan.runbook.phases[index].gate && !ctx.stopping() {
            pass_gate(ctx, events, &name).await;
        }
        // A phase after a pause or a halt only has its stops skipped: it is not announced.
        let announced = !ctx.stopping();
        if announced {
            let _ = events.send(Event::PhaseStarted {
                name: name.clone(),
                stops,
            });
        }
        let phase_start = done.results.len();
        let phase = Phase::new(ctx, Arc::clone(plan), index, phase_first, shard, done);
        done = phase.run(ctx, stops, events).await;
        // Seqs are unique, so an unstable sort gives the same order without a scratch copy of
        // half the results (21 MB for 200,000 stops).
        done.results[phase_start..].sort_unstable_by_key(|r| r.seq);
        if announced {
            // The phase's journal lines reach the event stream before its end does.
            if let Some(journal) = &ctx.journal {
                let _ = journal.sync().await;
            }
            let counts = Counts::of(&done.results[phase_start..]);
            let _ = events.send(Event::PhaseDone { name, counts });
        }
        if until == Some(index) && !ctx.stopping() {
            ctx.paused.store(true, Ordering::SeqCst);
        }
    }
    done
}

/// Waits at the gate before phase `name` (unless an earlier process let it pass), journaling
/// the wait and who let it pass. A drain or an interrupt ends the wait: the run is stopping.
async fn pass_gate(ctx: &Context, events: &mpsc::UnboundedSender<Event>, name: &str) {
    use journal::Entry;
    if ctx.gates_passed.contains(name) {
        return;
    }
    let phase = name.to_owned();
    ctx.note(Entry::GateWaiting {
        phase: phase.clone(),
        at: history::At::now(),
    });
    let _ = events.send(Event::GateWaiting {
        phase: phase.clone(),
    });
    let Some(by) = ctx.steer.gate(name, &ctx.cancel).await else {
        return;
    };
    let at = history::At::now();
    // On disk before the phase's first stop: a resume does not ask again.
    if let Some(journal) = &ctx.journal {
        let passed = Entry::GatePassed {
            phase: phase.clone(),
            by: by.clone(),
            at,
        };
        if let Err(e) = journal.write(vec![passed]).await {
            ctx.halt(format!("{e}: the journal failed"), RunOutcome::Aborted);
            return;
        }
    }
    let _ = events.send(Event::GatePassed { phase, by });
}

/// The run's verdict, once every phase is done and the journal is on disk.
async fn conclude(
    plan: &Plan,
    ctx: &Context,
    done: phase::Done,
    events: &mpsc::UnboundedSender<Event>,
    until: Option<usize>,
) -> Report {
    let phase::Done {
        results,
        mut timings,
    } = done;
    timings.sort_unstable_by_key(|t| t.seq);
    if let Some(journal) = &ctx.journal
        && let Err(e) = journal.sync().await
    {
        let reason = format!("{e}: the journal may not hold every result");
        ctx.halt(reason, RunOutcome::Aborted);
    }
    let halt = ctx.final_halt();
    let drained = ctx.steer.drained();
    let paused = ctx.paused.load(Ordering::SeqCst) || drained.is_some();
    let outcome = match (&halt, ctx.cancelled()) {
        (_, true) => RunOutcome::Interrupted,
        (Some((_, outcome)), false) => *outcome,
        (None, false) if paused => RunOutcome::Paused,
        (None, false) if results.iter().any(|r| r.outcome != Outcome::Passed) => RunOutcome::Failed,
        (None, false) => RunOutcome::Passed,
    };
    let halted = match (halt, ctx.cancelled()) {
        (_, true) => {
            Some("interrupted: in-flight requests finished, the rest was not started".to_owned())
        }
        (Some((reason, _)), _) => Some(reason),
        (None, false) if paused => Some(paused_reason(plan, until, drained)),
        _ => None,
    };
    if halted.is_some() {
        let _ = events.send(Event::Halted);
    }
    Report {
        outcome,
        crashed: ctx.crashed(),
        throttled: ctx.limits.adaptive.throttled_count(),
        adapted_rate: ctx.limits.adaptive.current_rate(),
        results,
        timings,
        halted,
        started_at: SystemTime::UNIX_EPOCH,
        finished_at: SystemTime::UNIX_EPOCH,
        window: None,
    }
}

fn paused_reason(plan: &Plan, until: Option<usize>, drained: Option<String>) -> String {
    if let Some(by) = drained {
        return format!(
            "drained by {by} (ctl drain): the stops already sent finished, no other started; run again with --resume to go on"
        );
    }
    let name = until
        .and_then(|i| plan.runbook.phases.get(i))
        .map_or("", |p| p.name.as_str());
    format!("paused after phase `{name}` (--until): run again with --resume to go on")
}

/// Why a stop was not started.
fn skip_reason(ctx: &Context) -> String {
    if ctx.cancelled() {
        return "not started: the run was interrupted".to_owned();
    }
    match &*ctx.halt_reason.lock().unwrap_or_else(|p| p.into_inner()) {
        Some((reason, _)) => format!("not started: {reason}"),
        None if ctx.steer.drained().is_some() => {
            "not started: the run was drained (ctl drain); `--resume` goes on".to_owned()
        }
        None if ctx.paused.load(Ordering::SeqCst) => {
            "not started: paused after the --until phase; `--resume` goes on".to_owned()
        }
        None => "not started".to_owned(),
    }
}
