//! `stopbook run`: plan the runbook, check it against `--plan`, connect to the target (the
//! embedded mock when there is none), run, and write the reports, whatever the outcome.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Exit;
use super::args::RunArgs;
use crate::api::client::{Client, Credentials};
use crate::exec::{self, RunOutcome, journal};
use crate::mock::{self, JobSpec, MockConfig};
use crate::output;
use crate::plan::Plan;
use crate::report::{self, progress};
use crate::runbook::model::{Expectation, RemoteTarget, Runbook, Target};
use crate::runbook::{self};
use crate::secret::Secret;

/// How long an accepted stop takes in the embedded mock (a force stop: a quarter of it).
const EMBEDDED_STOP_DELAY: Duration = Duration::from_secs(1);

pub fn run(args: &RunArgs) -> Exit {
    match prepare(args) {
        Ok(prepared) => execute(args, prepared),
        Err(message) => {
            eprintln!("{message}");
            Exit::Invalid
        }
    }
}

struct Prepared {
    plan: Plan,
    target: Resolved,
    journal_path: Option<PathBuf>,
    earlier: std::collections::HashMap<usize, journal::Earlier>,
    journal_age: Duration,
    concurrency: u32,
    until: Option<usize>,
}

enum Resolved {
    Embedded,
    Remote {
        base: String,
        project_id: String,
        credentials: Credentials,
        language: Option<crate::runbook::values::Language>,
    },
}

/// Everything that can refuse the run before anything is sent (exit 2).
fn prepare(args: &RunArgs) -> Result<Prepared, String> {
    let runbook = runbook::load(&args.runbook).map_err(|d| d.to_string())?;
    let plan = Plan::new(runbook);
    if let Some(file) = &args.plan {
        let approved = plan_id_in(file)?;
        if approved != plan.plan_id {
            return Err(format!(
                "error: plan drift: `{}` now plans to {}, but `{}` holds {approved}; nothing was sent\n  = review the new plan (`stopbook plan {}`) and approve it again",
                args.runbook.display(),
                plan.plan_id,
                file.display(),
                args.runbook.display()
            ));
        }
    }
    let mut plan = plan;
    let until = match &args.until {
        Some(name) => Some(phase_index(&plan.runbook, name)?),
        None => None,
    };
    let concurrency = args.concurrency.unwrap_or(plan.runbook.limits.concurrency);
    apply_overrides(&mut plan.runbook, args, concurrency);
    let target = resolve_target(&plan.runbook, args)?;
    let journal_path = match (&args.journal, &target) {
        (Some(path), _) => Some(path.clone()),
        (None, Resolved::Remote { .. }) => Some(default_journal(&plan.plan_id, args.shard)),
        (None, Resolved::Embedded) if args.resume || until.is_some() => {
            return Err("error: the embedded mock keeps no journal unless asked: give --journal FILE to --resume or --until".to_owned());
        }
        (None, Resolved::Embedded) => None,
    };
    let (earlier, journal_age) = match &journal_path {
        Some(path) if path.exists() && !args.resume => {
            return Err(format!(
                "error: the journal `{}` already exists: resume that run with --resume, or move the journal away to start over",
                path.display()
            ));
        }
        Some(path) if path.exists() => {
            let mut earlier =
                journal::read(path, &plan.plan_id).map_err(|e| format!("error: {e}"))?;
            if args.retry_failed {
                journal::retry_failed(&mut earlier);
            }
            (earlier, journal::age(path))
        }
        Some(path) if args.resume => {
            return Err(format!(
                "error: --resume: there is no journal at `{}`; nothing was sent\n  = give the journal of the run to resume with --journal FILE, or leave out --resume to start a new run",
                path.display()
            ));
        }
        _ => Default::default(),
    };
    Ok(Prepared {
        plan,
        target,
        journal_path,
        earlier,
        journal_age,
        concurrency,
        until,
    })
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
fn resume_line(
    plan: &Plan,
    earlier: &std::collections::HashMap<usize, journal::Earlier>,
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
            Earlier::MaybeSent => check += 1,
        }
    }
    let left = total - done - waiting;
    format!(
        "resuming: {done} of {total} stops done, {waiting} accepted to wait for, {left} left ({check} of them may have been sent: their status is read first)"
    )
}

