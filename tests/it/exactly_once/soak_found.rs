//! Bugs the chaos soak (`tests/it/soak`, `benches/soak.rs`) found, each reduced to a focused
//! schedule that fails on the code before its fix.

use std::time::Duration;

use serde_json::json;
use stopbook::mock::{Faults, MockConfig};

use super::*;
use crate::run::{External, config, job_id, journaled, runbook, stderr, stops_yaml};

/// Soak seed 71: a resumed run read the job's status through the settle window, found no
/// stop, sent it, and was killed; the next resume measured its window from the journal's last
/// write, which was older than that send (nothing was written before it), so a status still
/// lagging made it send a second stop.
#[test]
fn a_resumed_send_is_journaled_before_it_goes_so_the_next_resume_waits_for_it() {
    let mock = External::start(MockConfig {
        faults: Faults {
            reset_before: 1.0,
            ..Faults::default()
        },
        // Reads lag 0.6 to 1.2 s behind a stop; the settle window (2 s) is longer.
        stop_delay: Duration::from_secs(20),
        ..config(jobs(0..1, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: false, retry: {{ attempts: 3, backoff: 50ms, settle: 2s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let resume: Vec<&str> = [args.as_slice(), &["--resume"]].concat();
    // Run 1: its stop never arrives (a reset before it is applied); killed while it settles.
    let mut first = spawn(dir.path(), &args);
    wait_until("the first stop was turned away", || {
        !mock.stops().is_empty()
    });
    wait_until_read_after_stops(&mock, "the first run settles");
    first.kill().unwrap();
    first.wait().unwrap();
    // Now stops are applied, their answers trickle in (so a kill loses them), reads lag.
    let healed = json!({"reset_before": 0.0, "slow_body_ms": 100, "status_lag_ms": 1200});
    admin(&mock, reqwest::Method::PUT, "/__mock/faults", healed);
    // Run 2: reads through the window, sends, and is killed as soon as the stop is taken
    // (while it settles the lost answer).
    let mut second = spawn(dir.path(), &resume);
    wait_until("the resumed stop was taken", || {
        mock.received().of(&job_id(0)).contains(&TAKEN)
    });
    second.kill().unwrap();
    second.wait().unwrap();
    // Run 3, at once, the gateway healed: the status still shows the job running (lag).
    admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        json!({"slow_body_ms": 0}),
    );
    let third = crate::run::run(dir.path(), &resume);
    assert_eq!(
        mock.received().of(&job_id(0)),
        [TAKEN],
        "one stop reached the job\n{}",
        stderr(&third)
    );
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
}

/// Soak seeds 84 and 139: an escalation's force stop whose outcome was unknown was judged
/// taken because the job showed `RELEASE_RESOURCE_STARTED`, but that status came from its
/// graceful stop: the force stop never arrived, and the report said `escalated: true`.
#[test]
fn an_escalation_whose_force_stop_never_arrived_is_not_reported_escalated() {
    let mock = External::start(MockConfig {
        // The graceful stop of a failed job ends RELEASE_RESOURCE_FAILED, 4 s later.
        stop_delay: Duration::from_secs(4),
        ..config(jobs(0..1, "INCRE_TRANSFER_FAILED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 20s, poll: 100ms }}, escalate: {{ after: 1s }}, retry: {{ attempts: 3, backoff: 50ms, settle: 1s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let child = spawn(dir.path(), &args);
    let job = job_id(0);
    wait_until("the graceful stop was taken", || {
        mock.received().of(&job) == [TAKEN]
    });
    // From now on stop calls (not reads) are reset before they are applied, until the force
    // stop was one.
    let resets = json!({"reset_before": 1.0, "stops_only": true});
    admin(&mock, reqwest::Method::PUT, "/__mock/faults", resets);
    wait_until("the force stop was turned away", || {
        // The only stop after the graceful one is the force stop.
        mock.stops()
            .iter()
            .any(|r| r["fault"] == "reset before apply")
    });
    admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        json!({"reset_before": 0.0}),
    );
    let output = child.wait_with_output().unwrap();
    let report = crate::run::report(dir.path());
    let result = &report["results"][0];
    assert_eq!(mock.received().of(&job), [TAKEN], "no force stop arrived");
    assert_eq!(
        result["escalated"],
        false,
        "{result}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(result["outcome"], "failed", "{result}");
}

/// Soak seeds 12 and 84: a stop sent as a force stop was escalated, a second force stop, when
/// its job still showed its old status (lag) past `escalate.after`.
#[test]
fn a_force_stop_is_never_escalated() {
    let mock = External::start(MockConfig {
        faults: Faults {
            status_lag: Duration::from_millis(1000),
            ..Faults::default()
        },
        stop_delay: Duration::from_secs(2),
        ..config(jobs(0..1, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ force: true, wait: {{ timeout: 20s, poll: 50ms }}, escalate: {{ after: 100ms }}, retry: {{ settle: 2s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = crate::run::run(dir.path(), &journaled(&path));
    assert_eq!(
        mock.received().of(&job_id(0)),
        [FORCE_TAKEN],
        "one force stop\n{}",
        stderr(&output)
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}
