//! DRS job statuses: which are running, abnormal, ending or ended, and what a stop does to each
//! in the simulator model. Shared vocabulary of the mock and the executor (not response parsing).
//!
//! The vendor documents the statuses and that a stop ends a task; which statuses accept a stop,
//! and with what result, is our reading of the user guide and the SDKs (drs-api-notes.md §3).

/// Statuses in which a task runs or rests: a stop is accepted and the task ends.
pub const RUNNING: &[&str] = &[
    "CREATING",
    "CONFIGURATION",
    "WAITING_FOR_START",
    "FULL_TRANSFER_STARTED",
    "FULL_TRANSFER_COMPLETE",
    "INCRE_TRANSFER_STARTED",
    "PAUSING",
    "REBUILD_NODE_STARTED",
    "STARTJOBING",
    "START_JOB_FAILED",
    "CHANGE_JOB_STARTED",
    "CHANGE_JOB_FAILED",
    "CHILD_TRANSFER_STARTING",
    "CHILD_TRANSFER_STARTED",
    "CHILD_TRANSFER_COMPLETE",
    "CHILD_TRANSFER_FAILED",
    "RELEASE_CHILD_TRANSFER_STARTED",
    "NODE_UPGRADE_START",
    "NODE_UPGRADE_COMPLETE",
    "NODE_UPGRADE_FAILED",
    "REBUILD_NODE_FAILED",
];

/// Abnormal statuses: a graceful stop fails to release, a force stop completes.
pub const ABNORMAL: &[&str] = &[
    "FULL_TRANSFER_FAILED",
    "INCRE_TRANSFER_FAILED",
    "RELEASE_RESOURCE_FAILED",
];

/// Statuses of a task that is ending or has ended: a stop is refused.
pub const ENDING_OR_ENDED: &[&str] = &[
    "RELEASE_RESOURCE_STARTED",
    "RELEASE_RESOURCE_COMPLETE",
    "DELETED",
    "CREATE_FAILED",
    "RELEASE_CHILD_TRANSFER_COMPLETE",
];

/// The status of a task whose stop was taken and is releasing its resources.
pub const STARTED: &str = "RELEASE_RESOURCE_STARTED";
/// The status of a task stopped for good: what `expect: stopped` waits for.
pub const COMPLETE: &str = "RELEASE_RESOURCE_COMPLETE";
/// The status of a task whose release failed (a graceful stop of an abnormal task ends here).
pub const FAILED: &str = "RELEASE_RESOURCE_FAILED";

/// Whether a task in `status` is ending or has ended: a stop of it has been taken. (Not
/// `RELEASE_RESOURCE_FAILED`: a stop is how a task gets out of that.)
pub fn is_ending_or_ended(status: &str) -> bool {
    ENDING_OR_ENDED.contains(&status)
}

/// Statuses a stopped task does not leave by itself.
pub fn is_terminal(status: &str) -> bool {
    status == FAILED || (ENDING_OR_ENDED.contains(&status) && status != STARTED)
}

/// `status` as one of the known statuses' own `'static` names.
pub fn canonical(status: &str) -> Option<&'static str> {
    RUNNING
        .iter()
        .chain(ABNORMAL)
        .chain(ENDING_OR_ENDED)
        .find(|s| **s == status)
        .copied()
}

/// Every status the mock knows (the SDKs list 29).
pub fn is_known(status: &str) -> bool {
    RUNNING.contains(&status) || ABNORMAL.contains(&status) || ENDING_OR_ENDED.contains(&status)
}

/// What a stop request does to a task in `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopEffect {
    /// Accepted; the task ends in this status after the delay.
    Ends {
        /// The status the task ends in.
        last: &'static str,
        /// The release takes a quarter of the usual delay (a force stop).
        quick: bool,
    },
    /// Refused: the task is already ending or ended.
    Refused,
}

/// What a stop, graceful or `force`d, does to a task in `status`, in the simulator model.
pub fn stop_effect(status: &str, force: bool) -> StopEffect {
    if ENDING_OR_ENDED.contains(&status) {
        StopEffect::Refused
    } else if ABNORMAL.contains(&status) {
        match force {
            true => StopEffect::Ends {
                last: COMPLETE,
                quick: true,
            },
            false => StopEffect::Ends {
                last: FAILED,
                quick: false,
            },
        }
    } else {
        StopEffect::Ends {
            last: COMPLETE,
            quick: force,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_nine_statuses() {
        assert_eq!(RUNNING.len() + ABNORMAL.len() + ENDING_OR_ENDED.len(), 29);
    }

    #[test]
    fn the_simulator_model() {
        assert_eq!(
            stop_effect("INCRE_TRANSFER_STARTED", false),
            StopEffect::Ends {
                last: COMPLETE,
                quick: false
            }
        );
        assert_eq!(
            stop_effect("INCRE_TRANSFER_STARTED", true),
            StopEffect::Ends {
                last: COMPLETE,
                quick: true
            }
        );
        assert_eq!(
            stop_effect("INCRE_TRANSFER_FAILED", false),
            StopEffect::Ends {
                last: FAILED,
                quick: false
            }
        );
        assert_eq!(
            stop_effect("RELEASE_RESOURCE_FAILED", true),
            StopEffect::Ends {
                last: COMPLETE,
                quick: true
            }
        );
        assert_eq!(
            stop_effect("RELEASE_RESOURCE_STARTED", true),
            StopEffect::Refused
        );
        assert_eq!(stop_effect("DELETED", false), StopEffect::Refused);
    }
}
