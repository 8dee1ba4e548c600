//! What a select finds: each filter alone and together, paging past 1,000 matches, the `max`
//! guard, listed jobs and earlier selects first, the plan's bytes, and a fleet of 50,000.

use super::*;
use crate::run::{run, stderr};

/// A small fleet: payments and finance sync tasks in several states, a migration task, one
/// task of another enterprise project.
fn fleet() -> Vec<JobSpec> {
    let mut fleet = vec![
        tagged(
            task(1, "orders-01-cdc", "INCRE_TRANSFER_STARTED"),
            "team",
            "payments",
        ),
        tagged(
            task(2, "orders-02-cdc", "FULL_TRANSFER_STARTED"),
            "team",
            "payments",
        ),
        tagged(
            task(3, "orders-03-cdc", "INCRE_TRANSFER_FAILED"),
            "team",
            "payments",
        ),
        tagged(
            task(4, "orders-04-archive", "INCRE_TRANSFER_STARTED"),
            "team",
            "payments",
        ),
        tagged(
            task(5, "ledger-01-cdc", "INCRE_TRANSFER_STARTED"),
            "team",
            "finance",
        ),
        task(6, "orders-06-cdc", "INCRE_TRANSFER_STARTED"),
        tagged(
            task(7, "orders-07-cdc", "RELEASE_RESOURCE_COMPLETE"),
            "team",
            "payments",
        ),
    ];
    let mut migration = tagged(
        task(8, "orders-08-move", "FULL_TRANSFER_STARTED"),
        "team",
        "payments",
    );
    migration.job_type = "migration".to_owned();
    fleet.push(migration);
    let mut other = task(9, "orders-09-cdc", "INCRE_TRANSFER_STARTED");
    other.enterprise_project_id = Some("ep-analytics".to_owned());
    fleet.push(other);
    fleet
}

fn found(mock: &External, dir: &Path, select: &str) -> Vec<String> {
    let rb = write(dir, mock, &format!("  - name: p\n    select: {select}\n"));
    selected(&plan_json(dir, &rb)).remove("p").unwrap()
}

#[test]
fn each_filter_and_their_combination_find_exactly_what_they_name() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = |s: &str| found(&mock, d, s);
    assert_eq!(
        names("{ job_type: migration, max: 10 }"),
        ["orders-08-move"],
        "job_type"
    );
    assert_eq!(
        names(
            "{ job_type: sync, status: [INCRE_TRANSFER_FAILED, RELEASE_RESOURCE_COMPLETE], max: 10 }"
        ),
        ["orders-03-cdc", "orders-07-cdc"],
        "status, several"
    );
    assert_eq!(
        names("{ job_type: sync, name: ledger, max: 10 }"),
        ["ledger-01-cdc"],
        "name"
    );
    assert_eq!(
        names(
            "{ job_type: sync, name_glob: \"orders-*-cdc\", status: [INCRE_TRANSFER_STARTED], max: 10 }"
        ),
        ["orders-01-cdc", "orders-06-cdc", "orders-09-cdc"],
        "name_glob matches the whole name"
    );
    assert_eq!(
        names("{ job_type: sync, enterprise_project_id: ep-analytics, max: 10 }"),
        ["orders-09-cdc"],
        "enterprise_project_id"
    );
    assert_eq!(
        names("{ job_type: sync, tags: { team: [finance] }, max: 10 }"),
        ["ledger-01-cdc"],
        "tags"
    );
    assert_eq!(
        names(
            "{ job_type: sync, status: [INCRE_TRANSFER_STARTED, FULL_TRANSFER_STARTED], name_glob: \"orders-*-cdc\", enterprise_project_id: 0, tags: { team: [payments, finance] }, max: 10 }"
        ),
        ["orders-01-cdc", "orders-02-cdc"],
        "every filter together"
    );
    let filter_calls = mock
        .requests()
        .into_iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .unwrap_or("")
                .ends_with("/resource-instances/filter")
        })
        .count();
    assert_eq!(
        filter_calls, 2,
        "only the selects with tags call the tag filter"
    );
    assert!(mock.stops().is_empty(), "planning sends no stop");
}

