//! What every run report carries besides its results, so a reviewer handed only the files can
//! tell what ran, where, when and by which version: the [`RunContext`], RFC 3339 times, and the
//! per-stop timings as wall-clock times.

use std::time::Duration;

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
    /// The fault profile of a rehearsal (`run --plan --rehearse`): the approved plan run on
    /// the embedded mock seeded from it, nothing sent elsewhere. `None` for a real run.
    pub rehearsal: Option<String>,
}

impl RunContext {
    /// The context of `plan_id`, from `runbook` (its bytes' sha256 given), with no target yet.
    pub fn of_plan(plan_id: &str, runbook: &str, runbook_sha256: String) -> Self {
        RunContext {
            runbook: runbook.to_owned(),
            plan_id: plan_id.to_owned(),
            runbook_sha256,
            target: TargetInfo {
                endpoint: "(not recorded)".to_owned(),
                project_id: String::new(),
                auth: AuthKind::Embedded,
            },
            shard: None,
            approved_plan_id: None,
            rehearsal: None,
        }
    }
}

/// A shard as reports and journals write it (`K/N`), read back; `None` unless 1 ≤ K ≤ N.
pub fn parse_shard(text: &str) -> Option<(usize, usize)> {
    let (k, n) = text.split_once('/')?;
    let (k, n) = (k.parse().ok()?, n.parse().ok()?);
    (k >= 1 && k <= n).then_some((k, n))
}

/// The version of stopbook that wrote a report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The sha256 of `bytes`, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
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
    let at =
        |ms: u64| crate::timestamp::rfc3339_millis(report.started_at + Duration::from_millis(ms));
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
    fn sha256_of_nothing() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
