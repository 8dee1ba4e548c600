//! `stopbook run`, second half: connect to the target (the embedded mock when there is none),
//! run the plan with progress and signals, and write the reports, whatever the outcome.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::Exit;
use super::Refusal;
use super::args::{RunArgs, Verbosity};
use super::confirm;
use super::connect;
use super::run_config::{JournalState, RunConfig, resume_line};
use crate::exec::{self, Report, RunOutcome, journal};
use crate::plan::Plan;
use crate::report::context::{RunContext, TargetInfo};
use crate::report::{self, progress};

/// Runs `stopbook run` and returns its exit code.
pub fn run(args: &RunArgs, verbosity: Verbosity) -> Exit {
    if args.dry_run {
        say!(
            "error: `run` has no --dry-run: the dry run is `stopbook plan {}` (add `--out plan.md` for the change record); nothing was sent",
            args.runbook.display()
        );
        return Exit::Invalid;
    }
    // One runtime for the whole run: the selects' reads before the question, then the stops.
    let runtime = match super::runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    let config = match runtime.block_on(RunConfig::new(args)) {
        Ok(config) => config,
        Err(Refusal { exit, message }) => {
            say!("{message}");
            return exit;
        }
    };
    if verbosity != Verbosity::Quiet {
        for note in config
            .notes
            .iter()
            .cloned()
            .chain(confirm::override_notes(args, &config))
        {
            say!("{note}");
        }
    }
    let journal_path = config.journal.as_ref().map(|j| j.path.as_path());
    let watch = match super::run_live::prepare(&config.plan, args.events.as_deref(), journal_path) {
        Ok(watch) => watch,
        Err(Refusal { exit, message }) => {
            say!("{message}");
            return exit;
        }
    };
    if !confirm::confirmed(args, &config) {
        say!("not confirmed: nothing was sent");
        return Exit::Invalid;
    }
    if verbosity == Verbosity::Verbose {
        say!("{}", details(&config));
    }
    runtime.block_on(run_async(args, config, watch, verbosity))
}

/// What `--verbose` adds before a run: the plan, the effective limits, the journal.
fn details(config: &RunConfig) -> String {
    let rate = config
        .rate
        .map_or_else(|| "no rate ceiling".to_owned(), |r| format!("rate {r}"));
    let journal = config
        .journal
        .as_ref()
        .map_or_else(|| "none".to_owned(), |j| j.path.display().to_string());
    format!(
        "plan_id: {}\nlimits: concurrency {}, {rate}\njournal: {journal}",
        config.plan.plan_id, config.concurrency
    )
}

async fn run_async(
    args: &RunArgs,
    config: RunConfig,
    watch: super::run_live::Watch,
    verbosity: Verbosity,
) -> Exit {
    let mut header = super::window::header(args, &config);
    let mut ctx = report_context(args, &config);
    let RunConfig {
        plan,
        concurrency,
        rate,
        target,
        project_id,
        journal,
        until,
        shard,
        binding,
        ..
    } = config;
    // The journal's lock is held in `held` to the end of the run: no other run takes it up.
    let (held, earlier, journal_age, gates_passed) = match journal {
        Some(j) => (Some(Held::from(&j)), j.earlier, j.age, j.gates_passed),
        None => Default::default(),
    };
    let quiet = verbosity == Verbosity::Quiet;
    announce(quiet, args, &plan, (&earlier, held.as_ref()), &binding);
    let Some(connection) = connected(target, args, concurrency, project_id, quiet).await else {
        return Exit::Invalid;
    };
    header.url = Some(connection.url.clone());
    let Some((journal, record)) = open_journal(held.as_ref(), &plan, header, shard).await else {
        return Exit::Invalid;
    };
    let (journal_handle, (cancel_tx, cancel)) = (journal.clone(), watch::channel(false));
    let (events, received) = mpsc::unbounded_channel();
    let held_path = held.as_ref().map(|h| h.path.clone());
    let kept = (journal.as_ref(), held_path.as_ref());
    let live = super::run_live::start(&plan, watch, kept, cancel_tx.clone(), &events);
    let setup = exec::Setup {
        client: connection.client.clone(),
        concurrency,
        rate,
        journal,
        earlier,
        journal_age,
        until,
        shard,
        cancel,
        events,
        steer: Arc::clone(&live.steer),
        gates_passed,
    };
    let plan = Arc::new(plan);
    let style = progress::Style::choose(args.no_progress || quiet);
    let shown = (style, live.display);
    let fanned = (received, live.fanout);
    let (report, fanout) = supervise(shown, &plan, setup, cancel_tx, fanned).await;
    let missed =
        super::run_live::wind_down(live.serving, fanout, &report, journal_handle.as_ref()).await;
    ctx.target.endpoint.clone_from(&connection.url);
    connection.close().await;
    let exit = exit_of(&report);
    // Under --quiet the journal is named only when a resume may need it.
    let journal_path = held_path.filter(|_| !quiet || report.outcome != RunOutcome::Passed);
    // Rendered from the journal when a report is asked for; the closing lines alone need
    // only this process's counts, which cover every stop of the plan it ran.
    let window = super::window::close(journal_handle, &record, &report, exit, &args.files).await;
    let window = window.as_ref().unwrap_or(&report);
    // The journal's lock (in `held`) is let go only once the reports are written.
    let exit = finish(args, &ctx, window, exit, journal_path.as_ref());
    super::run_live::say_missed(&missed);
    drop(held);
    exit
}

