//! The binary as a default build makes it (no cargo feature), the one users run: the test
//! switches of `src/exec/failpoint.rs` are not in it. `STOPBOOK_FAILPOINT` set in its
//! environment changes nothing, and its name is nowhere in the executable.
//!
//! A test target of its own, so that CI can build it without the `failpoints` feature the rest
//! of the suite needs: `cargo test --locked --test default_build` (see `.ci/run`). With the
//! feature on, the binary has the switches on purpose and this target is empty.
#![cfg(not(feature = "failpoints"))]

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use stopbook::mock::{self, Faults, JobSpec, MockConfig};

const PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";
const TOKEN: &str = "default-build-token-3b8e1f";
const JOB: &str = "00000000-0000-4000-8000-00000000jb00";

/// The mock, serving in a thread of its own until `stop` is sent.
struct Mock {
    addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mock {
    fn start(config: MockConfig) -> Mock {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
                let server = mock::start(addr, config).await.unwrap();
                url_tx.send(server.url()).unwrap();
                let _ = stopped.await;
                server.shutdown().await;
            });
        });
        let url: String = url_rx.recv().unwrap();
        Mock {
            addr: url.trim_start_matches("http://").to_owned(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The stops the mock's model received for `job`, (force, taken) in arrival order: its
    /// own record, whatever answers the client saw.
    fn received(&self, job: &str) -> Vec<(bool, bool)> {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET /__mock/jobs HTTP/1.0\r\nHost: {}\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let jobs: Value = serde_json::from_str(body).unwrap();
        jobs["stops"][job].as_array().map_or_else(Vec::new, |list| {
            list.iter()
                .map(|r| (r["force"] == true, r["taken"] == true))
                .collect()
        })
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A mock whose every stop is applied and then answered 502 or 504: an outcome the client
/// cannot know from the answer, only from the job's status.
fn lost_answers() -> Mock {
    Mock::start(MockConfig {
        jobs: vec![JobSpec {
            id: JOB.into(),
            name: "DRS-0".into(),
            status: "INCRE_TRANSFER_STARTED".into(),
            job_type: "sync".into(),
            ..JobSpec::default()
        }],
        token: Some(TOKEN.to_owned().into()),
        faults: Faults {
            error_after: 1.0,
            stops_only: true,
            ..Faults::default()
        },
        stop_delay: Duration::from_secs(20),
        ..MockConfig::default()
    })
}

/// `stopbook run` of one stop (three attempts, no wait) with `STOPBOOK_FAILPOINT=failpoint`.
fn run_with(dir: &Path, mock: &Mock, failpoint: &str) -> std::process::Output {
    let runbook = format!(
        "version: 1\nname: default build\ntarget:\n  endpoint: http://{}\n  project_id: {PROJECT}\n  auth: {{ token_env: STOPBOOK_TEST_TOKEN }}\n\
         defaults: {{ wait: false, retry: {{ attempts: 3, backoff: 50ms, settle: 2s }} }}\n\
         phases:\n  - name: all\n    stops:\n      - job: {JOB}\n",
        mock.addr
    );
    let path = dir.join("runbook.yaml");
    std::fs::write(&path, runbook).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .arg("run")
        .arg(&path)
        .arg("--no-progress")
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .env("STOPBOOK_FAILPOINT", failpoint)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("the run did not end within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn resend_unknown_in_the_environment_sends_no_second_stop() {
    let mock = lost_answers();
    let dir = tempfile::tempdir().unwrap();
    let output = run_with(dir.path(), &mock, "resend-unknown");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        mock.received(JOB),
        [(false, true)],
        "one stop reached the job, (force, taken) per stop received\n{stderr}"
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn panic_at_stop_in_the_environment_panics_nothing() {
    let mock = lost_answers();
    let dir = tempfile::tempdir().unwrap();
    let output = run_with(dir.path(), &mock, "panic-at-stop:1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(mock.received(JOB), [(false, true)], "{stderr}");
}

#[test]
fn the_executable_holds_no_test_switch() {
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_stopbook")).unwrap();
    // Lossy, the names (ASCII) are kept as they are; std's search is fast even in a test build.
    let text = String::from_utf8_lossy(&bytes);
    for name in ["STOPBOOK_FAILPOINT", "resend-unknown", "panic-at-stop"] {
        assert!(
            !text.contains(name),
            "`{name}` is in the default build's executable"
        );
    }
}
