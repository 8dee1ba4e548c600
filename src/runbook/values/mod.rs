//! The small value types of the runbook format, each parsed from its text form with a message
//! that says what was expected, and shown back in one canonical form (so plans are stable).
//!
//! Each type also describes itself to the JSON Schema (a string with a pattern), so the schema
//! editors use and the parser we run cannot disagree about what a value looks like.

use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

use super::decode::{Cx, Decode, parse_str};
use super::yaml::{Node, Value};
use crate::diag::Diagnostic;
use crate::drs::{Endpoint, JobId, Language, ProjectId, Region};

mod bad;
pub use bad::BadValue;

/// Implements `JsonSchema` (a string with a pattern) and `Serialize` (the canonical text) for a
/// type with `Display`.
macro_rules! text_schema {
    ($t:ty, $pattern:literal, $description:literal) => {
        impl JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($t).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": $pattern, "description": $description })
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

/// `as_str` and `Display` for a validated newtype over `String`.
macro_rules! string_newtype {
    ($t:ty) => {
        impl $t {
            /// The value as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// `JsonSchema` (a string with a pattern) and `Decode` for a DRS type that serializes itself:
/// the runbook's view of the API's vocabulary (see [`crate::drs`]).
macro_rules! drs_value {
    ($t:ty, $expected:literal, $pattern:literal, $description:literal) => {
        text_value!(@decode $t, $expected);
        impl JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($t).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": $pattern, "description": $description })
            }
        }
    };
}

/// Like `text_schema!`, and also `Decode` from a YAML string through `FromStr<Err = String>`.
macro_rules! text_value {
    ($t:ty, $expected:literal, $pattern:literal, $description:literal) => {
        text_value!(@decode $t, $expected);
        text_schema!($t, $pattern, $description);
    };
    (@decode $t:ty, $expected:literal) => {
        impl Decode for $t {
            fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
                parse_str(node, cx, $expected, |s| s.parse())
            }
        }
    };
}

/// A length of time written `250ms`, `30s`, `10m` or `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(std::time::Duration);

/// The longest duration accepted anywhere: a week.
const MAX_DURATION_MS: u64 = 7 * 24 * 3600 * 1000;

impl Duration {
    /// A duration of `ms` milliseconds.
    pub fn from_millis(ms: u64) -> Self {
        Duration(std::time::Duration::from_millis(ms))
    }
    /// The duration for the standard library and tokio.
    pub fn get(self) -> std::time::Duration {
        self.0
    }
    /// The duration in whole milliseconds.
    pub fn as_millis(self) -> u64 {
        self.0.as_millis() as u64
    }
}

impl FromStr for Duration {
    type Err = BadValue;
    fn from_str(s: &str) -> Result<Self, BadValue> {
        let bad = || BadValue::Duration(s.to_owned());
        let digits_end = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (number, unit) = s.split_at(digits_end);
        let number: u64 = number.parse().map_err(|_| bad())?;
        let scale = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        match number.checked_mul(scale) {
            Some(ms) if ms <= MAX_DURATION_MS => Ok(Duration::from_millis(ms)),
            _ => Err(BadValue::DurationTooLong(s.to_owned())),
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.write_canonical(&mut [0; 24]))
    }
}

impl Duration {
    /// The canonical text in a stack buffer: plans write hundreds of thousands of durations.
    fn write_canonical(self, buf: &mut [u8; 24]) -> &str {
        let ms = self.as_millis();
        let (number, unit): (u64, &[u8]) = match ms {
            0 => (0, b"s"),
            _ if ms.is_multiple_of(3_600_000) => (ms / 3_600_000, b"h"),
            _ if ms.is_multiple_of(60_000) => (ms / 60_000, b"m"),
            _ if ms.is_multiple_of(1000) => (ms / 1000, b"s"),
            _ => (ms, b"ms"),
        };
        let mut digits = [0u8; 20];
        let mut n = number;
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let len = digits.len() - start;
        buf[..len].copy_from_slice(&digits[start..]);
        buf[len..len + unit.len()].copy_from_slice(unit);
        std::str::from_utf8(&buf[..len + unit.len()]).unwrap_or("0s")
    }
}

text_value!(@decode Duration, "a duration such as `30s`");

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.write_canonical(&mut [0; 24]))
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9]+(ms|s|m|h)$",
            "description": "A duration: a whole number and a unit, `ms`, `s`, `m` or `h` (`250ms`, `30s`, `10m`, `1h`)."
        })
    }
}

/// The window a rate counts requests in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Per {
    /// Per second (`N/s`).
    Second,
    /// Per minute (`N/m`).
    Minute,
}

/// The highest rate ceiling accepted: a microsecond between starts, far above what any
/// endpoint serves, and short of the zero spacing a larger count would round to.
pub const MAX_RATE_PER_SECOND: u64 = 1_000_000;

/// A request-rate ceiling: never more than `count` requests start in any window of one `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    /// Requests that may start in one window.
    pub count: u32,
    /// The window's length.
    pub per: Per,
}

