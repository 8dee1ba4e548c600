//! The window rendered from its journals alone: every report of a window (a run's own at its
//! end, and `stopbook report` later, offline) is this one rendering, so a report after a
//! resume covers the canary, the interrupt and every process, and shards of one plan merge
//! into one window. Nothing here calls anything: it reads files.

mod fold;
mod results;

use std::path::PathBuf;

use super::context::{AuthKind, RunContext, TargetInfo, parse_shard};
use crate::exec::history::WindowRecord;
use crate::exec::journal::JournalError;
use crate::exec::{Report, RunOutcome};
use fold::Folded;

/// Why a window could not be rendered; each names the journal.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// A journal cannot be read.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A journal holds no process's header.
    #[error("the journal `{0}` holds no run header: it is empty, or not a stopbook journal")]
    Headless(String),
    /// A journal holds no plan.
    #[error(
        "the journal `{0}` holds no plan: it was written by a stopbook older than the window record (0.4), so its window cannot be rendered from it alone"
    )]
    Planless(String),
    /// Journals of different plans.
    #[error(
        "the journals `{first}` ({first_plan}) and `{other}` ({other_plan}) belong to different plans: a report covers one plan's window"
    )]
    OtherPlans {
        /// The first journal.
        first: String,
        /// Its plan.
        first_plan: String,
        /// The journal of another plan.
        other: String,
        /// That plan.
        other_plan: String,
    },
    /// Journals that are not every shard of one split of the plan.
    #[error(
        "the journals are not the shards of one window, each once and all of them ({0}); a report of part of a window would read as the whole"
    )]
    Shards(String),
    /// Two journals hold the same stop.
    #[error(
        "the journals `{first}` and `{other}` both hold stop #{seq}: they are not shards of one window (give each journal once)"
    )]
    Overlap {
        /// The first journal.
        first: String,
        /// The other.
        other: String,
        /// The stop both hold.
        seq: usize,
    },
}

impl WindowError {
    fn shards(journals: &[(String, Option<String>)], why: &str) -> WindowError {
        let named: Vec<String> = journals
            .iter()
            .map(|(path, shard)| {
                format!(
                    "`{path}` ({})",
                    shard.as_deref().unwrap_or("the whole plan")
                )
            })
            .collect();
        WindowError::Shards(format!("{why}: {}", named.join(", ")))
    }
}

/// A window ready to be written in any format.
pub struct Rendered {
    /// Who, what and where, as the journals' headers say.
    pub ctx: RunContext,
    /// The window's results, timings and processes.
    pub report: Report,
}

/// Renders the window of the journals at `paths` (one, or the shards of one plan).
pub fn render(paths: &[PathBuf]) -> Result<Rendered, WindowError> {
    let mut folds: Vec<(String, Folded)> = Vec::with_capacity(paths.len());
    for path in paths {
        let shown = path.display().to_string();
        let folded = fold::fold(path)?;
        if folded.workers.is_empty() {
            return Err(WindowError::Headless(shown));
        }
        if folded.stops.is_empty() {
            return Err(WindowError::Planless(shown));
        }
        check_joins(&folds, &shown, &folded)?;
        folds.push((shown, folded));
    }
    check_shards(&folds)?;
    Ok(assemble(folds))
}

/// A journal joins the window of those before it only when it is of the same plan and holds
/// none of their stops.
fn check_joins(
    folds: &[(String, Folded)],
    shown: &str,
    folded: &Folded,
) -> Result<(), WindowError> {
    for (first, other) in folds {
        if other.plan_id != folded.plan_id {
            return Err(WindowError::OtherPlans {
                first: first.clone(),
                first_plan: other.plan_id.clone(),
                other: shown.to_owned(),
                other_plan: folded.plan_id.clone(),
            });
        }
        if let Some(seq) = folded.stops.keys().find(|s| other.stops.contains_key(s)) {
            return Err(WindowError::Overlap {
                first: first.clone(),
                other: shown.to_owned(),
                seq: *seq,
            });
        }
    }
    Ok(())
}

/// Several journals make a window only as every shard of one `--shard K/N` split, each once.
fn check_shards(folds: &[(String, Folded)]) -> Result<(), WindowError> {
    if folds.len() < 2 {
        return Ok(());
    }
    let shards: Vec<(String, Option<String>)> = folds
        .iter()
        .map(|(path, f)| {
            (
                path.clone(),
                f.binding.as_ref().and_then(|b| b.shard.clone()),
            )
        })
        .collect();
    let parsed: Option<Vec<(usize, usize)>> = shards
        .iter()
        .map(|(_, s)| s.as_deref().and_then(parse_shard))
        .collect();
    let Some(mut parsed) = parsed else {
        return Err(WindowError::shards(
            &shards,
            "a journal of the whole plan joins no shard",
        ));
    };
    let n = parsed[0].1;
    if parsed.iter().any(|(_, m)| *m != n) {
        return Err(WindowError::shards(&shards, "shards of different splits"));
    }
    parsed.sort_unstable();
    parsed.dedup();
    if parsed.len() != n {
        let missing: Vec<String> = (1..=n)
            .filter(|k| !parsed.iter().any(|(j, _)| j == k))
            .map(|k| format!("{k}/{n}"))
            .collect();
        let why = format!("shards {} are missing", missing.join(", "));
        return Err(WindowError::shards(&shards, &why));
    }
    Ok(())
}

