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
    pub fn from_millis(ms: u64) -> Self {
        Duration(std::time::Duration::from_millis(ms))
    }
    pub fn get(self) -> std::time::Duration {
        self.0
    }
    pub fn as_millis(self) -> u64 {
        self.0.as_millis() as u64
    }
}

impl FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid duration `{s}`: expected a whole number and a unit, like `250ms`, `30s`, `10m` or `1h`"
            )
        };
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
            _ => Err(format!("duration `{s}` is too long: at most 168h (a week)")),
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
    Second,
    Minute,
}

/// The highest rate ceiling accepted: a microsecond between starts, far above what any
/// endpoint serves, and short of the zero spacing a larger count would round to.
pub const MAX_RATE_PER_SECOND: u64 = 1_000_000;

/// A request-rate ceiling: never more than `count` requests start in any window of one `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub count: u32,
    pub per: Per,
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid rate `{s}`: expected requests per second or minute, like `5/s` or `300/m`"
            )
        };
        let (count, per) = s.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = match per.trim() {
            "s" => Per::Second,
            "m" => Per::Minute,
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(format!(
                "rate `{s}` would never send anything: the count must be at least 1"
            ));
        }
        let window = if per == Per::Second { 1 } else { 60 };
        if u64::from(count) > MAX_RATE_PER_SECOND * window {
            return Err(format!(
                "rate `{s}` is beyond any endpoint: at most {MAX_RATE_PER_SECOND}/s (or {}/m)",
                MAX_RATE_PER_SECOND * 60
            ));
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

/// A DRS job ID: 36 characters, groups of 8-4-4-4-12 lowercase letters and digits.
///
/// Not a UUID: the vendor's own example ends in `jb20r`, which is not hex. Held inline (no heap
/// allocation), because a large maintenance window lists hundreds of thousands of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId([u8; 36]);

impl JobId {
    pub fn as_str(&self) -> &str {
        // Only ASCII letters, digits and `-` are ever stored (see `from_str`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for JobId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        // A byte scan without allocation: large runbooks parse hundreds of thousands of these.
        let bytes = s.as_bytes();
        let shape_ok = bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, &b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_alphanumeric(),
            });
        if shape_ok && !bytes.iter().any(u8::is_ascii_uppercase) {
            let mut id = [0u8; 36];
            id.copy_from_slice(bytes);
            return Ok(JobId(id));
        }
        let mut message = format!(
            "invalid job ID `{s}`: expected 36 characters in groups of 8-4-4-4-12 lowercase letters and digits, like `c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r`"
        );
        if shape_ok {
            message.push_str(" (job IDs are lower case)");
        }
        Err(message)
    }
}

impl<'de> serde::Deserialize<'de> for JobId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_value!(
    JobId,
    "a job ID",
    "^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$",
    "A DRS job ID: groups of 8-4-4-4-12 lowercase letters and digits (not necessarily hex)."
);

/// A tenant's project ID in a region: 32 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectId(String);

impl FromStr for ProjectId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(ProjectId(s.to_owned()))
        } else {
            Err(format!(
                "invalid project ID `{s}`: expected 32 lowercase hex characters, like `054ba152d480d55b2f5dc0069e7ddef0`"
            ))
        }
    }
}

string_newtype!(ProjectId);

text_value!(
    ProjectId,
    "a project ID",
    "^[0-9a-f]{32}$",
    "The tenant's project ID in the region: 32 lowercase hex characters."
);

/// The name of an environment variable that holds a credential (never the credential itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvVarName(String);

impl FromStr for EnvVarName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let valid = !s.is_empty()
            && s.len() <= 128
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            Ok(EnvVarName(s.to_owned()))
        } else {
            Err("expected the name of an environment variable (letters, digits and `_`), not a value".to_owned())
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
                Err(e) => e,
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

/// The request language header: `en-us` or `zh-cn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    EnUs,
    ZhCn,
}

impl FromStr for Language {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "en-us" => Ok(Language::EnUs),
            "zh-cn" => Ok(Language::ZhCn),
            _ => Err(format!(
                "invalid language `{s}`: expected `en-us` or `zh-cn`"
            )),
        }
    }
}

impl Language {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::EnUs => "en-us",
            Language::ZhCn => "zh-cn",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_value!(
    Language,
    "`en-us` or `zh-cn`",
    "^(en-us|zh-cn)$",
    "The X-Language header sent with each request."
);

/// A cloud region such as `cn-north-4`, resolved to the vendor's DRS host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Region(String);

impl FromStr for Region {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('-').collect();
        let valid = parts.len() >= 3
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].parse::<u32>().is_ok();
        if valid {
            Ok(Region(s.to_owned()))
        } else {
            Err(format!(
                "invalid region `{s}`: expected a region name like `cn-north-4` or `ap-southeast-1`"
            ))
        }
    }
}

string_newtype!(Region);

