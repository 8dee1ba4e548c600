//! `plan --live`: every planned job's status read (no stop is sent), and a verdict per stop
//! that says whether its stop would meet its expectation, with warnings for prepaid tasks and
//! child or slave roles (drs-api-notes.md §2a). The prediction follows the simulator model of
//! §3, which the real service's documented behaviour agrees with where it says anything.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::detail::Read;
use super::{LiveError, Pace, read, refused};
use crate::api::client::Client;
use crate::drs::status::{self, StopEffect};
use crate::drs::{JobId, codes};
use crate::runbook::Runbook;
use crate::runbook::model::{Expectation, Settings};

/// What a stop is predicted to meet, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// The stop would be accepted and the job would end as expected.
    #[serde(rename = "ready")]
    Ready,
    /// The job is already ending or ended: a stop would be refused.
    #[serde(rename = "already ending/ended")]
    Ending,
    /// No such job.
    #[serde(rename = "not found")]
    NotFound,
    /// A graceful stop of an abnormal job, without escalation: it ends in
    /// `RELEASE_RESOURCE_FAILED`.
    #[serde(rename = "will not end")]
    WillNotEnd,
    /// The job would take the stop, but the stop expects another answer.
    #[serde(rename = "expectation mismatch")]
    Mismatch,
    /// The read answered, but without a status stopbook knows (none, or a word outside the
    /// vocabulary, or no `job` at all): the stop cannot be judged.
    #[serde(rename = "status unknown")]
    Unknown,
    /// The answer is predicted, but the expectation also wants text in its `error_msg`, which
    /// only the real answer shows.
    #[serde(rename = "cannot tell")]
    CannotTell,
}

impl Verdict {
    /// The verdict as shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::Ending => "already ending/ended",
            Verdict::NotFound => "not found",
            Verdict::WillNotEnd => "will not end",
            Verdict::Mismatch => "expectation mismatch",
            Verdict::Unknown => "status unknown",
            Verdict::CannotTell => "cannot tell",
        }
    }
}

/// One stop's pre-flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The stop's place in the plan.
    pub seq: usize,
    /// The job.
    pub job: String,
    /// Its status now (none when it does not exist).
    pub status: Option<String>,
    /// The class of what the stop would meet.
    pub verdict: Verdict,
    /// Whether the stop is predicted to meet its expectation.
    pub meets: bool,
    /// Warnings: a prepaid task, a child or slave role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// How long one status read may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Reads every stop's job within the runbook's limits and judges each stop. Each read is a task
