//! The adaptive rate: a run that does not know its gateway's limit learns it from the 429s,
//! settles just below it, and probes back up (never above `limits.rate`), instead of bursting
//! into the limit again after every pause.
//!
//! Three parts, on the spacing between request starts:
//!
//! - **Slow start.** A run begins at 100 starts a second and doubles every 25 ms until the first
//!   429 or 50,000 a second (then nothing is spaced: a start costs one atomic load, its answer
//!   one atomic add). So the first 429 comes while few requests are in flight, however high the
//!   concurrency, rather than one per worker.
//! - **A cut to what the gateway let through.** On the first 429 of a burst the run counts the
//!   answers that were not 429 since it last resumed, over that time but never less than the
//!   gateway's `Retry-After` (or a second): that is the gateway's own rate, seen from here. The
//!   run goes on at 97 % of it once the pause the 429 asked for has passed.
//! - **Probing.** After holding that rate for twenty seconds, each quiet second raises it a
//!   little more than the last (0.5 %, 1 %, ... up to 10 %): slowly near the rate that was too
//!   much, quickly when the gateway's limit has grown. A 429 while probing goes back to the rate
//!   that held (the gateway let it through for twenty seconds); a 429 while holding cuts anew.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Slow start: the first rate, how often it doubles, and the rate past which nothing is spaced.
const FIRST_NS: u64 = 1_000_000_000 / 100;
const DOUBLE_EVERY: Duration = Duration::from_millis(25);
const UNSPACED_BELOW_NS: u64 = 1_000_000_000 / 50_000;
/// A 429 within this long after a cut is the same burst: it does not cut again.
const SAME_BURST: Duration = Duration::from_millis(500);
/// The part of the gateway's observed rate the run goes on at, in thousandths.
const TARGET_PERMILLE: u64 = 970;
/// How long a cut rate is held before probing, and the probe's steps.
const HOLD: Duration = Duration::from_secs(20);
const RAISE_EVERY: Duration = Duration::from_secs(1);
/// Each quiet second raises the rate by `step / 200` more than the one before, up to 20 steps.
const RAISE_STEPS: u64 = 20;

/// The adaptive spacing of request starts.
pub struct Adaptive {
    /// Nanoseconds between starts; 0 when nothing is spaced.
    interval_ns: AtomicU64,
    /// The spacing `limits.rate` asks for, if any: the rate is never raised above it.
    floor_ns: u64,
    /// Requests answered (429s included) since the run last resumed after a cut (or began).
    answered: AtomicU64,
    /// 429 answers in the run.
    throttled: AtomicU64,
    /// Whether a 429 has taught the run a rate (before, the spacing is the slow start's).
    adapting: AtomicBool,
    state: Mutex<State>,
}

struct State {
    /// When the next start may be.
    next: Instant,
    /// The slow start's last doubling (or its beginning): `None` until the first start.
    doubled: Option<Instant>,
    /// When the current count of starts began, and the 429s answered since.
    window: Instant,
    throttled_in_window: u64,
    /// When a 429 last cut the rate; no raise before `hold_until`; the last raise and its step.
    cut: Option<Instant>,
    hold_until: Instant,
    raised: Instant,
    step: u64,
    /// The spacing that held, once probing above it began.
    held_ns: Option<u64>,
}

impl Adaptive {
    /// Slow start; never faster than `floor` between starts.
    pub fn new(floor: Option<Duration>) -> Self {
        let now = Instant::now();
        let floor_ns = floor.map_or(0, |f| f.as_nanos() as u64);
        Adaptive {
            interval_ns: AtomicU64::new(FIRST_NS.max(floor_ns)),
            floor_ns,
            answered: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            adapting: AtomicBool::new(false),
            state: Mutex::new(State {
                next: now,
                doubled: None,
                window: now,
                throttled_in_window: 0,
                cut: None,
                hold_until: now,
                raised: now,
                step: 0,
                held_ns: None,
            }),
        }
    }

