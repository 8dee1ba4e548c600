//! Steering a run from outside its stops: `stopbook ctl pause | go | drain` and a gate's
//! prompt. The run reads it where it hands out stops and before a gated phase; whoever steers
//! sets it. It holds state only: who did what is the journal's to keep (see the caller).

use tokio::sync::watch;

use crate::retry::Cancel;

/// What the run has been told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// New stops are held (`ctl pause`), by whom, until `go`.
    pub held: Option<String>,
    /// No new stop starts and the run ends paused (`ctl drain`), by whom.
    pub drained: Option<String>,
    /// The phase waiting at its gate, while one waits.
    pub gate: Option<String>,
    /// Who let the waiting gate pass (taken by the gate).
    pub passed: Option<String>,
}

/// The run's steering, shared by the run and whoever steers it.
#[derive(Debug)]
pub struct Steer {
    state: watch::Sender<State>,
}

impl Default for Steer {
    fn default() -> Self {
        Steer {
            state: watch::Sender::new(State::default()),
        }
    }
}

/// What a `go` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Went {
    /// The gate before this phase opened.
    Gate(String),
    /// Held stops start again.
    Released,
    /// Nothing waited: no gate and no pause.
    Nothing,
}

impl Steer {
    /// What the run has been told, now.
    pub fn state(&self) -> State {
        self.state.borrow().clone()
    }

    /// Holds new stops until `go` (stops in flight go on); false if already held or drained.
    pub fn pause(&self, by: &str) -> bool {
        self.state.send_if_modified(|s| {
            let fresh = s.held.is_none() && s.drained.is_none();
            if fresh {
                s.held = Some(by.to_owned());
            }
            fresh
        })
    }

    /// Starts no new stop, and ends the run paused once the stops in flight are done; false if
    /// already drained.
    pub fn drain(&self, by: &str) -> bool {
        self.state.send_if_modified(|s| {
            let fresh = s.drained.is_none();
            if fresh {
                s.drained = Some(by.to_owned());
            }
            fresh
        })
    }

    /// Lets the waiting gate pass, and releases held stops.
    pub fn go(&self, by: &str) -> Went {
        let mut went = Went::Nothing;
        self.state.send_if_modified(|s| {
            if let Some(phase) = &s.gate
                && s.passed.is_none()
            {
                s.passed = Some(by.to_owned());
                went = Went::Gate(phase.clone());
            }
            if s.held.take().is_some() && went == Went::Nothing {
                went = Went::Released;
            }
            went != Went::Nothing
        });
        went
    }

    /// Whether the run was drained.
    pub fn drained(&self) -> Option<String> {
        self.state.borrow().drained.clone()
    }

    /// Returns once new stops may start: at once unless held; when released, drained or
    /// interrupted.
    pub(super) async fn released(&self, cancel: &Cancel) {
        if self.state.borrow().held.is_none() {
            return; // the usual case, on every claim: no subscription
        }
        let mut state = self.state.subscribe();
        tokio::select! {
            _ = state.wait_for(|s| s.held.is_none() || s.drained.is_some()) => {}
            _ = cancel.wait() => {}
        }
    }

    /// Waits at the gate before `phase` until it is let pass (returns who let it), or the run
    /// is drained or interrupted (`None`).
    pub(super) async fn gate(&self, phase: &str, cancel: &Cancel) -> Option<String> {
        self.state.send_modify(|s| {
            s.gate = Some(phase.to_owned());
            s.passed = None;
        });
        let mut state = self.state.subscribe();
        let passed = tokio::select! {
            s = state.wait_for(|s| s.passed.is_some() || s.drained.is_some()) => {
                s.ok().and_then(|s| s.passed.clone())
            }
            _ = cancel.wait() => None,
        };
        self.state.send_modify(|s| {
            s.gate = None;
            s.passed = None;
        });
        passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn go_opens_a_waiting_gate_and_nothing_else() {
        let steer = std::sync::Arc::new(Steer::default());
        assert_eq!(steer.go("a"), Went::Nothing, "no gate waits yet");
        let waiting = std::sync::Arc::clone(&steer);
        let gate = tokio::spawn(async move { waiting.gate("bulk", &Cancel::never()).await });
        while steer.state().gate.is_none() {
            tokio::task::yield_now().await;
        }
        assert_eq!(steer.go("ops"), Went::Gate("bulk".into()));
        assert_eq!(gate.await.unwrap().as_deref(), Some("ops"));
        assert_eq!(steer.state(), State::default());
    }

    #[tokio::test]
    async fn a_drain_ends_a_pause_and_a_gate() {
        let steer = Steer::default();
        assert!(steer.pause("a"));
        assert!(!steer.pause("a"), "held once");
        assert!(steer.drain("b"));
        steer.released(&Cancel::never()).await;
        assert_eq!(steer.gate("bulk", &Cancel::never()).await, None);
        assert_eq!(steer.go("c"), Went::Released);
    }
}
