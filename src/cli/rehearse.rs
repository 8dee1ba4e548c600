//! `run --plan approved.json --rehearse [PROFILE]`: the approved plan, exactly (its own plan_id
//! in every report), run against the embedded mock seeded from the plan itself, under a fault
//! profile. The runbook's target is never contacted, not even to read: the selects are not
//! resolved again, the jobs they found are the plan's (as a resume takes them), so what is
//! rehearsed is what was approved, and a runbook forked for rehearsal is never needed.
//!
//! The mock serves each planned job with its ID; a selected job with the name and type its
//! select found; the status the plan saw when the plan holds a pre-flight (`plan --live`), else
//! the first status the job's select asks for, else running. A job the pre-flight found missing,
//! or the runbook expects missing, is left out, as the embedded mock does for a runbook.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::Refusal;
use super::args::RunArgs;
use super::connect::Target;
use super::live::{self, invalid};
use crate::drs::JobId;
use crate::plan::document::{self, PlanFile};
use crate::plan::{Plan, approve, pin};
use crate::runbook::Runbook;

/// A rehearsal made ready: the approved plan, and the mock it runs against.
pub struct Rehearsal {
    /// The approved plan, with the approved plan_id.
    pub plan: Plan,
    /// The embedded mock seeded from it.
    pub target: Target,
}

/// Makes the rehearsal of `runbook` as approved in `file`, with the faults of `profile`.
pub fn prepare(
    args: &RunArgs,
    runbook: Runbook,
    file: &Path,
    profile: &str,
) -> Result<Rehearsal, Refusal> {
    let approved =
        document::read(file).map_err(|e| invalid(format!("error: {e}; nothing was sent")))?;
    let plan = match (&approved, live::has_select(&runbook)) {
        (PlanFile::Json(_), true) => {
            pin::pinned_plan(runbook, file).map_err(|e| invalid(format!("error: {e}")))?
        }
        (PlanFile::Markdown(_), true) => {
            return Err(invalid(format!(
                "error: `{}` is a Markdown plan: a rehearsal of a runbook with selects needs the JSON plan, which holds the jobs they found; nothing was sent",
                file.display()
            )));
        }
        (_, false) => Plan::new(runbook),
    };
    let plan = approve::approve(&args.runbook, plan, file, false, args.shard)
        .map_err(|e| invalid(format!("error: {e}")))?
        .plan;
    if let Some(words) = crate::runbook::force_cap::over(&plan.runbook) {
        return Err(invalid(format!("error: {words}; nothing was sent")));
    }
    let seen = match &approved {
        PlanFile::Json(doc) => preflight_statuses(doc.rest.get("live")),
        PlanFile::Markdown(_) => HashMap::new(),
    };
    let jobs = live::seeded(&plan.runbook, &seen);
    let profile = (profile != "faithful").then_some(profile);
    let target = live::embedded(jobs, profile)?;
    Ok(Rehearsal { plan, target })
}

/// The statuses a pre-flight saw, by job: `None` for a job it found missing.
fn preflight_statuses(live: Option<&Value>) -> HashMap<JobId, Option<String>> {
    let stops = live.and_then(|l| l.get("stops")).and_then(Value::as_array);
    stops
        .into_iter()
        .flatten()
        .filter_map(|check| {
            let job = check.get("job")?.as_str()?.parse::<JobId>().ok()?;
            let status = check.get("status").and_then(Value::as_str);
            Some((job, status.map(str::to_owned)))
        })
        .collect()
}
