//! One seed, one schedule: the fleet, the runbook, the mock's faults and the interrupts, all
//! drawn from a single `fastrand` generator, so a seed names a schedule exactly. A [`Shrink`]
//! cuts a schedule down (fewer jobs, fewer faults, fewer interrupts) without drawing anew, so
//! a smaller failing schedule is still named by its seed plus the cuts.

use std::time::Duration;

use stopbook::mock::Faults;

use super::twists::Twists;

/// What a job is before the run, and so what its stop should come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Running: a graceful stop ends it.
    Healthy,
    /// Failed: a graceful stop ends in `RELEASE_RESOURCE_FAILED`; a force stop ends it.
    Abnormal,
    /// Not on the server: the stop is expected to be refused `DRS.10000010`.
    Missing,
    /// Already ended: the stop is expected to be refused as already ending.
    Ended,
}

/// One planned stop.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub kind: Kind,
    /// The status the mock starts it in (none for a missing job).
    pub status: &'static str,
    pub force: bool,
    pub phase: usize,
}

/// A phase: its own batch size and failure budget.
#[derive(Debug, Clone)]
pub struct Phase {
    pub batch: Option<u32>,
    pub max_failures: Option<u32>,
}

/// How a running process is interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Kill,
    Int,
}

/// When: after this long, or once the mock has seen this many more stop calls.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    After(Duration),
    Stops(usize),
}

/// One interrupt of one process of the schedule.
#[derive(Debug, Clone, Copy)]
pub struct Interrupt {
    pub signal: Signal,
    pub trigger: Trigger,
}

/// Everything one seed decides.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub seed: u64,
    pub jobs: Vec<Job>,
    pub phases: Vec<Phase>,
    pub concurrency: u32,
    pub rate: Option<u32>,
    pub batch: u32,
    pub max_failures: Option<u32>,
    pub attempts: u32,
    pub settle: Duration,
    /// The runbook's `request_timeout`: sometimes shorter than the mock's latency, so answers
    /// time out (an unknown outcome) while the mock applies the stop later.
    pub request_timeout: Duration,
    /// `None`: `wait: false`.
    pub wait: Option<Duration>,
    pub escalate: Option<Duration>,
    pub stop_delay: Duration,
    pub faults: Faults,
    pub interrupts: Vec<Interrupt>,
    /// Twists at the boundaries of one process (their own generator).
    pub twists: Twists,
}

/// The faults a shrink may keep or drop, by name (as `--keep-faults` takes them).
pub const FAULTS: &[&str] = &[
    "latency",
    "burst",
    "throttle",
    "reset_before",
    "reset_after",
    "error_after",
    "status_lag",
    "truncate",
    "malformed",
    "slow_body",
];

/// Cuts to a schedule: at most this many jobs and interrupts, only the faults named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shrink {
    pub jobs: Option<usize>,
    pub interrupts: Option<usize>,
    pub faults: Option<Vec<String>>,
}

impl Shrink {
    /// The flags that name these cuts (empty when there are none).
    pub fn flags(&self) -> String {
        let mut out = String::new();
        if let Some(n) = self.jobs {
            out += &format!(" --keep-jobs {n}");
        }
        if let Some(n) = self.interrupts {
            out += &format!(" --keep-interrupts {n}");
        }
        if let Some(f) = &self.faults {
            let list = if f.is_empty() {
                "none".into()
            } else {
                f.join(",")
            };
            out += &format!(" --keep-faults {list}");
        }
        out
    }
}

