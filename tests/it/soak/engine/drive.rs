//! Running one schedule: the real mock on a loopback port (in a thread of its own), the
//! runbook written out, the real binary started, interrupted (kill -9, SIGINT) when the
//! schedule says, and resumed until it exits with a final code. Every loop is bounded in count
//! and time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use super::mock::{Mock, is_stop, settled_truth};
use super::schedule::{Interrupt, Kind, Schedule, Signal, Trigger};
use super::twists;

pub const PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";
/// The credential: the checks look for it in every output.
pub const TOKEN: &str = "soak-secret-token-7d41c2e9b8";
/// Processes one schedule may start (the first run and its resumes).
const MOST_PROCESSES: usize = 12;
/// The longest one schedule may take before it counts as hung.
const SCHEDULE_LIMIT: Duration = Duration::from_secs(120);

/// The exit `wait_bounded` gives a process it had to kill.
const HUNG: i32 = -2;

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

/// What one leg (the whole plan, or one shard of it) left: each process's exit and the final
/// report.
#[derive(Debug, Default)]
pub struct Leg {
    /// The shard (`Some(k)` of two), or `None` for the whole plan.
    pub shard: Option<usize>,
    /// Exit codes in order (`None`: ended by a signal).
    pub exits: Vec<Option<i32>>,
    pub report: Option<Value>,
    /// The same window's report rendered afterwards, offline, from the journal alone
    /// (`stopbook report`): it must be the last run's.
    pub offline: Option<Value>,
    /// Why the leg could not run to a final exit, if it could not.
    pub stuck: Option<String>,
    /// The mock's request log positions the leg's processes sent between.
    pub requests: (usize, usize),
    /// Where in the request log the `--retry-failed` resume began: it goes through the phases
    /// again, in order, after the run before it went through them.
    pub retry_from: Option<usize>,
    /// Jobs whose stop had failed when a `--retry-failed` resume started: each may get one
    /// stop more.
    pub retried: Vec<String>,
}

/// What running a schedule left: its legs, the interrupts, the outputs.
#[derive(Debug, Default)]
pub struct Ran {
    pub legs: Vec<Leg>,
    pub kills: usize,
    pub sigints: usize,
    /// Every byte any process printed, and the files it wrote.
    pub outputs: String,
    /// Boundary rules a twist found broken (a rival or a resume elsewhere not refused).
    pub findings: Vec<String>,
    /// The twists that took place (a rival refused, a resume elsewhere refused then
    /// retargeted, a pause at `--until`, a `--retry-failed` resume, a shard run).
    pub twisted: Vec<&'static str>,
}

impl Ran {
    /// Processes started, over every leg.
    pub fn processes(&self) -> usize {
        self.legs.iter().map(|l| l.exits.len()).sum()
    }
}

/// Runs the binary at `bin` on the schedule until each leg exits with a final code.
pub fn run(bin: &Path, s: &Schedule, mock: &Mock, dir: &Path, env: &[(String, String)]) -> Ran {
    let book = dir.join("runbook.yaml");
    std::fs::write(&book, runbook(s, &mock.url)).expect("the runbook is written");
    let mut ran = Ran::default();
    let mut interrupts = s.interrupts.iter();
    for shard in twists::shards(&s.twists) {
        let from = mock.request_count();
        let ctx = Ctx {
            bin,
            s,
            mock,
            dir,
            env,
            book: &book,
            shard,
        };
        if shard.is_some() {
            ran.twisted.push("shard run");
        }
        let mut leg = run_leg(&ctx, &mut interrupts, &mut ran);
        leg.requests = (from, mock.request_count());
        ran.legs.push(leg);
    }
    if mock.ca.is_some() {
        let log = mock.get("/__mock/requests");
        let closed = log["requests"].as_array().map_or(0, |rs| {
            rs.iter()
                .filter(|r| r["fault"] == "closed after apply")
                .count()
        });
        ran.twisted.extend(std::iter::repeat_n(
            "TLS closed without close_notify after apply",
            closed,
        ));
    }
    collect(dir, &mut ran);
    ran
}

/// What every process of one leg shares.
struct Ctx<'a> {
    bin: &'a Path,
    s: &'a Schedule,
    mock: &'a Mock,
    dir: &'a Path,
    env: &'a [(String, String)],
    book: &'a Path,
    shard: Option<usize>,
}