/// The plan_id a plan file holds, JSON or Markdown.
fn plan_id_in(file: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("error: cannot read the plan `{}`: {e}", file.display()))?;
    let start = text
        .find("sha256:")
        .ok_or_else(|| format!("error: `{}` holds no plan_id", file.display()))?;
    let id: String = text[start..].chars().take(7 + 64).collect();
    if id.len() == 71 && id[7..].bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(format!(
            "error: `{}` holds a malformed plan_id",
            file.display()
        ))
    }
}

fn apply_overrides(runbook: &mut Runbook, args: &RunArgs, concurrency: u32) {
    runbook.limits.concurrency = concurrency;
    for phase in &mut runbook.phases {
        phase.concurrency = phase.concurrency.min(concurrency);
    }
    if let Some(rate) = args.rate {
        runbook.limits.rate = Some(rate);
    }
}

fn resolve_target(runbook: &Runbook, args: &RunArgs) -> Result<Resolved, String> {
    let remote: &RemoteTarget = match &runbook.target {
        Target::EmbeddedMock if args.endpoint.is_some() => {
            return Err(
                "error: --endpoint needs a `target` in the runbook, for its project_id and auth"
                    .to_owned(),
            );
        }
        Target::EmbeddedMock => return Ok(Resolved::Embedded),
        Target::Remote(remote) => remote,
    };
    let remote = super::target::remote(remote, args.endpoint.as_deref())?;
    Ok(Resolved::Remote {
        base: remote.base,
        project_id: remote.project_id,
        credentials: remote.credentials,
        language: remote.language,
    })
}

fn default_journal(plan_id: &str, shard: Option<(usize, usize)>) -> PathBuf {
    let id = plan_id.trim_start_matches("sha256:");
    let shard = shard
        .map(|(k, n)| format!("-shard-{k}-of-{n}"))
        .unwrap_or_default();
    PathBuf::from(".stopbook").join(format!("journal-{}{shard}.jsonl", &id[..16.min(id.len())]))
}

fn execute(args: &RunArgs, prepared: Prepared) -> Exit {
    let runtime = match super::runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    runtime.block_on(run_async(args, prepared))
}

