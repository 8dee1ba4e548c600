//! An interrupted run's closing line says which skipped stops may have reached the server: a
//! stop that only ever got 429s never did, and is counted "never sent", not "sent with the
//! outcome not yet known".

use stopbook::mock::{Faults, MockConfig};

use crate::run::{
    External, config, job_id, jobs, report, runbook, spawn, stderr, stops_yaml, wait_until,
};

#[test]
fn a_stop_that_only_got_429s_is_counted_never_sent() {
    // One request a second, then 429 with Retry-After: 30: of three stops sent within the
    // same second or two, one at least is throttled, and the run pauses 30 s.
    let mock = External::start(MockConfig {
        faults: Faults {
            throttle: Some(1),
            throttle_retry_after: Some(30),
            ..Faults::default()
        },
        ..config(jobs(0..3, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 1 }}\ndefaults: {{ wait: false, retry: {{ attempts: 5, max_backoff: 30s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let path = path.to_str().unwrap();
    let child = spawn(
        dir.path(),
        &[path, "--report-json", "report.json", "--no-progress"],
    );
    let throttled = || {
        mock.stops()
            .into_iter()
            .filter(|r| r["status"] == 429)
            .count()
    };
    wait_until("a stop is answered 429", || throttled() > 0);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));

    // From the mock's own record: the jobs whose every stop request was answered 429, and those
    // never asked at all.
    let stops = mock.stops();
    let answered_only_429 = (0..3)
        .map(job_id)
        .filter(|job| {
            let mine: Vec<_> = stops
                .iter()
                .filter(|r| r["path"].as_str().unwrap_or("").contains(job.as_str()))
                .collect();
            !mine.is_empty() && mine.iter().all(|r| r["status"] == 429)
        })
        .count();
    let never_asked = (0..3)
        .map(job_id)
        .filter(|job| {
            !stops
                .iter()
                .any(|r| r["path"].as_str().unwrap_or("").contains(job.as_str()))
        })
        .count();
    assert!(answered_only_429 >= 1, "{stops:?}");
    let report = report(dir.path());
    let skipped = report["summary"]["skipped"].as_u64().unwrap() as usize;
    assert_eq!(skipped, answered_only_429 + never_asked, "{report}");
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "0 accepted and not yet ended, 0 sent with the outcome not yet known, {skipped} never sent"
        )),
        "{err}"
    );
}

/// A read of live state that waits out a `Retry-After: 30` ends at SIGINT at once: reads run
/// before any signal handler is installed, so SIGINT's default action ends `plan --live`
/// (a handler installed before them would leave their retry sleeps, and the terminal's
/// question after them, deaf to it). Nothing is stopped.
#[test]
fn a_read_of_live_state_waiting_to_retry_ends_at_sigint() {
    let mock = External::start(MockConfig {
        faults: Faults {
            throttle: Some(1),
            throttle_retry_after: Some(30),
            ..Faults::default()
        },
        ..config(jobs(0..3, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 1 }}\ndefaults: {{ wait: false, retry: {{ attempts: 5, max_backoff: 30s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .args(["plan", path.to_str().unwrap(), "--live"])
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", crate::run::TOKEN)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let throttled = || mock.requests().iter().any(|r| r["status"] == 429);
    wait_until("a read is answered 429", throttled);
    let signalled = std::time::Instant::now();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut ended = None;
    wait_until("plan --live ends after SIGINT", || {
        ended = child.try_wait().unwrap();
        ended.is_some()
    });
    assert!(
        signalled.elapsed() < std::time::Duration::from_secs(10),
        "plan --live slept {:?} past SIGINT",
        signalled.elapsed()
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(ended.unwrap().signal(), Some(libc::SIGINT), "{ended:?}");
    assert_eq!(mock.stops(), Vec::<serde_json::Value>::new());
}
