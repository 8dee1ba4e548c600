//! The run's one shared budget: requests in flight, requests per second, and a run-wide pause
//! after a 429, for stops and status polls alike.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::adaptive::Adaptive;
use crate::live::pace::{self, Pace};
use crate::runbook::values::Rate;

/// One request's place within the limits, while it runs.
pub struct Turn<'a> {
    _permit: OwnedSemaphorePermit,
    adaptive: &'a Adaptive,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.adaptive.answered();
    }
}

/// Requests in flight, the rate ceiling and the 429 pause, shared by every request of a run.
pub struct Limits {
    /// Requests in flight and the rate ceiling, as reads of live state have them.
    pace: Pace,
    paused_until: Mutex<Option<Instant>>,
    /// The rate the gateway's 429s teach (see [`super::adaptive`]).
    pub adaptive: Adaptive,
}

impl Limits {
    /// At most `concurrency` requests in flight, starts spaced evenly under `rate`.
    pub fn new(concurrency: u32, rate: Option<Rate>) -> Self {
        // The even spacing `limits.rate` asks for: the adaptive rate never goes above it.
        let even = rate.map(pace::even_spacing);
        Limits {
            pace: Pace::new(concurrency, rate),
            paused_until: Mutex::new(None),
            adaptive: Adaptive::new(even),
        }
    }

    /// Waits for a place among the requests in flight, for the rate, and for any pause; the
    /// turn is held while the request runs, and counted as answered when it is dropped.
    pub async fn request(&self) -> Turn<'_> {
        // The place first, then the pause and the rates: a request that waited for its place
        // while a 429 paused the run, or cut its rate, still keeps both.
        let permit = self.pace.place().await;
        // A pause that began while this request waited for its turn holds it too, and then
        // it takes a new turn: the turns taken before a 429 must not all go at its end.
        loop {
            if let Some(until) = self.paused() {
                tokio::time::sleep_until(until).await;
            }
            self.pace.ready().await;
            self.adaptive.before_start().await;
            if self.paused().is_none() {
                break;
            }
        }
        Turn {
            _permit: permit,
            adaptive: &self.adaptive,
        }
    }

    /// The end of the run-wide pause, while one lasts.
    fn paused(&self) -> Option<Instant> {
        let pause = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        pause.filter(|until| *until > Instant::now())
    }

    /// A 429 slows the whole run: no request starts before `for_` has passed, and the rate
    /// adapts.
    pub fn pause(&self, for_: Duration) {
        self.adaptive.throttled(for_);
        let until = Instant::now() + for_;
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::values::Per;

    #[tokio::test]
    async fn a_pause_holds_back_every_request_until_it_ends() {
        let limits = Limits::new(4, None);
        limits.pause(Duration::from_millis(150));
        let started = Instant::now();
        let (a, b) = tokio::join!(limits.request(), limits.request());
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "a request started during the pause"
        );
        drop((a, b));
    }

    /// Requests that took their turns before a 429 paused the run go one by one at its end,
    /// spaced at the adapted rate (they all went at once before).
    #[tokio::test(start_paused = true)]
    async fn turns_taken_before_a_pause_are_spaced_after_it() {
        let limits = std::sync::Arc::new(Limits::new(8, None));
        for _ in 0..10 {
            limits.adaptive.answered();
        }
        limits.pause(Duration::from_secs(1)); // about 10 a second from its end
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut waiting = Vec::new();
        for _ in 0..5 {
            let limits = std::sync::Arc::clone(&limits);
            waiting.push(tokio::spawn(async move {
                drop(limits.request().await);
                Instant::now()
            }));
        }
        tokio::task::yield_now().await;
        limits.pause(Duration::from_secs(1));
        let mut granted = Vec::new();
        for w in waiting {
            granted.push(w.await.unwrap());
        }
        granted.sort();
        for pair in granted.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap >= Duration::from_millis(90), "two starts {gap:?} apart");
        }
    }

    #[tokio::test]
    async fn a_rate_beyond_nanosecond_spacing_does_not_panic() {
        let rate = Rate {
            count: u32::MAX,
            per: Per::Second,
        };
        drop(Limits::new(1, Some(rate)).request().await);
    }

    #[tokio::test]
    async fn in_flight_requests_are_capped() {
        let limits = Limits::new(2, None);
        let _a = limits.request().await;
        let _b = limits.request().await;
        let third = tokio::time::timeout(Duration::from_millis(50), limits.request()).await;
        assert!(third.is_err(), "a third request started with two in flight");
    }

    #[tokio::test]
    async fn the_rate_spaces_requests_without_a_burst() {
        let limits = Limits::new(8, Some("20/s".parse().unwrap()));
        let started = Instant::now();
        for _ in 0..5 {
            drop(limits.request().await);
        }
        // Five starts at 20/s with no burst take at least four gaps of 50 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "{:?}",
            started.elapsed()
        );
    }
}
