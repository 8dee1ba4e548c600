//! Live state for `plan` and `run`, wired: where a runbook's reads go (the same target its
//! stops go to, or an embedded mock seeded the same way) and its `select`s resolved into a
//! plan, with the exit code each failure maps to.

use std::path::Path;
use std::time::Duration;

use super::connect::{self, Connection, Target};
use super::{Exit, Refusal};
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
