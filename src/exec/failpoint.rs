//! Failures stopbook can be told to cause in itself, so tests can show what survives them:
//! `STOPBOOK_FAILPOINT=panic-at-stop:SEQ` makes the stop at that seq panic. Read once; unset, it
//! costs one branch per stop.

use std::sync::OnceLock;

/// What the environment asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failpoint {
    None,
    PanicAtStop(usize),
}

fn failpoint() -> Failpoint {
    static FAILPOINT: OnceLock<Failpoint> = OnceLock::new();
    *FAILPOINT.get_or_init(|| {
        let Ok(value) = std::env::var("STOPBOOK_FAILPOINT") else {
            return Failpoint::None;
        };
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