    /// Waits for this request's turn under the adaptive rate.
    pub async fn before_start(&self) {
        if self.interval_ns.load(Ordering::Relaxed) == 0 {
            return;
        }
        let at = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let interval = self.next_interval(&mut state, now);
            let at = state.next.max(now);
            state.next = at + Duration::from_nanos(interval);
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// The spacing from now on: the slow start's doublings, or a quiet second's raise.
    fn next_interval(&self, state: &mut State, now: Instant) -> u64 {
        let mut interval = self.interval_ns.load(Ordering::Relaxed);
        if state.cut.is_none() {
            let since = *state.doubled.get_or_insert(now);
            let steps = (now.duration_since(since).as_nanos() / DOUBLE_EVERY.as_nanos()) as u32;
            if steps > 0 {
                interval = interval.checked_shr(steps).unwrap_or(0);
                state.doubled = Some(since + DOUBLE_EVERY * steps);
            }
        } else if now >= state.hold_until && now.duration_since(state.raised) >= RAISE_EVERY {
            state.held_ns.get_or_insert(interval);
            state.step = (state.step + 1).min(RAISE_STEPS);
            interval -= interval * state.step / 200;
            state.raised = now;
        }
        if interval < UNSPACED_BELOW_NS {
            interval = 0;
        }
        if self.floor_ns > 0 {
            interval = interval.max(self.floor_ns);
        }
        self.interval_ns.store(interval, Ordering::Relaxed);
        interval
    }

    /// A 429 came, and the run pauses for `pause`: on the first of a burst, the rate becomes
    /// the one that held before probing, or else 97 % of what the gateway let through, from
    /// when the pause ends.
    pub fn throttled(&self, pause: Duration) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.throttled_in_window += 1;
        let now = Instant::now();
        if state
            .cut
            .is_some_and(|cut| now.duration_since(cut) < SAME_BURST)
        {
            return;
        }
        let span = now
            .duration_since(state.window)
            .max(pause)
            .max(Duration::from_secs(1));
        let answered = self.answered.swap(0, Ordering::Relaxed);
        let let_through = answered.saturating_sub(state.throttled_in_window);
        let current = self.interval_ns.load(Ordering::Relaxed);
        let interval = match (state.held_ns.take(), let_through) {
            (Some(held), _) => held,
            (None, 0) => (current.max(FIRST_NS) * 2).min(span.as_nanos() as u64),
            (None, n) => (span.as_nanos() as u64 * 1000 / (n * TARGET_PERMILLE)).max(1),
        };
        self.interval_ns
            .store(interval.max(self.floor_ns).max(1), Ordering::Relaxed);
        self.adapting.store(true, Ordering::Relaxed);
        let resume = now + pause;
        state.window = resume;
        state.throttled_in_window = 0;
        state.cut = Some(now);
        state.hold_until = resume + HOLD;
        state.raised = state.hold_until;
        state.step = 0;
        state.next = state.next.max(resume);
    }

    /// A request's answer came (or it ended without one).
    pub fn answered(&self) {
        self.answered.fetch_add(1, Ordering::Relaxed);
    }