impl Region {
    /// The vendor's domain for this region: the EU sovereign region has its own.
    fn domain(&self) -> &'static str {
        if self.0 == "eu-west-101" {
            "myhuaweicloud.eu"
        } else {
            "myhuaweicloud.com"
        }
    }

    /// The vendor's DRS endpoint in this region.
    pub fn drs_endpoint(&self) -> Endpoint {
        Endpoint(
            url::Url::parse(&format!("https://drs.{}.{}", self.0, self.domain()))
                .expect("a valid URL"),
        )
    }

    /// The vendor's IAM endpoint in this region.
    pub fn iam_endpoint(&self) -> Endpoint {
        Endpoint(
            url::Url::parse(&format!("https://iam.{}.{}", self.0, self.domain()))
                .expect("a valid URL"),
        )
    }
}

text_value!(
    Region,
    "a region name",
    "^[a-z]+(-[a-z]+)+-[0-9]+$",
    "A region such as `cn-north-4`, instead of `endpoint`: the vendor's DRS host for it."
);

/// The endpoint a run talks to: `https`, or `http` on a loopback host only (so a credential
/// never crosses a network in plaintext).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint(url::Url);

impl Endpoint {
    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

/// Whether `host` is a loopback name or address.
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl FromStr for Endpoint {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        // Messages quote the URL: never with the user information it may carry.
        let shown = crate::diag::mask::mask_text(text, &[]);
        let s = shown.as_str();
        let url = url::Url::parse(text).map_err(|e| {
            format!("invalid endpoint `{s}`: {e}; expected a URL like `https://drs.cn-north-4.myhuaweicloud.com`")
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "the endpoint URL carries credentials: remove them and use `auth`".to_owned(),
            );
        }
        let host = url
            .host()
            .ok_or_else(|| format!("invalid endpoint `{s}`: no host"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            "http" => {
                return Err(format!(
                    "plaintext `http://` endpoint `{s}` is not a loopback host: credentials would cross the network unencrypted; use `https://`"
                ));
            }
            other => {
                return Err(format!(
                    "invalid endpoint `{s}`: scheme `{other}`, expected `https`"
                ));
            }
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "invalid endpoint `{s}`: give only scheme, host and port; stopbook adds the API paths"
            ));
        }
        Ok(Endpoint(url))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

text_value!(
    Endpoint,
    "an endpoint URL",
    "^(https://|http://(127\\.[0-9.]+|localhost|\\[::1\\])(:[0-9]+)?/?$)",
    "The DRS endpoint: `https://host[:port]`, or `http://` on a loopback host only."
);

/// How many failed stops a run tolerates before it aborts: a count, or a percentage of the stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureBudget {
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
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid failure budget `{s}`: expected a count such as `3` or a percentage such as `5%`"
            )
        };
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
            return Err(format!("failure budget `{s}` is over 100%"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit_and_print_canonically() {
        for (text, ms, shown) in [
            ("250ms", 250, "250ms"),
            ("30s", 30_000, "30s"),
            ("10m", 600_000, "10m"),
            ("1h", 3_600_000, "1h"),
            ("90s", 90_000, "90s"),
            ("60m", 3_600_000, "1h"),
            ("1000ms", 1000, "1s"),
            ("0s", 0, "0s"),
        ] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.as_millis(), ms, "{text}");
            assert_eq!(d.to_string(), shown, "{text}");
        }
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        for text in ["", "30", "s", "1.5s", "-1s", "30 s", "30sec", "1d", "ms10"] {
            let e = text.parse::<Duration>().unwrap_err();
            assert!(
                e.contains("expected a whole number and a unit"),
                "{text}: {e}"
            );
        }
        assert!(
            "999999999h"
                .parse::<Duration>()
                .unwrap_err()
                .contains("too long")
        );
        assert!("169h".parse::<Duration>().is_err());
    }

    #[test]
    fn rates_parse_per_second_and_minute() {
        assert_eq!(
            "5/s".parse::<Rate>().unwrap(),
            Rate {
                count: 5,
                per: Per::Second
            }
        );
        assert_eq!(
            "300/m".parse::<Rate>().unwrap(),
            Rate {
                count: 300,
                per: Per::Minute
            }
        );
        assert_eq!("300/m".parse::<Rate>().unwrap().to_string(), "300/m");
        for bad in ["5", "5/h", "/s", "x/s", "5/sec", "-1/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        assert!("0/s".parse::<Rate>().unwrap_err().contains("never send"));
        assert!("1000000/s".parse::<Rate>().is_ok());
        assert!("60000000/m".parse::<Rate>().is_ok());
        for absurd in ["1000001/s", "60000001/m", "4294967295/s"] {
            assert!(
                absurd.parse::<Rate>().unwrap_err().contains("at most"),
                "{absurd}"
            );
        }
    }

    #[test]
    fn job_ids_are_8_4_4_4_12_of_lowercase_alphanumerics_not_hex() {
        for good in [
            "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r",
            "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1jb11x",
        ] {
            assert_eq!(good.parse::<JobId>().unwrap().as_str(), good);
        }
        for bad in [
            "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20",
            "c7debc9c8e094a5d8dd6cc44f78jb20r",
            "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r-",
            "c7debc9c-8e09-4a5d-8dd6_cc44f78jb20r",
            "c7debc9c-8e09-4a5d-8dd6-cc44f78jb2√r",
            "",
        ] {
            assert!(bad.parse::<JobId>().is_err(), "{bad}");
        }
        let upper = "C7DEBC9C-8e09-4a5d-8dd6-cc44f78jb20r"
            .parse::<JobId>()
            .unwrap_err();
        assert!(upper.contains("lower case"), "{upper}");
    }

    #[test]
    fn project_ids_are_32_lowercase_hex() {
        assert!(
            "054ba152d480d55b2f5dc0069e7ddef0"
                .parse::<ProjectId>()
                .is_ok()
        );
        for bad in [
            "054BA152D480D55B2F5DC0069E7DDEF0",
            "054ba152d480d55b2f5dc0069e7ddef",
            "054ba152d480d55b2f5dc0069e7ddefg",
        ] {
            assert!(bad.parse::<ProjectId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn failure_budgets_are_counts_or_percentages() {
        assert_eq!(
            "3".parse::<FailureBudget>().unwrap(),
            FailureBudget::Count(3)
        );
        assert_eq!(
            "5%".parse::<FailureBudget>().unwrap(),
            FailureBudget::Percent(500)
        );
        assert_eq!(
            "2.5%".parse::<FailureBudget>().unwrap(),
            FailureBudget::Percent(250)
        );
        assert_eq!(
            "0.25%".parse::<FailureBudget>().unwrap().to_string(),
            "0.25%"
        );
        assert_eq!("2.5%".parse::<FailureBudget>().unwrap().to_string(), "2.5%");
        for bad in ["101%", "5 %", "%", "-1%", "1.234%", "five", ".5%"] {
            assert!(bad.parse::<FailureBudget>().is_err(), "{bad}");
        }
        assert_eq!(FailureBudget::Percent(500).allowed(200), 10);
        assert_eq!(FailureBudget::Percent(500).allowed(19), 0);
        assert_eq!(FailureBudget::Count(2).allowed(1), 2);
    }

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        for good in [
            "https://drs.cn-north-4.myhuaweicloud.com",
            "http://127.0.0.1:8080",
            "http://localhost:1/",
            "http://[::1]:9",
        ] {
            assert!(good.parse::<Endpoint>().is_ok(), "{good}");
        }
        let plain = "http://drs.example.com".parse::<Endpoint>().unwrap_err();
        assert!(plain.contains("not a loopback host"), "{plain}");
        assert!("http://10.0.0.1".parse::<Endpoint>().is_err());
        assert!(
            "https://user:pw@h.example"
                .parse::<Endpoint>()
                .unwrap_err()
                .contains("credentials")
        );
        assert!("https://h.example/v5".parse::<Endpoint>().is_err());
        assert!("ftp://h.example".parse::<Endpoint>().is_err());
        assert_eq!(
            "https://h.example/"
                .parse::<Endpoint>()
                .unwrap()
                .to_string(),
            "https://h.example"
        );
    }

    #[test]
    fn pasted_credentials_are_told_apart_from_variable_names() {
        for secret in [
            "QTWAOYTTINDUT2QVKYUC",
            "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
            "MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw",
        ] {
            assert!(looks_like_credential(secret), "{secret}");
        }
        for name in [
            "DRS_AUTH_TOKEN",
            "HUAWEICLOUD_SDK_AK",
            "HUAWEICLOUD_SDK_SECURITY_TOKEN",
            "TOKEN",
            "IAM_PASSWORD",
        ] {
            assert!(!looks_like_credential(name), "{name}");
        }
    }

    #[test]
    fn regions_name_the_vendor_hosts() {
        let north: Region = "cn-north-4".parse().unwrap();
        assert_eq!(
            north.drs_endpoint().to_string(),
            "https://drs.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            north.iam_endpoint().to_string(),
            "https://iam.cn-north-4.myhuaweicloud.com"
        );
        let eu: Region = "eu-west-101".parse().unwrap();
        assert_eq!(
            eu.drs_endpoint().to_string(),
            "https://drs.eu-west-101.myhuaweicloud.eu"
        );
        assert_eq!(
            eu.iam_endpoint().to_string(),
            "https://iam.eu-west-101.myhuaweicloud.eu"
        );
    }

    #[test]
    fn regions_and_languages() {
        for good in ["cn-north-4", "ap-southeast-1", "eu-west-101", "la-north-2"] {
            assert!(good.parse::<Region>().is_ok(), "{good}");
        }
        for bad in ["cn-north", "CN-north-4", "north-4", "cn--4"] {
            assert!(bad.parse::<Region>().is_err(), "{bad}");
        }
        assert_eq!("zh-cn".parse::<Language>().unwrap(), Language::ZhCn);
        assert!("en".parse::<Language>().is_err());
    }
}
