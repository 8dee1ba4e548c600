//! Choosing jobs from live state over loopback: `select` against a mock fleet (each filter, and
//! together; paging past 1,000; the `max` guard; listed jobs and earlier selects first), the
//! plan's bytes, drift between an approved plan and its run, and the pre-flight of
//! `plan --live`. The mock's request log is the witness that nothing was stopped.

mod drift;
mod filters;
mod guards;
mod hostile;
mod offline;
mod preflight;
mod rehearsal;
mod resume;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use stopbook::mock::JobSpec;

use crate::run::{External, TOKEN, config, runbook};
use crate::support::stopbook;

/// A fleet task: `n` makes the ID; the rest is what the filters look at.
pub(crate) fn task(n: usize, name: &str, status: &str) -> JobSpec {
    JobSpec {
        id: format!("{n:08}-5e1e-4c00-8000-0000000sel{:02}", n % 100),
        name: name.to_owned(),
        status: status.to_owned(),
        job_type: "sync".to_owned(),
        ..Default::default()
    }
}

/// `spec` with the tag `key: value`.
pub(crate) fn tagged(mut spec: JobSpec, key: &str, value: &str) -> JobSpec {
    spec.tags.insert(key.to_owned(), value.to_owned());
    spec
}

/// A mock serving `fleet`.
pub(crate) fn serve(fleet: Vec<JobSpec>) -> External {
    External::start(config(fleet))
}

/// The phases of a runbook aimed at `mock`, written to `dir`.
pub(crate) fn write(dir: &Path, mock: &External, phases: &str) -> std::path::PathBuf {
    runbook(
        dir,
        &mock.url,
        &format!("defaults: {{ wait: false }}\nlimits: {{ concurrency: 8 }}\nphases:\n{phases}"),
    )
}

/// `stopbook plan` with `args`, in `dir`, with the test token.
pub(crate) fn plan(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = stopbook(["plan"]);
    cmd.args(args)
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .timeout(Duration::from_secs(120));
    cmd.output().unwrap()
}

/// The JSON plan of `runbook`, which must plan.
pub(crate) fn plan_json(dir: &Path, runbook: &Path) -> Value {
    let out = plan(dir, &[runbook.to_str().unwrap(), "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Phase name → the task names its stops carry (a select's), in plan order.
pub(crate) fn selected(plan: &Value) -> BTreeMap<String, Vec<String>> {
    plan["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let names = p["stops"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s["name"].as_str().map(str::to_owned))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), names)
        })
        .collect()
}

/// Replaces or adds tasks of the mock's fleet while it runs.
pub(crate) fn put(mock: &External, specs: &[JobSpec]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    stopbook::api::transport::install_crypto_provider();
    runtime.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let answer = client
            .post(format!("{}/__mock/jobs", mock.url))
            .json(specs)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 204);
    });
}

/// The requests of the mock that are ListJobs calls.
pub(crate) fn list_calls(mock: &External) -> Vec<Value> {
    mock.requests()
        .into_iter()
        .filter(|r| r["method"] == "GET" && r["path"].as_str().unwrap_or("").ends_with("/jobs"))
        .collect()
}