    /// 429 answers so far.
    pub fn throttled_count(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// The rate a 429 taught, in requests a second, once the run adapts.
    pub fn current_rate(&self) -> Option<f64> {
        if !self.adapting.load(Ordering::Relaxed) {
            return None;
        }
        match self.interval_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(1e9 / ns as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_slow_start_doubles_until_nothing_is_spaced() {
        let adaptive = Adaptive::new(None);
        adaptive.before_start().await;
        assert_eq!(adaptive.interval_ns.load(Ordering::Relaxed), FIRST_NS);
        tokio::time::advance(DOUBLE_EVERY * 2).await;
        adaptive.before_start().await;
        assert_eq!(adaptive.interval_ns.load(Ordering::Relaxed), FIRST_NS / 4);
        assert_eq!(adaptive.current_rate(), None, "not adapting before a 429");
        tokio::time::advance(DOUBLE_EVERY * 20).await;
        adaptive.before_start().await;
        assert_eq!(adaptive.interval_ns.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_sets_the_rate_the_gateway_let_through_then_probes_up() {
        let adaptive = Adaptive::new(None);
        // 51 answers in the first 400 ms, the last a 429: 50 let through (the span is at least
        // the second the gateway asked to wait). The burst's other 429s do not cut again.
        for _ in 0..50 {
            adaptive.answered();
        }
        tokio::time::advance(Duration::from_millis(400)).await;
        for _ in 0..10 {
            adaptive.answered();
            adaptive.throttled(Duration::from_secs(1));
        }
        let rate = adaptive.current_rate().expect("adapting");
        assert!((rate - 48.5).abs() < 0.01, "{rate}");
        assert_eq!(adaptive.throttled_count(), 10);
        // Held for ten seconds after the pause, then raised each quiet second.
        tokio::time::advance(Duration::from_secs(5)).await;
        adaptive.before_start().await;
        assert_eq!(adaptive.current_rate(), Some(rate));
        tokio::time::advance(HOLD).await;
        adaptive.before_start().await;
        let raised = adaptive.current_rate().unwrap();
        assert!(raised > rate && raised < rate * 1.01, "{raised}");
        // A 429 while probing goes back to the rate that held.
        tokio::time::advance(Duration::from_secs(3)).await;
        adaptive.before_start().await;
        adaptive.throttled(Duration::from_secs(1));
        assert_eq!(adaptive.current_rate(), Some(rate));
    }

    /// A gateway letting `limit` requests through in each second since `t0`, the rest 429.
    struct Gateway {
        t0: Instant,
        limit: u32,
        second: u64,
        count: u32,
    }

    impl Gateway {
        fn admits(&mut self, now: Instant) -> bool {
            let second = now.duration_since(self.t0).as_secs();
            if second != self.second {
                (self.second, self.count) = (second, 0);
            }
            self.count += 1;
            self.count <= self.limit
        }
    }

    /// Eight workers with 20 ms requests against a gateway of 50 a second that answers 429
    /// with `Retry-After: 10`: when each request started, and when each 429 came.
    async fn against_a_long_retry_after(run_for: Duration) -> (Vec<Instant>, Vec<Instant>) {
        use std::sync::{Arc, Mutex};
        let limits = Arc::new(crate::exec::Limits::new(8, None));
        let t0 = Instant::now();
        let gateway = Arc::new(Mutex::new(Gateway {
            t0,
            limit: 50,
            second: 0,
            count: 0,
        }));
        let seen = Arc::new(Mutex::new((Vec::new(), Vec::new())));
        let mut workers = Vec::new();
        for _ in 0..8 {
            let (limits, gateway, seen) = (limits.clone(), gateway.clone(), seen.clone());
            workers.push(tokio::spawn(async move {
                loop {
                    let turn = limits.request().await;
                    let now = Instant::now();
                    if now >= t0 + run_for {
                        return;
                    }
                    let admitted = gateway.lock().unwrap().admits(now);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    drop(turn);
                    let mut seen = seen.lock().unwrap();
                    match admitted {
                        true => seen.0.push(now),
                        false => {
                            seen.1.push(Instant::now());
                            limits.pause(Duration::from_secs(10));
                        }
                    }
                }
            }));
        }
        for w in workers {
            w.await.unwrap();
        }
        let (mut starts, throttled) = std::mem::take(&mut *seen.lock().unwrap());
        starts.sort();
        (starts, throttled)
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_long_retry_after_the_rate_climbs_back_within_seconds() {
        let (starts, throttled) = against_a_long_retry_after(Duration::from_secs(120)).await;
        let resumed = throttled[0] + Duration::from_secs(10);
        // The first second after the pause in which 45 requests (0.9 of the limit) started.
        let back = starts
            .iter()
            .filter(|t| **t >= resumed)
            .find(|t| {
                starts
                    .iter()
                    .filter(|s| **s >= **t && **s < **t + Duration::from_secs(1))
                    .count()
                    >= 45
            })
            .map(|t| t.duration_since(resumed));
        assert!(
            back.is_some_and(|b| b <= Duration::from_secs(5)),
            "0.9 of the limit reached {back:?} after the pause; {} starts in 120 s, {} answered 429",
            starts.len(),
            throttled.len()
        );
        assert!(throttled.len() <= 20, "{} answered 429", throttled.len());
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_is_never_raised_above_the_ceiling() {
        let adaptive = Adaptive::new(Some(Duration::from_millis(100)));
        for _ in 0..100 {
            adaptive.answered();
        }
        adaptive.throttled(Duration::from_secs(1));
        for _ in 0..200 {
            tokio::time::advance(RAISE_EVERY).await;
            adaptive.before_start().await;
        }
        assert!(adaptive.current_rate().unwrap() <= 10.0 + 1e-9);
    }
}
