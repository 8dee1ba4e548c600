//! Drift between an approved plan and its run: the live set changed (a job added to the fleet, a
//! job ended in between), refused with the difference and nothing sent; `--accept-drift` runs
//! the approved jobs that still match and never another; listed stops that changed are named
//! field by field, and no flag accepts them.

use super::*;
use crate::run::{report, run, stderr};

const CANARY: usize = 90;

fn fleet() -> Vec<JobSpec> {
    let mut fleet: Vec<JobSpec> = (1..=4)
        .map(|n| {
            tagged(
                task(n, &format!("orders-{n:02}"), "INCRE_TRANSFER_STARTED"),
                "team",
                "payments",
            )
        })
        .collect();
    fleet.push(task(CANARY, "canary", "INCRE_TRANSFER_STARTED"));
    fleet
}

fn phases(canary_force: bool, extra: &str) -> String {
    format!(
        "  - name: canary\n    stops:\n      - job: {}\n        force: {canary_force}\n{extra}\
         \x20 - name: bulk\n    select: {{ job_type: sync, status: [INCRE_TRANSFER_STARTED], tags: {{ team: [payments] }}, max: 10 }}\n",
        task(CANARY, "", "").id
    )
}

/// A mock, a runbook aimed at it, and its plan approved to `approved.json`.
fn approved() -> (External, tempfile::TempDir, std::path::PathBuf) {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let rb = write(dir.path(), &mock, &phases(false, ""));
    let out = plan(
        dir.path(),
        &[rb.to_str().unwrap(), "--out", "approved.json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    (mock, dir, rb)
}

fn stopped_jobs(mock: &External) -> Vec<String> {
    let mut jobs: Vec<String> = mock
        .stops()
        .iter()
        .map(|r| {
            r["path"]
                .as_str()
                .unwrap()
                .split('/')
                .nth(4)
                .unwrap()
                .to_owned()
        })
        .collect();
    jobs.sort();
    jobs
}

#[test]
fn a_job_added_to_the_fleet_is_drift_and_accepting_it_never_stops_that_job() {
    let (mock, dir, rb) = approved();
    let newcomer = tagged(
        task(9, "orders-09", "INCRE_TRANSFER_STARTED"),
        "team",
        "payments",
    );
    put(&mock, std::slice::from_ref(&newcomer));
    let rb = rb.to_str().unwrap();
    let out = run(
        dir.path(),
        &[rb, "--plan", "approved.json", "--no-progress"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("plan drift"), "{err}");
    assert!(
        err.contains("jobs that now match and were not approved (1):"),
        "{err}"
    );
    assert!(
        err.contains(&format!("+ {} orders-09 (phase bulk)", newcomer.id)),
        "{err}"
    );
    assert!(err.contains("--accept-drift"), "{err}");
    assert!(mock.stops().is_empty(), "drift sends nothing");

    let args = [
        rb,
        "--plan",
        "approved.json",
        "--accept-drift",
        "--no-progress",
        "--report-json",
        "report.json",
    ];
    let out = run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The note and the closing line count the same stops (issue 24: the note said 113, the
    // closing line 114, the listed canary counted by one and not the other).
    for said in [
        "running 5 stops: the 4 approved jobs that still match and 1 listed",
        "passed: 5 stops",
    ] {
        assert!(stderr(&out).contains(said), "{said}\n{}", stderr(&out));
    }
    let mut expected: Vec<String> = fleet().into_iter().map(|j| j.id).collect();
    expected.sort();
    assert_eq!(
        stopped_jobs(&mock),
        expected,
        "the approved jobs, and not the newcomer"
    );
    assert_eq!(report(dir.path())["results"].as_array().unwrap().len(), 5);
}

#[test]
fn a_job_ended_between_plan_and_run_is_drift_and_accepting_it_leaves_that_job_alone() {
    let (mock, dir, rb) = approved();
    let ended = tagged(
        task(3, "orders-03", "RELEASE_RESOURCE_COMPLETE"),
        "team",
        "payments",
    );
    put(&mock, std::slice::from_ref(&ended));
    let rb = rb.to_str().unwrap();
    let out = run(
        dir.path(),
        &[rb, "--plan", "approved.json", "--no-progress"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("approved jobs that no longer match (1):"),
        "{err}"
    );
    assert!(
        err.contains(&format!("- {} orders-03 (phase bulk)", ended.id)),
        "{err}"
    );
    assert!(!err.contains("now match and were not approved"), "{err}");
    assert!(mock.stops().is_empty());

    let out = run(
        dir.path(),
        &[
            rb,
            "--plan",
            "approved.json",
            "--accept-drift",
            "--no-progress",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stopped = stopped_jobs(&mock);
    assert_eq!(stopped.len(), 4, "{stopped:?}");
    assert!(!stopped.contains(&ended.id), "the ended job gets no stop");
}

#[test]
fn listed_stops_that_changed_are_named_and_no_flag_accepts_them() {
    let (mock, dir, rb) = approved();
    let added = task(77, "", "").id;
    let extra = format!("      - job: {added}\n");
    let text = std::fs::read_to_string(&rb).unwrap();
    let text = text.replace(&phases(false, ""), &phases(true, &extra));
    std::fs::write(&rb, text).unwrap();
    let rb = rb.to_str().unwrap();
    for accept in [false, true] {
        let mut args = vec![rb, "--plan", "approved.json", "--no-progress"];
        if accept {
            args.push("--accept-drift");
        }
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("stops added (1):"), "{err}");
        assert!(err.contains(&format!("+ {added} (phase canary)")), "{err}");
        let canary = task(CANARY, "", "").id;
        assert!(
            err.contains(&format!("~ {canary} force: false → true")),
            "{err}"
        );
        assert!(!err.contains("--accept-drift: the approved"), "{err}");
    }
    assert!(mock.stops().is_empty());
}

/// The runbook of [`approved`] with two listed canaries, and `bulk` before or after `canary`.
fn ordered(first: usize, second: usize, canary_first: bool) -> String {
    let canary = format!(
        "  - name: canary\n    max_failures: 0\n    stops:\n      - job: {}\n      - job: {}\n",
        task(first, "", "").id,
        task(second, "", "").id
    );
    let bulk = "  - name: bulk\n    select: { job_type: sync, status: [INCRE_TRANSFER_STARTED], tags: { team: [payments] }, max: 10 }\n";
    match canary_first {
        true => format!("{canary}{bulk}"),
        false => format!("{bulk}{canary}"),
    }
}

#[test]
fn a_phase_or_stop_order_changed_is_shown_and_no_flag_accepts_it() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let rb = write(dir.path(), &mock, &ordered(CANARY, 91, true));
    let out = plan(
        dir.path(),
        &[rb.to_str().unwrap(), "--out", "approved.json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&rb).unwrap();
    let (a, b) = (task(CANARY, "", "").id, task(91, "", "").id);
    for (changed, expected) in [
        (
            ordered(CANARY, 91, false),
            "~ phase order: canary, bulk → bulk, canary".to_owned(),
        ),
        (
            ordered(91, CANARY, true),
            format!("~ phase canary stop order: {a}, {b} → {b}, {a}"),
        ),
    ] {
        std::fs::write(&rb, text.replace(&ordered(CANARY, 91, true), &changed)).unwrap();
        for accept in [false, true] {
            let mut args = vec![
                rb.to_str().unwrap(),
                "--plan",
                "approved.json",
                "--no-progress",
            ];
            if accept {
                args.push("--accept-drift");
            }
            let out = run(dir.path(), &args);
            assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains(&expected), "{err}");
            assert!(!err.contains("or run with --accept-drift"), "{err}");
        }
    }
    assert!(mock.stops().is_empty(), "nothing is sent");
}

#[test]
fn shards_of_an_accepted_drift_are_taken_from_the_approved_order() {
    // Approved: 1 canary, 2 orders-01, 3 orders-02, 4 orders-03, 5 orders-04.
    let (mock, dir, rb) = approved();
    let ended = tagged(
        task(1, "orders-01", "RELEASE_RESOURCE_COMPLETE"),
        "team",
        "payments",
    );
    put(&mock, std::slice::from_ref(&ended));
    let rb = rb.to_str().unwrap();
    let shard = |k: &str| {
        let args = [
            rb,
            "--plan",
            "approved.json",
            "--accept-drift",
            "--shard",
            k,
            "--no-progress",
        ];
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    shard("2/2");
    assert_eq!(
        stopped_jobs(&mock),
        [task(3, "", "").id],
        "shard 2 of the approved plan: seqs 2 (orders-01, ended) and 4 (orders-03)"
    );
    shard("1/2");
    let mut all = vec![
        task(2, "", "").id,
        task(3, "", "").id,
        task(4, "", "").id,
        task(CANARY, "", "").id,
    ];
    all.sort();
    assert_eq!(
        stopped_jobs(&mock),
        all,
        "every approved job that still matched, once"
    );
}

#[test]
fn an_accepted_drift_names_the_approved_plan_and_verifies_against_it() {
    let (mock, dir, rb) = approved();
    let ended = tagged(
        task(3, "orders-03", "RELEASE_RESOURCE_COMPLETE"),
        "team",
        "payments",
    );
    put(&mock, std::slice::from_ref(&ended));
    let args = [
        rb.to_str().unwrap(),
        "--plan",
        "approved.json",
        "--accept-drift",
        "--no-progress",
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
    ];
    let out = run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let approved: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("approved.json")).unwrap()).unwrap();
    let report = report(dir.path());
    assert_eq!(report["approved_plan_id"], approved["plan_id"], "{report}");
    assert_ne!(report["plan_id"], approved["plan_id"]);
    let out = crate::support::stopbook([
        "verify",
        "--plan",
        "approved.json",
        "--report",
        "report.json",
        "--journal",
        "j.jsonl",
    ])
    .current_dir(dir.path())
    .output()
    .unwrap();
    let said = format!("{}{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("accepted drift"), "{said}");
    assert!(
        said.contains(&ended.id),
        "the approved job left out is named: {said}"
    );
}

#[test]
fn control_characters_in_task_names_never_reach_the_terminal_or_the_markdown() {
    let (mock, dir, rb) = approved();
    let name = "orders-09\u{1b}[1A\u{1b}[2K\r";
    let newcomer = tagged(task(9, name, "INCRE_TRANSFER_STARTED"), "team", "payments");
    put(&mock, std::slice::from_ref(&newcomer));
    let rb = rb.to_str().unwrap();
    let out = run(
        dir.path(),
        &[rb, "--plan", "approved.json", "--no-progress"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{err:?}");
    assert!(
        err.contains(&format!("+ {} orders-09\\u{{1b}}[1A", newcomer.id)),
        "{err}"
    );
    let out = plan(dir.path(), &[rb]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(!md.contains('\u{1b}') && !md.contains('\r'), "{md:?}");
    assert!(md.contains("orders-09\\u{1b}"), "{md}");
}
