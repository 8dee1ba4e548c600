//! `stopbook run`, second half: connect to the target (the embedded mock when there is none),
//! run the plan with progress and signals, and write the reports, whatever the outcome.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::Exit;
use super::args::{RunArgs, Verbosity};
use super::confirm;
use super::connect;
use super::run_config::{RunConfig, resume_line};
use crate::exec::{self, Report, RunOutcome, journal};
use crate::output;
use crate::plan::Plan;
use crate::report::context::{self, AuthKind, RunContext, TargetInfo};
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
    let config = match RunConfig::new(args) {
        Ok(config) => config,
        Err((exit, message)) => {
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
    if !confirm::confirmed(args, &config) {
        say!("not confirmed: nothing was sent");
        return Exit::Invalid;
    }
    if verbosity == Verbosity::Verbose {
        say!("{}", details(&config));
    }
    let runtime = match super::runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    runtime.block_on(run_async(args, config, verbosity))
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

async fn run_async(args: &RunArgs, config: RunConfig, verbosity: Verbosity) -> Exit {
    let RunConfig {
        plan,
        concurrency,
        rate,
        target,
        project_id,
        journal,
        until,
        shard,
        approved_plan_id,
        ..
    } = config;
    let (journal_path, earlier, journal_age) = match journal {
        Some(j) => (Some(j.path), j.earlier, j.age),
        None => (None, Default::default(), Default::default()),
    };
    let quiet = verbosity == Verbosity::Quiet;
    if args.resume && !quiet {
        say!("{}", resume_line(&plan, &earlier, args.shard));
    }
    let pool = concurrency as usize;
    let (auth, project) = target_kind(&target);
    let connection = match connect::connect(target, args.ca_cert.as_deref(), pool).await {
        Ok(connection) => connection,
        Err(message) => {
            say!("{message}");
            return Exit::Invalid;
        }
    };
    if !quiet {
        say!("target: {}", connection.describe(project_id.as_deref()));
    }
    let journal = match &journal_path {
        Some(path) => match journal::Journal::open(path, &plan.plan_id, &plan.runbook.name).await {
            Ok(journal) => Some(journal),
            Err(e) => {
                say!("error: {e}; nothing was sent");
                return Exit::Invalid;
            }
        },
        None => None,
    };
    let (cancel_tx, cancel) = watch::channel(false);
    let (events, received) = mpsc::unbounded_channel();
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
    };
    let plan = Arc::new(plan);
    let style = progress::Style::choose(args.no_progress || quiet);
    let report = supervise(style, &plan, setup, cancel_tx, received).await;
    let connection_url = connection.url.clone();
    connection.close().await;
    // Under --quiet the journal is named only when a resume may need it.
    let journal_path = journal_path.filter(|_| !quiet || report.outcome != RunOutcome::Passed);
    let ctx = RunContext {
        runbook: plan.runbook.name.clone(),
        plan_id: plan.plan_id.clone(),
        runbook_sha256: std::fs::read(&args.runbook)
            .map(|b| context::sha256_hex(&b))
            .unwrap_or_default(),
        target: TargetInfo {
            endpoint: connection_url,
            project_id: project,
            auth,
        },
        shard: args.shard,
        approved_plan_id,
    };
    finish(args, &ctx, &report, journal_path.as_ref())
}

/// The kind of credential and the project of `target`, for the reports.
fn target_kind(target: &connect::Target) -> (AuthKind, String) {
    use crate::api::client::Credentials;
    match target {
        connect::Target::Embedded { .. } => (AuthKind::Embedded, connect::EMBEDDED_PROJECT.into()),
        connect::Target::Remote(remote) => {
            let auth = match remote.credentials {
                Credentials::Token(_) => AuthKind::Token,
                Credentials::AkSk { .. } => AuthKind::AkSk,
                Credentials::Iam(_) => AuthKind::IamPassword,
            };
            (auth, remote.project_id.clone())
        }
    }
}

/// Runs the plan with the signal handler and the progress display beside it.
async fn supervise(
    style: progress::Style,
    plan: &Arc<Plan>,
    setup: exec::Setup,
    cancel: watch::Sender<bool>,
    events: mpsc::UnboundedReceiver<exec::Event>,
) -> Report {
    tokio::spawn(async move {
        connect::wait_for_signal().await;
        say!("interrupted: finishing the requests in flight, then writing the journal and reports");
        let _ = cancel.send(true);
    });
    let shown = tokio::spawn(progress::show(style, events));
    // On a worker of the runtime, where waking the stops it starts is cheapest.
    let running = tokio::spawn(exec::run(Arc::clone(plan), setup));
    let report = match running.await {
        Ok(report) => report,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    let _ = shown.await;
    report
}

/// The exit code, the reports, and the closing lines.
fn finish(args: &RunArgs, ctx: &RunContext, report: &Report, journal: Option<&PathBuf>) -> Exit {
    let mut exit = match report.outcome {
        _ if report.crashed => Exit::Internal,
        RunOutcome::Passed => Exit::Success,
        RunOutcome::Paused if report.failures().is_empty() => Exit::Success,
        RunOutcome::Failed | RunOutcome::Paused => Exit::Failed,
        RunOutcome::Aborted => Exit::Aborted,
        RunOutcome::Interrupted => Exit::Interrupted,
    };
    let writes: [(Option<&PathBuf>, &str); 4] = [
        (args.report_json.as_ref(), "json"),
        (args.report_junit.as_ref(), "junit"),
        (args.report_md.as_ref(), "md"),
        (args.report_html.as_ref(), "html"),
    ];
    for (path, kind) in writes {
        let Some(path) = path else { continue };
        let written = output::write_atomic(path, |out| match kind {
            "json" => report::json::write(out, ctx, report),
            "junit" => report::junit::write(out, ctx, report),
            "html" => report::html::write(out, ctx, report),
            _ => report::markdown::write(out, ctx, report),
        });
        if let Err(e) = written {
            let path = path.display();
            say!("error: cannot write the {kind} report `{path}`: {e}");
            if exit == Exit::Success {
                exit = Exit::Failed;
            }
        }
    }
    if let Some(path) = &args.attest
        && let Err(e) = attest(path, &writes, ctx, report)
    {
        say!(
            "error: cannot write the attestation `{}`: {e}",
            path.display()
        );
        if exit == Exit::Success {
            exit = Exit::Failed;
        }
    }
    say_part!("{}", report::closing(report));
    if let Some(path) = journal {
        say!("journal: {}", path.display());
    }
    exit
}

/// The run's attestation: the plan (its `plan_id` is the sha256 of its canonical JSON) and every
/// report written, one test per stop (a skipped stop is a warned test).
fn attest(
    path: &std::path::Path,
    written: &[(Option<&PathBuf>, &str)],
    ctx: &RunContext,
    report: &Report,
) -> std::io::Result<()> {
    use crate::exec::Outcome;
    use crate::report::attest::{Tests, sha256_hex, write_statement};
    let plan = (
        "plan".to_owned(),
        ctx.plan_id.trim_start_matches("sha256:").to_owned(),
    );
    let mut subjects = vec![plan];
    for file in written.iter().filter_map(|(p, _)| *p) {
        let bytes = std::fs::read(file)?;
        subjects.push((file.display().to_string(), sha256_hex(&bytes)));
    }
    let mut tests = Tests::default();
    for r in &report.results {
        let name = format!("#{} {}", r.seq, r.job);
        match r.outcome {
            Outcome::Passed => tests.passed.push(name),
            Outcome::Failed => tests.failed.push(name),
            Outcome::Skipped => tests.warned.push(name),
        }
    }
    let configuration = serde_json::json!({
        "name": "stopbook run",
        "uri": ctx.target.endpoint,
        "annotations": {
            "stopbook_version": env!("CARGO_PKG_VERSION"),
            "runbook": ctx.runbook,
            "runbook_sha256": ctx.runbook_sha256,
            "plan_id": ctx.plan_id,
        },
    });
    output::write_atomic(path, |out| {
        write_statement(out, &subjects, configuration, &tests)
    })
}
