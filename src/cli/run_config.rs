//! `stopbook run`, first half: from raw flags and the runbook to one validated run
//! configuration, before anything is sent (every refusal here is exit 2).
//!
//! The plan is the reviewed artifact: it is never changed after its `plan_id` was computed.
//! Overrides (`--concurrency`, `--rate`, `--endpoint`) are carried beside it, and the effective
//! limits are worked out once, here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::RunArgs;
use super::connect::Target;
use super::live::{self, Refusal, invalid};
use crate::exec::{self, journal};
use crate::plan::Plan;
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
}

/// The journal a run writes, and what an earlier run of the same plan left in it.
pub struct JournalState {
    pub path: PathBuf,
    pub earlier: HashMap<usize, journal::Earlier>,
    /// How long ago the earlier run last wrote it.
    pub age: Duration,
}

impl RunConfig {
    /// Reads, plans (its selects resolved against the target) and checks everything that can
    /// refuse the run before any stop is sent.
    pub fn new(args: &RunArgs) -> Result<Self, Refusal> {
        Self::checked(args).map_err(invalid)?
    }

    fn checked(args: &RunArgs) -> Result<Result<Self, Refusal>, String> {
        let runbook = runbook::load(&args.runbook).map_err(|d| d.to_string())?;
        check_report_paths(args)?;
        if args.accept_drift && args.plan.is_none() {
            return Err("error: --accept-drift goes with --plan FILE: it accepts a difference from an approved plan; nothing was sent".to_owned());
        }
        // Refusals that need no request come first (a wrong --endpoint is not worth a read).
        let (target, project_id) = live::target(&runbook, args.endpoint.as_deref())?;
        let until = match &args.until {
            Some(name) => Some(phase_index(&runbook, name)?),
            None => None,
        };
        let selects = live::has_select(&runbook);
        // A runbook with selects names its default journal after the runbook as written: the
        // plan it resolves to is known only after reading live state.
        let key = selects.then(|| Plan::new(runbook.clone()).plan_id);
        let plan = match Self::plan(args, runbook, key.as_deref(), project_id.is_some())? {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let (plan, notes, shard, approved_plan_id) = match &args.plan {
            Some(file) => {
                let a = live::approve(&args.runbook, plan, file, args.accept_drift, args.shard)?;
                let shard = args.shard.filter(|_| !a.sharded);
                (a.plan, a.notes, shard, a.approved_id)
            }
            None => (plan, Vec::new(), args.shard, None),
        };
        let journal_path = match (&args.journal, &project_id) {
            (Some(path), _) => Some(path.clone()),
            (None, Some(_)) => Some(default_journal(
                key.as_ref().unwrap_or(&plan.plan_id),
                args.shard,
            )),
            (None, None) if args.resume || until.is_some() => {
                return Err("error: the embedded mock keeps no journal unless asked: give --journal FILE to --resume or --until".to_owned());
            }
            (None, None) => None,
        };
        let journal = match journal_path {
            Some(path) => Some(journal_state(args, &plan, path)?),
            None => None,
        };
        if let (Some(journal), true, false) = (&journal, selects, args.resume) {
            live::pin_selection(&journal.path, &plan)?;
        }
        Ok(Ok(RunConfig {
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
        }))
    }
}

impl RunConfig {
    /// The plan to run: a resumed run of a runbook with selects takes the jobs its first run
    /// found (pinned beside the journal), since the jobs it stopped no longer match; any other
    /// run resolves its selects against the target now.
    fn plan(
        args: &RunArgs,
        runbook: Runbook,
        key: Option<&str>,
        remote: bool,
    ) -> Result<Result<Plan, Refusal>, String> {
        let journal = match (&args.journal, key) {
            (Some(path), Some(_)) => Some(path.clone()),
            (None, Some(key)) if remote => Some(default_journal(key, args.shard)),
            _ => None,
        };
        let pinned = journal
            .map(|j| live::selection_file(&j))
            .filter(|f| args.resume && f.exists());
        if let Some(file) = pinned {
            return live::pinned_plan(runbook, &file).map(Ok);
        }
        let ca = args.ca_cert.as_deref();
        Ok(live::resolved_plan(runbook, args.endpoint.as_deref(), ca))
    }
}

/// Each report's folder takes a file now, so a typo in a path is found before anything is sent
/// rather than after the whole run.
fn check_report_paths(args: &RunArgs) -> Result<(), String> {
    let paths = [
        &args.report_json,
        &args.report_junit,
        &args.report_md,
        &args.report_html,
    ];
    for path in paths.into_iter().flatten() {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Err(e) = tempfile::NamedTempFile::new_in(dir) {
            return Err(format!(
                "error: cannot write the report `{}`: {e}; nothing was sent",
                path.display()
            ));
        }
    }
    Ok(())
}

/// The journal at `path`: refused without `--resume` when it exists, required with it.
fn journal_state(args: &RunArgs, plan: &Plan, path: PathBuf) -> Result<JournalState, String> {
    match (path.exists(), args.resume) {
        (true, false) => Err(format!(
            "error: the journal `{}` already exists: resume that run with --resume, or move the journal away to start over",
            path.display()
        )),
        (true, true) => {
            let mut earlier =
                journal::read(&path, &plan.plan_id).map_err(|e| format!("error: {e}"))?;
            if args.retry_failed {
                journal::retry_failed(&mut earlier);
            }
            let age = journal::age(&path);
            Ok(JournalState { path, earlier, age })
        }
        (false, true) => Err(format!(
            "error: --resume: there is no journal at `{}`; nothing was sent\n  = give the journal of the run to resume with --journal FILE, or leave out --resume to start a new run",
            path.display()
        )),
        (false, false) => Ok(JournalState {
            path,
            earlier: HashMap::new(),
            age: Duration::ZERO,
        }),
    }
}

/// The index of the phase `--until` names.
fn phase_index(runbook: &Runbook, name: &str) -> Result<usize, String> {
    runbook
        .phases
        .iter()
        .position(|p| p.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = runbook.phases.iter().map(|p| p.name.as_str()).collect();
            format!(
                "error: --until `{name}`: the runbook has no such phase; its phases are: {}",
                names.join(", ")
            )
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

fn default_journal(plan_id: &str, shard: Option<(usize, usize)>) -> PathBuf {
    let id = plan_id.trim_start_matches("sha256:");
    let shard = shard
        .map(|(k, n)| format!("-shard-{k}-of-{n}"))
        .unwrap_or_default();
    PathBuf::from(".stopbook").join(format!("journal-{}{shard}.jsonl", &id[..16.min(id.len())]))
}
