//! The guards around a select (issue 24): a select that finds fewer jobs than its `min`
//! (default 1) is refused by `plan` and `run` before anything is sent, naming what it asked
//! and what each filter left; `job_type` takes a list; `exclude` drops matched jobs and is
//! pinned by `plan_id`; `limits.max_force` caps the force stops a plan may send. The mock's
//! own record is the witness that nothing was stopped.

use super::*;
use crate::run::{run, stderr};

/// Payments and finance sync tasks, one payments migration task.
fn fleet() -> Vec<JobSpec> {
    let mut fleet: Vec<JobSpec> = (1..=6)
        .map(|n| {
            let team = if n <= 4 { "payments" } else { "finance" };
            tagged(
                task(n, &format!("orders-{n:02}-cdc"), "INCRE_TRANSFER_STARTED"),
                "team",
                team,
            )
        })
        .collect();
    let mut migration = tagged(
        task(7, "orders-07-move", "FULL_TRANSFER_STARTED"),
        "team",
        "payments",
    );
    migration.job_type = "migration".to_owned();
    fleet.push(migration);
    fleet
}

/// A listed canary (`orders-01`) first, then a select phase `bulk`.
fn canary_then(select: &str) -> String {
    format!(
        "  - name: canary\n    stops: [ {{ job: {} }} ]\n  - name: bulk\n    select: {select}\n",
        task(1, "", "").id
    )
}

#[test]
fn a_typo_in_a_tag_value_is_refused_by_plan_and_run_and_nothing_is_sent() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let rb = write(
        dir.path(),
        &mock,
        &canary_then("{ job_type: sync, tags: { team: [paymnets] }, max: 100 }"),
    );
    let validate = crate::support::stopbook(["validate", rb.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(validate.status.code(), Some(0), "validate stays offline");
    for out in [
        plan(dir.path(), &[rb.to_str().unwrap()]),
        run(dir.path(), &[rb.to_str().unwrap(), "--no-progress"]),
    ] {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        for said in [
            "phase `bulk`: the select matched 0 jobs, fewer than its `min: 1`",
            "job_type sync",
            "tag team = paymnets",
            "ListJobs listed 6",
            "the tag filter kept 0",
            "nothing was sent",
            "`min: 0`",
        ] {
            assert!(err.contains(said), "{said}\n{err}");
        }
    }
    assert!(mock.stops().is_empty(), "not even the canary was stopped");
}

#[test]
fn min_zero_allows_an_empty_match_and_a_higher_min_is_a_guard_of_its_own() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let empty = write(
        dir.path(),
        &mock,
        &canary_then("{ job_type: sync, name_glob: \"nothing-*\", min: 0, max: 10 }"),
    );
    let plan_doc = plan_json(dir.path(), &empty);
    assert_eq!(plan_doc["phases"][1]["select"]["min"], 0);
    let few = write(
        dir.path(),
        &mock,
        &canary_then("{ job_type: sync, tags: { team: [finance] }, min: 3, max: 10 }"),
    );
    let out = plan(dir.path(), &[few.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the select matched 2 jobs, fewer than its `min: 3`"),
        "{}",
        stderr(&out)
    );
    let crossed = write(
        dir.path(),
        &mock,
        &canary_then("{ job_type: sync, min: 5, max: 4 }"),
    );
    let out = crate::support::stopbook(["validate", crossed.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "min above max is refused offline"
    );
    assert!(stderr(&out).contains("`min` (5) is more than `max` (4)"));
}

#[test]
fn the_plan_summary_counts_what_each_phase_selected() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let rb = write(
        dir.path(),
        &mock,
        &canary_then("{ job_type: sync, tags: { team: [payments] }, max: 10 }"),
    );
    let out = plan(dir.path(), &[rb.to_str().unwrap()]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains(
            "- **totals:** 2 phases, 4 stops, 0 forced; selected from live state: 3 in `bulk`"
        ),
        "{md}"
    );
}

#[test]
fn job_type_takes_a_list_one_query_a_type() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let rb = write(
        dir.path(),
        &mock,
        "  - name: p\n    select: { job_type: [sync, migration], tags: { team: [payments] }, max: 10 }\n",
    );
    let plan_doc = plan_json(dir.path(), &rb);
    assert_eq!(
        selected(&plan_doc)["p"],
        [
            "orders-01-cdc",
            "orders-02-cdc",
            "orders-03-cdc",
            "orders-04-cdc",
            "orders-07-move"
        ]
    );
    assert_eq!(
        plan_doc["phases"][0]["select"]["job_type"],
        serde_json::json!(["sync", "migration"])
    );
    let types: Vec<String> = list_calls(&mock)
        .iter()
        .map(|r| r["query"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        types.iter().any(|q| q.contains("job_type=sync")),
        "{types:?}"
    );
    assert!(
        types.iter().any(|q| q.contains("job_type=migration")),
        "{types:?}"
    );
}

#[test]
fn exclude_drops_matched_jobs_is_shown_in_the_plan_and_pinned_by_plan_id() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let excluded = task(2, "", "").id;
    let select = |exclude: &str| {
        format!(
            "  - name: p\n    select: {{ job_type: [sync, migration], max: 10, exclude: {exclude} }}\n"
        )
    };
    let rb = write(
        dir.path(),
        &mock,
        &select(&format!(
            "{{ ids: [{excluded}], name_glob: \"*-move\", tags: {{ team: [finance] }}, name: orders-03 }}"
        )),
    );
    let plan_doc = plan_json(dir.path(), &rb);
    assert_eq!(
        selected(&plan_doc)["p"],
        ["orders-01-cdc", "orders-04-cdc"],
        "orders-02 by id, 03 by name, 05 and 06 by tag, 07 by glob"
    );
    let shown = &plan_doc["phases"][0]["select"]["exclude"];
    assert_eq!(shown["ids"][0], excluded.as_str());
    assert_eq!(shown["name_glob"], "*-move");
    let md =
        String::from_utf8_lossy(&plan(dir.path(), &[rb.to_str().unwrap()]).stdout).into_owned();
    assert!(md.contains("excluding"), "{md}");
    let other = write(dir.path(), &mock, &select("{ name_glob: \"*-move\" }"));
    assert_ne!(
        plan_json(dir.path(), &other)["plan_id"],
        plan_doc["plan_id"],
        "exclude is pinned by plan_id"
    );
}

