//! The retry policy, in one home: every loop that tries again (a stop, a batch-stop call, a
//! read of live state, the status reads of a settle window) takes its waits from one
//! [`Retrying`], and sleeps them through it, so that every such sleep ends at the run's
//! interrupt ([`Cancel`]) and every schedule is the runbook's `retry`: exponential from
//! `backoff`, with jitter, capped at `max_backoff`, one fewer wait than `attempts`, the
//! server's `Retry-After` taken when it gives one (capped at `max_backoff` too).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio::sync::watch;

use crate::runbook::model::Retry;

/// What ends a wait early: the run's interrupt (SIGINT or SIGTERM), when there is one.
#[derive(Debug, Clone)]
pub struct Cancel(Option<watch::Receiver<bool>>);

impl Cancel {
    /// Waits that nothing interrupts (SIGINT's default action still ends the process).
    pub fn never() -> Self {
        Cancel(None)
    }

    /// Waits that end once `interrupted` holds true (or its sender is gone).
    pub fn on(interrupted: watch::Receiver<bool>) -> Self {
        Cancel(Some(interrupted))
    }

    /// Whether the interrupt came.
    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|c| *c.borrow())
    }

    /// Returns once the interrupt comes (never, when nothing interrupts).
    pub async fn wait(&self) {
        match &self.0 {
            Some(cancel) => {
                let mut cancel = cancel.clone();
                // An error means the sender is gone: as an interrupt, nothing else will come.
                let _ = cancel.wait_for(|c| *c).await;
            }
            None => std::future::pending().await,
        }
    }

    /// Sleeps for `d`; false if the interrupt came first (or had come).
    pub async fn sleep(&self, d: Duration) -> bool {
        let Some(cancel) = &self.0 else {
            tokio::time::sleep(d).await;
            return true;
        };
        let mut cancel = cancel.clone();
        if *cancel.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = cancel.wait_for(|c| *c) => false,
        }
    }
}

/// One retry loop's waits, and its sleeps that end at the interrupt.
#[derive(Debug)]
pub struct Retrying {
    delays: ExponentialBackoff,
    /// The longest wait, a server's `Retry-After` included.
    longest: Duration,
    cancel: Cancel,
}

impl Retrying {
    /// The waits between the attempts `retry` allows: from `backoff`, doubling with jitter up
    /// to `max_backoff`; `attempts - 1` of them (none left means: give up).
    pub fn new(retry: &Retry, cancel: Cancel) -> Self {
        let delays = ExponentialBuilder::default()
            .with_min_delay(retry.backoff.get())
            .with_max_delay(retry.max_backoff.get())
            .with_max_times(retry.attempts.saturating_sub(1) as usize)
            .with_jitter()
            .build();
        Retrying {
            delays,
            longest: retry.max_backoff.get(),
            cancel,
        }
    }

    /// Pauses between reads that go on until their caller stops (a settle window): from
    /// `first`, doubling up to `longest`, without jitter, without end.
    pub fn polling(first: Duration, longest: Duration, cancel: Cancel) -> Self {
        let delays = ExponentialBuilder::default()
            .with_min_delay(first.min(longest))
            .with_max_delay(longest)
            .without_max_times()
            .build();
        Retrying {
            delays,
            longest,
            cancel,
        }
    }

    /// The wait before the next attempt: the server's `Retry-After` when it gave one, capped
    /// at the longest wait, else the schedule's next. `None`: no attempt is left.
    pub fn next_wait(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        let delay = self.delays.next()?;
        Some(retry_after.map_or(delay, |after| after.min(self.longest)))
    }

    /// Sleeps for `d`; false if the interrupt came first.
    pub async fn sleep(&self, d: Duration) -> bool {
        self.cancel.sleep(d).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::values::Duration as Value;

    fn retry(attempts: u32, backoff_ms: u64, max_ms: u64) -> Retry {
        Retry {
            attempts,
            backoff: Value::from_millis(backoff_ms),
            max_backoff: Value::from_millis(max_ms),
            ..Retry::default()
        }
    }

    #[test]
    fn attempts_less_one_waits_each_within_the_cap() {
        let mut retrying = Retrying::new(&retry(4, 100, 300), Cancel::never());
        let waits: Vec<Duration> = std::iter::from_fn(|| retrying.next_wait(None)).collect();
        assert_eq!(waits.len(), 3);
        // Jitter adds at most the wait again.
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(600)));
        let mut retrying = Retrying::new(&retry(4, 100, 300), Cancel::never());
        let told = retrying.next_wait(Some(Duration::from_secs(30)));
        assert_eq!(
            told,
            Some(Duration::from_millis(300)),
            "Retry-After is capped"
        );
    }

    #[test]
    fn polling_never_ends_and_never_passes_its_longest_pause() {
        let longest = Duration::from_millis(400);
        let mut pauses = Retrying::polling(Duration::from_millis(50), longest, Cancel::never());
        let waits: Vec<Duration> = (0..20).map(|_| pauses.next_wait(None).unwrap()).collect();
        assert_eq!(waits[0], Duration::from_millis(50));
        assert!(waits.iter().all(|w| *w <= longest));
        assert_eq!(waits[19], longest);
    }

    /// A sleep ends as soon as the interrupt comes, and one that starts after it does not
    /// sleep at all.
    #[tokio::test(start_paused = true)]
    async fn a_sleep_ends_at_the_interrupt() {
        let (interrupt, interrupted) = watch::channel(false);
        let retrying = Retrying::new(&retry(3, 100, 300), Cancel::on(interrupted));
        let started = tokio::time::Instant::now();
        let (slept, ()) = tokio::join!(retrying.sleep(Duration::from_secs(60)), async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            interrupt.send(true).unwrap();
        });
        assert!(!slept, "the sleep went on through the interrupt");
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        assert!(!retrying.sleep(Duration::from_secs(60)).await);
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        assert!(Cancel::never().sleep(Duration::from_secs(5)).await);
    }
}
