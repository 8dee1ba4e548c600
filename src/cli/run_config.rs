//! `stopbook run`, first half: from raw flags and the runbook to one validated run
//! configuration, before anything is sent (every refusal here is exit 2).
//!
//! The plan is the reviewed artifact: it is never changed after its `plan_id` was computed.
//! Overrides (`--concurrency`, `--rate`, `--endpoint`) are carried beside it, and the effective
//! limits are worked out once, here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Refusal;
use super::args::RunArgs;
use super::connect::{self, Target};
use super::live::{self, invalid};
use super::{rehearse, report_paths};
use crate::exec::journal::{self, Binding, Lock, Seen};
use crate::exec::{self};
use crate::plan::Plan;
use crate::plan::approve::approve;
use crate::plan::pin;
use crate::report::context::{self, AuthKind};
use crate::runbook::model::Runbook;
use crate::runbook::values::Rate;
use crate::runbook::{self};

/// Everything a run needs, validated.
pub struct RunConfig {
    pub plan: Plan,
    /// Requests in flight at most, and the rate ceiling: the runbook's, or the overrides.
    pub concurrency: u32,
    pub rate: Option<Rate>,
    pub target: Target,
    /// The remote project, for messages (none for the embedded mock).
    pub project_id: Option<String>,
    pub journal: Option<JournalState>,
    /// Stop cleanly after the phase at this index.
    pub until: Option<usize>,
    /// What to tell before the run (an accepted drift).
    pub notes: Vec<String>,
    /// The shard the run takes of the plan: `--shard`, or none when the plan is already the
    /// shard's (an accepted drift, sharded by the approved plan's order).
    pub shard: Option<(usize, usize)>,
    /// The approved plan's `plan_id` when an accepted drift runs another plan.
    pub approved_plan_id: Option<String>,
    /// The sha256 (hex) of the runbook bytes that were parsed.
    pub runbook_sha256: String,
    /// Where the stops go, as the journal's header binds it.
    pub binding: Binding,
    /// The kind of credential, for the reports.
    pub auth: AuthKind,
    /// The fault profile of a rehearsal (`run --rehearse`), when this run is one.
    pub rehearsal: Option<String>,
}

/// The journal a run writes, held from before it was read to the run's end, and what an
/// earlier run of the same plan left in it.
pub struct JournalState {
    pub path: PathBuf,
    pub earlier: HashMap<usize, journal::Earlier>,
    /// How long ago the earlier run last wrote it.
    pub age: Duration,
    /// This run's hold on the journal (shared with whoever keeps it to the run's end).
    pub lock: std::sync::Arc<Lock>,
    /// The journal as it was read: refused if it is otherwise when the run opens it.
    pub seen: Seen,
    /// The endpoint the window moves from (`--retarget`).
    pub retargeted_from: Option<String>,
    /// Whether the journal holds the plan's stops already (an earlier process wrote them).
    pub planned: bool,
    /// Phases whose gate an earlier process let pass.
    pub gates_passed: std::collections::HashSet<String>,
}

impl RunConfig {
    /// Reads, plans (its selects resolved against the target) and checks everything that can
    /// refuse the run before any stop is sent.
    pub async fn new(args: &RunArgs) -> Result<Self, Refusal> {
        let (runbook, source) =
            runbook::load_with_source(&args.runbook).map_err(|d| d.to_string())?;
        let runbook_sha256 = context::sha256_hex(&source);
        report_paths::check(args, args.journal.as_deref())?;
        if args.accept_drift && args.plan.is_none() {
            return Err(invalid("error: --accept-drift goes with --plan FILE: it accepts a difference from an approved plan; nothing was sent".to_owned()));
        }
        // A rehearsal runs the approved plan on a mock seeded from it: nothing is read first.
        let (rehearsal, target, project_id) = rehearsal_or_target(args, &runbook)?;
        let (binding, auth) = binding(&target, args.shard);
        let until = match &args.until {
            Some(name) => Some(phase_index(&runbook, name)?),
            None => None,
        };
        let selects = live::has_select(&runbook);
        // Lock, then read: where the journal is known before planning (a resume of selects
        // reads the jobs its first run pinned beside it), it is taken first. The default
        // journal is named after the plan that runs; a resume of selects finds it by its pin.
        let early = match &args.journal {
            Some(path) => Some(path.clone()),
            None if selects && args.resume && project_id.is_some() => {
                Some(pinned_journal(&runbook, args.shard)?)
            }
            None => None,
        };
        let mut lock = early.as_deref().map(take).transpose()?;
        let (plan, notes, shard, approved_plan_id) = match rehearsal {
            Some(plan) => (plan, Vec::new(), args.shard, None),
            None => approved(args, Self::plan(args, runbook, early.as_deref()).await?)?,
        };
        let journal_path = match (early, &project_id) {
            (Some(path), _) => Some(path),
            (None, Some(_)) => Some(default_journal(&plan.plan_id, args.shard)),
            (None, None) if args.resume || until.is_some() => {
                return Err(invalid("error: the embedded mock keeps no journal unless asked: give --journal FILE to --resume or --until".to_owned()));
            }
            (None, None) => None,
        };
        let journal = match journal_path {
            Some(path) => {
                report_paths::check(args, Some(&path))?;
                let lock = match lock.take() {
                    Some(lock) => lock,
                    None => take(&path)?,
                };
                Some(journal_state(args, &plan, path, lock, &binding)?)
            }
            None if args.retarget => {
                return Err(invalid("error: --retarget moves a journal's window to another endpoint: there is no journal here; nothing was sent".to_owned()));
            }
            None => None,
        };
        if let (Some(journal), true, false) = (&journal, selects, args.resume) {
            pin::pin_selection(&journal.path, &plan).map_err(|e| invalid(format!("error: {e}")))?;
        }
        Ok(RunConfig {
            concurrency: args.concurrency.unwrap_or(plan.runbook.limits.concurrency),
            rate: args.rate.or(plan.runbook.limits.rate),
            plan,
            target,
            project_id,
            journal,
            until,
            notes,
            shard,
            approved_plan_id,
            runbook_sha256,
            binding,
            auth,
            rehearsal: args.rehearse.clone(),
        })
    }
}

