//! The adaptive rate: when answers are 429, the run lowers its request rate, then probes back up
//! (never above `limits.rate`), so against a gateway whose limit it does not know it settles
//! just below that limit instead of bursting into it after every pause.
//!
//! Additive increase, multiplicative decrease, on the spacing between request starts: a 429
//! sets the rate to four fifths of what the run achieved in the last window; every second
//! without one raises it by a twentieth. Until the first 429 nothing is spaced, and a start
//! costs one atomic load and one atomic add.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// A 429 within this long after a cut is the same burst: it does not cut again.
const SAME_BURST: Duration = Duration::from_millis(500);
/// How often the rate is raised while no 429 comes, and by what part (a thirty-third: about 3 %).
const RAISE_EVERY: Duration = Duration::from_secs(1);
const RAISE_BY: u64 = 33;

/// The adaptive spacing of request starts.
pub struct Adaptive {
    /// Nanoseconds between starts; 0 until the first 429.
    interval_ns: AtomicU64,
    /// The spacing `limits.rate` asks for, if any: the rate is never raised above it.
    floor_ns: u64,
    /// Starts since the window opened.
    starts: AtomicU64,
    /// 429 answers in the run.
    throttled: AtomicU64,
    state: Mutex<State>,
}

struct State {
    /// When the next start may be.
    next: Instant,
    /// When the current window opened (starts are counted since).
    window: Instant,
    /// When a 429 last cut the rate, and when a quiet second last raised it.
    cut: Instant,
    raised: Instant,
}

impl Adaptive {
    /// No spacing yet; never faster than `floor` between starts once spacing.
    pub fn new(floor: Option<Duration>) -> Self {
        let now = Instant::now();
        Adaptive {
            interval_ns: AtomicU64::new(0),
            floor_ns: floor.map_or(0, |f| f.as_nanos() as u64),
            starts: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            state: Mutex::new(State {
                next: now,
                window: now,
                cut: now,
                raised: now,
            }),
        }
    }

    /// Waits for this request's turn under the adaptive rate, and counts its start.
    pub async fn before_start(&self) {
        self.starts.fetch_add(1, Ordering::Relaxed);
        if self.interval_ns.load(Ordering::Relaxed) == 0 {
            return;
        }
        let at = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let mut interval = self.interval_ns.load(Ordering::Relaxed);
            let quiet = now.duration_since(state.cut) >= RAISE_EVERY;
            if quiet && now.duration_since(state.raised) >= RAISE_EVERY {
                interval = (interval - interval / RAISE_BY).max(self.floor_ns).max(1);
                self.interval_ns.store(interval, Ordering::Relaxed);
                state.raised = now;
            }
            let at = state.next.max(now);
            state.next = at + Duration::from_nanos(interval);
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// A 429 came: lower the rate to four fifths of what the run achieved since the last change.
    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let current = self.interval_ns.load(Ordering::Relaxed);
        if current != 0 && now.duration_since(state.cut) < SAME_BURST {
            return;
        }
        let elapsed = now.duration_since(state.window).as_secs_f64().max(0.05);
        let starts = self.starts.swap(0, Ordering::Relaxed).max(1) as f64;
        let achieved = starts / elapsed;
        let target = (achieved * 0.8).max(0.1);
        let interval = ((1e9 / target) as u64)
            .max(current + current / 4)
            .max(self.floor_ns);
        self.interval_ns.store(interval, Ordering::Relaxed);
        state.window = now;
        state.cut = now;
        state.raised = now;
    }

    /// 429 answers so far.
    pub fn throttled_count(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// The current rate in requests a second, once it adapts.
    pub fn current_rate(&self) -> Option<f64> {
        match self.interval_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(1e9 / ns as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_429_slows_the_starts_and_quiet_seconds_raise_them_again() {
        let adaptive = Adaptive::new(None);
        for _ in 0..100 {
            adaptive.before_start().await;
        }
        adaptive.throttled();
        let slowed = adaptive.current_rate().expect("adapting");
        adaptive.throttled(); // the same burst: no second cut
        assert_eq!(adaptive.current_rate(), Some(slowed));
        assert_eq!(adaptive.throttled_count(), 2);
        tokio::time::pause();
        tokio::time::advance(RAISE_EVERY).await;
        adaptive.before_start().await;
        assert!(
            adaptive.current_rate().unwrap() > slowed,
            "raised after a quiet second"
        );
    }

    #[tokio::test]
    async fn the_rate_is_never_raised_above_the_ceiling() {
        let adaptive = Adaptive::new(Some(Duration::from_millis(100)));
        adaptive.throttled();
        tokio::time::pause();
        for _ in 0..200 {
            tokio::time::advance(RAISE_EVERY).await;
            adaptive.before_start().await;
        }
        assert!(adaptive.current_rate().unwrap() <= 10.0 + 1e-9);
    }
}
