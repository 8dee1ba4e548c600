//! `stopbook conform` and `stopbook rules`: check an endpoint (the embedded mock by default)
//! against the rule catalogue, and list the catalogue.

use super::Refusal;
use std::path::PathBuf;
use std::time::Duration;

use super::Exit;
use super::args::{ConformArgs, RulesArgs, RulesFormat};
use super::connect::{self, Target};
use crate::check::conform::{
    self, ABNORMAL_NEEDED, Jobs, Outcome, RUNNING_NEEDED, Unjudgeable, Verdict, Wait,
};
use crate::check::{fixtures, rules};
use crate::mock::{self, JobSpec};
use crate::output;
use crate::report::conformance;

pub fn list_rules(args: &RulesArgs) -> Exit {
    if args.format == RulesFormat::Json {
        let written =
            output::write_stdout(|out| conformance::write_catalogue(out, rules::CATALOGUE));
        return match written {
            Ok(()) => Exit::Success,
            Err(e) => {
                say!("error: cannot write the catalogue: {e}");
                Exit::Invalid
            }
        };
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
            Err(Refused::Usage(message)) => {
                say!("{message}");
                return Exit::Invalid;
            }
            Err(Refused::Suite(why)) => {
                say!("{why}");
                return match why {
                    Unjudgeable::Fixtures(_) => Exit::Invalid,
                    Unjudgeable::Endpoint(_) => Exit::Aborted,
                };
            }
        };
        show(&verdicts);
        let exit = if verdicts.iter().any(|v| v.outcome == Outcome::Fail) {
            Exit::Failed
        } else {
            Exit::Success
        };
        match write_reports(args, &endpoint, &verdicts) {
            Ok(()) => exit,
            Err(Refusal { exit, message }) => {
                say!("{message}");
                exit
            }
        }
    })
}

/// The JSON and JUnit reports, then the attestation naming them.
fn write_reports(args: &ConformArgs, endpoint: &str, verdicts: &[Verdict]) -> Result<(), Refusal> {
    let cannot = |path: &PathBuf, e: std::io::Error| {
        format!("error: cannot write `{}`: {e}", path.display())
    };
    let mut written = Vec::new();
    if let Some(path) = &args.report_json {
        output::write_atomic(path, |out| conformance::write_json(out, endpoint, verdicts))
            .map_err(|e| cannot(path, e))?;
        written.push(path.clone());
    }
    if let Some(path) = &args.report_junit {
        output::write_atomic(path, |out| {
            conformance::write_junit(out, endpoint, verdicts)
        })
        .map_err(|e| cannot(path, e))?;
        written.push(path.clone());
    }
    if let Some(path) = &args.attest {
        let mut subjects = Vec::new();
        for report in &written {
            let bytes = crate::input::read_bytes(report, crate::input::REPORT)
                .map_err(|e| format!("error: cannot read `{}`: {e}", report.display()))?;
            subjects.push((report.display().to_string(), bytes));
        }
        output::write_atomic(path, |out| {
            conformance::write_attestation(out, endpoint, verdicts, &subjects)
        })
        .map_err(|e| cannot(path, e))?;
    }
    Ok(())
}

/// Why the suite judged nothing.
enum Refused {
    /// Bad usage or a target that cannot be built: exit 2.
    Usage(String),
    /// The fixtures or the endpoint: exit 2 or 3.
    Suite(Unjudgeable),
}

/// Runs the suite against the fixtures' endpoint (or `--endpoint`), or an embedded mock.
async fn check(
    args: &ConformArgs,
    loaded: Option<fixtures::Fixtures>,
) -> Result<(String, Vec<Verdict>), Refused> {
    let selected: Vec<&str> = args.rules.iter().map(String::as_str).collect();
    let (target, jobs, wait) = match loaded {
        Some(f) => {
            let remote = super::target::remote(&f.target, args.endpoint.as_deref())
                .map_err(|r| Refused::Usage(r.message))?;
            (Target::Remote(remote), f.jobs, f.wait)
        }
        None => {
            let (jobs, fleet) = embedded_fleet();
            let target = Target::Embedded {
                jobs: fleet,
                stop_delay: Duration::from_millis(400),
                faults: Default::default(),
            };
            (target, jobs, EMBEDDED_WAIT)
        }
    };
    let connection = connect::connect(target, args.ca_cert.as_deref(), 4)
        .await
        .map_err(|r| Refused::Usage(r.message))?;
    let count = match selected.len() {
        0 => rules::CATALOGUE.len(),
        n => n,
    };
    say!("checking {} ({count} rules)", connection.describe(None));
    let verdicts = conform::run(&connection.client, &jobs, wait, &selected).await;
    let url = connection.url.clone();
    connection.close().await;
    Ok((url, verdicts.map_err(Refused::Suite)?))
}

/// How long the embedded mock's stops may take to end.
pub const EMBEDDED_WAIT: Wait = Wait {
    timeout: Duration::from_secs(30),
    poll: Duration::from_millis(100),
};

/// Fresh jobs for the embedded mock: the suite's fixtures, and the mock's fleet holding them.
pub fn embedded_fleet() -> (Jobs, Vec<JobSpec>) {
    let made = mock::jobs::generate(RUNNING_NEEDED + ABNORMAL_NEEDED, fastrand::u64(..));
    let ids: Vec<_> = made
        .iter()
        .map(|j| j.id.parse().expect("generated IDs are well formed"))
        .collect();
    let jobs = fixtures::with_missing(Jobs {
        running: ids[..RUNNING_NEEDED].to_vec(),
        abnormal: ids[RUNNING_NEEDED..].to_vec(),
        missing: Vec::new(),
    });
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
    (jobs, fleet)
}

fn spec(id: &crate::drs::JobId, status: &str) -> JobSpec {
    JobSpec {
        id: id.to_string(),
        name: format!("DRS-{}", &id.as_str()[..4]),
        status: status.to_owned(),
        job_type: "sync".to_owned(),
        ..Default::default()
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
