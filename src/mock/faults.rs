//! Fault injection: what can go wrong between a client and the API, reproducibly.
//!
//! Every decision draws from one generator seeded by `--seed`, in the order requests arrive, so
//! a run with one client at a time replays exactly.

use std::str::FromStr;
use std::time::Duration;

/// Which faults, how often.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added to every API answer.
    pub latency: Duration,
    /// Up to this much more, drawn uniformly.
    pub latency_jitter: Duration,
    /// Chance that a request starts a burst of 5xx answers.
    pub error_rate: f64,
    /// Answers in a burst (502, 503, 504 in turn).
    pub burst: u32,
    /// At most this many API requests a second; more get 429 with `Retry-After`.
    pub throttle: Option<u32>,
    /// The `Retry-After` of a throttled answer, in seconds (1 when not set).
    pub throttle_retry_after: Option<u64>,
    /// Chance the connection is reset before the request is applied.
    pub reset_before: f64,
    /// Chance the connection is reset after the request is applied (the client cannot know).
    pub reset_after: f64,
    /// Chance the connection is closed after the request is applied, with no answer: a FIN,
    /// and over TLS no `close_notify` (a gateway dropping the connection abruptly).
    pub close_after: f64,
    /// Chance the request is applied and then answered with a gateway's 5xx (502 or 504, with
    /// an HTML or a JSON body): a gateway that gave up waiting for the backend.
    pub error_after: f64,
    /// For up to this long after a stop is applied, reads of the job still show its status from
    /// before the stop (each stop draws its lag from half this to all of it).
    pub status_lag: Duration,
    /// Chance the JSON answer is cut short.
    pub truncate: f64,
    /// Chance the JSON answer is malformed.
    pub malformed: f64,
    /// Pause between 16-byte pieces of the answer body.
    pub slow_body: Option<Duration>,
    /// Faults fall on stop calls (single and batch) only; reads and lists pass untouched.
    pub stops_only: bool,
}

pub use crate::profile::PROFILES;

/// A fault profile the mock does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{given}`; the profiles are: {}", profile_names())]
pub struct UnknownProfile {
    /// The name given.
    pub given: String,
}

fn profile_names() -> String {
    let names: Vec<&str> = PROFILES.iter().map(|(n, _)| *n).collect();
    names.join(", ")
}

impl FromStr for Faults {
    type Err = UnknownProfile;
    fn from_str(name: &str) -> Result<Self, UnknownProfile> {
        let ms = Duration::from_millis;
        let none = Faults::default();
        Ok(match name {
            "faithful" => none,
            "latency" => Faults {
                latency: ms(100),
                latency_jitter: ms(100),
                ..none
            },
            "flaky" => Faults {
                error_rate: 0.05,
                burst: 3,
                latency: ms(20),
                ..none
            },
            "throttled" => Faults {
                throttle: Some(10),
                ..none
            },
            "resets" => Faults {
                reset_before: 0.05,
                reset_after: 0.05,
                ..none
            },
            "garbled" => Faults {
                truncate: 0.05,
                malformed: 0.05,
                ..none
            },
            "slow" => Faults {
                slow_body: Some(ms(50)),
                ..none
            },
            "gateway" => Faults {
                error_after: 0.10,
                status_lag: ms(1000),
                ..none
            },
            "chaos" => Faults {
                latency: ms(10),
                latency_jitter: ms(40),
                error_rate: 0.02,
                burst: 2,
                throttle: Some(50),
                reset_before: 0.02,
                reset_after: 0.02,
                close_after: 0.0,
                error_after: 0.02,
                status_lag: ms(500),
                truncate: 0.02,
                malformed: 0.02,
                slow_body: None,
                throttle_retry_after: None,
                stops_only: false,
            },
            _ => {
                let given = name.to_owned();
                return Err(UnknownProfile { given });
            }
        })
    }
}