/// The plan held against `--plan`'s approved one: what runs, the notes to tell, the shard the
/// run takes of it, and the approved plan_id when an accepted drift runs another plan.
type Approval = (Plan, Vec<String>, Option<(usize, usize)>, Option<String>);

fn approved(args: &RunArgs, plan: Plan) -> Result<Approval, Refusal> {
    let Some(file) = &args.plan else {
        return Ok((plan, Vec::new(), args.shard, None));
    };
    let a = approve(&args.runbook, plan, file, args.accept_drift, args.shard)
        .map_err(|e| invalid(format!("error: {e}")))?;
    let shard = args.shard.filter(|_| !a.sharded);
    Ok((a.plan, a.notes, shard, a.approved_id))
}

/// A rehearsal's plan and mock (nothing read first), or the runbook's target with `--endpoint`
/// applied: refusals that need no request come first (a wrong --endpoint is not worth a read).
fn rehearsal_or_target(
    args: &RunArgs,
    runbook: &Runbook,
) -> Result<(Option<Plan>, Target, Option<String>), Refusal> {
    if let (Some(profile), Some(file)) = (&args.rehearse, &args.plan) {
        let r = rehearse::prepare(args, runbook.clone(), file, profile)?;
        return Ok((Some(r.plan), r.target, None));
    }
    let (target, project_id) = live::target(runbook, args.endpoint.as_deref())?;
    Ok((None, target, project_id))
}

/// This run's hold on the journal at `path`, or who else holds it.
fn take(path: &Path) -> Result<Lock, Refusal> {
    Lock::take(path).map_err(|e| match e {
        journal::JournalError::InUse { .. } => invalid(format!("error: {e}")),
        _ => invalid(format!("error: {e}; nothing was sent")),
    })
}

/// The target as the journal binds it, and the kind of credential for the reports.
fn binding(target: &Target, shard: Option<(usize, usize)>) -> (Binding, AuthKind) {
    use crate::api::client::Credentials;
    let (endpoint, project_id, auth) = match target {
        Target::Embedded { .. } => (
            "embedded mock".to_owned(),
            connect::EMBEDDED_PROJECT.to_owned(),
            AuthKind::Embedded,
        ),
        Target::Remote(remote) => {
            let auth = match remote.credentials {
                Credentials::Token(_) => AuthKind::Token,
                Credentials::AkSk { .. } => AuthKind::AkSk,
                Credentials::Iam(_) => AuthKind::IamPassword,
            };
            (remote.base.clone(), remote.project_id.clone(), auth)
        }
    };
    let kind = serde_json::to_value(auth)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let binding = Binding {
        endpoint,
        project_id,
        auth: kind,
        shard: shard.map(|(k, n)| format!("{k}/{n}")),
    };
    (binding, auth)
}

impl RunConfig {
    /// The plan to run: a resumed run of a runbook with selects takes the jobs its first run
    /// found (pinned beside the journal), since the jobs it stopped no longer match; any other
    /// run resolves its selects against the target now.
    async fn plan(
        args: &RunArgs,
        runbook: Runbook,
        journal: Option<&Path>,
    ) -> Result<Plan, Refusal> {
        let pinned = journal
            .filter(|_| live::has_select(&runbook))
            .map(pin::selection_file)
            .filter(|f| args.resume && f.exists());
        if let Some(file) = pinned {
            return pin::pinned_plan(runbook, &file).map_err(|e| invalid(format!("error: {e}")));
        }
        let ca = args.ca_cert.as_deref();
        live::resolved_plan(runbook, args.endpoint.as_deref(), ca).await
    }
}