impl Ctx<'_> {
    fn journal(&self) -> PathBuf {
        self.dir.join(self.name("j", "jsonl"))
    }

    fn report(&self) -> PathBuf {
        self.dir.join(self.name("report", "json"))
    }

    fn name(&self, stem: &str, ext: &str) -> String {
        match self.shard {
            Some(k) => format!("{stem}-{k}.{ext}"),
            None => format!("{stem}.{ext}"),
        }
    }

    /// The leg's window rendered from its journal by `stopbook report`, if it could be.
    fn render_offline(&self) -> Option<Value> {
        let out = self.dir.join(self.name("offline", "json"));
        let status = std::process::Command::new(self.bin)
            .arg("report")
            .arg(self.journal())
            .arg("--report-json")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        let text = status
            .success()
            .then(|| std::fs::read_to_string(&out).ok())??;
        serde_json::from_str(&text).ok()
    }

    /// The outcome of the leg's last report, if one was written.
    fn outcome(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.report()).ok()?;
        let report: Value = serde_json::from_str(&text).ok()?;
        report["outcome"].as_str().map(str::to_owned)
    }
}

/// The flags of one process.
#[derive(Debug, Clone, Default)]
struct Call {
    resume: bool,
    until: bool,
    retry_failed: bool,
    endpoint: Option<String>,
    retarget: bool,
}

fn run_leg(ctx: &Ctx, interrupts: &mut std::slice::Iter<Interrupt>, ran: &mut Ran) -> Leg {
    let twists = ctx.s.twists;
    let started = Instant::now();
    let mut leg = Leg {
        shard: ctx.shard,
        ..Leg::default()
    };
    let mut endpoint = None;
    let mut retry_next = false;
    for n in 0..MOST_PROCESSES {
        let resume = ctx.journal().exists();
        let mut call = Call {
            resume,
            until: n == 0 && twists.until,
            retry_failed: std::mem::take(&mut retry_next),
            endpoint: endpoint.clone(),
            retarget: false,
        };
        if resume && twists.retarget && endpoint.is_none() {
            refused_elsewhere(ctx, &call, ran);
            call.endpoint = Some(twists::alias(&ctx.mock.url));
            call.retarget = true;
            endpoint.clone_from(&call.endpoint);
        }
        if call.retry_failed {
            leg.retry_from = Some(ctx.mock.request_count());
            ran.twisted.push("--retry-failed resume");
        }
        let mut child = spawn(ctx, n, &call);
        if n == 0 && twists.rival {
            rival(ctx, &mut child, ran);
        }
        let steered = n == 0 && steer(ctx, &mut child, ran);
        let exit = match interrupts.next() {
            Some(i) => interrupt(&mut child, i, ctx.mock, ran),
            None => wait_bounded(&mut child, started + SCHEDULE_LIMIT),
        };
        leg.exits.push(exit);
        let outcome = ctx.outcome();
        match exit {
            Some(0 | 1) if call.until && outcome.as_deref() == Some("paused") => {
                ran.twisted.push("paused at --until, resumed");
            }
            Some(0 | 1) if steered && outcome.as_deref() == Some("paused") => {
                ran.twisted.push("drained from another shell, resumed");
            }
            Some(1) if twists.retry_failed && leg.retried.is_empty() && !call.retry_failed => {
                leg.retried = failed_jobs(ctx);
                retry_next = !leg.retried.is_empty();
                if !retry_next {
                    break;
                }
            }
            Some(0 | 1 | 3) => break,
            Some(HUNG) => {
                leg.stuck = Some(format!("process {n} hung; killed"));
                break;
            }
            Some(2) if !resume => {
                leg.stuck = Some("exit 2 on a first run".into());
                break;
            }
            _ => {}
        }
        if started.elapsed() > SCHEDULE_LIMIT || n + 1 == MOST_PROCESSES {
            leg.stuck = Some(format!(
                "no final exit after {} processes and {:?} (exits {:?})",
                n + 1,
                started.elapsed(),
                leg.exits
            ));
            break;
        }
    }
    leg.report = std::fs::read_to_string(ctx.report())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    leg.offline = ctx.render_offline();
    leg
}