impl FromStr for Rate {
    type Err = BadValue;
    fn from_str(s: &str) -> Result<Self, BadValue> {
        let bad = || BadValue::Rate(s.to_owned());
        let (count, per) = s.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = match per.trim() {
            "s" => Per::Second,
            "m" => Per::Minute,
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(BadValue::RateZero(s.to_owned()));
        }
        let window = if per == Per::Second { 1 } else { 60 };
        if u64::from(count) > MAX_RATE_PER_SECOND * window {
            return Err(BadValue::RateTooHigh {
                given: s.to_owned(),
                per_second: MAX_RATE_PER_SECOND,
                per_minute: MAX_RATE_PER_SECOND * 60,
            });
        }
        Ok(Rate { count, per })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per {
            Per::Second => "s",
            Per::Minute => "m",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

text_value!(
    Rate,
    "a rate such as `5/s`",
    "^[0-9]+/(s|m)$",
    "A request-rate ceiling, `N/s` or `N/m`: never more than N requests start in any one-second (or one-minute) window."
);

/// The name of an environment variable that holds a credential (never the credential itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvVarName(String);

impl FromStr for EnvVarName {
    type Err = BadValue;
    fn from_str(s: &str) -> Result<Self, BadValue> {
        let valid = !s.is_empty()
            && s.len() <= 128
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            Ok(EnvVarName(s.to_owned()))
        } else {
            Err(BadValue::EnvVarName)
        }
    }
}

string_newtype!(EnvVarName);

text_schema!(
    EnvVarName,
    "^[A-Za-z_][A-Za-z0-9_]*$",
    "The name of an environment variable that holds the credential; never the credential itself."
);

impl Decode for EnvVarName {
    /// A value that is not a variable name may be a pasted credential: the diagnostic masks it.
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let Value::Str(text) = &node.value else {
            return cx.expected(node, "the name of an environment variable");
        };
        let message = if looks_like_credential(text) {
            cx.file.hide(text);
            "this looks like a literal secret, not the name of an environment variable".to_owned()
        } else {
            match text.parse::<EnvVarName>() {
                Ok(name) => return Some(name),
                Err(e) => e.to_string(),
            }
        };
        let d = Diagnostic::at(cx.place(node.span), message)
            .label("write the variable's name here and put the secret in the environment")
            .hint("for example `token_env: DRS_AUTH_TOKEN`, then `export DRS_AUTH_TOKEN=...`")
            .redacted();
        cx.report(d);
        None
    }
}

pub use crate::diag::mask::looks_like_credential;

/// How many failed stops a run tolerates before it aborts: a count, or a percentage of the stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureBudget {
    /// At most this many failed stops.
    Count(u64),
    /// Hundredths of a percent, so `2.5%` is 250.
    Percent(u32),
}

impl FailureBudget {
    /// The number of failures allowed among `total` stops (one more aborts the run).
    pub fn allowed(self, total: usize) -> u64 {
        match self {
            FailureBudget::Count(n) => n,
            FailureBudget::Percent(hundredths) => total as u64 * hundredths as u64 / 10_000,
        }
    }
}

impl fmt::Display for FailureBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureBudget::Count(n) => write!(f, "{n}"),
            FailureBudget::Percent(h) if h.is_multiple_of(100) => write!(f, "{}%", h / 100),
            FailureBudget::Percent(h) if h.is_multiple_of(10) => {
                write!(f, "{}.{}%", h / 100, (h % 100) / 10)
            }
            FailureBudget::Percent(h) => write!(f, "{}.{:02}%", h / 100, h % 100),
        }
    }
}

impl FromStr for FailureBudget {
    type Err = BadValue;
    fn from_str(s: &str) -> Result<Self, BadValue> {
        let bad = || BadValue::Budget(s.to_owned());
        let Some(number) = s.strip_suffix('%') else {
            return s.parse().map(FailureBudget::Count).map_err(|_| bad());
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty()
            || fraction.len() > 2
            || !(whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
        let hundredths = whole.saturating_mul(100).saturating_add(fraction);
        if hundredths > 10_000 {
            return Err(BadValue::BudgetOver100(s.to_owned()));
        }
        Ok(FailureBudget::Percent(hundredths))
    }
}

impl Decode for FailureBudget {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Int(n) => match u64::try_from(*n) {
                Ok(n) => Some(FailureBudget::Count(n)),
                Err(_) => cx.error(node.span, "a failure budget cannot be negative"),
            },
            _ => parse_str(
                node,
                cx,
                "a count such as `3` or a percentage such as `5%`",
                |s| s.parse(),
            ),
        }
    }
}

impl JsonSchema for FailureBudget {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FailureBudget".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "How many failed stops the run tolerates: a count, or a percentage of all stops (`5%`). One failure more aborts the run (exit 3).",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?%$" }
            ]
        })
    }
}

impl Serialize for FailureBudget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FailureBudget::Count(n) => s.serialize_u64(*n),
            FailureBudget::Percent(_) => s.collect_str(self),
        }
    }
}

// The API's vocabulary, as runbooks write it.
drs_value!(
    JobId,
    "a job ID",
    "^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$",
    "A DRS job ID: groups of 8-4-4-4-12 lowercase letters and digits (not necessarily hex)."
);

drs_value!(
    ProjectId,
    "a project ID",
    "^[0-9a-f]{32}$",
    "The tenant's project ID in the region: 32 lowercase hex characters."
);

drs_value!(
    Language,
    "`en-us` or `zh-cn`",
    "^(en-us|zh-cn)$",
    "The X-Language header sent with each request."
);

drs_value!(
    Region,
    "a region name",
    "^[a-z]+(-[a-z]+)+-[0-9]+$",
    "A region such as `cn-north-4`, instead of `endpoint`: the vendor's DRS host for it."
);

drs_value!(
    Endpoint,
    "an endpoint URL",
    "^(https://|http://(127\\.[0-9.]+|localhost|\\[::1\\])(:[0-9]+)?/?$)",
    "The DRS endpoint: `https://host[:port]`, or `http://` on a loopback host only."
);

#[cfg(test)]
mod tests;
