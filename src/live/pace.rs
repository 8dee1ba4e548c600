//! The runbook's limits on requests, in one home: at most `concurrency` in flight and starts
//! under `limits.rate` ([`ceiling`]). The reads of live state wait on a [`Pace`]; a run's
//! requests wait on one too, inside `exec::limits`, which adds the run-wide pause after a 429
//! and the adaptive rate.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::runbook::values::{Per, Rate};

/// The even spacing `rate` asks for: one start every window / count.
pub fn even_spacing(rate: Rate) -> Duration {
    let window = match rate.per {
        Per::Second => Duration::from_secs(1),
        Per::Minute => Duration::from_secs(60),
    };
    window / rate.count.max(1)
}

/// A ceiling with no burst for starts spaced `even` apart: no window of one second (or
/// minute) ever holds more than the rate's count of starts. A hundredth more than the even
/// spacing: requests start spaced on this machine but arrive with the network's jitter, and a
/// gap 4 ms short let a 2/s gateway see three starts within one second. A rate from a Rate
/// value is at most 1,000,000/s; never let a larger one round the spacing down to zero.
pub fn ceiling(even: Duration) -> DefaultDirectRateLimiter {
    let period = (even + even / 100).max(Duration::from_nanos(1));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
        .allow_burst(NonZeroU32::MIN);
    RateLimiter::direct(quota)
}

/// Requests in flight and the rate of their starts. Clones share the limits.
#[derive(Clone)]
pub struct Pace {
    in_flight: Arc<Semaphore>,
    rate: Option<Arc<DefaultDirectRateLimiter>>,
    concurrency: usize,
}

impl Pace {
    /// At most `concurrency` requests in flight, and starts under `rate` if given.
    pub fn new(concurrency: u32, rate: Option<Rate>) -> Self {
        let concurrency = concurrency.max(1) as usize;
        let rate = rate.map(|r| Arc::new(ceiling(even_spacing(r))));
        Pace {
            in_flight: Arc::new(Semaphore::new(concurrency)),
            rate,
            concurrency,
        }
    }

    /// How many requests may be in flight.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Waits for a place among the requests in flight, held until the permit is dropped.
    pub async fn place(&self) -> OwnedSemaphorePermit {
        Arc::clone(&self.in_flight)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// Waits for the rate to allow one more start (a place is the caller's to take: a burst
    /// of reads runs at most [`Pace::concurrency`] at once).
    pub async fn ready(&self) {
        if let Some(limiter) = &self.rate {
            limiter.until_ready().await;
        }
    }
}
