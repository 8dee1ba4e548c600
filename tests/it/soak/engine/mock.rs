//! The mock a schedule runs against: the real mock server on a loopback port, in a thread of
//! its own, seeded with the schedule's fleet and faults (over HTTPS under the TLS twist), and
//! its admin record read back as JSON.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::Value;
use stopbook::mock::{self, JobSpec, MockConfig};

use super::drive::TOKEN;
use super::schedule::{Kind, Schedule};

/// The mock, serving for as long as the value lives.
pub struct Mock {
    pub url: String,
    /// The CA its HTTPS certificate is signed by (PEM), under the TLS twist.
    pub ca: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mock {
    /// The mock of a schedule: its fleet and faults, over HTTPS under the TLS twist.
    pub fn for_schedule(s: &Schedule) -> Mock {
        let mut config = mock_config(s);
        let mut ca = None;
        if s.twists.tls {
            let (pem, identity) = super::tls::identity();
            config.tls = Some(identity);
            config.faults.close_after = 0.15;
            ca = Some(pem);
        }
        let mut mock = Mock::start(config);
        mock.ca = ca;
        mock
    }

    pub fn start(config: MockConfig) -> Mock {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the mock");
            runtime.block_on(async move {
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
                let server = mock::start(addr, config).await.expect("the mock starts");
                let _ = url_tx.send(server.url());
                let _ = stopped.await;
                server.shutdown().await;
            });
        });
        Mock {
            url: url_rx.recv().expect("the mock's address"),
            ca: None,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// An admin endpoint's JSON, over a plain HTTP/1.0 connection.
    pub fn get(&self, path: &str) -> Value {
        if let Some(ca) = &self.ca {
            return super::tls::get(&format!("{}{path}", self.url), ca);
        }
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("the mock accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a timeout");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("the request");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("the answer");
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).unwrap_or(Value::Null)
    }

    /// How many requests (every kind) the mock has received.
    pub fn request_count(&self) -> usize {
        let log = self.get("/__mock/requests");
        log["requests"].as_array().map_or(0, Vec::len)
    }

    /// How many stop calls (single and batch) the mock has received.
    pub fn stop_calls(&self) -> usize {
        let log = self.get("/__mock/requests");
        log["requests"].as_array().map_or(0, |rs| {
            rs.iter()
                .filter(|r| r["method"] == "POST" && r["path"].as_str().is_some_and(is_stop))
                .count()
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

/// The mock's truth (`/__mock/jobs`) once every accepted stop has run its course (no job shows
/// `RELEASE_RESOURCE_STARTED`; no schedule starts a job in it), or at `deadline` as it is then:
/// a job still ending past its stop's delay is then judged as it is.
pub fn settled_truth(mock: &Mock, deadline: Instant) -> Value {
    loop {
        let jobs = mock.get("/__mock/jobs");
        let ending = jobs["jobs"].as_array().is_some_and(|all| {
            all.iter()
                .any(|j| j["status"] == "RELEASE_RESOURCE_STARTED")
        });
        if !ending || Instant::now() >= deadline {
            return jobs;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn is_stop(path: &str) -> bool {
    path.ends_with("/stop") || path.ends_with("/batch-stop")
}

/// The mock's configuration for a schedule: its fleet (missing jobs left out), faults, seed.
pub fn mock_config(s: &Schedule) -> MockConfig {
    let jobs = s
        .jobs
        .iter()
        .filter(|j| j.kind != Kind::Missing)
        .map(|j| JobSpec {
            id: j.id.clone(),
            name: format!("DRS-{}", &j.id[..8]),
            status: j.status.into(),
            job_type: "sync".into(),
            ..JobSpec::default()
        })
        .collect();
    MockConfig {
        jobs,
        token: Some(TOKEN.to_owned().into()),
        faults: s.faults.clone(),
        seed: s.seed,
        stop_delay: s.stop_delay,
        log_limit: 1_000_000,
        ..MockConfig::default()
    }
}
