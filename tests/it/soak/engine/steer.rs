//! Control actions from another shell (issue 26), drawn per seed as a twist: while the first
//! process runs, `stopbook ctl drain`, `pause` (then `go` a moment later) or `abort` at a
//! random moment. A drained run ends paused and is resumed; an aborted one is an interrupt.
//! The checks stay the mock's: each job stopped once, whatever the action.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::mock::Mock;

/// A control action of the twist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Drain,
    Pause,
    Abort,
}

impl Action {
    /// The action of draw `n` (0..6): none half the time.
    pub fn of(n: u8) -> Option<Action> {
        match n {
            0 => Some(Action::Drain),
            1 => Some(Action::Pause),
            2 => Some(Action::Abort),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Drain => "ctl drain",
            Action::Pause => "ctl pause, then go",
            Action::Abort => "ctl abort",
        }
    }
}

/// Waits until the mock saw `stops` more stop calls or `after` passed (or the run ended), then
/// steers the run holding `journal`. False when the run had ended first.
pub fn steer(
    bin: &Path,
    journal: &Path,
    child: &mut Child,
    mock: &Mock,
    (action, stops, after): (Action, usize, Duration),
) -> bool {
    let start = Instant::now();
    let base = mock.stop_calls();
    while start.elapsed() < after && mock.stop_calls() < base + stops {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    match action {
        Action::Drain => ctl(bin, journal, "drain"),
        Action::Abort => ctl(bin, journal, "abort"),
        Action::Pause => {
            let paused = ctl(bin, journal, "pause");
            std::thread::sleep(Duration::from_millis(200));
            // Let go whatever happened, so that a held run never hangs the schedule.
            ctl(bin, journal, "go") && paused
        }
    }
}

/// `stopbook ctl ACTION --journal J`, within 30 s; whether it was done.
fn ctl(bin: &Path, journal: &Path, action: &str) -> bool {
    let mut child = Command::new(bin)
        .args(["ctl", action, "--journal"])
        .arg(journal)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ctl starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
