//! Rehearsal of the exact approved plan (issue 24): `run --plan approved.json --rehearse
//! PROFILE` runs that plan, with its plan_id, on the embedded mock seeded from the plan, under
//! the profile's faults; the runbook's own target gets no request at all (its mock's record is
//! the witness). A runbook's embedded mock takes a profile too, and `plan --endpoint` reads
//! live state elsewhere than the runbook's target.

use super::*;
use crate::run::{run, stderr};

/// A hundred payments sync tasks: enough stops that a tenth of them meeting a gateway fault is
/// all but certain (all pass unhurt in 1 rehearsal in 38,000).
fn fleet() -> Vec<JobSpec> {
    (1..=100)
        .map(|n| {
            tagged(
                task(n, &format!("orders-{n:02}-cdc"), "INCRE_TRANSFER_STARTED"),
                "team",
                "payments",
            )
        })
        .collect()
}

/// A listed canary, then a select of the rest; a stop's answer is what is checked, so a lost
/// answer is settled by a status read.
fn runbook_of(dir: &Path, mock: &External) -> std::path::PathBuf {
    crate::run::runbook(
        dir,
        &mock.url,
        &format!(
            "defaults: {{ wait: false }}\nlimits: {{ concurrency: 8 }}\nphases:\n  - name: canary\n    stops: [ {{ job: {} }} ]\n  - name: bulk\n    select: {{ job_type: sync, status: [INCRE_TRANSFER_STARTED], tags: {{ team: [payments] }}, max: 150 }}\n",
            task(1, "", "").id
        ),
    )
}

#[test]
fn the_approved_plan_is_rehearsed_under_gateway_faults_and_nothing_reaches_the_target() {
    let production = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rb = runbook_of(d, &production);
    let out = plan(d, &[rb.to_str().unwrap(), "--out", "approved.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let approved: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("approved.json")).unwrap()).unwrap();
    let seen_before = production.requests().len();
    let out = run(
        d,
        &[
            rb.to_str().unwrap(),
            "--plan",
            "approved.json",
            "--rehearse",
            "gateway",
            "--report-json",
            "rehearsal.json",
            "--journal",
            "rehearsal.jsonl",
            "--no-progress",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        production.requests().len(),
        seen_before,
        "a rehearsal sends nothing to the runbook's target, not even a read"
    );
    assert!(production.stops().is_empty());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("rehearsal.json")).unwrap()).unwrap();
    assert_eq!(
        report["plan_id"], approved["plan_id"],
        "the approved plan's own id"
    );
    assert_eq!(report["rehearsal"], true);
    assert_eq!(report["rehearsal_profile"], "gateway");
    assert_eq!(report["outcome"], "passed", "{err}");
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);
    assert_eq!(
        results[99]["name"], "orders-99-cdc",
        "selected jobs keep their names"
    );
    let lost = results
        .iter()
        .flat_map(|r| r["history"].as_array().unwrap())
        .filter(|h| h["event"] == "lost")
        .count();
    assert!(lost > 0, "the gateway lost some answers: {report:#}");
    let verify = crate::support::stopbook([
        "verify",
        "--plan",
        "approved.json",
        "--report",
        "rehearsal.json",
        "--journal",
        "rehearsal.jsonl",
    ])
    .current_dir(d)
    .output()
    .unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", stderr(&verify));
    // The report rendered again from the journal says it was a rehearsal too.
    let md = crate::support::stopbook(["report", "rehearsal.jsonl"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&md.stdout).contains("- **rehearsal:** yes"),
        "{}",
        String::from_utf8_lossy(&md.stdout)
    );
}

#[test]
fn a_rehearsal_runs_only_the_approved_plan() {
    let production = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rb = runbook_of(d, &production);
    let out = run(d, &[rb.to_str().unwrap(), "--rehearse", "--no-progress"]);
    assert_eq!(out.status.code(), Some(2), "--rehearse needs --plan");
    assert!(stderr(&out).contains("--plan"), "{}", stderr(&out));
    assert_eq!(
        plan(d, &[rb.to_str().unwrap(), "--out", "approved.json"])
            .status
            .code(),
        Some(0)
    );
    let out = run(
        d,
        &[
            rb.to_str().unwrap(),
            "--plan",
            "approved.json",
            "--rehearse",
            "gatway",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown profile `gatway`"),
        "{}",
        stderr(&out)
    );
    // The runbook changed after approval: its plan is not the approved one.
    let changed = std::fs::read_to_string(&rb)
        .unwrap()
        .replace("max: 150", "max: 140");
    std::fs::write(&rb, changed).unwrap();
    let seen_before = production.requests().len();
    let out = run(
        d,
        &[
            rb.to_str().unwrap(),
            "--plan",
            "approved.json",
            "--rehearse",
            "--no-progress",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("plan drift"), "{}", stderr(&out));
    assert_eq!(production.requests().len(), seen_before);
}

#[test]
fn a_runbooks_embedded_mock_takes_a_fault_profile_checked_offline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("fleet.yaml"),
        "- { id: 00000001-5e1e-4c00-8000-0000000sel01, name: a, status: INCRE_TRANSFER_STARTED, job_type: sync }\n",
    )
    .unwrap();
    let write = |profile: &str| {
        let rb = d.join("rb.yaml");
        std::fs::write(
            &rb,
            format!("version: 1\nname: n\ntarget: {{ mock: {{ jobs: fleet.yaml, profile: {profile} }} }}\ndefaults: {{ wait: false }}\nphases:\n  - name: p\n    select: {{ job_type: sync, max: 5 }}\n"),
        )
        .unwrap();
        rb
    };
    let bad = write("gatway");
    let out = crate::support::stopbook(["validate", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("rb.yaml:3:46: unknown fault profile `gatway`")
            && err.contains("did you mean `gateway`?"),
        "{err}"
    );
    let good = write("gateway");
    let plan_doc = plan_json(d, &good);
    assert_eq!(
        plan_doc["target"]["profile"], "gateway",
        "the profile is in the plan and its plan_id"
    );
    let out = run(d, &[good.to_str().unwrap(), "--no-progress"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn plan_reads_live_state_at_the_endpoint_it_is_given() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rb = runbook_of(d, &mock);
    // The runbook names a port nothing listens on; --endpoint names the mock.
    let text = std::fs::read_to_string(&rb)
        .unwrap()
        .replace(&mock.url, "http://127.0.0.1:9");
    std::fs::write(&rb, text).unwrap();
    let out = plan(
        d,
        &[
            rb.to_str().unwrap(),
            "--format",
            "json",
            "--endpoint",
            &mock.url,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["phases"][1]["select"]["matched"], 99);
    let out = plan(
        d,
        &[rb.to_str().unwrap(), "--endpoint", "http://example.com"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
