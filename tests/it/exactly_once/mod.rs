//! Exactly-once under the faults real gateways produce: answers lost after the stop was applied,
//! statuses that lag, interrupts, resumes, canaries, refused credentials. The mock's request
//! log is the witness: every stop request it received, not only those it refused.

mod budgets;
mod escalation;
mod lost_answers;
mod soak_found;

use std::collections::HashMap;

use stopbook::mock::JobSpec;

use crate::run::{External, jobs};
pub(crate) use crate::run::{admin, spawn, wait_until};

/// Stop requests the mock received, per job, whatever their answer.
fn stops_per_job(mock: &External) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in mock.stops() {
        let path = r["path"].as_str().unwrap_or("");
        let job = path.rsplit('/').nth(1).unwrap_or("").to_owned();
        *counts.entry(job).or_insert(0) += 1;
    }
    counts
}

/// Stop requests the mock applied (answered 200, or answered otherwise after applying).
fn applied_per_job(mock: &External) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in mock.stops() {
        let applied = r["status"] == 200
            || r["fault"] == "server error after apply"
            || r["fault"] == "reset after apply";
        if applied {
            let job = r["path"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .nth(1)
                .unwrap_or("")
                .to_owned();
            *counts.entry(job).or_insert(0) += 1;
        }
    }
    counts
}

fn sigint(child: &std::process::Child) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
}

fn spec(n: usize, status: &str) -> JobSpec {
    jobs(n..n + 1, status).remove(0)
}

/// The tests of the crash path and of the counting itself need the test switches; without
/// them they are left out, so a suite built without them says so here instead of passing.
#[cfg(not(feature = "failpoints"))]
#[test]
fn the_suite_is_built_with_the_test_switches() {
    panic!("the suite needs the test switches: cargo test --locked --features failpoints");
}
