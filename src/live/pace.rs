//! The runbook's limits for reads: at most `concurrency` in flight, and no more starts than
//! `rate` allows in any window (no burst), as a run keeps them.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{Quota, RateLimiter};

use crate::runbook::values::{Per, Rate};

type Limiter = RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    governor::clock::DefaultClock,
>;

/// Concurrency and rate for a burst of reads. Clones share the limits.
#[derive(Clone)]
pub struct Pace {
    rate: Option<Arc<Limiter>>,
    concurrency: usize,
}

impl Pace {
    /// At most `concurrency` reads in flight, and `rate` if given.
    pub fn new(concurrency: u32, rate: Option<Rate>) -> Self {
        let concurrency = concurrency.max(1) as usize;
        let rate = rate.and_then(|r| {
            let window = match r.per {
                Per::Second => std::time::Duration::from_secs(1),
                Per::Minute => std::time::Duration::from_secs(60),
            };
            let quota = Quota::with_period(window / r.count.max(1))?.allow_burst(NonZeroU32::MIN);
            Some(Arc::new(RateLimiter::direct(quota)))
        });
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
