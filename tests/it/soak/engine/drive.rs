//! Running one schedule: the real mock on a loopback port (in a thread of its own), the
//! runbook written out, the real binary started, interrupted (kill -9, SIGINT) when the
//! schedule says, and resumed until it exits with a final code. Every loop is bounded in count
//! and time.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use stopbook::mock::{self, JobSpec, MockConfig};

use super::schedule::{Interrupt, Kind, Schedule, Signal, Trigger};

pub const PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";
/// The credential: the checks look for it in every output.
pub const TOKEN: &str = "soak-secret-token-7d41c2e9b8";
/// Processes one schedule may start (the first run and its resumes).
const MOST_PROCESSES: usize = 12;
/// The longest one schedule may take before it counts as hung.
const SCHEDULE_LIMIT: Duration = Duration::from_secs(120);

/// The exit `wait_bounded` gives a process it had to kill.
const HUNG: i32 = -2;

/// The mock, serving for as long as the value lives.
pub struct Mock {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mock {
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
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// An admin endpoint's JSON, over a plain HTTP/1.0 connection.
    pub fn get(&self, path: &str) -> Value {
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

/// The runbook of a schedule, aimed at `url`.
pub fn runbook(s: &Schedule, url: &str) -> String {
    let mut out = format!(
        "version: 1\nname: soak {}\ntarget:\n  endpoint: {url}\n  project_id: {PROJECT}\n  auth: {{ token_env: SOAK_TOKEN }}\n",
        s.seed
    );
    let wait = match s.wait {
        Some(t) => format!("{{ timeout: {}ms, poll: 50ms }}", t.as_millis()),
        None => "false".to_owned(),
    };
    out += &format!(
        "defaults:\n  request_timeout: {}ms\n  retry: {{ attempts: {}, backoff: 10ms, max_backoff: 150ms, settle: {}ms }}\n  wait: {wait}\n",
        s.request_timeout.as_millis(),
        s.attempts,
        s.settle.as_millis()
    );
    if let Some(after) = s.escalate {
        out += &format!("  escalate: {{ after: {}ms }}\n", after.as_millis());
    }
    out += &format!(
        "limits:\n  concurrency: {}\n  batch: {}\n",
        s.concurrency, s.batch
    );
    if let Some(rate) = s.rate {
        out += &format!("  rate: {rate}/s\n");
    }
    if let Some(n) = s.max_failures {
        out += &format!("  max_failures: {n}\n");
    }
    out += "phases:\n";
    for (p, phase) in s.phases.iter().enumerate() {
        out += &phase_yaml(s, p, phase);
    }
    out
}

fn phase_yaml(s: &Schedule, p: usize, phase: &super::schedule::Phase) -> String {
    let jobs: Vec<_> = s.jobs.iter().filter(|j| j.phase == p).collect();
    // A phase with no stop left (a shrink) is left out: the runbook format needs stops.
    if jobs.is_empty() {
        return String::new();
    }
    let mut out = format!("  - name: p{p}\n");
    if let Some(b) = phase.batch {
        out += &format!("    batch: {b}\n");
    }
    if let Some(n) = phase.max_failures {
        out += &format!("    max_failures: {n}\n");
    }
    out += "    stops:\n";
    for j in jobs {
        out += &format!("      - job: {}\n", j.id);
        if j.force {
            out += "        force: true\n";
        }
        match j.kind {
            Kind::Missing => out += "        expect: { http: 400, error_code: DRS.10000010 }\n",
            Kind::Ended => out += "        expect: { http: 400, error_code: DRS.10000001 }\n",
            Kind::Healthy | Kind::Abnormal => {}
        }
    }
    out
}

/// What running a schedule left: each process's exit, the outputs, the final report.
#[derive(Debug, Default)]
pub struct Ran {
    /// Exit codes in order (`None`: ended by a signal).
    pub exits: Vec<Option<i32>>,
    pub kills: usize,
    pub sigints: usize,
    /// Every byte any process printed, and the files it wrote.
    pub outputs: String,
    pub report: Option<Value>,
    /// Why the schedule could not run to a final exit, if it could not.
    pub stuck: Option<String>,
}

/// Runs the binary at `bin` on the schedule until it exits with a final code.
pub fn run(bin: &Path, s: &Schedule, mock: &Mock, dir: &Path, env: &[(String, String)]) -> Ran {
    let book = dir.join("runbook.yaml");
    std::fs::write(&book, runbook(s, &mock.url)).expect("the runbook is written");
    let started = Instant::now();
    let mut ran = Ran::default();
    let mut interrupts = s.interrupts.iter();
    for n in 0..MOST_PROCESSES {
        let resume = dir.join("j.jsonl").exists();
        let mut child = spawn(bin, &book, dir, n, resume, env);
        let exit = match interrupts.next() {
            Some(i) => interrupt(&mut child, i, mock, &mut ran),
            None => wait_bounded(&mut child, started + SCHEDULE_LIMIT),
        };
        ran.exits.push(exit);
        match exit {
            Some(0 | 1 | 3) => break,
            Some(HUNG) => {
                ran.stuck = Some(format!("process {n} hung; killed"));
                break;
            }
            Some(2) if !resume => {
                ran.stuck = Some("exit 2 on a first run".into());
                break;
            }
            _ => {}
        }
        if started.elapsed() > SCHEDULE_LIMIT || n + 1 == MOST_PROCESSES {
            ran.stuck = Some(format!(
                "no final exit after {} processes and {:?} (exits {:?})",
                n + 1,
                started.elapsed(),
                ran.exits
            ));
            break;
        }
    }
    collect(dir, &mut ran);
    ran
}

fn spawn(
    bin: &Path,
    book: &Path,
    dir: &Path,
    n: usize,
    resume: bool,
    env: &[(String, String)],
) -> Child {
    let out = std::fs::File::create(dir.join(format!("out-{n}.txt"))).expect("an output file");
    let err = std::fs::File::create(dir.join(format!("err-{n}.txt"))).expect("an output file");
    let mut cmd = Command::new(bin);
    cmd.arg("run")
        .arg(book)
        .args(["--journal", "j.jsonl", "--report-json", "report.json"])
        .args(["--report-md", "report.md", "--no-progress"])
        .current_dir(dir)
        .env("SOAK_TOKEN", TOKEN)
        .env_remove("STOPBOOK_FAILPOINT")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if resume {
        cmd.arg("--resume");
    }
    cmd.spawn().expect("the binary starts")
}

/// Waits for the trigger, sends the signal, and waits for the process to end.
fn interrupt(child: &mut Child, i: &Interrupt, mock: &Mock, ran: &mut Ran) -> Option<i32> {
    let start = Instant::now();
    let base = mock.stop_calls();
    let limit = start + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        let due = match i.trigger {
            Trigger::After(d) => start.elapsed() >= d,
            Trigger::Stops(n) => mock.stop_calls() >= base + n,
        };
        if due || Instant::now() >= limit {
            break;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    match i.signal {
        Signal::Kill => {
            let _ = child.kill();
            ran.kills += 1;
        }
        Signal::Int => {
            // SAFETY: a plain kill(2) on the pid of a child this process owns and has not
            // reaped yet.
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            ran.sigints += 1;
        }
    }
    wait_bounded(child, Instant::now() + Duration::from_secs(60))
}

/// Waits for the process until `deadline`, then kills it (a hang: reported by the checks).
fn wait_bounded(child: &mut Child, deadline: Instant) -> Option<i32> {
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Some(HUNG);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every output of every process, and the final JSON report.
fn collect(dir: &Path, ran: &mut Ran) {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.sort();
    for path in names {
        if path.extension().is_some_and(|e| e == "yaml") {
            continue;
        }
        if let Ok(bytes) = std::fs::read(&path) {
            ran.outputs += &String::from_utf8_lossy(&bytes);
        }
    }
    ran.report = std::fs::read_to_string(dir.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
}
