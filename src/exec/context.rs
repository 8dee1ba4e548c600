//! The state every stop of a run shares: the client and its limits, the journal and what an
//! earlier run left, the failure budgets, and the flags that stop the run (a halt, a 401, a
//! pause after `--until`, an interrupt, a crash).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::board::Board;
use super::budget::{Budgets, PhaseBudget};
use super::journal::{Earlier, Journal};
use super::limits::Turn;
use super::{Limits, Outcome, RunOutcome};
use crate::api::client::Client;
use crate::plan::Plan;
use crate::retry::Cancel;
use crate::runbook::model::Phase;

/// The state every stop of a run shares.
pub(crate) struct Context {
    pub(super) client: Client,
    pub(super) limits: Limits,
    /// Statuses from ListJobs pages, for many waiting jobs at once.
    pub(super) board: Board,
    /// The jobs waited on right now, for the heartbeat.
    pub(super) census: std::sync::Arc<super::census::Census>,
    /// The run's effective limits (the runbook's, or the command line's overrides).
    pub(super) concurrency: u32,
    pub(super) journal: Option<Journal>,
    pub(super) earlier: HashMap<usize, Earlier>,
    pub(super) journal_age: Duration,
    pub(super) cancel: Cancel,
    pub(super) budgets: Budgets,
    pub(super) halted: AtomicBool,
    /// The 429 count last told to the progress display.
    pub(super) throttled_told: std::sync::atomic::AtomicU64,
    /// The run halted because a failure budget was exceeded.
    pub(super) budget_halted: AtomicBool,
    /// Set by a 401: no request starts any more.
    pub(super) auth_refused: AtomicBool,
    /// Set after the `--until` phase: nothing new starts, cleanly.
    pub(super) paused: AtomicBool,
    /// Set when a stop's task panicked (a bug): the run stops, exit 70.
    pub(super) crashed: AtomicBool,
    pub(super) halt_reason: Mutex<Option<(String, RunOutcome)>>,
    pub(super) started: tokio::time::Instant,
    /// Pause, drain and gates, as told from outside the run.
    pub(super) steer: std::sync::Arc<super::steer::Steer>,
    /// Phases whose gate an earlier process let pass.
    pub(super) gates_passed: std::collections::HashSet<String>,
}

impl Context {
    /// Stops the run: nothing new starts. The first reason stands; true if it is this one.
    /// Records `entry` in the journal, if the run keeps one, without waiting for the disk.
    pub(super) fn note(&self, entry: super::journal::Entry) {
        if let Some(journal) = &self.journal {
            journal.record(entry);
        }
    }

    pub(super) fn halt(&self, reason: String, outcome: RunOutcome) -> bool {
        let mut slot = self.halt_reason.lock().unwrap_or_else(|p| p.into_inner());
        let first = slot.is_none();
        if first {
            *slot = Some((reason, outcome));
        }
        self.halted.store(true, Ordering::SeqCst);
        first
    }

    /// How many stops of `phase` run at once: its own concurrency, held under the run's.
    pub(super) fn phase_concurrency(&self, phase: &Phase) -> u32 {
        phase.concurrency.min(self.concurrency).max(1)
    }

    /// Authentication was refused: the run ends, and no request starts any more (five bad
    /// AK/SK signatures lock the key).
    pub(super) fn refuse_auth(&self, reason: String) {
        self.auth_refused.store(true, Ordering::SeqCst);
        self.halt(reason, RunOutcome::Aborted);
    }

    /// A stop's task panicked: nothing new starts.
    pub(super) fn crash(&self) {
        self.crashed.store(true, Ordering::SeqCst);
        self.halt(
            "an internal error (a panic) stopped the run; what was recorded is in the journal and reports".to_owned(),
            RunOutcome::Aborted,
        );
    }

    pub(super) fn crashed(&self) -> bool {
        self.crashed.load(Ordering::SeqCst)
    }

    pub(super) fn cancelled(&self) -> bool {
        self.cancel.is_set()
    }

    pub(super) fn stopping(&self) -> bool {
        self.halted.load(Ordering::SeqCst)
            || self.cancelled()
            || self.paused.load(Ordering::SeqCst)
            || self.steer.drained().is_some()
    }

    /// A place for one request within the shared limits; `None` once authentication was
    /// refused, so that no request starts after a 401.
    pub(super) async fn permit(&self) -> Option<Turn<'_>> {
        if self.auth_refused.load(Ordering::SeqCst) {
            return None;
        }
        let permit = self.limits.request().await;
        (!self.auth_refused.load(Ordering::SeqCst)).then_some(permit)
    }

    /// Counts a failure of phase `index` against the budgets; past one, nothing new starts.
    pub(super) fn failed(&self, index: usize) {
        if let Some(reason) = self.budgets.failed(index)
            && self.halt(reason, RunOutcome::Aborted)
        {
            self.budget_halted.store(true, Ordering::SeqCst);
        }
    }

    /// Why the run halted, as it stands at the end: a budget's line counts every failure,
    /// those of stops that were in flight when it was exceeded too, so it agrees with the
    /// summary.
    pub(super) fn final_halt(&self) -> Option<(String, RunOutcome)> {
        let halt = self
            .halt_reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        if !self.budget_halted.load(Ordering::SeqCst) {
            return Some(halt);
        }
        let now = self.budgets.exceeded().unwrap_or_else(|| halt.0.clone());
        let note = match now == halt.0 {
            true => "",
            false => " (stops in flight when it was exceeded finished)",
        };
        Some((format!("{now}{note}"), halt.1))
    }

    /// Tells the progress display of 429s since it was last told.
    pub(super) fn tell_throttled(&self, events: &tokio::sync::mpsc::UnboundedSender<super::Event>) {
        let count = self.limits.adaptive.throttled_count();
        if self.throttled_told.swap(count, Ordering::Relaxed) != count {
            let rate = self.limits.adaptive.current_rate();
            let _ = events.send(super::Event::Throttled { count, rate });
        }
    }

    /// Sleeps for `d`; false if the run was interrupted meanwhile.
    pub(super) async fn sleep(&self, d: Duration) -> bool {
        self.cancel.sleep(d).await
    }
}

/// Each phase's budget, with the failures an earlier run's journal holds for it.
pub(super) fn phase_budgets(
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
