//! The mock must never be what limits a run (`cargo bench --bench mock`; needs `wrk`, the Debian
//! package).
//!
//! wrk sends the same stop requests, with the same connections and threads, to the mock and to a
//! bare axum handler that answers a constant body, alternately, in one run. The figure is the
//! ratio of their request rates; the target is at least 0.6. Every request stops a different
//! task (IDs are computed in the wrk script), so the mock does its real work: authentication,
//! body parsing, the state change, the request log.

use std::process::Command;
use std::time::Duration;

use axum::routing::post;
use stopbook::mock::{self, JobSpec, MockConfig};

const PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";
/// Tasks each wrk thread may stop in one round: more than it can send in SECONDS.
const JOBS_PER_THREAD: usize = 200_000;
const THREADS: usize = 2;
const CONNECTIONS: usize = 64;
const SECONDS: u64 = 4;
const ROUNDS: usize = 2;

fn job_id(n: usize) -> String {
    format!("{n:08}-0000-4000-8000-{n:012}")
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("this benchmark needs wrk: apt-get install wrk");
        std::process::exit(1);
    }
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let script = dir.path().join("stop.lua");
    std::fs::write(&script, lua_script()).expect("write the wrk script");

    let (mock_url, bare_url) = runtime.block_on(async {
        let jobs: Vec<JobSpec> = (0..JOBS_PER_THREAD * THREADS * ROUNDS)
            .map(|n| JobSpec {
                id: job_id(n),
                name: format!("DRS-{n}"),
                status: "INCRE_TRANSFER_STARTED".into(),
                job_type: "sync".into(),
            })
            .collect();
        let config = MockConfig {
            jobs,
            token: Some("bench-token".into()),
            stop_delay: Duration::from_secs(3600),
            ..MockConfig::default()
        };
        let mock = mock::start_embedded(config).await.expect("the mock starts");
        let bare = bare_server().await;
        let urls = (mock.url(), bare);
        std::mem::forget(mock);
        urls
    });

    let mut mock_rates = Vec::new();
    let mut bare_rates = Vec::new();
    for round in 0..ROUNDS {
        // Each round stops tasks of its own, so none is stopped twice.
        let first_task = round * THREADS * JOBS_PER_THREAD;
        bare_rates.push(wrk(&bare_url, &script, first_task));
        mock_rates.push(wrk(&mock_url, &script, first_task));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mock_rate, bare_rate) = (mean(&mock_rates), mean(&bare_rates));
    println!(
        "wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s, each a new stop, mean of {ROUNDS} alternating rounds"
    );
    println!("  bare axum handler   {bare_rate:>9.0} requests/s  {bare_rates:?}");
    println!("  stopbook mock       {mock_rate:>9.0} requests/s  {mock_rates:?}");
    println!(
        "ratio mock / bare     {:>9.2}  (target at least 0.60)",
        mock_rate / bare_rate
    );
}

/// A handler that does nothing but answer: the ceiling for this machine, server and client.
async fn bare_server() -> String {
    let app = axum::Router::new().route(
        "/v5/{project_id}/jobs/{job_id}/stop",
        post(|| async { axum::Json(serde_json::json!({"status": "success"})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn wrk(url: &str, script: &std::path::Path, first_task: usize) -> f64 {
    let output = Command::new("wrk")
        .args([
            "-t",
            &THREADS.to_string(),
            "-c",
            &CONNECTIONS.to_string(),
            "-d",
            &format!("{SECONDS}s"),
            "-s",
        ])
        .arg(script)
        .arg(url)
        .args(["--", &first_task.to_string()])
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("Non-2xx"),
        "some stops were refused; the task supply ran out:\n{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rate in wrk's output:\n{text}"))
}

/// Each wrk thread stops its own range of tasks, one new task a request.
fn lua_script() -> String {
    format!(
        r#"local counter = 0
function setup(thread)
  thread:set("base", counter * {JOBS_PER_THREAD})
  counter = counter + 1
end
function init(args)
  base = base + tonumber(args[1])
end
local n = 0
wrk.method = "POST"
wrk.body = '{{"is_force_stop": false}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Auth-Token"] = "bench-token"
request = function()
  local id = base + (n % {JOBS_PER_THREAD})
  n = n + 1
  local path = string.format("/v5/{PROJECT}/jobs/%08d-0000-4000-8000-%012d/stop", id, id)
  return wrk.format(nil, path)
end
local shown = false
response = function(status, headers, body)
  if status ~= 200 and not shown then
    shown = true
    print("first refusal: " .. status .. " " .. body)
  end
end
"#
    )
}
