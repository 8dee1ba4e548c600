//! The soak's command line, for `cargo bench --bench soak -- ...` and for the test that runs a
//! printed replay command:
//!
//! - `--seeds A..B` (default `0..100`), `--workers N` (default 3), `--minutes M` (stop
//!   starting schedules after M minutes), `--shrink` (shrink each failing seed);
//! - `--replay SEED` with the cut flags `--keep-jobs N`, `--keep-interrupts N`,
//!   `--keep-faults a,b|none`: runs that one schedule (up to 3 times: timing varies) and exits
//!   1 when it fails;
//! - `--failpoint NAME`: the processes get `STOPBOOK_FAILPOINT=NAME` (the harness's own test;
//!   only in a build with the test switches, `--features failpoints`, refused otherwise).

use std::time::{Duration, Instant};

use super::{Options, binary, describe, parse_shrink, run_one, shrink, soak};

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Runs the command line `args` (without the program name); returns the exit code.
pub fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("soak: {e}");
            2
        }
    }
}

fn run(args: &[String]) -> Result<i32, String> {
    let failpoint = flag(args, "--failpoint");
    if failpoint.is_some() && !cfg!(feature = "failpoints") {
        return Err(
            "--failpoint needs a build with the test switches: cargo bench --features failpoints --bench soak -- ...".into(),
        );
    }
    let opts = Options {
        bin: binary(),
        failpoint,
        first_failure: false,
    };
    if let Some(seed) = flag(args, "--replay") {
        let seed: u64 = seed.parse().map_err(|e| format!("--replay: {e}"))?;
        return Ok(replay(&opts, seed, args));
    }
    let seeds = match flag(args, "--seeds") {
        Some(range) => {
            let (a, b) = range.split_once("..").ok_or("--seeds takes A..B")?;
            let a: u64 = a.parse().map_err(|e| format!("--seeds: {e}"))?;
            let b: u64 = b.parse().map_err(|e| format!("--seeds: {e}"))?;
            a..b
        }
        None => 0..100,
    };
    let workers: usize = flag(args, "--workers")
        .map_or(Ok(3), |w| w.parse())
        .map_err(|e| format!("--workers: {e}"))?;
    let minutes: f64 = flag(args, "--minutes")
        .map_or(Ok(1e9), |m| m.parse())
        .map_err(|e| format!("--minutes: {e}"))?;
    let started = Instant::now();
    let until = started + Duration::from_secs_f64((minutes * 60.0).min(1e9));
    let show = |v: &super::Verdict| {
        if !v.violations.is_empty() {
            eprint!("{}", describe(&opts, v, &Default::default()));
        } else if v.seed.is_multiple_of(100) {
            eprintln!("seed {} held ({:.0?} so far)", v.seed, started.elapsed());
        }
    };
    let totals = soak(&opts, seeds.clone(), workers, Some(until), &show);
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    println!(
        "soak: seeds {}..{}: {} schedules, {} requests, {} processes, {} kill -9, {} SIGINT, {} violating schedules; {:.1} minutes, {:.0} schedules/minute",
        seeds.start,
        seeds.end,
        totals.schedules,
        totals.requests,
        totals.processes,
        totals.kills,
        totals.sigints,
        totals.failing.len(),
        minutes,
        totals.schedules as f64 / minutes.max(1e-9)
    );
    let twisted: Vec<String> = totals
        .twisted
        .iter()
        .map(|(twist, n)| format!("{n} {twist}"))
        .collect();
    println!("soak: twists at the boundaries: {}", twisted.join(", "));
    let shrinking = args.iter().any(|a| a == "--shrink");
    for v in &totals.failing {
        print!("{}", describe(&opts, v, &Default::default()));
        if shrinking {
            let deadline = Instant::now() + Duration::from_secs(300);
            if let (cut, Some(smaller)) = shrink(&opts, v.seed, deadline) {
                print!("shrunk: {}", describe(&opts, &smaller, &cut));
            }
        }
    }
    Ok(if totals.failing.is_empty() { 0 } else { 1 })
}

/// Replays one schedule: exit 1 when it fails (in any of three runs), 0 when it holds.
fn replay(opts: &Options, seed: u64, args: &[String]) -> i32 {
    let cut = match parse_shrink(args) {
        Ok(cut) => cut,
        Err(e) => {
            eprintln!("soak: {e}");
            return 2;
        }
    };
    for _ in 0..3 {
        let v = run_one(opts, seed, &cut);
        if !v.violations.is_empty() {
            print!("{}", describe(opts, &v, &cut));
            return 1;
        }
    }
    println!("seed {seed} held (3 runs)");
    0
}
