//! A run of a runbook with selects resumes with the jobs its first run found: the jobs it
//! stopped no longer match a status filter, so resolving again would plan something else.
//! The first run pins its plan beside the journal; `--resume` takes the selection from there.

use super::*;
use crate::run::{TAKEN, run, stderr};

#[test]
fn a_resumed_run_stops_the_jobs_its_first_run_selected_and_none_twice() {
    let mut fleet: Vec<JobSpec> = (1..=4)
        .map(|n| task(n, &format!("orders-{n:02}"), "INCRE_TRANSFER_STARTED"))
        .collect();
    fleet.push(task(50, "listed", "INCRE_TRANSFER_STARTED"));
    let mock = serve(fleet);
    let dir = tempfile::tempdir().unwrap();
    let phases = format!(
        "  - name: selected\n    select: {{ job_type: sync, status: [INCRE_TRANSFER_STARTED], name_glob: \"orders-*\", max: 10 }}\n\
         \x20 - name: rest\n    stops:\n      - job: {}\n",
        task(50, "", "").id
    );
    let rb = write(dir.path(), &mock, &phases);
    let rb = rb.to_str().unwrap();
    let first = run(
        dir.path(),
        &[
            rb,
            "--journal",
            "j.jsonl",
            "--until",
            "selected",
            "--no-progress",
        ],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(mock.received().total(), 4);
    assert!(
        dir.path().join("j.jsonl.plan.json").exists(),
        "the selection is pinned"
    );

    let resumed = run(
        dir.path(),
        &[rb, "--journal", "j.jsonl", "--resume", "--no-progress"],
    );
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("resuming: 4 of 5 stops done"),
        "{}",
        stderr(&resumed)
    );
    let got = mock.received();
    let selected_and_listed = [1, 2, 3, 4, 50].map(|n| task(n, "", "").id);
    assert_eq!(
        got.other_than(selected_and_listed, &[TAKEN]),
        [],
        "the listed job, and no selected job again"
    );
    assert_eq!(got.total(), 5, "{got:?}");
}

#[test]
fn the_default_journal_is_named_after_the_plan_that_runs_and_a_resume_finds_it() {
    let fleet: Vec<JobSpec> = (1..=4)
        .map(|n| task(n, &format!("orders-{n:02}"), "INCRE_TRANSFER_STARTED"))
        .collect();
    let mock = serve(fleet);
    let dir = tempfile::tempdir().unwrap();
    let phases = "  - name: first\n    select: { job_type: sync, status: [INCRE_TRANSFER_STARTED], name_glob: \"orders-0[12]\", max: 10 }\n\
         \x20 - name: second\n    select: { job_type: sync, status: [INCRE_TRANSFER_STARTED], max: 10 }\n";
    let rb = write(dir.path(), &mock, phases);
    let rb = rb.to_str().unwrap();
    let first = run(
        dir.path(),
        &[
            rb,
            "--until",
            "first",
            "--report-json",
            "r1.json",
            "--no-progress",
        ],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r1.json")).unwrap())
            .unwrap();
    let id = report["plan_id"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:");
    let journal = dir
        .path()
        .join(format!(".stopbook/journal-{}.jsonl", &id[..16]));
    assert!(
        journal.exists(),
        "the journal is named after the plan_id the reports carry ({id}):\n{}",
        stderr(&first)
    );
    // The jobs stopped no longer match `first`'s status: the resume finds the journal by the
    // plan pinned beside it, not by resolving again.
    let resumed = run(dir.path(), &[rb, "--resume", "--no-progress"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("resuming: 2 of 4 stops done"),
        "{}",
        stderr(&resumed)
    );
    assert_eq!(mock.received().total(), 4);
}
