//! `stopbook conform` and `stopbook rules`: check an endpoint (the embedded mock by default)
//! against the rule catalogue, and list the catalogue.

use std::time::Duration;

use super::Exit;
use super::args::{ConformArgs, RulesFormat};
use super::connect::{self, Target};
use crate::check::conform::{self, ABNORMAL_NEEDED, Jobs, Outcome, RUNNING_NEEDED, Verdict, Wait};
use crate::check::{fixtures, rules};
use crate::mock::{self, JobSpec};
use crate::output;
use crate::report::conformance;

pub fn list_rules(format: RulesFormat) -> Exit {
    if format == RulesFormat::Json {
        let rules: Vec<serde_json::Value> = rules::CATALOGUE
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "tag": r.tag, "meaning": r.meaning, "reading": r.reading,
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&rules).unwrap_or_default();
        out!("{text}");
        return Exit::Success;
    }
    for rule in rules::CATALOGUE {
        let reading = if rule.reading { " (our reading)" } else { "" };
        out!("{:<28} {:<20} {}{reading}", rule.id, rule.tag, rule.meaning);
    }
    Exit::Success
}

pub fn run(args: &ConformArgs) -> Exit {
    for id in &args.rules {
        if rules::find(id).is_none() {
            let ids: Vec<&str> = rules::CATALOGUE.iter().map(|r| r.id).collect();
            say!(
                "error: unknown rule `{id}`; the rules are: {}",
                ids.join(", ")
            );
            return Exit::Invalid;
        }
    }
    let loaded = match &args.fixtures {
        Some(path) => match fixtures::load(path) {
            Ok(f) => Some(f),
            Err(diagnostics) => {
                say!("{diagnostics}");
                return Exit::Invalid;
            }
        },
        None => None,
    };
    let runtime = match super::runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    runtime.block_on(async {
        let (endpoint, verdicts) = match check(args, loaded).await {
            Ok(done) => done,
            Err(message) => {
                say!("{message}");
                return Exit::Invalid;
            }
        };
        show(&verdicts);
        let mut exit = if verdicts.iter().any(|v| v.outcome == Outcome::Fail) {
            Exit::Failed
        } else {
            Exit::Success
        };
        if let Some(path) = &args.report_json
            && let Err(e) = output::write_atomic(path, |out| {
                conformance::write_json(out, &endpoint, &verdicts)
            })
        {
            say!("error: cannot write `{}`: {e}", path.display());
            exit = Exit::Invalid;
        }
        if let Some(path) = &args.report_junit
            && let Err(e) = output::write_atomic(path, |out| {
                conformance::write_junit(out, &endpoint, &verdicts)
            })
        {
            say!("error: cannot write `{}`: {e}", path.display());
            exit = Exit::Invalid;
        }
        exit
    })
}

/// Runs the suite against the fixtures' endpoint, or an embedded mock of its own.
async fn check(
    args: &ConformArgs,
    loaded: Option<fixtures::Fixtures>,
) -> Result<(String, Vec<Verdict>), String> {
    let selected: Vec<&str> = args.rules.iter().map(String::as_str).collect();
    let (target, jobs, wait) = match loaded {
        Some(f) => {
            let remote = super::target::remote(&f.target, None)?;
            (Target::Remote(remote), f.jobs, f.wait)
        }
        None => {
            let jobs = embedded_jobs();
            let fleet = jobs
                .running
                .iter()
                .map(|id| spec(id, "INCRE_TRANSFER_STARTED"))
                .chain(
                    jobs.abnormal
                        .iter()
                        .map(|id| spec(id, "INCRE_TRANSFER_FAILED")),
                )
                .collect();
            let stop_delay = Duration::from_millis(400);
            let wait = Wait {
                timeout: Duration::from_secs(30),
                poll: Duration::from_millis(100),
            };
            (
                Target::Embedded {
                    jobs: fleet,
                    stop_delay,
                },
                jobs,
                wait,
            )
        }
    };
    let connection = connect::connect(target, args.ca_cert.as_deref(), 4).await?;
    let count = match selected.len() {
        0 => rules::CATALOGUE.len(),
        n => n,
    };
    say!("checking {} ({count} rules)", connection.describe(None));
    let verdicts = conform::run(&connection.client, &jobs, wait, &selected).await;
    let url = connection.url.clone();
    connection.close().await;
    Ok((url, verdicts))
}

fn embedded_jobs() -> Jobs {
    let made = mock::jobs::generate(RUNNING_NEEDED + ABNORMAL_NEEDED, fastrand::u64(..));
    let ids: Vec<_> = made
        .iter()
        .map(|j| j.id.parse().expect("generated IDs are well formed"))
        .collect();
    fixtures::with_missing(Jobs {
        running: ids[..RUNNING_NEEDED].to_vec(),
        abnormal: ids[RUNNING_NEEDED..].to_vec(),
        missing: Vec::new(),
    })
}

fn spec(id: &crate::drs::JobId, status: &str) -> JobSpec {
    JobSpec {
        id: id.to_string(),
        name: format!("DRS-{}", &id.as_str()[..4]),
        status: status.to_owned(),
        job_type: "sync".to_owned(),
    }
}

/// One line a rule, failures with their evidence, then the counts.
fn show(verdicts: &[Verdict]) {
    for v in verdicts {
        let word = match v.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "skip",
        };
        out!("{word} {:<28} {:<20} {}", v.id, v.tag, v.detail);
        if v.outcome == Outcome::Fail {
            if let Some(request) = &v.request {
                out!("       request: {request}");
            }
            if let Some(answer) = &v.answer {
                out!("       answer:  {answer}");
            }
        }
    }
    let count = |o: Outcome| verdicts.iter().filter(|v| v.outcome == o).count();
    let n = verdicts.len();
    out!(
        "{n} rule{}: {} passed, {} failed, {} skipped",
        if n == 1 { "" } else { "s" },
        count(Outcome::Pass),
        count(Outcome::Fail),
        count(Outcome::Skip)
    );
}
