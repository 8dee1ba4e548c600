//! A run's part in its window's record: the command line its journal header names, a scratch
//! journal when the embedded mock keeps none (so its reports are rendered as every other
//! run's), and the closing line a process writes before its reports are rendered from the
//! journal.

use std::path::PathBuf;

use super::Exit;
use super::args::RunArgs;
use super::run_config::RunConfig;
use crate::exec::Report;
use crate::exec::history::At;
use crate::exec::journal::{self, Closing, Entry, Journal};
use crate::plan::Plan;
use crate::report::window;

/// Where the window's record is.
pub enum Record {
    /// In the run's journal.
    Kept(PathBuf),
    /// In a scratch journal, removed when the run ends.
    Scratch(tempfile::TempDir),
    /// Nowhere: the reports cover this process only.
    None,
}

impl Record {
    fn path(&self) -> Option<PathBuf> {
        match self {
            Record::Kept(path) => Some(path.clone()),
            Record::Scratch(dir) => Some(dir.path().join("journal.jsonl")),
            Record::None => None,
        }
    }
}

/// The header this process writes in the journal: the plan, the runbook's bytes, the target,
/// and the process itself with its command line (the caller adds the address it reached).
pub fn header(args: &RunArgs, config: &RunConfig) -> journal::Header {
    let plan = &config.plan;
    journal::Header {
        runbook_sha256: Some(config.runbook_sha256.clone()),
        target: Some(config.binding.clone()),
        process: Some(journal::Holder::this_process()),
        command: Some(command_line(args)),
        approved_plan_id: config.approved_plan_id.clone(),
        rehearsal: config.rehearsal.clone(),
        ..journal::Header::of_plan(&plan.plan_id, &plan.runbook.name)
    }
}

/// The command and the flags that say what a process did in the window.
fn command_line(args: &RunArgs) -> String {
    let mut line = String::from("run");
    let mut flag = |on: bool, text: &str| {
        if on {
            line.push(' ');
            line.push_str(text);
        }
    };
    flag(args.resume, "--resume");
    flag(args.retry_failed, "--retry-failed");
    flag(args.retarget, "--retarget");
    flag(args.accept_drift, "--accept-drift");
    flag(args.plan.is_some(), "--plan");
    if let Some(profile) = &args.rehearse {
        line.push_str(&format!(" --rehearse {profile}"));
    }
    if let Some(until) = &args.until {
        line.push_str(&format!(" --until {until}"));
    }
    if let Some((k, n)) = args.shard {
        line.push_str(&format!(" --shard {k}/{n}"));
    }
    line
}

/// A journal in a scratch folder, for a run the embedded mock keeps no journal for; `None`
/// (said) when none can be made: the reports then cover this process only.
pub async fn scratch(
    plan: &Plan,
    header: journal::Header,
    shard: Option<(usize, usize)>,
) -> (Option<Journal>, Record) {
    let made = async {
        let dir = tempfile::Builder::new()
            .prefix("stopbook-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::open(&path, header)
            .await
            .map_err(|e| e.to_string())?;
        journal
            .write_plan(plan, shard)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((journal, dir))
    };
    match made.await {
        Ok((journal, dir)) => (Some(journal), Record::Scratch(dir)),
        Err(e) => {
            say!(
                "warning: cannot keep a scratch journal ({e}): the reports will not show each stop's history"
            );
            (None, Record::None)
        }
    }
}

/// Writes the process's closing line, then (when `render`) renders the window from the
/// journal: `None` when not asked to, or (said) when it cannot be, and the reports cover this
/// process only.
pub async fn close(
    journal: Option<Journal>,
    record: &Record,
    report: &Report,
    exit: Exit,
    files: &super::args::ReportFiles,
) -> Option<Report> {
    let render = super::report::any_asked(files);
    let journal = journal?;
    let closing = Closing {
        at: At::now(),
        exit: exit as i32,
        outcome: report.outcome,
        halted: report.halted.clone(),
        throttled: report.throttled,
        adapted_rate: report.adapted_rate,
    };
    if let Err(e) = journal.write(vec![Entry::Ended(Box::new(closing))]).await {
        say!("warning: {e}: the reports cover this process only");
        return None;
    }
    let path = record.path().filter(|_| render)?;
    match window::render(&[path]) {
        Ok(rendered) => Some(rendered.report),
        Err(e) => {
            say!("warning: {e}: the reports cover this process only");
            None
        }
    }
}
