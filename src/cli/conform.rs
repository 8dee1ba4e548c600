//! `stopbook conform` and `stopbook rules`: check an endpoint (the embedded mock by default)
//! against the rule catalogue, and list the catalogue.

use std::time::Duration;

use super::Exit;
use super::args::ConformArgs;
use crate::api::client::{Client, Credentials};
use crate::check::conform::{self, ABNORMAL_NEEDED, Jobs, Outcome, RUNNING_NEEDED, Verdict, Wait};
use crate::check::{fixtures, rules};
use crate::mock::{self, JobSpec, MockConfig};
use crate::output;
use crate::report::conformance;
use crate::secret::Secret;

pub fn list_rules() -> Exit {
    for rule in rules::CATALOGUE {
        let reading = if rule.reading { " (our reading)" } else { "" };
        println!("{:<28} {:<20} {}{reading}", rule.id, rule.tag, rule.meaning);
    }
    Exit::Success
}

pub fn run(args: &ConformArgs) -> Exit {
    for id in &args.rules {
        if rules::find(id).is_none() {
            let ids: Vec<&str> = rules::CATALOGUE.iter().map(|r| r.id).collect();
            eprintln!(
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
                eprintln!("{diagnostics}");
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
                eprintln!("{message}");
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
            eprintln!("error: cannot write `{}`: {e}", path.display());
            exit = Exit::Invalid;
        }
        if let Some(path) = &args.report_junit
            && let Err(e) = output::write_atomic(path, |out| {
                conformance::write_junit(out, &endpoint, &verdicts)
            })
        {
            eprintln!("error: cannot write `{}`: {e}", path.display());
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
    let roots = match &args.ca_cert {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| format!("error: cannot read --ca-cert `{}`: {e}", path.display()))?,
        ),
        None => None,
    };
    match loaded {
        Some(f) => {
            let remote = super::target::remote(&f.target, None)?;
            let client = Client::new(
                &remote.base,
                &remote.project_id,
                remote.credentials,
                remote.language,
                4,
                roots.as_deref(),
            )?;
            eprintln!(
                "checking {} ({} rules)",
                remote.base,
                if selected.is_empty() {
                    rules::CATALOGUE.len()
                } else {
                    selected.len()
                }
            );
            let verdicts = conform::run(&client, &f.jobs, f.wait, &selected).await;
            Ok((remote.base, verdicts))
        }
        None => {
            let jobs = embedded_jobs();
            let token = Secret::new(format!("conform-{}", fastrand::u64(..)));
            let config = MockConfig {
                jobs: jobs
                    .running
                    .iter()
                    .map(|id| spec(id, "INCRE_TRANSFER_STARTED"))
                    .chain(
                        jobs.abnormal
                            .iter()
                            .map(|id| spec(id, "INCRE_TRANSFER_FAILED")),
                    )
                    .collect(),
                token: Some(token.clone()),
                stop_delay: Duration::from_millis(400),
                ..MockConfig::default()
            };
            let server = mock::start_embedded(config)
                .await
                .map_err(|e| format!("error: cannot start the embedded mock: {e}"))?;
            let client = Client::new(
                &server.url(),
                EMBEDDED_PROJECT,
                Credentials::Token(token),
                None,
                4,
                None,
            )?;
            eprintln!("checking the embedded mock at {}", server.url());
            let wait = Wait {
                timeout: Duration::from_secs(30),
                poll: Duration::from_millis(100),
            };
            let verdicts = conform::run(&client, &jobs, wait, &selected).await;
            let url = server.url();
            server.shutdown().await;
            Ok((url, verdicts))
        }
    }
}

const EMBEDDED_PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";

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

fn spec(id: &crate::runbook::values::JobId, status: &str) -> JobSpec {
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
        println!("{word} {:<28} {:<20} {}", v.id, v.tag, v.detail);
        if v.outcome == Outcome::Fail {
            if let Some(request) = &v.request {
                println!("       request: {request}");
            }
            if let Some(answer) = &v.answer {
                println!("       answer:  {answer}");
            }
        }
    }
    let count = |o: Outcome| verdicts.iter().filter(|v| v.outcome == o).count();
    println!(
        "{} rules: {} passed, {} failed, {} skipped",
        verdicts.len(),
        count(Outcome::Pass),
        count(Outcome::Fail),
        count(Outcome::Skip)
    );
}
