//! The runbook's `limits.rate` as a ceiling on request starts, in one home: the reads of live
//! state here and a run's requests (`exec::limits`) are spaced by the same [`ceiling`]. And the
//! limits of a burst of reads: at most `concurrency` in flight under that ceiling.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

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

/// Concurrency and rate for a burst of reads. Clones share the limits.
#[derive(Clone)]
pub struct Pace {
    rate: Option<Arc<DefaultDirectRateLimiter>>,
    concurrency: usize,
}

impl Pace {
    /// At most `concurrency` reads in flight, and `rate` if given.
    pub fn new(concurrency: u32, rate: Option<Rate>) -> Self {
        let concurrency = concurrency.max(1) as usize;
        let rate = rate.map(|r| Arc::new(ceiling(even_spacing(r))));
        Pace { rate, concurrency }
    }

    /// How many reads may be in flight.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Waits for the rate to allow one more start. Concurrency is the caller's: it runs at
    /// most [`Pace::concurrency`] reads at once.
    pub async fn ready(&self) {
        if let Some(limiter) = &self.rate {
            limiter.until_ready().await;
        }
    }
}
