//! Batch mode over loopback: stops sharing a force flag go out in batch-stop calls, each job is
//! judged on its own item, and no fault makes a job get a second stop.

use std::time::Duration;

use serde_json::Value;
use stopbook::mock::{Faults, MockConfig};

use crate::run::{
    External, FORCE_TAKEN, TAKEN, config, job_id, jobs, journaled, report, run, runbook, spawn,
    stderr, stops_yaml, wait_until,
};

fn batch_calls(mock: &External) -> Vec<Value> {
    mock.requests()
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap_or("").ends_with("/batch-stop"))
        .collect()
}

#[test]
fn a_batch_of_mixed_outcomes_is_judged_job_by_job() {
    let mut fleet = jobs(0..8, "INCRE_TRANSFER_STARTED");
    fleet.extend(jobs(8..9, "RELEASE_RESOURCE_COMPLETE"));
    let mock = External::start(config(fleet));
    let dir = tempfile::tempdir().unwrap();
    let stops = format!(
        "{}      - job: {}\n        expect: {{ http: 400, error_code: DRS.10000001 }}\n      - job: {}\n        expect: {{ http: 400, error_code: DRS.10000010 }}\n",
        stops_yaml((0..8).map(job_id)),
        job_id(8),
        job_id(99)
    );
    let body = format!(
        "limits: {{ batch: 20 }}\ndefaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{stops}"
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(batch_calls(&mock).len(), 1, "ten stops, one call");
    let report = report(dir.path());
    assert_eq!(report["summary"]["passed"], 10);
    assert!(
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["batch"] == 1)
    );
    for n in 0..8 {
        assert_eq!(mock.status(&job_id(n)), "RELEASE_RESOURCE_COMPLETE");
    }
}

