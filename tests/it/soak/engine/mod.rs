//! The chaos soak: many seeded schedules of faults and crashes, each run with the real binary
//! against the real mock over loopback, each judged by invariants over everything the mock
//! saw ([`check`]). One seed decides one schedule ([`schedule`]); [`drive`] runs it.
//!
//! Shared by the long-run entry point (`cargo bench --bench soak -- --seeds A..B`, which
//! includes this tree by `#[path]`) and the CI soak in `tests/it/soak`. A failing schedule
//! prints its seed and a one-line command that replays it, shrunk where the seed allows.

pub mod check;
pub mod cli;
pub mod drive;
pub mod mock;
pub mod schedule;
pub mod steer;
pub mod tls;
pub mod twists;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use schedule::{FAULTS, Shrink};

/// What one schedule came to.
#[derive(Debug, Default, Clone)]
pub struct Verdict {
    pub seed: u64,
    pub violations: Vec<String>,
    /// Requests the mock received (every kind).
    pub requests: usize,
    pub kills: usize,
    pub sigints: usize,
    pub processes: usize,
    /// The twists that took place (see [`drive::Ran::twisted`]).
    pub twisted: Vec<&'static str>,
}

/// How the soak runs: the binary, and the environment its processes get (a failpoint).
#[derive(Debug, Clone)]
pub struct Options {
    pub bin: PathBuf,
    pub failpoint: Option<String>,
    /// Start no new schedule once one has failed (the harness's own test).
    pub first_failure: bool,
}

impl Options {
    fn env(&self) -> Vec<(String, String)> {
        self.failpoint
            .iter()
            .map(|f| ("STOPBOOK_FAILPOINT".to_owned(), f.clone()))
            .collect()
    }

    /// The one-line command that replays `seed` cut by `shrink`.
    /// (A failpoint needs the build with the test switches.)
    pub fn replay_command(&self, seed: u64, shrink: &Shrink) -> String {
        let (features, failpoint) = self.failpoint.as_ref().map_or_else(
            || (String::new(), String::new()),
            |f| {
                (
                    " --features failpoints".to_owned(),
                    format!(" --failpoint {f}"),
                )
            },
        );
        format!(
            "cargo bench{features} --bench soak -- --replay {seed}{}{failpoint}",
            shrink.flags()
        )
    }
}

/// Runs the schedule of `seed`, cut by `shrink`, and judges it.
pub fn run_one(opts: &Options, seed: u64, shrink: &Shrink) -> Verdict {
    let s = schedule::generate(seed, shrink);
    let mock = drive::Mock::for_schedule(&s);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ran = drive::run(&opts.bin, &s, &mock, dir.path(), &opts.env());
    let jobs = drive::settled_truth(
        &mock,
        Instant::now() + s.stop_delay + Duration::from_secs(2),
    );
    let requests = mock.get("/__mock/requests");
    let violations = check::check(&s, &ran, &requests, &jobs);
    // SOAK_KEEP=1 keeps a failing schedule's files (runbook, journal, reports, outputs) and
    // the mock's record, for a closer look.
    if !violations.is_empty() && std::env::var_os("SOAK_KEEP").is_some() {
        let kept = dir.keep();
        let record = serde_json::json!({ "requests": requests, "jobs": jobs });
        let _ = std::fs::write(kept.join("mock.json"), record.to_string());
        eprintln!("seed {seed}: files kept in {}", kept.display());
    }
    Verdict {
        seed,
        violations,
        requests: requests["requests"].as_array().map_or(0, Vec::len),
        kills: ran.kills,
        sigints: ran.sigints,
        processes: ran.processes(),
        twisted: ran.twisted.clone(),
    }
}

/// Whether `seed` cut by `shrink` fails, in any of `tries` runs (timing varies between runs).
fn fails(opts: &Options, seed: u64, shrink: &Shrink, tries: usize) -> Option<Verdict> {
    (0..tries)
        .map(|_| run_one(opts, seed, shrink))
        .find(|v| !v.violations.is_empty())
}