/// What the reports say of the run's context; the endpoint is set once connected.
fn report_context(args: &RunArgs, config: &RunConfig) -> RunContext {
    let plan = &config.plan;
    let target = TargetInfo {
        endpoint: String::new(),
        project_id: config.binding.project_id.clone(),
        auth: config.auth,
    };
    RunContext {
        target,
        shard: args.shard,
        approved_plan_id: config.approved_plan_id.clone(),
        rehearsal: config.rehearsal.clone(),
        ..RunContext::of_plan(
            &plan.plan_id,
            &plan.runbook.name,
            config.runbook_sha256.clone(),
        )
    }
}

/// The connection to the target (the embedded mock started), said on the terminal; `None`
/// (said why) when it cannot be made.
async fn connected(
    target: connect::Target,
    args: &RunArgs,
    concurrency: u32,
    project_id: Option<String>,
    quiet: bool,
) -> Option<connect::Connection> {
    let pool = concurrency as usize;
    match connect::connect(target, args.ca_cert.as_deref(), pool).await {
        Ok(connection) => {
            if !quiet {
                say!("target: {}", connection.describe(project_id.as_deref()));
            }
            Some(connection)
        }
        Err(Refusal { message, .. }) => {
            say!("{message}");
            None
        }
    }
}

/// What a resumed or retargeted run says before it connects.
fn announce(
    quiet: bool,
    args: &RunArgs,
    plan: &Plan,
    (earlier, held): (&HashMap<usize, journal::Earlier>, Option<&Held>),
    binding: &journal::Binding,
) {
    if quiet {
        return;
    }
    if args.resume {
        say!("{}", resume_line(plan, earlier, args.shard));
    }
    if let Some(profile) = &args.rehearse {
        say!(
            "rehearsal: the approved plan {} on the embedded mock seeded from it, fault profile `{profile}`; nothing is sent to the runbook's target",
            plan.plan_id
        );
    }
    if let Some(from) = held.and_then(|h| h.retargeted_from.as_ref()) {
        say!(
            "retarget: the window moves from {from} to {}; every stop in doubt is read there before anything is sent",
            binding.endpoint
        );
    }
}

/// The journal this run holds, from before it was read to the run's end.
struct Held {
    path: PathBuf,
    _lock: Arc<journal::Lock>,
    seen: journal::Seen,
    retargeted_from: Option<String>,
    planned: bool,
}

impl Held {
    fn from(state: &JournalState) -> Self {
        Held {
            path: state.path.clone(),
            _lock: Arc::clone(&state.lock),
            seen: state.seen.clone(),
            retargeted_from: state.retargeted_from.clone(),
            planned: state.planned,
        }
    }