/// The journal at `path`, read under this run's `lock`: refused without `--resume` when it
/// exists, required with it, and bound to the plan, the project and the endpoint.
fn journal_state(
    args: &RunArgs,
    plan: &Plan,
    path: PathBuf,
    lock: Lock,
    binding: &Binding,
) -> Result<JournalState, Refusal> {
    let seen = Seen::of(&path);
    let mut state = JournalState {
        earlier: HashMap::new(),
        age: Duration::ZERO,
        lock: std::sync::Arc::new(lock),
        seen,
        retargeted_from: None,
        planned: false,
        gates_passed: Default::default(),
        path,
    };
    let path = &state.path;
    match (path.exists(), args.resume) {
        (true, false) => Err(invalid(format!(
            "error: the journal `{}` already exists: resume that run with --resume, or move the journal away to start over",
            path.display()
        ))),
        (true, true) => {
            let window = journal::read(path, &plan.plan_id).map_err(|e| format!("error: {e}"))?;
            if !window.headed {
                return Err(invalid(format!(
                    "error: the journal `{}` holds no run header (it is empty, or not a stopbook journal): nothing in it says what was sent, so it cannot be resumed; nothing was sent\n  = if no run sent anything with it, move it away and run without --resume",
                    path.display()
                )));
            }
            state.retargeted_from =
                journal::check_binding(path, window.binding.as_ref(), binding, args.retarget)
                    .map_err(|e| format!("error: {e}"))?;
            state.earlier = window.earlier;
            state.planned = window.planned;
            state.gates_passed = window.gates_passed;
            if args.retry_failed {
                journal::retry_failed(&mut state.earlier);
            }
            if state.retargeted_from.is_some() {
                journal::retarget(&mut state.earlier);
            }
            state.age = journal::age(path);
            Ok(state)
        }
        (false, true) => Err(invalid(format!(
            "error: --resume: there is no journal at `{}`; nothing was sent\n  = give the journal of the run to resume with --journal FILE, or leave out --resume to start a new run",
            path.display()
        ))),
        (false, false) if args.retarget => Err(invalid(format!(
            "error: --retarget: there is no journal at `{}` to move; nothing was sent",
            path.display()
        ))),
        (false, false) => Ok(state),
    }
}

/// The index of the phase `--until` names.
fn phase_index(runbook: &Runbook, name: &str) -> Result<usize, Refusal> {
    runbook
        .phases
        .iter()
        .position(|p| p.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = runbook.phases.iter().map(|p| p.name.as_str()).collect();
            invalid(format!(
                "error: --until `{name}`: the runbook has no such phase; its phases are: {}",
                names.join(", ")
            ))
        })
}

/// The line a resumed run opens with: what the journal holds for this run's stops.
pub fn resume_line(
    plan: &Plan,
    earlier: &HashMap<usize, journal::Earlier>,
    shard: Option<(usize, usize)>,
) -> String {
    use journal::Earlier;
    let (mut done, mut waiting, mut check) = (0, 0, 0);
    let total = (1..=plan.runbook.stop_count())
        .filter(|s| exec::in_shard(*s, shard))
        .count();
    for (_, e) in earlier.iter().filter(|(s, _)| exec::in_shard(**s, shard)) {
        match e {
            Earlier::Done(_) => done += 1,
            Earlier::Accepted(_) => waiting += 1,
            Earlier::MaybeSent | Earlier::Retry => check += 1,
        }
    }
    let left = total - done - waiting;
    format!(
        "resuming: {done} of {total} stops done, {waiting} accepted to wait for, {left} left ({check} of them may have been sent: their status is read first)"
    )
}

/// The default journal a resume of a runbook with selects goes on with: the one whose pinned
/// plan (beside it) the runbook still plans to, with the pinned jobs, to the plan_id it is named
/// after. Its name cannot be computed before: the first run's selects found those jobs.
fn pinned_journal(runbook: &Runbook, shard: Option<(usize, usize)>) -> Result<PathBuf, Refusal> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(DEFAULT_DIR)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            let pin = pin::selection_file(path);
            pin.exists()
                && pin::pinned_plan(runbook.clone(), &pin)
                    .is_ok_and(|p| default_journal(&p.plan_id, shard) == *path)
        })
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(invalid(format!(
            "error: --resume: no journal in {DEFAULT_DIR}/ holds a run of this runbook as it is now (a run of selects pins the jobs it found beside its journal); give --journal FILE; nothing was sent"
        ))),
        _ => {
            found.sort();
            let names: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
            Err(invalid(format!(
                "error: --resume: several journals in {DEFAULT_DIR}/ hold runs of this runbook: {}; give --journal FILE; nothing was sent",
                names.join(", ")
            )))
        }
    }
}

/// Where default journals are kept, under the folder the command runs in.
const DEFAULT_DIR: &str = ".stopbook";

fn default_journal(plan_id: &str, shard: Option<(usize, usize)>) -> PathBuf {
    let id = plan_id.trim_start_matches("sha256:");
    let shard = shard
        .map(|(k, n)| format!("-shard-{k}-of-{n}"))
        .unwrap_or_default();
    PathBuf::from(DEFAULT_DIR).join(format!("journal-{}{shard}.jsonl", &id[..16.min(id.len())]))
}
