//! Running a plan: phases in order, each a barrier; stops in plan order up to the phase's
//! concurrency; one shared budget of requests ([`limits`]); a failure budget; a journal.
//!
//! `exec` never prints. It sends [`Event`]s as stops finish and returns every result in plan
//! order; `report` turns both into progress, summaries and files.

mod budget;
mod failpoint;
mod intents;
pub mod journal;
mod limits;
mod phase;
mod reply;
mod settle;
mod stop;
mod wait;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{SemaphorePermit, mpsc, watch};

use crate::api::client::Client;
use crate::plan::Plan;
use crate::runbook::values::{JobId, Rate};
use budget::{Budgets, PhaseBudget};
use journal::{Earlier, Journal};
use phase::Phase;

pub use limits::Limits;

/// How one stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// One stop's result: what was sent, what came back, and the verdict. No timings here (see
/// [`Timing`]), so two runs against the same server state give the same results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopResult {
    pub seq: usize,
    pub phase: Arc<str>,
    pub job: JobId,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub label: Option<String>,
    pub force: bool,
    pub expected: Arc<str>,
    pub outcome: Outcome,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub final_status: Option<String>,
    pub attempts: u32,
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
}

/// When a stop ran, kept apart from its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    pub seq: usize,
    pub started_ms: u64,
    pub duration_ms: u64,
}

/// What the run as a whole came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    Passed,
    Failed,
    Aborted,
    Interrupted,
    /// Stopped cleanly after the `--until` phase; `--resume` goes on.
    Paused,
}

impl RunOutcome {
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
    Started {
        total: usize,
        phases: Vec<(String, usize)>,
    },
    PhaseStarted {
        index: usize,
        name: String,
        stops: usize,
    },
    /// A stop finished (its result is in the run's [`Report`]).
    Finished {
        seq: usize,
        outcome: Outcome,
    },
    Halted(String),
}

/// What a run needs besides the plan.
pub struct Setup {
    pub client: Client,
    pub concurrency: u32,
    pub rate: Option<Rate>,
    pub journal: Option<Journal>,
    /// What an earlier run of the same plan reached, by seq.
    pub earlier: HashMap<usize, Earlier>,
    /// How long ago the earlier run last wrote its journal (it sent nothing after that).
    pub journal_age: Duration,
    /// Stop cleanly after the phase at this index (`--until`).
    pub until: Option<usize>,
    /// `(k, n)`: run only stops whose `seq` falls in shard k of n.
    pub shard: Option<(usize, usize)>,
    pub cancel: watch::Receiver<bool>,
    pub events: mpsc::UnboundedSender<Event>,
}

pub struct Report {
    pub outcome: RunOutcome,
    /// A stop's task panicked: a bug in stopbook (exit 70).
    pub crashed: bool,
    pub results: Vec<StopResult>,
    pub timings: Vec<Timing>,
    /// Why the run stopped early, if it did.
    pub halted: Option<String>,
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

/// Whether `seq` belongs to shard `k` of `n` (1-based k): a deterministic round-robin split.
pub fn in_shard(seq: usize, shard: Option<(usize, usize)>) -> bool {
    shard.is_none_or(|(k, n)| (seq - 1) % n == k - 1)
}

/// The state every stop of a run shares.
pub(crate) struct Context {
    client: Client,
    limits: Limits,
    journal: Option<Journal>,
    earlier: HashMap<usize, Earlier>,
    journal_age: Duration,
    cancel: watch::Receiver<bool>,
    budgets: Budgets,
    halted: AtomicBool,
    /// Set by a 401: no request starts any more.
    auth_refused: AtomicBool,
    /// Set after the `--until` phase: nothing new starts, cleanly.
    paused: AtomicBool,
    /// Set when a stop's task panicked (a bug): the run stops, exit 70.
    crashed: AtomicBool,
    halt_reason: Mutex<Option<(String, RunOutcome)>>,
    started: tokio::time::Instant,
}

impl Context {
    fn halt(&self, reason: String, outcome: RunOutcome) {
        let mut slot = self.halt_reason.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some((reason, outcome));
        }
        self.halted.store(true, Ordering::SeqCst);
    }

    /// Authentication was refused: the run ends, and no request starts any more (five bad
    /// AK/SK signatures lock the key).
    fn refuse_auth(&self, reason: String) {
        self.auth_refused.store(true, Ordering::SeqCst);
        self.halt(reason, RunOutcome::Aborted);
    }

    /// A stop's task panicked: nothing new starts.
    fn crash(&self) {
        self.crashed.store(true, Ordering::SeqCst);
        self.halt(
            "an internal error (a panic) stopped the run; what was recorded is in the journal and reports".to_owned(),
            RunOutcome::Aborted,
        );
    }

    fn crashed(&self) -> bool {
        self.crashed.load(Ordering::SeqCst)
    }

    fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    fn stopping(&self) -> bool {
        self.halted.load(Ordering::SeqCst) || self.cancelled() || self.paused.load(Ordering::SeqCst)
    }

