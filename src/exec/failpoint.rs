//! Failures stopbook can be told to cause in itself, so tests can show what survives them.
//! Compiled only with the cargo feature `failpoints` (`cargo test --locked --features
//! failpoints`): a default or release build has none of this code and never reads
//! `STOPBOOK_FAILPOINT` (`tests/default_build.rs` checks both).
//!
//! `STOPBOOK_FAILPOINT=panic-at-stop:SEQ` makes the stop at that seq panic. Read once; unset, it
//! costs one branch per stop.
//!
//! `STOPBOOK_FAILPOINT=resend-unknown` is a deliberately broken build, for testing the soak
//! harness and the exactly-once tests' own counting only (`benches/soak.rs`, `tests/it/soak`,
//! `tests/it/exactly_once`): after an unknown outcome of a single stop, it sends the stop again
//! at once instead of reading the job's status through the settle window, so a stop a gateway
//! applied and then answered 5xx gets a second stop. Off unless the variable says so.
#![cfg(feature = "failpoints")]

use std::sync::OnceLock;

/// What the environment asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failpoint {
    None,
    PanicAtStop(usize),
    ResendUnknown,
}

fn failpoint() -> Failpoint {
    static FAILPOINT: OnceLock<Failpoint> = OnceLock::new();
    *FAILPOINT.get_or_init(|| {
        let Ok(value) = std::env::var("STOPBOOK_FAILPOINT") else {
            return Failpoint::None;
        };
        if value == "resend-unknown" {
            return Failpoint::ResendUnknown;
        }
        match value.split_once(':') {
            Some(("panic-at-stop", seq)) => {
                seq.parse().map_or(Failpoint::None, Failpoint::PanicAtStop)
            }
            _ => Failpoint::None,
        }
    })
}

/// Panics if the environment asks the stop at `seq` to.
pub fn before_stop(seq: usize) {
    if failpoint() == Failpoint::PanicAtStop(seq) {
        panic!("STOPBOOK_FAILPOINT: a panic in the stop at seq {seq}");
    }
}

/// Whether the test-only broken build is on: resend after an unknown outcome without settling.
pub fn resend_unknown() -> bool {
    failpoint() == Failpoint::ResendUnknown
}
