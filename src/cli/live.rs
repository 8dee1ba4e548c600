//! Live state for `plan` and `run`: where a runbook's reads go (the same target its stops go
//! to, or an embedded mock seeded the same way), its `select`s resolved into a plan, and an
//! approved plan held against the plan now (`run --plan`, drift, `--accept-drift`).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::Exit;
use super::connect::{self, Connection, Target};
use crate::live::LiveError;
use crate::live::select::{self, SelectError};
use crate::mock::JobSpec;
use crate::plan::Plan;
use crate::plan::document::{self as plan_document, PlanDocument, PlanFile};
use crate::plan::drift;
use crate::runbook::Runbook;
use crate::runbook::model::{Expectation, Target as RunbookTarget};

/// How long an accepted stop takes in the embedded mock (a force stop: a quarter of it).
pub const EMBEDDED_STOP_DELAY: Duration = Duration::from_secs(1);

/// A refusal: the exit code and what to say.
pub type Refusal = (Exit, String);

/// Exit 2 with `message`.
pub fn invalid(message: String) -> Refusal {
    (Exit::Invalid, message)
}

/// Whether any phase chooses jobs from live state.
pub fn has_select(runbook: &Runbook) -> bool {
    runbook.phases.iter().any(|p| p.select.is_some())
}

/// Where the runbook's requests go: its target with `endpoint` applied, or the embedded mock
/// (seeded with the runbook's jobs, or serving its fleet file). The remote project ID comes
/// back for messages.
pub fn target(
    runbook: &Runbook,
    endpoint: Option<&str>,
) -> Result<(Target, Option<String>), String> {
    let remote = match &runbook.target {
        RunbookTarget::EmbeddedMock | RunbookTarget::MockFleet(_) if endpoint.is_some() => {
            return Err(
                "error: --endpoint needs a `target` in the runbook, for its project_id and auth"
                    .to_owned(),
            );
        }
        RunbookTarget::EmbeddedMock => {
            let jobs = embedded_jobs(runbook);
            let stop_delay = EMBEDDED_STOP_DELAY;
            return Ok((Target::Embedded { jobs, stop_delay }, None));
        }
        RunbookTarget::MockFleet(fleet) => {
            let jobs = crate::mock::jobs::load(&fleet.path)
                .map_err(|e| format!("error: the fleet file: {e}"))?;
            let stop_delay = EMBEDDED_STOP_DELAY;
            return Ok((Target::Embedded { jobs, stop_delay }, None));
        }
        RunbookTarget::Remote(remote) => remote,
    };
    let remote = super::target::remote(remote, endpoint)?;
    let project = remote.project_id.clone();
    Ok((Target::Remote(remote), Some(project)))
}

/// The runbook's jobs as running tasks, except those the runbook expects not to exist.
fn embedded_jobs(runbook: &Runbook) -> Vec<JobSpec> {
    let missing = |e: &Expectation| matches!(e, Expectation::Answer { error_code: Some(code), .. } if code == crate::drs::codes::JOB_NOT_FOUND);
    runbook
        .stops()
        .enumerate()
        .filter(|(_, (_, stop))| !missing(&stop.settings.effective_expect()))
        .map(|(i, (_, stop))| JobSpec {
            id: stop.job.to_string(),
            name: format!("DRS-{}", 1000 + i),
            status: "INCRE_TRANSFER_STARTED".to_owned(),
            job_type: "sync".to_owned(),
            ..Default::default()
        })
        .collect()
}

/// A connection for reads to the runbook's target (see [`target`]).
pub async fn connect_for_reads(
    runbook: &Runbook,
    endpoint: Option<&str>,
    ca_cert: Option<&Path>,
) -> Result<Connection, Refusal> {
    let (target, _) = target(runbook, endpoint).map_err(invalid)?;
    let pool = runbook.limits.concurrency as usize;
    connect::connect(target, ca_cert, pool)
        .await
        .map_err(invalid)
}

/// Resolves the runbook's selects over `connection` (exit 2 past a `max`, 3 when live state
/// cannot be read).
pub async fn resolve(runbook: &mut Runbook, connection: &Connection) -> Result<(), Refusal> {
    if matches!(runbook.target, RunbookTarget::EmbeddedMock) && has_select(runbook) {
        say!(
            "note: the runbook has no target: its selects read the embedded mock, which serves only the runbook's listed jobs (so they find none); name a fleet (`target: {{ mock: {{ jobs: FILE }} }}`) or a target"
        );
    }
    select::resolve(runbook, &connection.client)
        .await
        .map_err(|e| match e {
            SelectError::TooMany { .. } => (Exit::Invalid, format!("error: {e}")),
            SelectError::Live(live) => unreadable(&live),
        })
}

/// Live state could not be read: exit 3, nothing sent.
pub fn unreadable(e: &LiveError) -> Refusal {
    (
        Exit::Aborted,
        format!("error: cannot read live state: {e}; nothing was sent"),
    )
}

/// The runbook planned, its selects resolved against its target first when it has any (a
/// runtime of its own; the run later connects again, to the same state).
pub fn resolved_plan(
    mut runbook: Runbook,
    endpoint: Option<&str>,
    ca_cert: Option<&Path>,
) -> Result<Plan, Refusal> {
    if !has_select(&runbook) {
        return Ok(Plan::new(runbook));
    }
    let runtime = super::runtime().map_err(|exit| (exit, "error: cannot start".to_owned()))?;
    runtime.block_on(async {
        let connection = connect_for_reads(&runbook, endpoint, ca_cert).await?;
        let resolved = resolve(&mut runbook, &connection).await;
        connection.close().await;
        resolved.map(|()| Plan::new(runbook))
    })
}

