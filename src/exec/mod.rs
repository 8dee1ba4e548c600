//! Running a plan: phases in order, each a barrier; stops in plan order up to the phase's
//! concurrency; one shared budget of requests ([`limits`]); a failure budget; a journal.
//!
//! `exec` never prints. It sends [`Event`]s as stops finish and returns every result in plan
//! order; `report` turns both into progress, summaries and files.

mod intents;
pub mod journal;
mod limits;
mod phase;
mod stop;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::api::client::Client;
use crate::plan::Plan;
use crate::runbook::values::{JobId, Rate};
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
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Passed => "passed",
            RunOutcome::Failed => "failed",
            RunOutcome::Aborted => "aborted",
            RunOutcome::Interrupted => "interrupted",
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
    /// `(k, n)`: run only stops whose `seq` falls in shard k of n.
    pub shard: Option<(usize, usize)>,
    pub cancel: watch::Receiver<bool>,
    pub events: mpsc::UnboundedSender<Event>,
}

pub struct Report {
    pub outcome: RunOutcome,
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
    cancel: watch::Receiver<bool>,
    failures: AtomicU64,
    allowed_failures: Option<u64>,
    halted: AtomicBool,
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

    fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    fn stopping(&self) -> bool {
        self.halted.load(Ordering::SeqCst) || self.cancelled()
    }

    /// Counts a failure against the budget; past it, nothing new starts.
    fn failed(&self) {
        let failures = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(allowed) = self.allowed_failures
            && failures > allowed
        {
            self.halt(
                format!("the failure budget was exceeded: {failures} failed, {allowed} allowed"),
                RunOutcome::Aborted,
            );
        }
    }
}

pub async fn run(plan: Arc<Plan>, setup: Setup) -> Report {
    let runbook = &plan.runbook;
    let selected = |seq: usize| in_shard(seq, setup.shard);
    let total = (1..=runbook.stop_count()).filter(|s| selected(*s)).count();
    let ctx = Arc::new(Context {
        client: setup.client,
        limits: Limits::new(setup.concurrency, setup.rate),
        journal: setup.journal,
        earlier: setup.earlier,
        cancel: setup.cancel,
        failures: AtomicU64::new(0),
        allowed_failures: runbook.limits.max_failures.map(|b| b.allowed(total)),
        halted: AtomicBool::new(false),
        halt_reason: Mutex::new(None),
        started: tokio::time::Instant::now(),
    });
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
    let outcome = match (&halt, ctx.cancelled()) {
        (_, true) => RunOutcome::Interrupted,
        (Some((_, outcome)), false) => *outcome,
        (None, false) if results.iter().any(|r| r.outcome != Outcome::Passed) => RunOutcome::Failed,
        (None, false) => RunOutcome::Passed,
    };
    let halted = match (halt, ctx.cancelled()) {
        (_, true) => {
            Some("interrupted: in-flight requests finished, the rest was not started".to_owned())
        }
        (Some((reason, _)), _) => Some(reason),
        _ => None,
    };
    if let Some(reason) = &halted {
        let _ = events.send(Event::Halted(reason.clone()));
    }
    Report {
        outcome,
        results,
        timings,
        halted,
    }
}

/// Why a stop was not started.
fn skip_reason(ctx: &Context) -> String {
    if ctx.cancelled() {
        return "not started: the run was interrupted".to_owned();
    }
    match &*ctx.halt_reason.lock().unwrap_or_else(|p| p.into_inner()) {
        Some((reason, _)) => format!("not started: {reason}"),
        None => "not started".to_owned(),
    }
}