    /// Opens the journal for appending with this process's `header`, refusing it if it is not
    /// as the run read it; its first process writes the plan's stops after the header.
    async fn open(
        &self,
        plan: &Plan,
        header: journal::Header,
        shard: Option<(usize, usize)>,
    ) -> Result<journal::Journal, journal::JournalError> {
        self.seen.unchanged(&self.path)?;
        let header = journal::Header {
            retargeted_from: self.retargeted_from.clone(),
            ..header
        };
        let journal = journal::Journal::open(&self.path, header).await?;
        if !self.planned {
            journal.write_plan(plan, shard).await?;
        }
        Ok(journal)
    }
}

/// The journal this run writes (its own, or a scratch one when it keeps none), and where the
/// window's record is; `None` (said) when the run's journal cannot be opened.
async fn open_journal(
    held: Option<&Held>,
    plan: &Plan,
    header: journal::Header,
    shard: Option<(usize, usize)>,
) -> Option<(Option<journal::Journal>, super::window::Record)> {
    let Some(held) = held else {
        return Some(super::window::scratch(plan, header, shard).await);
    };
    match held.open(plan, header, shard).await {
        Ok(journal) => Some((
            Some(journal),
            super::window::Record::Kept(held.path.clone()),
        )),
        Err(e) => {
            say_not_opened(&e);
            None
        }
    }
}

/// Why the journal could not be opened; nothing was sent (said once: the refusals of a journal
/// in use or changed say it themselves).
fn say_not_opened(e: &journal::JournalError) {
    match e {
        journal::JournalError::InUse { .. } | journal::JournalError::Changed { .. } => {
            say!("error: {e}")
        }
        _ => say!("error: {e}; nothing was sent"),
    }
}

/// Runs the plan with the signal handler and the progress display beside it.
async fn supervise(
    (style, steering): (progress::Style, progress::Steering),
    plan: &Arc<Plan>,
    setup: exec::Setup,
    cancel: watch::Sender<bool>,
    (events, fanout): (mpsc::UnboundedReceiver<exec::Event>, super::fanout::Fanout),
) -> (Report, super::fanout::Fanout) {
    tokio::spawn(async move {
        connect::wait_for_signal().await;
        say!("interrupted: finishing the requests in flight, then writing the journal and reports");
        let _ = cancel.send(true);
    });
    let (to_progress, progress_events) = mpsc::unbounded_channel();
    let (ended, end) = tokio::sync::oneshot::channel();
    let fanned = tokio::spawn(fanout.run(events, to_progress, end));
    let shown = tokio::spawn(progress::show(style, progress_events, steering));
    // On a worker of the runtime, where waking the stops it starts is cheapest.
    let running = tokio::spawn(exec::run(Arc::clone(plan), setup));
    let report = match running.await {
        Ok(report) => report,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    // The run synced its journal before it returned: every line it mirrored is queued.
    let _ = ended.send(());
    let fanout = match fanned.await {
        Ok(fanout) => fanout,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    let _ = shown.await;
    (report, fanout)
}

/// The exit code of the process's run.
fn exit_of(report: &Report) -> Exit {
    match report.outcome {
        _ if report.crashed => Exit::Internal,
        RunOutcome::Passed => Exit::Success,
        RunOutcome::Paused if report.failures().is_empty() => Exit::Success,
        RunOutcome::Failed | RunOutcome::Paused => Exit::Failed,
        RunOutcome::Aborted => Exit::Aborted,
        RunOutcome::Interrupted => Exit::Interrupted,
    }
}

/// The reports of the window (`report`) and the closing lines; `exit` is the run's, made
/// 1 when a report cannot be written.
fn finish(
    args: &RunArgs,
    ctx: &RunContext,
    report: &Report,
    mut exit: Exit,
    journal: Option<&PathBuf>,
) -> Exit {
    if !super::report::write(&args.files, ctx, report) && exit == Exit::Success {
        exit = Exit::Failed;
    }
    say_part!("{}", report::closing(report));
    if let Some(path) = journal {
        say!("journal: {}", path.display());
    }
    exit
}