/// `run --plan FILE`: the plan now against the approved one. The same `plan_id` runs; a
/// difference is shown (jobs that now match and were not approved, approved jobs that no
/// longer match, stops added, removed or changed) and refused, unless `accept_drift` and the
/// difference is only in the live set: then the approved jobs that still match run, and no
/// other. With `shard`, the accepted plan holds only the stops of that shard of the approved
/// plan's order (not of the reduced plan's, which is renumbered).
pub fn approve(
    runbook_path: &Path,
    plan: Plan,
    file: &Path,
    accept_drift: bool,
    shard: Option<(usize, usize)>,
) -> Result<Approved, String> {
    let approved =
        plan_document::read(file).map_err(|e| format!("error: {e}; nothing was sent"))?;
    let approved_id = approved.plan_id().to_string();
    if approved_id == plan.plan_id {
        return Ok(Approved {
            plan,
            notes: Vec::new(),
            sharded: false,
            approved_id: None,
        });
    }
    let head = format!(
        "error: plan drift: `{}` now plans to {}, but `{}` holds {approved_id}; nothing was sent",
        runbook_path.display(),
        plan.plan_id,
        file.display(),
    );
    let again = format!(
        "  = review the new plan (`stopbook plan {}`) and approve it again",
        runbook_path.display()
    );
    let PlanFile::Json(approved) = approved else {
        return Err(format!(
            "{head}\n  (the approved plan is not JSON: give the JSON plan to see what differs)\n{again}"
        ));
    };
    let now = plan
        .document()
        .map_err(|e| format!("error: the plan now: {e}"))?;
    let found = drift::compare(&approved, &now);
    if !accept_drift || !found.only_live_set() {
        let accept = match found.only_live_set() {
            true => {
                "\n  = or run with --accept-drift: the approved jobs that still match run, and no other"
            }
            false => "",
        };
        return Err(format!("{head}\n{found}{again}{accept}"));
    }
    let approved_seq: HashMap<(String, String), usize> = approved_jobs(&approved);
    let mut runbook = plan.runbook;
    for phase in &mut runbook.phases {
        let name = phase.name.clone();
        phase.stops.retain(|s| {
            let seq = approved_seq.get(&(name.clone(), s.job.to_string()));
            (s.name.is_none() || seq.is_some())
                && seq.is_none_or(|seq| crate::exec::in_shard(*seq, shard))
        });
    }
    let restricted = Plan::new(runbook);
    let notes = vec![format!(
        "note: --accept-drift: running the {} approved jobs that still match (plan {}); left out: {} that now match but were not approved, {} approved that no longer match",
        restricted
            .runbook
            .stops()
            .filter(|(_, s)| s.name.is_some())
            .count(),
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

/// What `run --plan` runs: the plan, the notes to show first, and whether the plan holds only
/// the `--shard`'s stops already (an accepted drift, sharded by the approved order).
pub struct Approved {
    /// The plan to run.
    pub plan: Plan,
    /// What to tell before the run.
    pub notes: Vec<String>,
    /// The plan is already the shard's.
    pub sharded: bool,
    /// The approved plan's `plan_id`, when an accepted drift runs another plan.
    pub approved_id: Option<String>,
}

/// Every (phase, job) of an approved plan, with its place in the approved plan (1-based).
fn approved_jobs(approved: &PlanDocument) -> HashMap<(String, String), usize> {
    approved
        .stops()
        .enumerate()
        .map(|(i, (phase, stop))| ((phase.to_owned(), stop.job.to_string()), i + 1))
        .collect()
}

/// Where a run of a runbook with selects keeps the plan it resolved, beside its journal.
pub fn selection_file(journal: &Path) -> std::path::PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".plan.json");
    std::path::PathBuf::from(name)
}

/// Writes `plan` beside the journal, so a resumed run stops the jobs this run found.
pub fn pin_selection(journal: &Path, plan: &Plan) -> Result<(), String> {
    let file = selection_file(journal);
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    crate::output::write_atomic(&file, |out| plan.write_json(out)).map_err(|e| {
        format!(
            "error: cannot write `{}` (the jobs the selects found, for a resume): {e}; nothing was sent",
            file.display()
        )
    })
}

/// The runbook with the jobs its first run's selects found (from `file`), planned.
pub fn pinned_plan(mut runbook: Runbook, file: &Path) -> Result<Plan, String> {
    let pinned = plan_document::read_json(file)
        .map_err(|e| format!("error: {e} (the jobs the selects found); nothing was sent"))?;
    for phase in &mut runbook.phases {
        let Some(stored) = pinned.phases.iter().find(|p| p.name == phase.name) else {
            continue;
        };
        for stop in &stored.stops {
            let Some(name) = &stop.name else {
                continue;
            };
            phase.stops.push(crate::runbook::model::Stop {
                job: stop.job,
                label: None,
                name: Some(name.clone()),
                settings: std::sync::Arc::clone(&phase.settings),
            });
        }
    }
    Ok(Plan::new(runbook))
}
