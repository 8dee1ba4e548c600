//! `run --plan FILE`: the plan now held against the one a reviewer approved. The same
//! `plan_id` runs; a difference is refused, unless `--accept-drift` and the difference is only
//! in which jobs the selects match: then the approved jobs that still match run, and no other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::document::{self, PlanDocument, PlanFile, PlanFileError};
use super::drift::{self, Drift};
use super::{Plan, in_shard};

/// What `run --plan` runs.
#[derive(Debug)]
pub struct Approved {
    /// The plan to run.
    pub plan: Plan,
    /// What to tell before the run.
    pub notes: Vec<String>,
    /// The plan holds only the `--shard`'s stops already (an accepted drift, sharded by the
    /// approved plan's order, since the reduced plan is renumbered).
    pub sharded: bool,
    /// The approved plan's `plan_id`, when an accepted drift runs another plan.
    pub approved_id: Option<String>,
}

/// Why the plan now cannot run as the approved one; nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum ApproveError {
    /// The approved plan cannot be read.
    #[error("{0}; nothing was sent")]
    Unreadable(#[from] PlanFileError),
    /// The plan now differs from the approved one.
    #[error("{0}")]
    Drift(Box<Refused>),
}

/// A drift that is refused, with what a reviewer needs to see it.
#[derive(Debug)]
pub struct Refused {
    runbook: PathBuf,
    file: PathBuf,
    now_id: String,
    approved_id: String,
    /// The differences, when the approved plan is JSON (a Markdown plan holds only its id).
    found: Option<Drift>,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let runbook = self.runbook.display();
        writeln!(
            f,
            "plan drift: `{runbook}` now plans to {}, but `{}` holds {}; nothing was sent",
            self.now_id,
            self.file.display(),
            self.approved_id
        )?;
        match &self.found {
            None => writeln!(
                f,
                "  (the approved plan is not JSON: give the JSON plan to see what differs)"
            )?,
            Some(found) => write!(f, "{found}")?,
        }
        write!(
            f,
            "  = review the new plan (`stopbook plan {runbook}`) and approve it again"
        )?;
        if self.found.as_ref().is_some_and(Drift::only_live_set) {
            write!(
                f,
                "\n  = or run with --accept-drift: the approved jobs that still match run, and no other"
            )?;
        }
        Ok(())
    }
}

/// Holds `plan` (of the runbook at `runbook`) against the approved plan in `file`. With
/// `shard`, an accepted drift keeps only that shard of the approved plan's order.
pub fn approve(
    runbook: &Path,
    plan: Plan,
    file: &Path,
    accept_drift: bool,
    shard: Option<(usize, usize)>,
) -> Result<Approved, ApproveError> {
    let approved = document::read(file)?;
    let approved_id = approved.plan_id().to_string();
    if approved_id == plan.plan_id {
        return Ok(Approved {
            plan,
            notes: Vec::new(),
            sharded: false,
            approved_id: None,
        });
    }
    let mut refused = Refused {
        runbook: runbook.to_owned(),
        file: file.to_owned(),
        now_id: plan.plan_id.clone(),
        approved_id: approved_id.clone(),
        found: None,
    };
    let PlanFile::Json(approved) = approved else {
        return Err(ApproveError::Drift(Box::new(refused)));
    };
    let found = drift::compare(&approved, &plan.document());
    if !accept_drift || !found.only_live_set() {
        refused.found = Some(found);
        return Err(ApproveError::Drift(Box::new(refused)));
    }
    let restricted = restrict(plan, &approved, shard);
    let (all, selected) = (
        restricted.runbook.stop_count(),
        restricted
            .runbook
            .stops()
            .filter(|(_, s)| s.name.is_some())
            .count(),
    );
    let notes = vec![format!(
        "note: --accept-drift: running {all} stops: the {selected} approved jobs that still match and {} listed (plan {}); left out: {} that now match but were not approved, {} approved that no longer match",
        all - selected,
        restricted.plan_id,
        found.now_match.len(),
        found.no_longer_match.len()
    )];
    Ok(Approved {
        plan: restricted,
        notes,
        sharded: shard.is_some(),
        approved_id: Some(approved_id),
    })
}

/// The plan with only the selected stops the approved plan holds (of `shard`, by the
/// approved plan's order); listed stops stay.
fn restrict(plan: Plan, approved: &PlanDocument, shard: Option<(usize, usize)>) -> Plan {
    let approved_seq: HashMap<(&str, String), usize> = approved
        .stops()
        .enumerate()
        .map(|(i, (phase, stop))| ((phase, stop.job.to_string()), i + 1))
        .collect();
    let mut runbook = plan.runbook;
    for phase in &mut runbook.phases {
        let name = phase.name.clone();
        phase.stops.retain(|s| {
            let seq = approved_seq.get(&(name.as_str(), s.job.to_string()));
            (s.name.is_none() || seq.is_some()) && seq.is_none_or(|seq| in_shard(*seq, shard))
        });
    }
    Plan::new(runbook)
}
