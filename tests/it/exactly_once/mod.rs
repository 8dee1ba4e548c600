//! Exactly-once under the faults real gateways produce: answers lost after the stop was applied,
//! statuses that lag, interrupts, resumes, canaries, refused credentials. The mock's own record
//! is the witness: every stop that reached each job ([`crate::run::Received`]), whatever
//! answer the client saw.

mod budgets;
mod escalation;
mod lost_answers;
mod soak_found;

use stopbook::mock::JobSpec;

use crate::run::jobs;
pub(crate) use crate::run::{
    FORCE_REFUSED, FORCE_TAKEN, REFUSED, TAKEN, admin, spawn, wait_until,
    wait_until_read_after_stops,
};

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