/// A job ID of the API's `8-4-4-4-12` form, distinct per `n`.
pub fn job_id(n: usize) -> String {
    format!("{n:08}-0000-4000-8000-00000000jb{:02}", n % 100)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The schedule of `seed`, cut by `shrink`.
pub fn generate(seed: u64, shrink: &Shrink) -> Schedule {
    let mut rng = fastrand::Rng::with_seed(seed);
    let phases: Vec<Phase> = (0..rng.usize(1..=3))
        .map(|_| Phase {
            batch: rng.bool().then(|| rng.u32(1..=6)).filter(|_| rng.bool()),
            max_failures: (rng.u8(0..4) == 0).then(|| rng.u32(0..3)),
        })
        .collect();
    let wait = (rng.u8(0..5) != 0).then(|| ms(10_000));
    let escalate = wait.filter(|_| rng.bool()).map(|_| ms(rng.u64(200..=900)));
    let mut faults = faults(&mut rng);
    let request_timeout = if rng.u8(0..4) == 0 {
        faults.latency_jitter = ms(rng.u64(100..=500));
        ms(rng.u64(100..=300))
    } else {
        ms(3000)
    };
    // The settle window is the operator's claim about how late a stop shows: it must exceed
    // the mock's status lag plus how much later than a timeout a stop may be applied, or a
    // resend after it would be correct and counted as a second stop.
    let late = (faults.latency + faults.latency_jitter).saturating_sub(request_timeout);
    let settle = ms(300).max(faults.status_lag * 2 + late + ms(200));
    let jobs = fleet(&mut rng, phases.len(), escalate.is_some());
    let interrupts = (0..rng.usize(0..=3))
        .map(|_| Interrupt {
            signal: if rng.u8(0..3) == 0 {
                Signal::Int
            } else {
                Signal::Kill
            },
            trigger: if rng.bool() {
                Trigger::After(ms(rng.u64(20..=1500)))
            } else {
                Trigger::Stops(rng.usize(1..=6))
            },
        })
        .collect();
    let schedule = Schedule {
        seed,
        jobs,
        phases,
        concurrency: rng.u32(1..=8),
        rate: rng.bool().then(|| rng.u32(40..=400)),
        batch: if rng.u8(0..3) == 0 {
            rng.u32(2..=10)
        } else {
            1
        },
        max_failures: (rng.u8(0..3) == 0).then(|| rng.u32(0..4)),
        attempts: rng.u32(3..=6),
        settle,
        request_timeout,
        wait,
        escalate,
        stop_delay: ms(rng.u64(50..=400)),
        faults,
        interrupts,
        twists: Twists::default(),
    };
    let schedule = Schedule {
        twists: Twists::draw(seed, schedule.phases.len(), schedule.jobs.len()),
        ..schedule
    };
    cut(schedule, shrink)
}

fn fleet(rng: &mut fastrand::Rng, phases: usize, escalate: bool) -> Vec<Job> {
    let n = if rng.u8(0..5) == 0 {
        rng.usize(15..=40)
    } else {
        rng.usize(2..=14)
    };
    (0..n)
        .map(|i| {
            let kind = match rng.u8(0..10) {
                0..=4 => Kind::Healthy,
                5..=7 => Kind::Abnormal,
                8 => Kind::Missing,
                _ => Kind::Ended,
            };
            let status = match kind {
                Kind::Healthy => {
                    ["INCRE_TRANSFER_STARTED", "FULL_TRANSFER_STARTED", "PAUSING"][rng.usize(0..3)]
                }
                Kind::Abnormal => {
                    ["INCRE_TRANSFER_FAILED", "FULL_TRANSFER_FAILED"][rng.usize(0..2)]
                }
                Kind::Missing => "",
                Kind::Ended => "RELEASE_RESOURCE_COMPLETE",
            };
            // Abnormal jobs are mostly forced, or escalated when the runbook escalates.
            let force = match kind {
                Kind::Abnormal => !escalate || rng.u8(0..4) == 0,
                _ => rng.u8(0..6) == 0,
            };
            Job {
                id: job_id(i + 1),
                kind,
                status,
                force,
                phase: (i * phases) / n,
            }
        })
        .collect()
}

fn faults(rng: &mut fastrand::Rng) -> Faults {
    let mut p = |most: f64| if rng.bool() { rng.f64() * most } else { 0.0 };
    let (error_rate, reset_before, reset_after, error_after, truncate, malformed) =
        (p(0.08), p(0.06), p(0.06), p(0.2), p(0.04), p(0.04));
    Faults {
        latency: ms(rng.u64(0..=5)),
        latency_jitter: ms(if rng.bool() { rng.u64(0..=25) } else { 0 }),
        error_rate,
        burst: rng.u32(1..=3),
        throttle: (rng.u8(0..4) == 0).then(|| rng.u32(20..=80)),
        throttle_retry_after: (rng.bool()).then_some(1),
        reset_before,
        reset_after,
        close_after: 0.0,
        error_after,
        status_lag: if rng.u8(0..3) != 0 {
            ms(rng.u64(50..=400))
        } else {
            ms(0)
        },
        truncate,
        malformed,
        slow_body: (rng.u8(0..8) == 0).then(|| ms(1)),
        stops_only: rng.u8(0..4) == 0,
    }
}

/// `schedule` with the cuts of `shrink` applied.
fn cut(mut schedule: Schedule, shrink: &Shrink) -> Schedule {
    if let Some(n) = shrink.jobs {
        schedule.jobs.truncate(n.max(1));
        schedule.twists.shards &= schedule.jobs.len() >= 2;
    }
    if let Some(n) = shrink.interrupts {
        schedule.interrupts.truncate(n);
    }
    if let Some(keep) = &shrink.faults {
        let on = |name: &str| keep.iter().any(|k| k == name);
        let f = &mut schedule.faults;
        if !on("latency") {
            f.latency = Duration::ZERO;
            f.latency_jitter = Duration::ZERO;
        }
        if !on("burst") {
            f.error_rate = 0.0;
        }
        if !on("throttle") {
            f.throttle = None;
        }
        let zero = |v: &mut f64, name| *v = if on(name) { *v } else { 0.0 };
        zero(&mut f.reset_before, "reset_before");
        zero(&mut f.reset_after, "reset_after");
        zero(&mut f.error_after, "error_after");
        zero(&mut f.truncate, "truncate");
        zero(&mut f.malformed, "malformed");
        if !on("status_lag") {
            f.status_lag = Duration::ZERO;
        }
        if !on("slow_body") {
            f.slow_body = None;
        }
    }
    schedule
}

/// The faults a schedule has on, by name.
pub fn faults_on(f: &Faults) -> Vec<String> {
    let on = [
        !f.latency.is_zero() || !f.latency_jitter.is_zero(),
        f.error_rate > 0.0,
        f.throttle.is_some(),
        f.reset_before > 0.0,
        f.reset_after > 0.0,
        f.error_after > 0.0,
        !f.status_lag.is_zero(),
        f.truncate > 0.0,
        f.malformed > 0.0,
        f.slow_body.is_some(),
    ];
    FAULTS
        .iter()
        .zip(on)
        .filter(|(_, on)| *on)
        .map(|(n, _)| (*n).to_owned())
        .collect()
}
