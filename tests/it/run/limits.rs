//! Limits on the wire: the failure budget, concurrency, the rate, phase barriers, shards.

use std::time::Duration;

use serde_json::Value;
use stopbook::mock::{Faults, MockConfig};

use super::*;

#[test]
fn past_the_failure_budget_nothing_new_starts_and_the_run_exits_3() {
    let mock = External::start(config(jobs(1..6, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 1, max_failures: 0 }}\ndefaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..6).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--report-md",
            "report.md",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let report = report(dir.path());
    assert_eq!(report["outcome"], "aborted");
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["skipped"], 5);
    assert_eq!(
        mock.stops().len(),
        1,
        "nothing was sent after the budget was spent"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("report.md"))
            .unwrap()
            .contains("failure budget was exceeded")
    );
}

/// The largest number of requests in flight at once, from arrival and answer times.
fn peak_in_flight(requests: &[Value]) -> usize {
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for r in requests {
        edges.push((r["started_us"].as_u64().unwrap(), 1));
        edges.push((r["finished_us"].as_u64().unwrap_or(u64::MAX), -1));
    }
    edges.sort_by_key(|&(t, d)| (t, d));
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        peak = peak.max(now);
    }
    peak as usize
}

#[test]
fn concurrency_rate_and_phase_barriers_hold_on_the_wire() {
    let mock = External::start(MockConfig {
        faults: Faults {
            latency: Duration::from_millis(40),
            ..Faults::default()
        },
        ..config(jobs(0..30, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 3, rate: 25/s }}\ndefaults: {{ wait: {{ timeout: 20s, poll: 100ms }} }}\nphases:\n  - name: first\n    stops:\n{}  - name: second\n    stops:\n{}",
        stops_yaml((0..10).map(job_id)),
        stops_yaml((10..30).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(dir.path(), &[path.to_str().unwrap(), "--no-progress"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let requests = mock.requests();
    assert!(
        peak_in_flight(&requests) <= 3,
        "peak in flight {}",
        peak_in_flight(&requests)
    );
    let starts: Vec<u64> = requests
        .iter()
        .map(|r| r["started_us"].as_u64().unwrap())
        .collect();
    for (i, start) in starts.iter().enumerate() {
        let in_window = starts[i..]
            .iter()
            .take_while(|s| **s < start + 1_000_000)
            .count();
        assert!(
            in_window <= 25,
            "{in_window} requests started within one second"
        );
    }
    let second: Vec<String> = (10..30).map(job_id).collect();
    let first_of_second = requests
        .iter()
        .position(|r| {
            second
                .iter()
                .any(|id| r["path"].as_str().unwrap().contains(id.as_str()))
        })
        .unwrap();
    let last_finish_of_first = requests[..first_of_second]
        .iter()
        .map(|r| r["finished_us"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(
        requests[first_of_second]["started_us"].as_u64().unwrap() >= last_finish_of_first,
        "phase two started before phase one ended"
    );
    assert!(
        requests[..first_of_second]
            .iter()
            .any(|r| r["method"] == "GET"),
        "phase one waited for its jobs"
    );
}

#[test]
fn shards_split_the_stops_without_overlap() {
    let mock = External::start(config(jobs(0..10, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..10).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let mut seen = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let output = run(
            dir.path(),
            &[
                path.to_str().unwrap(),
                "--shard",
                shard,
                "--report-json",
                "report.json",
                "--no-progress",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report = report(dir.path());
        assert_eq!(report["shard"], shard);
        seen.extend(
            report["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["seq"].as_u64().unwrap()),
        );
    }
    seen.sort();
    assert_eq!(seen, (1..=10).collect::<Vec<_>>());
    assert_eq!(
        mock.received().other_than((0..10).map(job_id), &[TAKEN]),
        []
    );
}

/// Many jobs waiting at once are read from ListJobs pages, fewer calls than a detail read each,
/// and lagging statuses are still judged right; a few waiting jobs read their details.
#[test]
fn many_waiting_jobs_are_read_from_list_pages() {
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_millis(1500),
        faults: Faults {
            status_lag: Duration::from_millis(400),
            ..Default::default()
        },
        ..config(jobs(0..60, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 60 }}\ndefaults: {{ wait: {{ timeout: 30s, poll: 200ms }} }}\nphases:\n  - name: few\n    concurrency: 2\n    stops:\n{}  - name: many\n    stops:\n{}",
        stops_yaml((0..2).map(job_id)),
        stops_yaml((2..60).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(dir.path(), &[path.to_str().unwrap(), "--no-progress"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!((0..60).all(|n| mock.status(&job_id(n)) == "RELEASE_RESOURCE_COMPLETE"));
    let (details, lists) = mock.reads();
    // Each job waits about 1.5 s at a poll of 200 ms: some 8 reads a job, 480 in all by detail.
    assert!(lists > 0, "no ListJobs page was read");
    assert!(
        details + lists < 200,
        "{details} detail reads and {lists} pages for 60 jobs"
    );
    // The first phase's two jobs were read one by one.
    assert!(details >= 2 * 5, "{details} detail reads");
}