/// The report of the folded journals: their stops in plan order, their processes in the order
/// they began, the window from the first start to the last end.
fn assemble(folds: Vec<(String, Folded)>) -> Rendered {
    let started = folds
        .iter()
        .filter_map(|(_, f)| f.workers.first().map(|w| w.process.started_at))
        .min()
        .unwrap_or_default();
    let finished = folds
        .iter()
        .map(|(_, f)| f.last_at)
        .max()
        .unwrap_or(started);
    let outcome = folds
        .iter()
        .map(|(_, f)| window_outcome(f))
        .max_by_key(|(o, _)| rank(*o))
        .unwrap_or((RunOutcome::Passed, None));
    let ctx = context(&folds);
    let mut report = Report {
        outcome: outcome.0,
        crashed: false,
        throttled: 0,
        adapted_rate: None,
        results: Vec::new(),
        timings: Vec::new(),
        halted: outcome.1,
        started_at: started.time(),
        finished_at: finished.time(),
        window: None,
    };
    let mut processes = Vec::new();
    let (mut steering, mut undelivered) = (Vec::new(), Vec::new());
    for (_, folded) in folds {
        steering.extend(folded.steering);
        undelivered.extend(folded.undelivered);
        for worker in &folded.workers {
            if let Some(c) = &worker.closing {
                report.throttled += c.throttled;
                report.adapted_rate = c.adapted_rate.or(report.adapted_rate);
            }
        }
        results::extend(&mut report, folded.stops, &folded.workers, started);
        processes.extend(folded.workers.into_iter().map(|w| w.process));
    }
    report.results.sort_unstable_by_key(|r| r.seq);
    report.timings.sort_unstable_by_key(|t| t.seq);
    processes.sort_by_key(|p| p.started_at);
    report.window = Some(WindowRecord {
        started_at: started,
        finished_at: finished,
        processes,
        steering,
        undelivered,
    });
    Rendered { ctx, report }
}

/// What a journal's window came to: its last process's word, or interrupted when it left none.
fn window_outcome(folded: &Folded) -> (RunOutcome, Option<String>) {
    let Some(last) = folded.workers.last() else {
        return (RunOutcome::Interrupted, None);
    };
    match &last.closing {
        Some(c) => (c.outcome, c.halted.clone()),
        None => (
            RunOutcome::Interrupted,
            Some(format!(
                "the last process ({}) ended without a word (killed, or the machine stopped): `--resume` goes on",
                who(&last.process)
            )),
        ),
    }
}

fn who(p: &crate::exec::history::Process) -> String {
    match p.pid {
        Some(pid) => format!("pid {pid} on {}", p.host),
        None => format!("on {}", p.host),
    }
}

/// The window's outcome is its worst journal's.
fn rank(outcome: RunOutcome) -> u8 {
    match outcome {
        RunOutcome::Passed => 0,
        RunOutcome::Failed => 1,
        RunOutcome::Paused => 2,
        RunOutcome::Interrupted => 3,
        RunOutcome::Aborted => 4,
    }
}

/// The context of the window, from its latest headers.
fn context(folds: &[(String, Folded)]) -> RunContext {
    let last = &folds[folds.len() - 1].1;
    let binding = folds.iter().rev().find_map(|(_, f)| f.binding.clone());
    let shard = match folds {
        [(_, only)] => only
            .binding
            .as_ref()
            .and_then(|b| b.shard.as_deref())
            .and_then(parse_shard),
        _ => None,
    };
    let mut ctx = RunContext::of_plan(
        &last.plan_id,
        &last.runbook,
        last.runbook_sha256.clone().unwrap_or_default(),
    );
    if let Some(b) = binding {
        ctx.target = TargetInfo {
            auth: serde_json::from_value(serde_json::Value::String(b.auth.clone()))
                .unwrap_or(AuthKind::Embedded),
            endpoint: last.url.clone().unwrap_or(b.endpoint),
            project_id: b.project_id,
        };
    }
    ctx.shard = shard;
    ctx.approved_plan_id.clone_from(&last.approved_plan_id);
    ctx.rehearsal.clone_from(&last.rehearsal);
    ctx
}
