//! The retry policy, in one home: the waits between attempts that a stop, a batch-stop call
//! and a read of live state all take from a runbook's `retry` (exponential from `backoff`,
//! with jitter, capped at `max_backoff`, one fewer than `attempts`).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use super::model::Retry;

impl Retry {
    /// The waits between attempts, in order: from `backoff`, doubling with jitter up to
    /// `max_backoff`; `attempts - 1` of them (none left means: give up).
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.backoff.get())
            .with_max_delay(self.max_backoff.get())
            .with_max_times(self.attempts.saturating_sub(1) as usize)
            .with_jitter()
            .build()
    }

    /// The wait before the next attempt: the server's `Retry-After` when it gave one, capped
    /// at `max_backoff`, else the policy's next delay. `None`: no attempt is left.
    pub fn next_wait(
        &self,
        delays: &mut impl Iterator<Item = Duration>,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let delay = delays.next()?;
        Some(retry_after.map_or(delay, |after| after.min(self.max_backoff.get())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_less_one_waits_each_within_the_cap() {
        let retry = Retry {
            attempts: 4,
            backoff: crate::runbook::values::Duration::from_millis(100),
            max_backoff: crate::runbook::values::Duration::from_millis(300),
            ..Retry::default()
        };
        let waits: Vec<Duration> = retry.delays().collect();
        assert_eq!(waits.len(), 3);
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(600)));
        let mut delays = retry.delays();
        let told = retry.next_wait(&mut delays, Some(Duration::from_secs(30)));
        assert_eq!(
            told,
            Some(Duration::from_millis(300)),
            "Retry-After is capped"
        );
    }
}
