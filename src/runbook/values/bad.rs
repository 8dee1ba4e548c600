//! Why a runbook value was refused, typed: each says what was written and what was expected.

/// A duration, rate, failure budget or variable name that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadValue {
    /// Not `250ms`, `30s`, `10m` or `1h`.
    #[error(
        "invalid duration `{0}`: expected a whole number and a unit, like `250ms`, `30s`, `10m` or `1h`"
    )]
    Duration(String),
    /// Longer than a week.
    #[error("duration `{0}` is too long: at most 168h (a week)")]
    DurationTooLong(String),
    /// Not `5/s` or `300/m`.
    #[error("invalid rate `{0}`: expected requests per second or minute, like `5/s` or `300/m`")]
    Rate(String),
    /// `0/s`.
    #[error("rate `{0}` would never send anything: the count must be at least 1")]
    RateZero(String),
    /// More than any endpoint takes.
    #[error("rate `{given}` is beyond any endpoint: at most {per_second}/s (or {per_minute}/m)")]
    RateTooHigh {
        /// As written.
        given: String,
        /// The ceiling per second.
        per_second: u64,
        /// The ceiling per minute.
        per_minute: u64,
    },
    /// Not a count or a percentage.
    #[error(
        "invalid failure budget `{0}`: expected a count such as `3` or a percentage such as `5%`"
    )]
    Budget(String),
    /// A percentage over 100.
    #[error("failure budget `{0}` is over 100%")]
    BudgetOver100(String),
    /// Not a variable name (never shown: it may be a pasted value).
    #[error("expected the name of an environment variable (letters, digits and `_`), not a value")]
    EnvVarName,
}
