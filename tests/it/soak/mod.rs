//! The CI soak: a fixed set of seeded schedules of faults, kill -9 and SIGINT, each run with
//! the real binary against the real mock and judged by the invariants of [`engine::check`];
//! every seed runs, however long the machine takes (each schedule is bounded on its own); and
//! the harness's own test: a deliberately broken build (`STOPBOOK_FAILPOINT=resend-unknown`,
//! which resends after an unknown outcome; the suite is built with `--features failpoints`) is
//! caught within the same seeds, and the replay command printed for it reproduces the failure.

pub mod engine;

use engine::schedule::Shrink;
use engine::{Options, binary, describe, soak};

/// The CI soak's seeds: a few dozen, about a minute on two shared cores.
const CI_SEEDS: std::ops::Range<u64> = 0..40;
const WORKERS: usize = 4;

fn options(failpoint: Option<&str>) -> Options {
    Options {
        bin: binary(),
        failpoint: failpoint.map(str::to_owned),
        // The broken build's soak stops at its first failure: the point is that one is found.
        first_failure: failpoint.is_some(),
    }
}

#[test]
fn seeded_schedules_of_faults_and_crashes_never_cost_a_second_stop() {
    let opts = options(None);
    let totals = soak(&opts, CI_SEEDS, WORKERS, None, &|_| {});
    let failures: String = totals
        .failing
        .iter()
        .map(|v| describe(&opts, v, &Shrink::default()))
        .collect();
    assert!(
        failures.is_empty(),
        "the soak found violations:\n{failures}"
    );
    assert_eq!(
        totals.schedules as u64,
        CI_SEEDS.end - CI_SEEDS.start,
        "every seed ran"
    );
    assert!(totals.kills > 0 && totals.sigints > 0, "{totals:?}");
    // Every twist at the boundaries of one process took place among the CI's seeds.
    for twist in [
        "second run on a journal in use",
        "paused at --until, resumed",
        "--retry-failed resume",
        "resume elsewhere refused, then --retarget",
        "shard run",
        "TLS closed without close_notify after apply",
        "ctl drain",
        "ctl pause, then go",
        "ctl abort",
        "drained from another shell, resumed",
    ] {
        assert!(
            totals.twisted.get(twist).is_some_and(|n| *n > 0),
            "no `{twist}` among the CI's seeds: {:?}",
            totals.twisted
        );
    }
}

#[cfg(feature = "failpoints")]
#[test]
fn a_build_that_resends_after_an_unknown_outcome_is_caught_and_replayed() {
    let opts = options(Some("resend-unknown"));
    let totals = soak(&opts, CI_SEEDS, WORKERS, None, &|_| {});
    let first = totals
        .failing
        .first()
        .expect("the CI soak's seeds catch a build that resends after an unknown outcome");
    assert!(
        first.violations.iter().any(|v| v.contains("did not need")),
        "{first:?}"
    );
    let command = opts.replay_command(first.seed, &Shrink::default());
    assert!(describe(&opts, first, &Shrink::default()).contains(&command));
    // The printed command's own arguments, run as the bench target runs them.
    let (_, args) = command
        .split_once(" -- ")
        .expect("the command passes arguments");
    let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
    assert_eq!(
        engine::cli::main(&args),
        1,
        "the replay reproduces {command}"
    );
}

/// Without the test switches, the soak refuses a failpoint instead of soaking a build that
/// ignores it.
#[cfg(not(feature = "failpoints"))]
#[test]
fn a_failpoint_is_refused_by_a_build_without_the_test_switches() {
    let args: Vec<String> = ["--replay", "0", "--failpoint", "resend-unknown"]
        .map(str::to_owned)
        .to_vec();
    assert_eq!(engine::cli::main(&args), 2);
}

#[test]
fn a_shrunk_schedule_is_named_by_its_seed_and_flags() {
    let cut = Shrink {
        jobs: Some(2),
        interrupts: Some(0),
        faults: Some(vec!["error_after".into(), "status_lag".into()]),
    };
    let command = options(None).replay_command(7, &cut);
    let (_, args) = command.split_once(" -- ").unwrap();
    let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
    assert_eq!(engine::parse_shrink(&args).unwrap(), cut, "{command}");
    let full = engine::schedule::generate(7, &Shrink::default());
    let small = engine::schedule::generate(7, &cut);
    assert!(small.jobs.len() <= 2 && small.interrupts.is_empty());
    assert_eq!(
        small.jobs[..],
        full.jobs[..small.jobs.len()],
        "a cut draws nothing anew"
    );
    let on = engine::schedule::faults_on(&small.faults);
    assert!(
        on.iter().all(|f| f == "error_after" || f == "status_lag"),
        "{on:?}"
    );
    let none = engine::parse_shrink(&["--keep-faults".into(), "none".into()]).unwrap();
    assert_eq!(none.faults, Some(vec![]));
    assert!(engine::parse_shrink(&["--keep-faults".into(), "nope".into()]).is_err());
}