/// A change of faults while the mock runs (`PUT /__mock/faults`): the fields given replace
/// the current ones; durations in milliseconds.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsPatch {
    /// Start from this named profile (see [`PROFILES`]).
    pub profile: Option<String>,
    /// Replaces `latency`.
    pub latency_ms: Option<u64>,
    /// Replaces `error_rate` (clamped to 0..=1).
    pub error_rate: Option<f64>,
    /// Replaces `burst` (at least 1 while `error_rate` is above 0).
    pub burst: Option<u32>,
    /// Replaces `throttle`; `0` turns it off.
    pub throttle: Option<u32>,
    /// Sets the `Retry-After` of throttled answers, in seconds.
    pub retry_after_s: Option<u64>,
    /// Replaces `reset_before` (clamped to 0..=1).
    pub reset_before: Option<f64>,
    /// Replaces `reset_after` (clamped to 0..=1).
    pub reset_after: Option<f64>,
    /// Replaces `close_after` (clamped to 0..=1).
    pub close_after: Option<f64>,
    /// Replaces `error_after` (clamped to 0..=1).
    pub error_after: Option<f64>,
    /// Replaces `status_lag`.
    pub status_lag_ms: Option<u64>,
    /// Replaces `truncate` (clamped to 0..=1).
    pub truncate: Option<f64>,
    /// Replaces `malformed` (clamped to 0..=1).
    pub malformed: Option<f64>,
    /// Replaces `slow_body` (the pause between 16-byte pieces); `0` turns it off.
    pub slow_body_ms: Option<u64>,
    /// Replaces `stops_only`: faults fall on stop calls only.
    pub stops_only: Option<bool>,
}

impl FaultsPatch {
    /// `faults` with this patch applied (a `profile` first, then the single fields).
    pub fn apply(self, faults: Faults) -> Faults {
        let mut f = self.profile.and_then(|p| p.parse().ok()).unwrap_or(faults);
        let ms = Duration::from_millis;
        let p = |v: Option<f64>, old: f64| v.map_or(old, |v| v.clamp(0.0, 1.0));
        f.latency = self.latency_ms.map_or(f.latency, ms);
        f.error_rate = p(self.error_rate, f.error_rate);
        f.burst = self.burst.unwrap_or(f.burst);
        if f.error_rate > 0.0 && f.burst == 0 {
            f.burst = 1;
        }
        f.throttle = self
            .throttle
            .map_or(f.throttle, |n| Some(n).filter(|n| *n > 0));
        f.throttle_retry_after = self.retry_after_s.or(f.throttle_retry_after);
        f.reset_before = p(self.reset_before, f.reset_before);
        f.reset_after = p(self.reset_after, f.reset_after);
        f.close_after = p(self.close_after, f.close_after);
        f.error_after = p(self.error_after, f.error_after);
        f.status_lag = self.status_lag_ms.map_or(f.status_lag, ms);
        f.truncate = p(self.truncate, f.truncate);
        f.malformed = p(self.malformed, f.malformed);
        f.slow_body = self
            .slow_body_ms
            .map_or(f.slow_body, |n| Some(ms(n)).filter(|d| !d.is_zero()));
        f.stops_only = self.stops_only.unwrap_or(f.stops_only);
        f
    }
}

/// What happens to one request before it is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    /// Handled as usual.
    Pass,
    /// Over the `throttle` limit: 429 with `Retry-After`, unhandled.
    Throttled {
        /// The `Retry-After` to send, in seconds.
        retry_after_secs: u64,
    },
    /// Answered at once with this 5xx, unhandled (a burst).
    ServerError(u16),
    /// The connection is reset, the request not applied.
    Reset,
}

/// What happens to its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Sent as it is.
    Pass,
    /// The connection is reset: the request was applied, the client cannot know.
    Reset,
    /// The connection is closed with no answer (over TLS without `close_notify`): applied,
    /// the client cannot know.
    Close,
    /// Applied, then answered by the gateway with this 5xx; `html` says the body is a
    /// gateway's HTML page rather than JSON.
    GatewayError {
        /// The status: 502 or 504.
        http: u16,
        /// The body is a gateway's HTML page rather than JSON.
        html: bool,
    },
    /// The JSON body is cut in half.
    Truncate,
    /// The JSON body's syntax is broken.
    Malformed,
}

/// The running state of fault injection: the generator, the burst in progress, the rate window.
#[derive(Debug)]
pub struct Injector {
    faults: Faults,
    rng: fastrand::Rng,
    burst_left: u32,
    burst_index: u32,
    window_start: std::time::Instant,
    window_count: u32,
}