#[test]
fn batches_follow_the_size_and_the_force_flag_in_plan_order() {
    let mock = External::start(config(jobs(0..7, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let forced: String = (3..5)
        .map(|n| format!("      - job: {}\n        force: true\n", job_id(n)))
        .collect();
    let body = format!(
        "defaults: {{ wait: false }}\nphases:\n  - name: all\n    batch: 2\n    stops:\n{}{forced}{}",
        stops_yaml((0..3).map(job_id)),
        stops_yaml((5..7).map(job_id)),
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--no-progress",
            "--report-md",
            "r.md",
            "--report-junit",
            "r.xml",
            "--report-html",
            "r.html",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Every report says which call each stop went out in, named by its first stop: #1 and #2
    // in call 1, #6 and #7 in call 6.
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let (md, xml, html) = (read("r.md"), read("r.xml"), read("r.html"));
    assert!(md.contains("| # | call | job |"), "{md}");
    assert!(md.contains(&format!("| 2 | 1 | `{}` |", job_id(1))), "{md}");
    assert!(md.contains(&format!("| 7 | 6 | `{}` |", job_id(6))), "{md}");
    assert!(
        xml.contains(r#"<property name="batch" value="6"/>"#),
        "{xml}"
    );
    assert!(
        html.contains(">call</th>"),
        "no call column in the HTML report"
    );
    let sizes: Vec<(usize, bool)> = batch_calls(&mock)
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            let items = body["jobs"].as_array().unwrap();
            (items.len(), items[0]["is_force_stop"] == true)
        })
        .collect();
    let mut sorted = sizes.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [(1, false), (2, false), (2, false), (2, true)],
        "{sizes:?}"
    );
}

#[test]
fn lost_batch_answers_with_status_lag_never_cost_a_second_stop() {
    let mut fleet = jobs(0..40, "INCRE_TRANSFER_STARTED");
    fleet.extend(jobs(40..44, "INCRE_TRANSFER_FAILED"));
    let mock = External::start(MockConfig {
        faults: Faults {
            error_after: 0.3,
            reset_after: 0.1,
            truncate: 0.05,
            status_lag: Duration::from_millis(700),
            ..Faults::default()
        },
        seed: 3,
        stop_delay: Duration::from_millis(3000),
        ..config(fleet)
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 4, batch: 8 }}\ndefaults: {{ wait: {{ timeout: 60s, poll: 100ms }}, retry: {{ attempts: 6, backoff: 50ms, max_backoff: 200ms, settle: 2s }} }}\nphases:\n  - name: healthy\n    stops:\n{}  - name: escalated\n    escalate: {{ after: 60s }}\n    stops:\n{}",
        stops_yaml((0..40).map(job_id)),
        stops_yaml((40..44).map(job_id)),
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    let got = mock.received();
    let mut wrong = got.other_than((0..40).map(job_id), &[TAKEN]);
    wrong.extend(got.other_than((40..44).map(job_id), &[TAKEN, FORCE_TAKEN]));
    assert_eq!(wrong, [], "{}", stderr(&output));
    for n in 0..44 {
        assert_eq!(
            mock.status(&job_id(n)),
            "RELEASE_RESOURCE_COMPLETE",
            "job {n}"
        );
    }
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        batch_calls(&mock).iter().any(|r| !r["fault"].is_null()),
        "faults were exercised"
    );
}

#[test]
fn a_batch_killed_mid_call_resumes_without_a_second_stop() {
    let mock = External::start(MockConfig {
        faults: Faults {
            latency: Duration::from_millis(1500),
            ..Faults::default()
        },
        ..config(jobs(0..10, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 10 }}\ndefaults: {{ wait: false, retry: {{ settle: 3s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..10).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let mut child = spawn(dir.path(), &args);
    wait_until("the batch was sent", || !batch_calls(&mock).is_empty());
    child.kill().unwrap(); // the call is in flight (1.5 s of latency): its outcome unknown
    child.wait().unwrap();
    let resumed = run(dir.path(), &[args.as_slice(), &["--resume"]].concat());
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    // The killed call was dropped with its connection before it was applied (never answered);
    // the resumed run read each job's status through the settle window, then sent it once.
    let got = mock.received();
    assert_eq!(got.other_than((0..10).map(job_id), &[TAKEN]), []);
    let answered: Vec<Value> = mock
        .requests()
        .into_iter()
        .filter(|r| r["method"] == "POST" && !r["status"].is_null())
        .collect();
    // The resumed run read the ten jobs' statuses together and sent them in one call again,
    // applied once (it sent ten single stops, one job at a time, before).
    assert_eq!(answered.len(), 1, "one applied call: {answered:?}");
    assert_eq!(answered[0]["status"], 200);
    assert_eq!(batch_calls(&mock).len(), 2, "{answered:?}");
}

#[test]
fn a_batch_above_one_hundred_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 101 }}\nphases:\n  - name: p\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), "https://drs.example.com", &body);
    let output = crate::support::stopbook(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`batch` must be from 1 to 100"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_throttling_gateway_teaches_the_run_its_rate() {
    let mock = External::start(MockConfig {
        faults: Faults {
            throttle: Some(20),
            ..Faults::default()
        },
        ..config(jobs(0..60, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 8 }}\ndefaults: {{ wait: false, retry: {{ attempts: 50, max_backoff: 1s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..60).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--report-md",
            "r.md",
            "--report-junit",
            "r.xml",
            "--report-html",
            "r.html",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = report(dir.path());
    let throttled = report["throttled"].as_u64().unwrap();
    // Every report counts the 429s (only the JSON report did before).
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let counted = format!("{throttled} answered 429");
    assert!(read("r.md").contains(&counted), "{}", read("r.md"));
    assert!(read("r.html").contains(&counted));
    let property = format!(r#"<property name="throttled" value="{throttled}"/>"#);
    assert!(read("r.xml").contains(&property));
    let answered_429 = mock
        .requests()
        .iter()
        .filter(|r| r["status"] == 429)
        .count() as u64;
    assert_eq!(throttled, answered_429, "every 429 is counted");
    assert!(
        throttled > 0 && report["adapted_rate"].is_number(),
        "{report}"
    );
    assert!(
        stderr(&output).contains("answered 429, adapted to"),
        "the progress lines say so: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("the run adapted to"),
        "{}",
        stderr(&output)
    );
    // A 429 reaches no job: each job received its one stop.
    assert_eq!(
        mock.received().other_than((0..60).map(job_id), &[TAKEN]),
        []
    );
}

/// A shard's stops make full batches of their own (before, each plan batch lost the other
/// shards' stops: shard 1 of 2 sent two calls of five instead of one of ten).
#[test]
fn a_shard_forms_full_batches_from_its_own_stops() {
    let mock = External::start(config(jobs(0..20, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 10 }}\ndefaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..20).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let output = run(dir.path(), &[args.as_slice(), &["--shard", "1/2"]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        batch_calls(&mock).len(),
        1,
        "the shard's ten stops, one call"
    );
    let got = mock.received();
    assert_eq!(got.jobs(), 10, "{got:?}");
    assert_eq!(got.other_than((0..20).step_by(2).map(job_id), &[TAKEN]), []);
}

/// A resumed run's report keeps the batch each finished stop went out in (it was lost before).
#[test]
fn resumed_results_keep_their_batch() {
    let mock = External::start(config(jobs(0..6, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 3 }}\ndefaults: {{ wait: false }}\nphases:\n  - name: first\n    stops:\n{}  - name: second\n    stops:\n{}",
        stops_yaml((0..3).map(job_id)),
        stops_yaml((3..6).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let paused = run(
        dir.path(),
        &[args.as_slice(), &["--until", "first"]].concat(),
    );
    assert_eq!(paused.status.code(), Some(0), "{}", stderr(&paused));
    let resumed = run(dir.path(), &[args.as_slice(), &["--resume"]].concat());
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let report = report(dir.path());
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    // Each call is named by its first stop's seq: 1 for the first phase, 4 for the second.
    let calls: Vec<&Value> = results.iter().map(|r| &r["batch"]).collect();
    assert_eq!(calls, [1, 1, 1, 4, 4, 4], "{results:?}");
    assert_eq!(batch_calls(&mock).len(), 2);
}

/// The Markdown plan says which call each stop goes out in, not only how many calls a phase
/// makes.
#[test]
fn the_markdown_plan_names_each_stops_call() {
    let dir = tempfile::tempdir().unwrap();
    let stops = format!(
        "{}      - job: {}\n        force: true\n",
        stops_yaml((0..2).map(job_id)),
        job_id(2)
    );
    let body = format!("limits: {{ batch: 2 }}\nphases:\n  - name: p\n    stops:\n{stops}");
    let path = runbook(dir.path(), "https://drs.example.com", &body);
    let output = crate::support::stopbook(["plan", path.to_str().unwrap()])
        .output()
        .unwrap();
    let plan = String::from_utf8(output.stdout).unwrap();
    assert!(plan.contains("| # | call | job |"), "{plan}");
    // A call is named by its first stop's seq.
    for (seq, call, n) in [(1, 1, 0), (2, 1, 1), (3, 3, 2)] {
        let row = format!("| {seq} | {call} | `{}` |", job_id(n));
        assert!(plan.contains(&row), "no `{row}` in\n{plan}");
    }
}

/// A refused item counts against the failure budget at once: no new batch starts past it while
/// the refused job's batch-mates are still waited for. (Before, the failure counted only once
/// its whole batch had ended, and the other worker sent every remaining batch meanwhile.)
#[test]
fn a_refused_item_stops_new_batches_at_once() {
    let mut fleet = jobs(0..1, "RELEASE_RESOURCE_COMPLETE");
    fleet.extend(jobs(1..12, "INCRE_TRANSFER_STARTED"));
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_secs(4),
        ..config(fleet)
    });
    let dir = tempfile::tempdir().unwrap();
    let rest: String = (2..12)
        .map(|n| format!("      - job: {}\n        expect: accepted\n", job_id(n)))
        .collect();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 200ms }} }}\nphases:\n  - name: canary\n    concurrency: 2\n    batch: 2\n    max_failures: 0\n    stops:\n{}{rest}",
        stops_yaml((0..2).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(dir.path(), &journaled(&path));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let sent = mock.received().jobs();
    // The other worker may have sent one more batch before the refusal was known, no more.
    assert!(sent <= 6, "{sent} jobs were sent a stop past the budget");
    assert!(report(dir.path())["summary"]["skipped"].as_u64().unwrap() >= 6);
}

/// Stops whose calls would be timed differently (retries, timeout) never share a call: a call
/// has one timing. (Before, the first member's settings timed the whole call.)
#[test]
fn stops_with_their_own_retries_go_in_calls_of_their_own() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 10 }}\ndefaults: {{ wait: false }}\nphases:\n  - name: p\n    stops:\n{}      - job: {}\n        retry: {{ attempts: 1 }}\n",
        stops_yaml((0..2).map(job_id)),
        job_id(2)
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(dir.path(), &[path.to_str().unwrap(), "--no-progress"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(batch_calls(&mock).len(), 2, "{:?}", batch_calls(&mock));
}

/// A lost batch answer is settled from ListJobs pages when many jobs wait for their status,
/// not with a detail read per job, and still no job gets a second stop. (Before, 60 jobs cost
/// a detail read each per settle read.)
#[test]
fn a_lost_batch_answer_is_settled_from_list_pages() {
    let mock = External::start(MockConfig {
        faults: Faults {
            error_after: 1.0,
            status_lag: Duration::from_millis(600),
            ..Faults::default()
        },
        ..config(jobs(0..60, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 60 }}\ndefaults: {{ wait: false, retry: {{ settle: 3s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..60).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let child = spawn(dir.path(), &[path.to_str().unwrap(), "--no-progress"]);
    // The call is applied and its answer lost; from then on every answer comes through.
    wait_until("the batch was sent", || !batch_calls(&mock).is_empty());
    crate::run::admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        serde_json::json!({"error_after": 0.0}),
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        mock.received().other_than((0..60).map(job_id), &[TAKEN]),
        []
    );
    let (details, lists) = mock.reads();
    assert!(
        lists > 0 && details < 60,
        "{details} detail reads, {lists} pages"
    );
}

/// A batch whose every call was reset before it was applied gives up with the same reason a
/// single stop gives: what went wrong, and that the status showed no stop (not "no answer").
#[test]
fn a_batch_that_gives_up_says_why_as_a_single_stop_does() {
    let mock = External::start(MockConfig {
        faults: Faults {
            reset_before: 1.0,
            stops_only: true,
            ..Faults::default()
        },
        ..config(jobs(0..2, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 2 }}\ndefaults: {{ wait: false, retry: {{ attempts: 2, backoff: 50ms, max_backoff: 100ms, settle: 1s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..2).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(mock.received().total(), 0, "no call was applied");
    for result in report(dir.path())["results"].as_array().unwrap() {
        let reason = result["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("gave up after 2 batch-stop calls: ")
                && reason.contains("the job's status showed no stop within the settle window")
                && !reason.contains("no answer"),
            "{reason}"
        );
    }
}

/// A batch member whose first call was lost (the status showed no stop) and whose next call
/// was accepted passes without a word of the lost call: its reason no longer says the status
/// showed no stop (the soak's check reads that as "no stop was taken": seeds 1 and 17 failed).
#[test]
fn a_member_accepted_after_a_lost_call_keeps_no_stale_reason() {
    let mock = External::start(MockConfig {
        faults: Faults {
            reset_before: 1.0,
            stops_only: true,
            ..Faults::default()
        },
        ..config(jobs(0..2, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 2 }}\ndefaults: {{ wait: false, retry: {{ attempts: 3, backoff: 50ms, max_backoff: 100ms, settle: 1s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..2).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let path = path.to_str().unwrap();
    let child = spawn(
        dir.path(),
        &[path, "--report-json", "report.json", "--no-progress"],
    );
    // The first call is reset; the settle window (1 s) reads no stop; the next call goes through.
    wait_until("the first call was sent", || !batch_calls(&mock).is_empty());
    crate::run::admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        serde_json::json!({"reset_before": 0.0}),
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(mock.received().other_than((0..2).map(job_id), &[TAKEN]), []);
    for result in report(dir.path())["results"].as_array().unwrap() {
        assert_eq!(result["outcome"], "passed", "{result}");
        assert_eq!(result["attempts"], 2, "{result}");
        let reason = result["reason"].as_str().unwrap_or("");
        assert!(!reason.contains("showed no stop"), "{result}");
    }
}

/// A batch call answered 429 and sent again passes as a single stop does: without a reason
/// naming the 429 (batch mode kept it on the result, a single stop never did).
#[test]
fn a_member_accepted_after_a_throttled_call_keeps_no_reason() {
    let mock = External::start(MockConfig {
        faults: Faults {
            throttle: Some(1),
            throttle_retry_after: Some(1),
            ..Faults::default()
        },
        ..config(jobs(0..4, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 2, concurrency: 2 }}\ndefaults: {{ wait: false, retry: {{ attempts: 5, max_backoff: 2s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..4).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let path = path.to_str().unwrap();
    let output = run(
        dir.path(),
        &[path, "--report-json", "report.json", "--no-progress"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let throttled = batch_calls(&mock)
        .iter()
        .filter(|r| r["status"] == 429)
        .count();
    assert!(
        throttled > 0,
        "no call was throttled: {:?}",
        batch_calls(&mock)
    );
    assert_eq!(mock.received().other_than((0..4).map(job_id), &[TAKEN]), []);
    for result in report(dir.path())["results"].as_array().unwrap() {
        assert_eq!(result["outcome"], "passed", "{result}");
        assert_eq!(result["reason"], Value::Null, "{result}");
    }
}
