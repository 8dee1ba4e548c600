//! Failure budgets: the run's `limits.max_failures` and each phase's own `max_failures`.
//!
//! A failure counts against both the run's budget and its phase's. One failure past either
//! budget ends the run: nothing new starts. A resumed run starts from the failures its journal
//! already holds, so an interrupt never buys a budget a second allowance.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::runbook::values::FailureBudget;

/// One budget: failures so far and how many are allowed.
#[derive(Debug)]
struct Counter {
    failures: AtomicU64,
    allowed: Option<u64>,
}

impl Counter {
    fn new(budget: Option<FailureBudget>, total: usize, already: u64) -> Self {
        Counter {
            failures: AtomicU64::new(already),
            allowed: budget.map(|b| b.allowed(total)),
        }
    }

    /// Counts one failure; `Some((failures, allowed))` when that goes past the budget.
    fn add(&self) -> Option<(u64, u64)> {
        let failures = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
        self.allowed
            .filter(|allowed| failures > *allowed)
            .map(|allowed| (failures, allowed))
    }

    /// Whether the failures counted at the start are already past the budget.
    fn exceeded(&self) -> Option<(u64, u64)> {
        let failures = self.failures.load(Ordering::SeqCst);
        self.allowed
            .filter(|allowed| failures > *allowed)
            .map(|allowed| (failures, allowed))
    }
}

/// The run's budget and one per phase.
#[derive(Debug)]
pub struct Budgets {
    run: Counter,
    phases: Vec<(String, Counter)>,
}

/// What a phase's budget is built from.
pub struct PhaseBudget {
    pub name: String,
    pub budget: Option<FailureBudget>,
    /// The phase's stops in this run (its shard).
    pub total: usize,
    /// Failures an earlier run of the same plan already recorded in this phase.
    pub already: u64,
}

impl Budgets {
    pub fn new(run: Option<FailureBudget>, total: usize, phases: Vec<PhaseBudget>) -> Self {
        let already = phases.iter().map(|p| p.already).sum();
        Budgets {
            run: Counter::new(run, total, already),
            phases: phases
                .into_iter()
                .map(|p| (p.name, Counter::new(p.budget, p.total, p.already)))
                .collect(),
        }
    }

    /// Counts a failure in phase `index`; the reason the run must stop, if it must.
    pub fn failed(&self, index: usize) -> Option<String> {
        let phase = self
            .phases
            .get(index)
            .and_then(|(name, c)| Some((name, c.add()?)));
        let run = self.run.add();
        match (phase, run) {
            (Some((name, counts)), _) => Some(phase_message(name, counts)),
            (None, Some(counts)) => Some(run_message(counts)),
            (None, None) => None,
        }
    }

    /// Why the run may not go on from the start (a resumed run whose journal is already past a
    /// budget), if that is so.
    pub fn exceeded(&self) -> Option<String> {
        if let Some(counts) = self.run.exceeded() {
            return Some(run_message(counts));
        }
        self.phases
            .iter()
            .find_map(|(name, c)| Some(phase_message(name, c.exceeded()?)))
    }
}

fn run_message((failures, allowed): (u64, u64)) -> String {
    format!("the failure budget was exceeded: {failures} failed, {allowed} allowed")
}

fn phase_message(name: &str, (failures, allowed): (u64, u64)) -> String {
    format!(
        "the failure budget of phase `{name}` was exceeded: {failures} failed, {allowed} allowed"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(name: &str, budget: Option<&str>, total: usize, already: u64) -> PhaseBudget {
        PhaseBudget {
            name: name.to_owned(),
            budget: budget.map(|b| b.parse().unwrap()),
            total,
            already,
        }
    }

    #[test]
    fn a_canary_budget_of_zero_ends_the_run_at_its_first_failure() {
        let budgets = Budgets::new(
            None,
            11,
            vec![phase("canary", Some("0"), 1, 0), phase("bulk", None, 10, 0)],
        );
        let reason = budgets.failed(0).expect("past the canary's budget");
        assert!(reason.contains("phase `canary`"), "{reason}");
    }

    #[test]
    fn failures_count_against_the_run_and_the_phase_together() {
        let budgets = Budgets::new(
            Some("2".parse().unwrap()),
            10,
            vec![phase("a", None, 5, 0), phase("b", Some("5"), 5, 0)],
        );
        assert_eq!(budgets.failed(0), None);
        assert_eq!(budgets.failed(1), None);
        let reason = budgets.failed(1).expect("three failures, two allowed");
        assert!(reason.contains("3 failed, 2 allowed"), "{reason}");
    }

    #[test]
    fn a_resumed_run_starts_from_the_journals_failures() {
        let budgets = Budgets::new(
            Some("1".parse().unwrap()),
            10,
            vec![phase("a", None, 10, 1)],
        );
        assert_eq!(budgets.exceeded(), None);
        assert!(
            budgets.failed(0).is_some(),
            "the second failure is one too many"
        );
        let over = Budgets::new(
            Some("1".parse().unwrap()),
            10,
            vec![phase("a", None, 10, 2)],
        );
        assert!(over.exceeded().is_some());
    }
}
