//! `stopbook conform --self-test`: every rule against the embedded mock with that rule's defect,
//! and the faithful mock against all of them. Exit 0 only when each defect is caught by its rule
//! and no other rule fails but those the catalogue says it breaks too (`breaks_also`).

use super::Refusal;
use std::time::Duration;

use super::Exit;
use super::conform::embedded_fleet;
use crate::api::client::{Client, Credentials};
use crate::check::conform::{self, Outcome, Wait};
use crate::check::rules::{self, CATALOGUE};
use crate::drs::RuleId;
use crate::mock::{self, MockConfig};
use crate::secret::Secret;

const PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";

/// Shorter than a run's: the mock ends a stop in 200 ms, and the `async.ends` defect is seen
/// not to end within this.
const WAIT: Wait = Wait {
    timeout: Duration::from_secs(3),
    poll: Duration::from_millis(50),
};

/// The rules that failed against the mock with `defect` (none: the faithful one), or why the
/// suite could not run.
async fn failures(defect: Option<RuleId>) -> Result<Vec<RuleId>, Refusal> {
    let (jobs, fleet) = embedded_fleet();
    let token = Secret::new(format!("self-test-{}", fastrand::u64(..)));
    let config = MockConfig {
        jobs: fleet,
        token: Some(token.clone()),
        stop_delay: Duration::from_millis(200),
        defect,
        ..MockConfig::default()
    };
    let server = mock::start_embedded(config)
        .await
        .map_err(|e| format!("cannot start the embedded mock: {e}"))?;
    let client = Client::new(
        &server.url(),
        PROJECT,
        Credentials::Token(token),
        None,
        4,
        None,
    )
    .map_err(|e| e.to_string())?;
    let verdicts = conform::run(&client, &jobs, WAIT, &[]).await;
    server.shutdown().await;
    let verdicts = verdicts.map_err(|e| e.to_string())?;
    Ok(CATALOGUE
        .iter()
        .zip(verdicts)
        .filter(|(_, v)| v.outcome == Outcome::Fail)
        .map(|(r, _)| r.rule)
        .collect())
}

pub fn run() -> Exit {
    let runtime = match super::runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    runtime.block_on(async {
        say!(
            "self-test: {} rules, each against the embedded mock with its defect",
            RuleId::ALL.len()
        );
        let mut tasks = tokio::task::JoinSet::new();
        for (i, defect) in std::iter::once(None)
            .chain(RuleId::ALL.iter().copied().map(Some))
            .enumerate()
        {
            tasks.spawn(async move { (i, defect, failures(defect).await) });
        }
        let mut results = Vec::new();
        while let Some(done) = tasks.join_next().await {
            results.push(done.expect("a self-test task does not panic"));
        }
        results.sort_by_key(|(i, _, _)| *i);
        let mut good = true;
        for (_, defect, failed) in results {
            let (ok, line) = judge(defect, failed);
            good &= ok;
            out!("{line}");
        }
        match good {
            true => {
                out!("every defect caught by its rule, and nothing else");
                Exit::Success
            }
            false => Exit::Failed,
        }
    })
}

/// Whether the defect's run is as the catalogue says, and its table line.
fn judge(defect: Option<RuleId>, failed: Result<Vec<RuleId>, Refusal>) -> (bool, String) {
    let name = defect.map_or("(faithful mock)", RuleId::as_str);
    let failed = match failed {
        Ok(f) => f,
        Err(why) => return (false, format!("ERROR       {name:<28} {why}")),
    };
    let shown = |rules: &[RuleId]| {
        rules
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(defect) = defect else {
        return match failed.is_empty() {
            true => (
                true,
                format!("clean       {name:<28} every rule passed or skipped"),
            ),
            false => (
                false,
                format!("FALSE ALARM {name:<28} failed: {}", shown(&failed)),
            ),
        };
    };
    let allowed = rules::rule(defect).map_or(&[][..], |r| r.breaks_also);
    let stray: Vec<RuleId> = failed
        .iter()
        .copied()
        .filter(|r| *r != defect && !allowed.contains(r))
        .collect();
    let also: Vec<RuleId> = failed.iter().copied().filter(|r| *r != defect).collect();
    match (failed.contains(&defect), stray.is_empty()) {
        (false, _) => (
            false,
            format!("NOT CAUGHT  {name:<28} failed: [{}]", shown(&failed)),
        ),
        (true, false) => (
            false,
            format!(
                "IMPRECISE   {name:<28} also failed, undocumented: {}",
                shown(&stray)
            ),
        ),
        (true, true) if also.is_empty() => (true, format!("caught      {name}")),
        (true, true) => (
            true,
            format!(
                "caught      {name:<28} (and, as documented: {})",
                shown(&also)
            ),
        ),
    }
}
