//! The adaptive rate: a run that does not know its gateway's limit learns it from the 429s,
//! settles just below it, and probes back up (never above `limits.rate`), instead of bursting
//! into the limit again after every pause.
//!
//! Four parts, on the spacing between request starts, each driven by the clock (never by how
//! many requests happen to ask, so a slow rate climbs as fast as a quick one):
//!
//! - **Slow start.** A run begins at 100 starts a second and doubles every 25 ms until the first
//!   429 or 50,000 a second (then nothing is spaced: a start costs one atomic load, its answer
//!   one atomic add). So the first 429 comes while few requests are in flight, however high the
//!   concurrency, rather than one per worker.
//! - **A cut to what the gateway let through.** On the first 429 of a burst the run counts the
//!   answers that were not 429 since it last resumed. Over the time it sent them (at least a
//!   second) that is the gateway's own rate, seen from here; over that time and the gateway's
//!   `Retry-After` together it is a rate that cannot draw the next 429 early, whatever kind of
//!   window the gateway counts in. The run goes on at 97 % of the second once the pause ends.
//! - **A climb back.** When the pause made the second rate lower than the first (a long
//!   `Retry-After`), the run doubles its rate every half second after the pause until it is
//!   back at 97 % of the gateway's rate: a `Retry-After: 10` from a gateway of 50 a second
//!   costs ten seconds, not minutes at 2 a second. A 429 while climbing goes back to the rate
//!   before the last doubling.
//! - **Probing.** After holding the gateway's rate for twenty seconds (or ten of its pauses,
//!   when they are longer: a probe's 429 then costs a tenth of the time), each quiet second raises
//!   it a little more than the last (0.5 %, 1 %, ... up to 10 %): slowly near the rate that was
//!   too much, quickly when the gateway's limit has grown. A 429 while probing goes back to the
//!   rate that held (the gateway let it through for twenty seconds); a 429 while holding cuts
//!   anew.
//!
//! In the slow start each request reserves its turn when it asks, at the spacing of that
//! moment: many workers asking at once are spaced at the first rate until their answers come
//! back, so the first 429 comes with few requests in flight. Once a 429 has cut the rate no turn
//! is reserved: each waiting request takes the next start the spacing allows when it comes, so
//! a climb or a raise applies to the very next start, not after a queue of turns reserved at
//! the old rate.

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
/// How often the climb back after a long pause doubles the rate.
const CLIMB_EVERY: Duration = Duration::from_millis(500);
/// How long a cut rate is held before probing (at least; and at least ten of the gateway's
/// pauses, so that a probe's 429 costs a tenth of the time at most), and the probe's steps.
const HOLD: Duration = Duration::from_secs(20);
const HOLD_PAUSES: u32 = 10;
const RAISE_EVERY: Duration = Duration::from_secs(1);
/// Each quiet second raises the rate by `step / 200` more than the one before, up to 20 steps.
const RAISE_STEPS: u64 = 20;
/// The most quiet seconds one look at the clock raises for (a run idle for an hour has learnt
/// nothing about its gateway in that hour).
const MOST_RAISES_AT_ONCE: u32 = 30;
/// A start this late after its turn keeps the turn's place in the spacing (starts due within
/// one timer tick go together, as many as the spacing allows); later, the spacing counts from
/// the start itself, so an idle spell never becomes a burst.
const SLACK: Duration = Duration::from_millis(1);

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
    /// When the last start's turn was; `None` before the first.
    last: Option<Instant>,
    /// No start before this: the end of the last 429's pause.
    resume: Instant,
    /// The slow start's last doubling (or its beginning): `None` until the first start.
    doubled: Option<Instant>,
    /// When the current count of starts began, and the 429s answered since.
    window: Instant,
    throttled_in_window: u64,
    /// When a 429 last cut the rate.
    cut: Option<Instant>,
    /// The climb back to the gateway's rate after a pause that made the cut deeper.
    climb: Option<Climb>,
    /// How long a rate is held before probing; no raise before `hold_until`; the last raise
    /// and its step.
    hold: Duration,
    hold_until: Instant,
    raised: Instant,
    step: u64,
    /// The spacing that held, once probing (or climbing) above it began.
    held_ns: Option<u64>,
}

/// A request's turn to start.
enum Turn {
    /// Now.
    Now,
    /// At this instant, kept for it (the slow start).
    Reserved(Instant),
    /// Not before this instant: ask again then.
    NotBefore(Instant),
}

