//! The names of the mock's fault profiles, with what each switches on: the vocabulary that
//! `stopbook mock --profile`, a runbook's `target.mock.profile` and `run --rehearse` share.
//! Its own module at the bottom of the layers, so the runbook format can check a name without
//! depending on the mock that makes the faults.

/// The named profiles of `--profile`, with what each switches on.
pub const PROFILES: &[(&str, &str)] = &[
    ("faithful", "no faults (the default)"),
    ("latency", "100ms latency plus up to 100ms of jitter"),
    (
        "flaky",
        "1 request in 20 starts a burst of 3 answers 502/503/504; 20ms latency",
    ),
    (
        "throttled",
        "at most 10 requests a second, then 429 APIGW.0308 with Retry-After",
    ),
    (
        "resets",
        "5% of connections reset before the request is applied, 5% after",
    ),
    ("garbled", "5% of answers truncated, 5% malformed"),
    ("slow", "answer bodies trickle in 16-byte pieces every 50ms"),
    (
        "gateway",
        "10% of requests applied, then answered 502/504 by the gateway; 1s of status lag",
    ),
    ("chaos", "all of the above at once, at lower rates"),
];

/// Whether `name` is a profile.
pub fn is_profile(name: &str) -> bool {
    PROFILES.iter().any(|(n, _)| *n == name)
}