impl Injector {
    /// A fresh injector for `faults`, its generator seeded with `seed` (`--seed`).
    pub fn new(faults: Faults, seed: u64) -> Self {
        Injector {
            faults,
            rng: fastrand::Rng::with_seed(seed),
            burst_left: 0,
            burst_index: 0,
            window_start: std::time::Instant::now(),
            window_count: 0,
        }
    }

    /// The faults now in force.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// New faults from now on; the generator goes on where it was.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
        self.burst_left = 0;
    }

    /// The latency to add to this request.
    pub fn latency(&mut self) -> Duration {
        let jitter = self.faults.latency_jitter.as_millis() as u64;
        let extra = if jitter > 0 {
            self.rng.u64(0..=jitter)
        } else {
            0
        };
        self.faults.latency + Duration::from_millis(extra)
    }

    /// Draws what happens to a request arriving at `now`, before it is handled: throttling
    /// first, then a burst of 5xx, then a reset.
    pub fn before(&mut self, now: std::time::Instant) -> Before {
        if let Some(limit) = self.faults.throttle {
            if now.duration_since(self.window_start) >= Duration::from_secs(1) {
                self.window_start = now;
                self.window_count = 0;
            }
            self.window_count += 1;
            if self.window_count > limit {
                return Before::Throttled {
                    retry_after_secs: self.faults.throttle_retry_after.unwrap_or(1),
                };
            }
        }
        if self.burst_left == 0 && self.faults.burst > 0 && self.chance(self.faults.error_rate) {
            self.burst_left = self.faults.burst;
        }
        if self.burst_left > 0 {
            self.burst_left -= 1;
            self.burst_index += 1;
            return Before::ServerError([502, 503, 504][(self.burst_index as usize - 1) % 3]);
        }
        if self.chance(self.faults.reset_before) {
            return Before::Reset;
        }
        Before::Pass
    }

    /// Draws what happens to the answer of a request that was handled.
    pub fn after(&mut self) -> After {
        if self.chance(self.faults.reset_after) {
            After::Reset
        } else if self.chance(self.faults.close_after) {
            After::Close
        } else if self.chance(self.faults.error_after) {
            After::GatewayError {
                http: if self.rng.bool() { 504 } else { 502 },
                html: self.rng.bool(),
            }
        } else if self.chance(self.faults.truncate) {
            After::Truncate
        } else if self.chance(self.faults.malformed) {
            After::Malformed
        } else {
            After::Pass
        }
    }

    /// How long reads of a job just stopped go on showing its old status.
    pub fn status_lag(&mut self) -> Duration {
        let most = self.faults.status_lag.as_millis() as u64;
        match most {
            0 => Duration::ZERO,
            _ => Duration::from_millis(self.rng.u64(most / 2..=most)),
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.f64() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_parses() {
        for (name, _) in PROFILES {
            name.parse::<Faults>().unwrap();
        }
        assert!(
            "nope"
                .parse::<Faults>()
                .unwrap_err()
                .to_string()
                .contains("chaos")
        );
    }

    #[test]
    fn the_same_seed_makes_the_same_decisions() {
        let faults: Faults = "chaos".parse().unwrap();
        let now = std::time::Instant::now();
        let run = |seed| {
            let mut i = Injector::new(faults.clone(), seed);
            (0..200)
                .map(|_| (i.before(now), i.after()))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn a_burst_cycles_through_502_503_504() {
        let faults = Faults {
            error_rate: 1.0,
            burst: 3,
            ..Faults::default()
        };
        let mut i = Injector::new(faults, 0);
        let now = std::time::Instant::now();
        let got: Vec<_> = (0..3).map(|_| i.before(now)).collect();
        assert_eq!(
            got,
            [
                Before::ServerError(502),
                Before::ServerError(503),
                Before::ServerError(504)
            ]
        );
    }

    #[test]
    fn throttling_allows_the_limit_per_second() {
        let faults = Faults {
            throttle: Some(3),
            ..Faults::default()
        };
        let mut i = Injector::new(faults, 0);
        let now = std::time::Instant::now();
        let got: Vec<_> = (0..4).map(|_| i.before(now)).collect();
        assert_eq!(got[..3], [Before::Pass; 3]);
        assert_eq!(
            got[3],
            Before::Throttled {
                retry_after_secs: 1
            }
        );
        assert_eq!(i.before(now + Duration::from_secs(1)), Before::Pass);
    }
}