#[test]
fn a_glob_matches_characters_not_bytes() {
    let mock = serve(vec![
        task(1, "éclair", "INCRE_TRANSFER_STARTED"),
        task(2, "xclair", "INCRE_TRANSFER_STARTED"),
        task(3, "crème-01", "INCRE_TRANSFER_STARTED"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(
        found(
            &mock,
            d,
            "{ job_type: sync, name_glob: \"?clair\", max: 10 }"
        ),
        ["xclair", "éclair"]
    );
    assert_eq!(
        found(
            &mock,
            d,
            "{ job_type: sync, name_glob: \"cr[!e]me-*\", max: 10 }"
        ),
        ["crème-01"]
    );
}

#[test]
fn paging_goes_past_a_thousand_matches_in_name_order() {
    let mut fleet: Vec<JobSpec> = (0..2_500)
        .map(|n| {
            task(
                n,
                &format!("bulk-{:05}", 2_499 - n),
                "INCRE_TRANSFER_STARTED",
            )
        })
        .collect();
    fleet.extend((2_500..2_600).map(|n| task(n, &format!("idle-{n}"), "PAUSING")));
    let mock = serve(fleet);
    let dir = tempfile::tempdir().unwrap();
    let names = found(
        &mock,
        dir.path(),
        "{ job_type: sync, status: [INCRE_TRANSFER_STARTED], max: 3000 }",
    );
    assert_eq!(names.len(), 2_500);
    assert_eq!(
        (names[0].as_str(), names[2_499].as_str()),
        ("bulk-00000", "bulk-02499")
    );
    assert!(names.windows(2).all(|w| w[0] < w[1]), "by name");
    let pages: Vec<String> = list_calls(&mock)
        .iter()
        .map(|r| r["query"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages.iter().all(|q| q.contains("limit=1000")), "{pages:?}");
    for offset in ["offset=0", "offset=1000", "offset=2000"] {
        assert!(
            pages.iter().any(|q| q.contains(offset)),
            "{offset}: {pages:?}"
        );
    }
}

#[test]
fn more_matches_than_max_is_refused_and_nothing_is_sent() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let rb = write(
        dir.path(),
        &mock,
        "  - name: bulk\n    select: { job_type: sync, max: 3 }\n",
    );
    for out in [
        run(dir.path(), &[rb.to_str().unwrap(), "--no-progress"]),
        plan(dir.path(), &[rb.to_str().unwrap()]),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(
                "phase `bulk`: the select matched 8 jobs, more than its `max: 3`; nothing was sent"
            ),
            "{}",
            stderr(&out)
        );
    }
    assert!(mock.stops().is_empty());
}

#[test]
fn listed_jobs_and_earlier_selects_come_first() {
    let mock = serve(fleet());
    let dir = tempfile::tempdir().unwrap();
    let listed = task(2, "", "").id;
    let rb = write(
        dir.path(),
        &mock,
        &format!(
            "  - name: first\n    select: {{ job_type: sync, tags: {{ team: [payments] }}, status: [INCRE_TRANSFER_STARTED], max: 10 }}\n\
             \x20 - name: second\n    select: {{ job_type: sync, status: [INCRE_TRANSFER_STARTED, FULL_TRANSFER_STARTED], max: 10 }}\n\
             \x20 - name: listed-last\n    stops:\n      - job: {listed}\n"
        ),
    );
    let plan = plan_json(dir.path(), &rb);
    let sel = selected(&plan);
    assert_eq!(sel["first"], ["orders-01-cdc", "orders-04-archive"]);
    assert_eq!(
        sel["second"],
        ["ledger-01-cdc", "orders-06-cdc", "orders-09-cdc"],
        "orders-02 is listed (in a later phase), orders-01 and -04 belong to the first select"
    );
    assert_eq!(plan["phases"][2]["stops"][0]["job"], listed.as_str());
    assert_eq!(plan["phases"][1]["select"]["matched"], 3);
    assert_eq!(plan["totals"]["stops"], 6);
}

#[test]
fn the_same_runbook_and_live_set_give_the_same_plan_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let select = "  - name: p\n    select: { job_type: sync, name_glob: \"orders-*\", tags: { team: [payments] }, max: 10 }\n";
    let plans = |mock: &External| {
        let rb = write(dir.path(), mock, select);
        ["json", "md"].map(|format| {
            let out = plan(dir.path(), &[rb.to_str().unwrap(), "--format", format]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        })
    };
    let a = serve(fleet());
    let first = plans(&a);
    assert_eq!(first, plans(&a), "planned twice");
    // The same live set served in another order, at the same address (the endpoint is planned).
    let addr: std::net::SocketAddr = a.url.trim_start_matches("http://").parse().unwrap();
    drop(a);
    let mut reversed = fleet();
    reversed.reverse();
    let b = External::start_at(addr, config(reversed));
    assert_eq!(first, plans(&b), "the fleet served in another order");
    let plan: Value = serde_json::from_slice(&first[0]).unwrap();
    let stop = &plan["phases"][0]["stops"][0];
    assert_eq!(
        (stop["name"].as_str(), stop["seq"].as_u64()),
        (Some("orders-01-cdc"), Some(1))
    );
    let query = &plan["phases"][0]["select"];
    assert_eq!(query["name_glob"], "orders-*");
    assert_eq!(query["tags"]["team"][0], "payments");
}

#[test]
fn a_fleet_of_fifty_thousand_resolves() {
    let fleet: Vec<JobSpec> = (0..50_000)
        .map(|n| {
            let status = if n % 2 == 0 {
                "INCRE_TRANSFER_STARTED"
            } else {
                "PAUSING"
            };
            let spec = task(n, &format!("fleet-{n:05}"), status);
            tagged(spec, "team", if n % 4 == 0 { "payments" } else { "search" })
        })
        .collect();
    let mock = serve(fleet);
    let dir = tempfile::tempdir().unwrap();
    let names = found(
        &mock,
        dir.path(),
        "{ job_type: sync, status: [INCRE_TRANSFER_STARTED], tags: { team: [payments] }, max: 50000 }",
    );
    assert_eq!(names.len(), 12_500);
    assert_eq!(names[0], "fleet-00000");
    assert_eq!(names[12_499], "fleet-49996");
    assert_eq!(
        list_calls(&mock).len(),
        25,
        "25,000 matches in pages of 1,000"
    );
}