#[test]
fn a_glob_written_as_a_negation_is_refused_offline() {
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("rb.yaml");
    std::fs::write(
        &rb,
        "version: 1\nname: n\ntarget: { mock: { jobs: fleet.yaml } }\nphases:\n  - name: p\n    select: { job_type: sync, name_glob: \"!orders-*\", max: 5 }\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), "[]\n").unwrap();
    let out = crate::support::stopbook(["validate", rb.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("rb.yaml:6:42") && stderr(&out).contains("exclude"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn more_force_stops_than_max_force_are_refused_before_anything_is_sent() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let id = |n| task(n, "", "").id;
    // Listed: refused offline.
    let listed = write(
        dir.path(),
        &mock,
        &format!(
            "  - name: p\n    stops: [ {{ job: {}, force: true }}, {{ job: {}, force: true }} ]\n",
            id(1),
            id(2)
        ),
    );
    let with_cap = std::fs::read_to_string(&listed).unwrap().replace(
        "limits: { concurrency: 8 }",
        "limits: { concurrency: 8, max_force: 1 }",
    );
    std::fs::write(&listed, with_cap).unwrap();
    let out = crate::support::stopbook(["validate", listed.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 force stops, more than `max_force: 1`"),
        "{}",
        stderr(&out)
    );
    // Selected, and escalations that could fire: refused by plan and run, nothing sent.
    let selected_rb = write(
        dir.path(),
        &mock,
        &format!(
            "  - name: canary\n    stops: [ {{ job: {} }} ]\n  - name: bulk\n    max_force: 2\n    wait: {{ timeout: 2m }}\n    escalate: {{ after: 30s }}\n    select: {{ job_type: sync, tags: {{ team: [payments] }}, max: 10 }}\n",
            id(1)
        ),
    );
    for out in [
        plan(dir.path(), &[selected_rb.to_str().unwrap()]),
        run(
            dir.path(),
            &[selected_rb.to_str().unwrap(), "--no-progress"],
        ),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("phase `bulk`: 3 stops could be forced (escalations included), more than its `max_force: 2`"),
            "{}",
            stderr(&out)
        );
    }
    assert!(mock.stops().is_empty());
}
