//! Live state for `plan` and `run`, wired: where a runbook's reads go (the same target its
//! stops go to, or an embedded mock seeded the same way) and its `select`s resolved into a
//! plan, with the exit code each failure maps to.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::connect::{self, Connection, Target};
use super::{Exit, Refusal};
use crate::drs::JobId;
use crate::live::LiveError;
use crate::live::select::{self, SelectError};
use crate::mock::JobSpec;
use crate::plan::Plan;
use crate::runbook::Runbook;
use crate::runbook::model::{Expectation, Target as RunbookTarget};

/// How long an accepted stop takes in the embedded mock (a force stop: a quarter of it).
pub const EMBEDDED_STOP_DELAY: Duration = Duration::from_secs(1);

/// Exit 2 with `message`.
pub fn invalid(message: String) -> Refusal {
    Refusal::from(message)
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
) -> Result<(Target, Option<String>), Refusal> {
    let remote = match &runbook.target {
        RunbookTarget::EmbeddedMock | RunbookTarget::MockFleet(_) if endpoint.is_some() => {
            return Err(invalid(
                "error: --endpoint needs a `target` in the runbook, for its project_id and auth"
                    .to_owned(),
            ));
        }
        RunbookTarget::EmbeddedMock => {
            let jobs = seeded(runbook, &HashMap::new());
            return Ok((embedded(jobs, None)?, None));
        }
        RunbookTarget::MockFleet(fleet) => {
            let jobs = crate::mock::jobs::load(&fleet.path)
                .map_err(|e| format!("error: the fleet file: {e}"))?;
            return Ok((embedded(jobs, fleet.profile.as_deref())?, None));
        }
        RunbookTarget::Remote(remote) => remote,
    };
    let remote = super::target::remote(remote, endpoint)?;
    let project = remote.project_id.clone();
    Ok((Target::Remote(remote), Some(project)))
}

/// The embedded mock serving `jobs`, making the faults of `profile` (none when absent).
pub fn embedded(jobs: Vec<JobSpec>, profile: Option<&str>) -> Result<Target, Refusal> {
    let faults = match profile {
        Some(name) => name
            .parse::<crate::mock::Faults>()
            .map_err(|e| invalid(format!("error: {e}; nothing was sent")))?,
        None => Default::default(),
    };
    Ok(Target::Embedded {
        jobs,
        stop_delay: EMBEDDED_STOP_DELAY,
        faults,
    })
}

/// The status a job is served in when nothing says otherwise.
const RUNNING: &str = "INCRE_TRANSFER_STARTED";

/// The runbook's jobs as the embedded mock serves them: each with its ID; a selected job with
/// the name and type its select found; in the status `seen` gives (a pre-flight's), else the
/// first status its select asks for, else running. A job `seen` as missing, or that the
/// runbook expects missing, is left out.
pub fn seeded(runbook: &Runbook, seen: &HashMap<JobId, Option<String>>) -> Vec<JobSpec> {
    let missing = |e: &Expectation| matches!(e, Expectation::Answer { error_code: Some(code), .. } if code == crate::drs::codes::JOB_NOT_FOUND);
    let mut jobs = Vec::new();
    for (n, (phase, stop)) in runbook.stops().enumerate() {
        let select = phase.select.as_ref().filter(|_| stop.name.is_some());
        let status = match seen.get(&stop.job) {
            Some(None) => continue,
            Some(Some(status)) => status.clone(),
            None if missing(&stop.settings.effective_expect()) => continue,
            None => select
                .and_then(|s| s.status.first())
                .map_or(RUNNING, |s| s)
                .to_owned(),
        };
        jobs.push(JobSpec {
            id: stop.job.to_string(),
            name: stop
                .name
                .clone()
                .unwrap_or_else(|| format!("DRS-{}", 1000 + n)),
            status,
            job_type: select
                .and_then(|s| s.job_types.first())
                .map_or("sync", |t| t.as_str())
                .to_owned(),
            ..Default::default()
        });
    }
    jobs
}

/// A connection for reads to the runbook's target (see [`target`]).
pub async fn connect_for_reads(
    runbook: &Runbook,
    endpoint: Option<&str>,
    ca_cert: Option<&Path>,
) -> Result<Connection, Refusal> {
    let (target, _) = target(runbook, endpoint)?;
    let pool = runbook.limits.concurrency as usize;
    connect::connect(target, ca_cert, pool).await
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
            SelectError::TooMany { .. } | SelectError::TooFew { .. } => {
                invalid(format!("error: {e}"))
            }
            SelectError::Live(live) => unreadable(&live),
        })?;
    match crate::runbook::force_cap::over(runbook) {
        Some(words) => Err(invalid(format!("error: {words}; nothing was sent"))),
        None => Ok(()),
    }
}

/// Live state could not be read: exit 3, nothing sent.
pub fn unreadable(e: &LiveError) -> Refusal {
    Refusal {
        exit: Exit::Aborted,
        message: format!("error: cannot read live state: {e}; nothing was sent"),
    }
}

/// The runbook planned, its selects resolved against its target first when it has any (the
/// run later connects again, to the same state).
pub async fn resolved_plan(
    mut runbook: Runbook,
    endpoint: Option<&str>,
    ca_cert: Option<&Path>,
) -> Result<Plan, Refusal> {
    if !has_select(&runbook) {
        return Ok(Plan::new(runbook));
    }
    let connection = connect_for_reads(&runbook, endpoint, ca_cert).await?;
    let resolved = resolve(&mut runbook, &connection).await;
    connection.close().await;
    resolved.map(|()| Plan::new(runbook))
}
