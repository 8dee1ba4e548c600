//! The mock must never be what limits a run (`cargo bench --bench mock`; needs `wrk`, the Debian
//! package).
//!
//! wrk sends the same stop requests, with the same connections and threads, to the mock and to a
//! bare axum handler that answers a constant body, alternately, in one run. The figure is the
//! ratio of their request rates; the target is at least 0.6. Every request stops a different
//! task (IDs are computed in the wrk script), so the mock does its real work: authentication,
//! body parsing, the state change, the request log.

mod support;

use std::time::Duration;

use axum::routing::post;
use stopbook::mock::{self, JobSpec, MockConfig};
use support::job_id;
/// Tasks each wrk thread may stop in one round: more than it can send in SECONDS.
const JOBS_PER_THREAD: usize = 200_000;
const THREADS: usize = 2;
const CONNECTIONS: usize = 64;
const SECONDS: u64 = 4;
const ROUNDS: usize = 2;

fn main() {
    support::require_wrk();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let script = dir.path().join("stop.lua");
    support::write_stop_script(&script, JOBS_PER_THREAD, "bench-token");

    let (mock_url, bare_url) = runtime.block_on(async {
        let jobs: Vec<JobSpec> = (0..JOBS_PER_THREAD * THREADS * ROUNDS)
            .map(|n| JobSpec {
                id: job_id(n),
                name: format!("DRS-{n}"),
                status: "INCRE_TRANSFER_STARTED".into(),
                job_type: "sync".into(),
                ..Default::default()
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
        bare_rates.push(support::wrk(
            &bare_url,
            &script,
            THREADS,
            CONNECTIONS,
            SECONDS,
            first_task,
        ));
        mock_rates.push(support::wrk(
            &mock_url,
            &script,
            THREADS,
            CONNECTIONS,
            SECONDS,
            first_task,
        ));
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