/// A climb: from the spacing the cut set, doubling the rate from `from` until `target_ns`.
#[derive(Clone, Copy)]
struct Climb {
    start_ns: u64,
    target_ns: u64,
    from: Instant,
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
                last: None,
                resume: now,
                doubled: None,
                window: now,
                throttled_in_window: 0,
                cut: None,
                climb: None,
                hold: HOLD,
                hold_until: now,
                raised: now,
                step: 0,
                held_ns: None,
            }),
        }
    }

    /// Waits for this request's turn under the adaptive rate.
    pub async fn before_start(&self) {
        loop {
            if self.interval_ns.load(Ordering::Relaxed) == 0 {
                return;
            }
            match self.turn() {
                Turn::Now => return,
                Turn::Reserved(at) => {
                    tokio::time::sleep_until(at).await;
                    return;
                }
                Turn::NotBefore(due) => tokio::time::sleep_until(due).await,
            }
        }
    }

    /// This request's turn: reserved in the slow start, taken if due after a cut.
    fn turn(&self) -> Turn {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let interval = Duration::from_nanos(self.next_interval(&mut state, now));
        let due = state.last.map_or(now, |last| last + interval);
        if state.cut.is_none() {
            let at = due.max(now);
            state.last = Some(at);
            return Turn::Reserved(at);
        }
        let due = due.max(state.resume);
        if due > now {
            return Turn::NotBefore(due);
        }
        let late = now.duration_since(due);
        state.last = Some(if late < interval.max(SLACK) { due } else { now });
        Turn::Now
    }

    /// The spacing from now on: the slow start's doublings, the climb's, or the quiet seconds'
    /// raises, all counted by the clock.
    fn next_interval(&self, state: &mut State, now: Instant) -> u64 {
        let mut interval = self.interval_ns.load(Ordering::Relaxed);
        if state.cut.is_none() {
            if state.doubled.is_none() {
                // What the gateway lets through is counted from the first start.
                state.window = now;
            }
            let since = *state.doubled.get_or_insert(now);
            let steps = (now.duration_since(since).as_nanos() / DOUBLE_EVERY.as_nanos()) as u32;
            if steps > 0 {
                interval = interval.checked_shr(steps).unwrap_or(0);
                state.doubled = Some(since + DOUBLE_EVERY * steps);
            }
        } else if let Some(climb) = state.climb {
            interval = climbed(state, climb, interval, now);
        } else if now >= state.hold_until {
            interval = raised(state, interval, now);
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
    /// the one that held before probing or climbing, or else 97 % of what the gateway let
    /// through, from when the pause ends (climbing back when the pause made it lower).
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
        let sending = now.duration_since(state.window).max(Duration::from_secs(1));
        let span = sending.max(pause);
        let answered = self.answered.swap(0, Ordering::Relaxed);
        let let_through = answered.saturating_sub(state.throttled_in_window);
        let current = self.interval_ns.load(Ordering::Relaxed);
        let (interval, climb_to) = match (state.held_ns.take(), let_through) {
            (Some(held), _) => (held, None),
            (None, 0) => (
                (current.max(FIRST_NS) * 2).min(span.as_nanos() as u64),
                None,
            ),
            (None, n) => {
                let (after_pause, gateway) = (spacing(span, n), spacing(sending, n));
                (after_pause, (gateway < after_pause).then_some(gateway))
            }
        };
        let interval = interval.max(self.floor_ns).max(1);
        self.interval_ns.store(interval, Ordering::Relaxed);
        self.adapting.store(true, Ordering::Relaxed);
        let resume = now + pause;
        state.resume = state.resume.max(resume);
        state.window = resume;
        state.throttled_in_window = 0;
        state.cut = Some(now);
        state.climb = climb_to.map(|target| Climb {
            start_ns: interval,
            target_ns: target.max(self.floor_ns).max(1),
            from: resume,
        });
        state.hold = HOLD.max(pause.saturating_mul(HOLD_PAUSES));
        state.hold_until = resume + state.hold;
        state.raised = state.hold_until;
        state.step = 0;
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

/// The spacing that lets `n` requests start in `over`, at 97 %.
fn spacing(over: Duration, n: u64) -> u64 {
    (over.as_nanos() as u64 * 1000 / (n * TARGET_PERMILLE)).max(1)
}

/// The climb's spacing at `now`: the cut's, halved every [`CLIMB_EVERY`] since the pause
/// ended, down to the target; there the climb ends and the hold begins.
fn climbed(state: &mut State, climb: Climb, interval: u64, now: Instant) -> u64 {
    if now < climb.from {
        return interval;
    }
    let steps = (now.duration_since(climb.from).as_nanos() / CLIMB_EVERY.as_nanos()) as u32;
    let next = climb
        .start_ns
        .checked_shr(steps)
        .unwrap_or(0)
        .max(climb.target_ns);
    if next < interval {
        // The rate before this doubling held: a 429 from here goes back to it.
        state.held_ns = Some(interval);
    }
    if next == climb.target_ns {
        state.climb = None;
        state.held_ns = None;
        state.hold_until = now + state.hold;
        state.raised = state.hold_until;
    }
    next.min(interval)
}

/// The probe's spacing at `now`: one raise for each quiet second since the last.
fn raised(state: &mut State, mut interval: u64, now: Instant) -> u64 {
    let quiet = (now.duration_since(state.raised).as_nanos() / RAISE_EVERY.as_nanos()) as u32;
    let raises = quiet.min(MOST_RAISES_AT_ONCE);
    for _ in 0..raises {
        state.held_ns.get_or_insert(interval);
        state.step = (state.step + 1).min(RAISE_STEPS);
        interval -= interval * state.step / 200;
    }
    state.raised = match quiet > MOST_RAISES_AT_ONCE {
        true => now,
        false => state.raised + RAISE_EVERY * quiet,
    };
    interval
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
        // Held for twenty seconds after the pause, then raised for each quiet second, by the
        // clock: four seconds past the hold are four raises (0.5 %, 1 %, 1.5 %, 2 %) at once.
        tokio::time::advance(Duration::from_secs(5)).await;
        adaptive.before_start().await;
        assert_eq!(adaptive.current_rate(), Some(rate));
        tokio::time::advance(HOLD).await;
        adaptive.before_start().await;
        let raised = adaptive.current_rate().unwrap();
        let expected = rate / (0.995 * 0.99 * 0.985 * 0.98);
        assert!((raised - expected).abs() < 0.01, "{raised} {expected}");
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
            "0.9 of the limit reached {back:?} after the pause; {} starts, {} answered 429",
            starts.len(),
            throttled.len()
        );
        // And it stays there: over the 110 s after the first pause, at least 0.8 of the limit.
        let after = starts.iter().filter(|t| **t >= resumed).count();
        assert!(after >= 4400, "{after} starts in the 110 s after the pause");
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