/// A smaller failing schedule of `seed`: fewer jobs, fewer interrupts, fewer faults, each cut
/// kept only when the schedule still fails (the verdict of its last failing run comes back).
/// Bounded: one pass over each dimension, and nothing tried after `deadline`.
pub fn shrink(opts: &Options, seed: u64, deadline: Instant) -> (Shrink, Option<Verdict>) {
    let full = schedule::generate(seed, &Shrink::default());
    let mut best = Shrink::default();
    let mut verdict = None;
    let mut try_cut = |cut: Shrink, best: &mut Shrink| {
        if Instant::now() < deadline
            && let Some(v) = fails(opts, seed, &cut, 2)
        {
            *best = cut;
            verdict = Some(v);
        }
    };
    for n in 1..full.jobs.len() {
        let cut = Shrink {
            jobs: Some(n),
            ..best.clone()
        };
        try_cut(cut, &mut best);
        if best.jobs == Some(n) {
            break;
        }
    }
    for n in 0..full.interrupts.len() {
        let cut = Shrink {
            interrupts: Some(n),
            ..best.clone()
        };
        try_cut(cut, &mut best);
        if best.interrupts == Some(n) {
            break;
        }
    }
    let mut kept = schedule::faults_on(&full.faults);
    for name in kept.clone() {
        let fewer: Vec<String> = kept.iter().filter(|k| **k != name).cloned().collect();
        let cut = Shrink {
            faults: Some(fewer.clone()),
            ..best.clone()
        };
        try_cut(cut, &mut best);
        if best.faults.as_ref() == Some(&fewer) {
            kept = fewer;
        }
    }
    (best, verdict)
}

/// Totals over a soak.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub schedules: usize,
    pub requests: usize,
    pub kills: usize,
    pub sigints: usize,
    pub processes: usize,
    /// How often each twist took place.
    pub twisted: std::collections::BTreeMap<&'static str, usize>,
    pub failing: Vec<Verdict>,
}

/// Runs the seeds of `seeds` on `workers` threads: every one of them, or (`until`) those
/// started before it passes; each verdict is handed to `seen` as it comes.
pub fn soak(
    opts: &Options,
    seeds: std::ops::Range<u64>,
    workers: usize,
    until: Option<Instant>,
    seen: &(dyn Fn(&Verdict) + Sync),
) -> Totals {
    let next = AtomicU64::new(seeds.start);
    let totals = Mutex::new(Totals::default());
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::SeqCst);
                    let failed = opts.first_failure
                        && !totals.lock().expect("the totals").failing.is_empty();
                    let late = until.is_some_and(|u| Instant::now() >= u);
                    if seed >= seeds.end || late || failed {
                        break;
                    }
                    let v = run_one(opts, seed, &Shrink::default());
                    seen(&v);
                    let mut t = totals.lock().expect("the totals");
                    t.schedules += 1;
                    t.requests += v.requests;
                    t.kills += v.kills;
                    t.sigints += v.sigints;
                    t.processes += v.processes;
                    for twist in &v.twisted {
                        *t.twisted.entry(twist).or_default() += 1;
                    }
                    if !v.violations.is_empty() {
                        t.failing.push(v);
                    }
                }
            });
        }
    });
    let mut t = totals.into_inner().expect("the totals");
    t.failing.sort_by_key(|v| v.seed);
    t
}

/// The report of a failing schedule: its seed, its violations, the command that replays it.
pub fn describe(opts: &Options, v: &Verdict, shrink: &Shrink) -> String {
    let twists = schedule::generate(v.seed, shrink).twists.names();
    let twists = match twists.is_empty() {
        true => String::new(),
        false => format!(" (twists: {})", twists.join(", ")),
    };
    let mut out = format!("seed {} FAILED{twists}:\n", v.seed);
    for line in &v.violations {
        out += &format!("  - {line}\n");
    }
    out += &format!("  replay: {}\n", opts.replay_command(v.seed, shrink));
    out
}

/// Parses the cut flags (`--keep-jobs N`, `--keep-interrupts N`, `--keep-faults a,b|none`).
pub fn parse_shrink(args: &[String]) -> Result<Shrink, String> {
    let mut shrink = Shrink::default();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| {
                args.get(i + 1)
                    .cloned()
                    .ok_or(format!("{flag} needs a value"))
            })
            .transpose()
    };
    let number = |v: String| v.parse::<usize>().map_err(|e| format!("`{v}`: {e}"));
    shrink.jobs = value("--keep-jobs")?.map(number).transpose()?;
    shrink.interrupts = value("--keep-interrupts")?.map(number).transpose()?;
    if let Some(list) = value("--keep-faults")? {
        let names: Vec<String> = list
            .split(',')
            .filter(|n| !n.is_empty() && *n != "none")
            .map(str::to_owned)
            .collect();
        if let Some(bad) = names.iter().find(|n| !FAULTS.contains(&n.as_str())) {
            return Err(format!(
                "unknown fault `{bad}`; the faults: {}",
                FAULTS.join(",")
            ));
        }
        shrink.faults = Some(names);
    }
    Ok(shrink)
}

/// The binary under test, built by cargo for tests and benches alike.
pub fn binary() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_stopbook")).to_path_buf()
}