    /// A place for one request within the shared limits; `None` once authentication was
    /// refused, so that no request starts after a 401.
    async fn permit(&self) -> Option<SemaphorePermit<'_>> {
        if self.auth_refused.load(Ordering::SeqCst) {
            return None;
        }
        let permit = self.limits.request().await;
        (!self.auth_refused.load(Ordering::SeqCst)).then_some(permit)
    }

    /// Counts a failure of phase `index` against the budgets; past one, nothing new starts.
    fn failed(&self, index: usize) {
        if let Some(reason) = self.budgets.failed(index) {
            self.halt(reason, RunOutcome::Aborted);
        }
    }

    /// Sleeps for `d`; false if the run was interrupted meanwhile.
    async fn sleep(&self, d: Duration) -> bool {
        let mut cancel = self.cancel.clone();
        if *cancel.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = cancel.wait_for(|c| *c) => false,
        }
    }
}

/// Each phase's budget, with the failures an earlier run's journal holds for it.
fn phase_budgets(
    plan: &Plan,
    earlier: &HashMap<usize, Earlier>,
    selected: impl Fn(usize) -> bool,
) -> Vec<PhaseBudget> {
    let mut seq = 0;
    plan.runbook
        .phases
        .iter()
        .map(|p| {
            let seqs = (seq + 1..=seq + p.stops.len()).filter(|s| selected(*s));
            seq += p.stops.len();
            let (mut total, mut already) = (0, 0);
            for s in seqs {
                total += 1;
                if matches!(earlier.get(&s), Some(Earlier::Done(f)) if f.outcome == Outcome::Failed)
                {
                    already += 1;
                }
            }
            PhaseBudget {
                name: p.name.clone(),
                budget: p.max_failures,
                total,
                already,
            }
        })
        .collect()
}

pub async fn run(plan: Arc<Plan>, setup: Setup) -> Report {
    let runbook = &plan.runbook;
    let selected = |seq: usize| in_shard(seq, setup.shard);
    let total = (1..=runbook.stop_count()).filter(|s| selected(*s)).count();
    let budgets = Budgets::new(
        runbook.limits.max_failures,
        total,
        phase_budgets(&plan, &setup.earlier, selected),
    );
    let ctx = Arc::new(Context {
        client: setup.client,
        limits: Limits::new(setup.concurrency, setup.rate),
        journal: setup.journal,
        earlier: setup.earlier,
        journal_age: setup.journal_age,
        cancel: setup.cancel,
        budgets,
        halted: AtomicBool::new(false),
        auth_refused: AtomicBool::new(false),
        paused: AtomicBool::new(false),
        crashed: AtomicBool::new(false),
        halt_reason: Mutex::new(None),
        started: tokio::time::Instant::now(),
    });
    if let Some(reason) = ctx.budgets.exceeded() {
        ctx.halt(
            format!("{reason} (failures the journal already holds)"),
            RunOutcome::Aborted,
        );
    }
    let events = setup.events;
    let mut seq = 0;
    let phases: Vec<(String, usize)> = runbook
        .phases
        .iter()
        .map(|p| {
            let first = seq + 1;
            seq += p.stops.len();
            (
                p.name.clone(),
                (first..=seq).filter(|s| selected(*s)).count(),
            )
        })
        .collect();
    let _ = events.send(Event::Started {
        total,
        phases: phases.clone(),
    });

    let mut done = phase::Done {
        results: Vec::with_capacity(total),
        timings: Vec::with_capacity(total),
    };
    let mut first_seq = 1;
    for (index, stops) in phases.iter().map(|(_, n)| *n).enumerate() {
        let first = first_seq;
        first_seq += runbook.phases[index].stops.len();
        if stops == 0 {
            continue;
        }
        let _ = events.send(Event::PhaseStarted {
            index,
            name: runbook.phases[index].name.clone(),
            stops,
        });
        let phase_start = done.results.len();
        let phase = Phase::new(Arc::clone(&plan), index, first, setup.shard, done);
        done = phase.run(&ctx, stops, &events).await;
        // Seqs are unique, so an unstable sort gives the same order without a scratch copy of
        // half the results (21 MB for 200,000 stops).
        done.results[phase_start..].sort_unstable_by_key(|r| r.seq);
        if setup.until == Some(index) && !ctx.stopping() {
            ctx.paused.store(true, Ordering::SeqCst);
        }
    }
    let phase::Done {
        results,
        mut timings,
    } = done;
    timings.sort_unstable_by_key(|t| t.seq);
    if let Some(journal) = &ctx.journal
        && let Err(e) = journal.sync().await
    {
        ctx.halt(
            format!("{e}: the journal may not hold every result"),
            RunOutcome::Aborted,
        );
    }

    let halt = ctx
        .halt_reason
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let paused = ctx.paused.load(Ordering::SeqCst);
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
        (None, false) if paused => Some(paused_reason(&plan, setup.until)),
        _ => None,
    };
    if let Some(reason) = &halted {
        let _ = events.send(Event::Halted(reason.clone()));
    }
    Report {
        outcome,
        crashed: ctx.crashed(),
        results,
        timings,
        halted,
    }
}

fn paused_reason(plan: &Plan, until: Option<usize>) -> String {
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
        None if ctx.paused.load(Ordering::SeqCst) => {
            "not started: paused after the --until phase; `--resume` goes on".to_owned()
        }
        None => "not started".to_owned(),
    }
}
