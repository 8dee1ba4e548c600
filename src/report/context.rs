//! What every run report carries besides its results, so a reviewer handed only the files can
//! tell what ran, where, when and by which version: the [`RunContext`], RFC 3339 times, and the
//! per-stop timings as wall-clock times.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::exec::{Report, StopResult, Timing};

/// The kind of credential a run used; never the credential itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// An IAM token (`X-Auth-Token`).
    Token,
    /// AK/SK request signing.
    AkSk,
    /// An IAM password exchanged for a token.
    IamPassword,
    /// The embedded mock's own token.
    Embedded,
}

/// Where a run went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TargetInfo {
    /// The endpoint's base URL (written as [`TargetInfo::shown_endpoint`]).
    #[serde(serialize_with = "masked_endpoint")]
    pub endpoint: String,
    /// The project the stops were sent to.
    pub project_id: String,
    /// How requests were authenticated.
    pub auth: AuthKind,
}

impl TargetInfo {
    /// The endpoint as every report shows it: a run's endpoint is only scheme, host and port,
    /// but a report read back (`show`) may say anything, and credentials in it are not shown.
    pub fn shown_endpoint(&self) -> String {
        crate::diag::mask::mask_text(&self.endpoint, &[])
    }
}

fn masked_endpoint<S: serde::Serializer>(endpoint: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::diag::mask::mask_text(endpoint, &[]))
}

/// Who, what and where of a run, shared by every report it writes.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The runbook's name.
    pub runbook: String,
    /// The plan's content hash.
    pub plan_id: String,
    /// The sha256 (hex) of the runbook file's bytes.
    pub runbook_sha256: String,
    /// Where the run went.
    pub target: TargetInfo,
    /// The `--shard` run, if any.
    pub shard: Option<(usize, usize)>,
    /// The approved plan a `run --plan --accept-drift` accepted a drift of (the plan run,
    /// `plan_id`, is that plan less the jobs that no longer matched).
    pub approved_plan_id: Option<String>,
}

/// The version of stopbook that wrote a report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The sha256 of `bytes`, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `t` as RFC 3339 in UTC with milliseconds: `2026-12-01T02:00:03.250Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// An RFC 3339 UTC time as [`rfc3339`] writes it (`YYYY-MM-DDTHH:MM:SS[.mmm]Z`).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[10] != b'T' || !text.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let millis = match text.get(19..text.len() - 1) {
        Some("") => 0,
        Some(frac) if frac.starts_with('.') => {
            let digits: String = frac[1..].chars().chain("000".chars()).take(3).collect();
            digits.parse::<u64>().ok()?
        }
        _ => return None,
    };
    let y1 = if m <= 2 { y - 1 } else { y };
    let era = y1.div_euclid(400);
    let yoe = y1 - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs = u64::try_from(days * 86_400 + h * 3600 + mi * 60 + s).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
}

/// What the gateway's throttling did to the run, when it throttled at all: the 429s and the
/// rate the run learnt from them.
pub fn throttling(report: &Report) -> Option<String> {
    if report.throttled == 0 {
        return None;
    }
    let rate = report.adapted_rate.map_or(String::new(), |r| {
        format!("; the rate learnt: {r:.1} requests/s")
    });
    Some(format!("{} answered 429{rate}", report.throttled))
}

/// The run's length in milliseconds.
pub fn duration_ms(report: &Report) -> u64 {
    report
        .finished_at
        .duration_since(report.started_at)
        .unwrap_or_default()
        .as_millis() as u64
}

/// One stop's times, as the reports write them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StopTimes {
    /// The stop's place in the plan, from 1.
    pub seq: usize,
    /// The job stopped.
    pub job: String,
    /// When its first request went out.
    pub sent_at: String,
    /// When it was accepted, if it was.
    pub accepted_at: Option<String>,
    /// When it ended (judged, waited for, or given up).
    pub ended_at: String,
    /// The answer's `X-Request-Id`, when the server gave one.
    pub request_id: Option<String>,
    /// When it started, in milliseconds since the run began.
    pub started_ms: u64,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

/// The timings of `report` as wall-clock times, in plan order.
pub fn stop_times(report: &Report) -> Vec<StopTimes> {
    let at = |ms: u64| rfc3339(report.started_at + Duration::from_millis(ms));
    let job = |t: &Timing| {
        report
            .results
            .binary_search_by_key(&t.seq, |r: &StopResult| r.seq)
            .map(|i| report.results[i].job.to_string())
            .unwrap_or_default()
    };
    report
        .timings
        .iter()
        .map(|t| StopTimes {
            seq: t.seq,
            job: job(t),
            sent_at: at(t.started_ms),
            accepted_at: t.accepted_ms.map(at),
            ended_at: at(t.started_ms + t.duration_ms),
            request_id: t.request_id.clone(),
            started_ms: t.started_ms,
            duration_ms: t.duration_ms,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_in_utc_with_milliseconds() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_090_403_250);
        assert_eq!(rfc3339(t), "2026-12-01T02:00:03.250Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_rfc3339("2026-12-01T02:00:03.250Z"), Some(t));
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
    }

    #[test]
    fn sha256_of_nothing() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