async fn run_async(args: &RunArgs, prepared: Prepared) -> Exit {
    let Prepared {
        plan,
        target,
        journal_path,
        earlier,
        journal_age,
        concurrency,
        until,
    } = prepared;
    if args.resume {
        eprintln!("{}", resume_line(&plan, &earlier, args.shard));
    }
    let (mock_server, client) = match connect(&plan, target, args, concurrency).await {
        Ok(pair) => pair,
        Err(message) => {
            eprintln!("{message}");
            return Exit::Invalid;
        }
    };
    let journal = match &journal_path {
        Some(path) => match journal::Journal::open(path, &plan.plan_id, &plan.runbook.name).await {
            Ok(journal) => Some(journal),
            Err(e) => {
                eprintln!("error: {e}; nothing was sent");
                return Exit::Invalid;
            }
        },
        None => None,
    };

    let (cancel_tx, cancel) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        eprintln!(
            "interrupted: finishing the requests in flight, then writing the journal and reports"
        );
        let _ = cancel_tx.send(true);
    });
    let (events, received) = mpsc::unbounded_channel();
    let shown = tokio::spawn(progress::show(
        progress::Style::choose(args.no_progress),
        received,
    ));

    let setup = exec::Setup {
        client,
        concurrency,
        rate: plan.runbook.limits.rate,
        journal,
        earlier,
        journal_age,
        until,
        shard: args.shard,
        cancel,
        events,
    };
    // On a worker of the runtime, where waking the stops it starts is cheapest.
    let plan = std::sync::Arc::new(plan);
    let running = tokio::spawn(exec::run(std::sync::Arc::clone(&plan), setup));
    let report = match running.await {
        Ok(report) => report,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    let _ = shown.await;
    if let Some(server) = mock_server {
        server.shutdown().await;
    }

    let mut exit = match report.outcome {
        _ if report.crashed => Exit::Internal,
        RunOutcome::Passed => Exit::Success,
        RunOutcome::Paused if report.failures().is_empty() => Exit::Success,
        RunOutcome::Failed | RunOutcome::Paused => Exit::Failed,
        RunOutcome::Aborted => Exit::Aborted,
        RunOutcome::Interrupted => Exit::Interrupted,
    };
    let name = plan.runbook.name.as_str();
    let writes: [(Option<&PathBuf>, &str); 3] = [
        (args.report_json.as_ref(), "json"),
        (args.report_junit.as_ref(), "junit"),
        (args.report_md.as_ref(), "md"),
    ];
    for (path, kind) in writes {
        let Some(path) = path else { continue };
        let written = output::write_atomic(path, |out| match kind {
            "json" => report::json::write(out, name, &plan.plan_id, args.shard, &report),
            "junit" => report::junit::write(out, name, &report),
            _ => report::markdown::write(out, name, &plan.plan_id, &report),
        });
        if let Err(e) = written {
            eprintln!(
                "error: cannot write the {kind} report `{}`: {e}",
                path.display()
            );
            if exit == Exit::Success {
                exit = Exit::Failed;
            }
        }
    }
    eprint!("{}", report::closing(&report));
    if let Some(path) = &journal_path {
        eprintln!("journal: {}", path.display());
    }
    exit
}

async fn connect(
    plan: &Plan,
    target: Resolved,
    args: &RunArgs,
    concurrency: u32,
) -> Result<(Option<mock::MockServer>, Client), String> {
    let roots = match &args.ca_cert {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| format!("error: cannot read --ca-cert `{}`: {e}", path.display()))?,
        ),
        None => None,
    };
    match target {
        Resolved::Embedded => {
            let token = Secret::new(format!("embedded-{}", fastrand::u64(..)));
            let config = MockConfig {
                jobs: embedded_jobs(&plan.runbook),
                token: Some(token.clone()),
                stop_delay: EMBEDDED_STOP_DELAY,
                ..MockConfig::default()
            };
            let server = mock::start_embedded(config)
                .await
                .map_err(|e| format!("error: cannot start the embedded mock: {e}"))?;
            eprintln!("target: the embedded mock at {}", server.url());
            let client = Client::new(
                &server.url(),
                EMBEDDED_PROJECT,
                Credentials::Token(token),
                None,
                concurrency as usize,
                roots.as_deref(),
            )?;
            Ok((Some(server), client))
        }
        Resolved::Remote {
            base,
            project_id,
            credentials,
            language,
        } => {
            eprintln!("target: {base} (project {project_id})");
            let client = Client::new(
                &base,
                &project_id,
                credentials,
                language,
                concurrency as usize,
                roots.as_deref(),
            )?;
            Ok((None, client))
        }
    }
}

/// The project the embedded mock is addressed with (any 32-hex ID would do).
const EMBEDDED_PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";

/// The runbook's jobs as running tasks, except those the runbook expects not to exist.
fn embedded_jobs(runbook: &Runbook) -> Vec<JobSpec> {
    runbook
        .stops()
        .enumerate()
        .filter(|(_, (_, stop))| {
            !matches!(&stop.settings.effective_expect(), Expectation::Answer { error_code: Some(code), .. } if code == "DRS.10000010")
        })
        .map(|(i, (_, stop))| JobSpec {
            id: stop.job.to_string(),
            name: format!("DRS-{}", 1000 + i),
            status: "INCRE_TRANSFER_STARTED".to_owned(),
            job_type: "sync".to_owned(),
        })
        .collect()
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