/// of its own, so the work of many reads spreads over the runtime's threads.
pub async fn check(runbook: &Runbook, client: &Client) -> Result<Vec<Check>, LiveError> {
    let pace = Pace::new(runbook.limits.concurrency, runbook.limits.rate);
    let mut tasks = tokio::task::JoinSet::new();
    let mut checks: Vec<Option<Check>> = vec![None; runbook.stop_count()];
    for (i, (_, stop)) in runbook.stops().enumerate() {
        let slot = pace.place().await;
        while let Some(done) = tasks.try_join_next() {
            let (i, check) = joined(done)?;
            checks[i] = Some(check);
        }
        let (client, pace, job) = (client.clone(), pace.clone(), stop.job);
        let settings = Arc::clone(&stop.settings);
        tasks.spawn(async move {
            let _slot = slot;
            (i, check_one(i + 1, job, &settings, &client, &pace).await)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (i, check) = joined(done)?;
        checks[i] = Some(check);
    }
    Ok(checks.into_iter().flatten().collect())
}

type Joined = Result<(usize, Result<Check, LiveError>), tokio::task::JoinError>;

fn joined(done: Joined) -> Result<(usize, Check), LiveError> {
    match done {
        Ok((i, check)) => check.map(|c| (i, c)),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(LiveError::Failed {
            call: "the status read".to_owned(),
            why: e.to_string(),
        }),
    }
}

/// Reads one job and judges its stop.
async fn check_one(
    seq: usize,
    job: JobId,
    settings: &Settings,
    client: &Client,
    pace: &Pace,
) -> Result<Check, LiveError> {
    let call = || client.detail(&job, TIMEOUT);
    let answer = read(pace, &settings.retry, "the status read", call).await?;
    let read = match Read::of(&answer) {
        found @ (Read::Status(_) | Read::Missing) => found,
        unread if answer.http == 200 => unread,
        _ => return Err(refused(&format!("the status read of {job}"), &answer)),
    };
    let found = answer.body.as_ref().and_then(|b| b.get("job"));
    Ok(judge(seq, job.as_str(), &read, found, settings))
}

/// The verdict for a stop with `settings` on a job read as `read`, with the `job` object its
/// answer held (none when it held none).
pub fn judge(seq: usize, id: &str, read: &Read, job: Option<&Value>, settings: &Settings) -> Check {
    let job = job.filter(|_| read != &Read::Missing);
    let text = |key: &str| job.and_then(|j| j.get(key)).and_then(Value::as_str);
    let live = text("status").map(str::to_owned);
    let (class, answer) = class_of(read, settings);
    let expect = settings.effective_expect();
    let meets = match (&expect, answer) {
        _ if class == Verdict::Unknown => false,
        (Expectation::Stopped, None) => class == Verdict::Ready,
        (Expectation::Accepted, None) => true,
        (Expectation::Answer { http, result, .. }, None) => {
            *http == 200 && result.is_none_or(|r| r.as_str() == "success")
        }
        (
            Expectation::Answer {
                http, error_code, ..
            },
            Some(code),
        ) => *http == 400 && error_code.as_deref().is_none_or(|c| c == code),
        (_, Some(_)) => false,
    };
    let unknowable = matches!(
        &expect,
        Expectation::Answer {
            error_msg_contains: Some(_),
            ..
        }
    );
    let verdict = match (class, meets) {
        (Verdict::Unknown, _) => Verdict::Unknown,
        (_, true) if unknowable => Verdict::CannotTell,
        (Verdict::Ready, false) => Verdict::Mismatch,
        (class, _) => class,
    };
    let mut warnings = Vec::new();
    if text("charging_mode") == Some("period") {
        warnings.push("prepaid task (charging_mode period)".to_owned());
    }
    if let Some(role @ ("child" | "slave")) = text("job_mode_role") {
        warnings.push(format!("{role} role (job_mode_role {role})"));
    }
    Check {
        seq,
        job: id.to_owned(),
        status: live,
        verdict,
        meets: meets && verdict != Verdict::CannotTell,
        warnings,
    }
}

/// The class of what a stop would meet, and the error code it would be refused with.
fn class_of(read: &Read, settings: &Settings) -> (Verdict, Option<&'static str>) {
    let status = match read {
        Read::Missing => return (Verdict::NotFound, Some(codes::JOB_NOT_FOUND)),
        Read::Status(status) if status::is_known(status) => status,
        _ => return (Verdict::Unknown, None),
    };
    match status::stop_effect(status, settings.force) {
        StopEffect::Refused => (Verdict::Ending, Some(codes::ALREADY_ENDING)),
        StopEffect::Ends { last, .. } if last == status::FAILED => {
            match settings.effective_escalate() {
                Some(_) => (Verdict::Ready, None),
                None => (Verdict::WillNotEnd, None),
            }
        }
        StopEffect::Ends { .. } => (Verdict::Ready, None),
    }
}

/// Counts by verdict, and how many stops are predicted to fail.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Totals {
    /// Stops by verdict.
    pub by_verdict: std::collections::BTreeMap<&'static str, usize>,
    /// Stops predicted to meet their expectation.
    pub meet: usize,
    /// Stops predicted to fail it.
    pub fail: usize,
    /// Stops with a warning.
    pub warned: usize,
}

/// The totals of `checks`.
pub fn totals(checks: &[Check]) -> Totals {
    let mut t = Totals::default();
    for c in checks {
        *t.by_verdict.entry(c.verdict.as_str()).or_default() += 1;
        match c.meets {
            true => t.meet += 1,
            false => t.fail += 1,
        }
        t.warned += usize::from(!c.warnings.is_empty());
    }
    t
}

/// The pre-flight as a Markdown section, after the plan: totals, then the stops that would
/// fail or carry a warning, then every stop's live status and verdict.
pub fn write_markdown(out: &mut dyn std::io::Write, checks: &[Check]) -> std::io::Result<()> {
    use crate::markdown::escape;
    let t = totals(checks);
    writeln!(out)?;
    writeln!(out, "## Pre-flight (live, not part of plan_id)")?;
    writeln!(out)?;
    let counts: Vec<String> = t
        .by_verdict
        .iter()
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    writeln!(
        out,
        "{} stops read: {}; **{} predicted to fail** their expectation; {} with a warning.",
        checks.len(),
        counts.join(", "),
        t.fail,
        t.warned
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| # | job | live status | verdict | meets expectation | warnings |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    let failing_first = checks
        .iter()
        .filter(|c| !c.meets || !c.warnings.is_empty())
        .chain(checks.iter().filter(|c| c.meets && c.warnings.is_empty()));
    for c in failing_first {
        writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} |",
            c.seq,
            c.job,
            c.status
                .as_deref()
                .map(escape)
                .unwrap_or_else(|| "-".to_owned()),
            c.verdict.as_str(),
            if c.meets { "yes" } else { "**no**" },
            escape(&c.warnings.join("; "))
        )?;
    }
    Ok(())
}