/// The twist's control action on the first process, if the schedule has one; true when it
/// was done (the run may then end paused, and is resumed).
fn steer(ctx: &Ctx, child: &mut Child, ran: &mut Ran) -> bool {
    let Some((action, stops, ms)) = ctx.s.twists.ctl else {
        return false;
    };
    let how = (action, stops, Duration::from_millis(ms));
    let done = super::steer::steer(ctx.bin, &ctx.journal(), child, ctx.mock, how);
    if done {
        ran.twisted.push(action.name());
    }
    done
}

/// The jobs whose stop failed in the leg's last report.
fn failed_jobs(ctx: &Ctx) -> Vec<String> {
    let text = std::fs::read_to_string(ctx.report()).unwrap_or_default();
    let report: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["outcome"] == "failed")
        .filter_map(|r| r["job"].as_str().map(str::to_owned))
        .collect()
}

/// A resume at another endpoint without `--retarget`: refused, and nothing sent.
fn refused_elsewhere(ctx: &Ctx, call: &Call, ran: &mut Ran) {
    let before = ctx.mock.request_count();
    let elsewhere = Call {
        endpoint: Some(twists::alias(&ctx.mock.url)),
        ..call.clone()
    };
    let mut child = spawn(ctx, 90, &elsewhere);
    let exit = wait_bounded(&mut child, Instant::now() + Duration::from_secs(60));
    let sent = ctx.mock.request_count() - before;
    if exit != Some(2) || sent != 0 {
        ran.findings.push(format!(
            "a resume at another endpoint without --retarget exited {exit:?} and sent {sent} requests"
        ));
    }
    ran.twisted
        .push("resume elsewhere refused, then --retarget");
}

/// A second run on the journal the first process holds: refused while it holds it.
fn rival(ctx: &Ctx, first: &mut Child, ran: &mut Ran) {
    let limit = Instant::now() + Duration::from_secs(10);
    while !ctx.journal().exists() {
        if Instant::now() >= limit || matches!(first.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let call = Call {
        resume: true,
        ..Call::default()
    };
    let mut second = spawn(ctx, 91, &call);
    let exit = wait_bounded(&mut second, Instant::now() + Duration::from_secs(60));
    let first_holds = matches!(first.try_wait(), Ok(None));
    if first_holds && exit != Some(2) {
        ran.findings.push(format!(
            "a second run on a journal in use exited {exit:?}, not 2"
        ));
    }
    if first_holds {
        ran.twisted.push("second run on a journal in use");
    }
}

fn spawn(ctx: &Ctx, n: usize, call: &Call) -> Child {
    let name = |what: &str| ctx.dir.join(ctx.name(&format!("{what}-{n}"), "txt"));
    let out = std::fs::File::create(name("out")).expect("an output file");
    let err = std::fs::File::create(name("err")).expect("an output file");
    let mut cmd = Command::new(ctx.bin);
    cmd.arg("run")
        .arg(ctx.book)
        .arg("--journal")
        .arg(ctx.journal())
        .arg("--report-json")
        .arg(ctx.report())
        .arg("--report-md")
        .arg(ctx.dir.join(ctx.name("report", "md")))
        .arg("--no-progress")
        .current_dir(ctx.dir)
        .env("SOAK_TOKEN", TOKEN)
        .env_remove("STOPBOOK_FAILPOINT")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    for (k, v) in ctx.env {
        cmd.env(k, v);
    }
    let flags = [
        (call.resume, "--resume"),
        (call.retry_failed, "--retry-failed"),
        (call.retarget, "--retarget"),
    ];
    cmd.args(flags.iter().filter(|(on, _)| *on).map(|(_, flag)| flag));
    if call.until {
        cmd.args(["--until", "p0"]);
    }
    if let Some(url) = &call.endpoint {
        cmd.args(["--endpoint", url]);
    }
    if let Some(k) = ctx.shard {
        cmd.args(["--shard", &format!("{k}/2")]);
    }
    if let Some(ca) = &ctx.mock.ca {
        let file = ctx.dir.join("ca.pem");
        std::fs::write(&file, ca).expect("the CA is written");
        cmd.arg("--ca-cert").arg(file);
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

/// Every output of every process, and every file the processes wrote.
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
}
