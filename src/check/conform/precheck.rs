//! Before any rule is judged: read every fixture job's status, so that fixtures an earlier run
//! used up are a fixtures error (exit 2), not a non-conformance, and an endpoint that cannot be
//! reached or refuses the credentials is not judged at all (exit 3).
//!
//! A status the suite cannot read (the detail call not served, a word outside the vocabulary)
//! refuses nothing: the detail rules judge that, and the rules needing a status skip.

use std::time::Duration;

use super::{Jobs, Seen};
use crate::api::client::{Client, Probe};
use crate::api::error::CallError;
use crate::drs::{JobId, codes, status};

/// Why no rule was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unjudgeable {
    /// Fixture jobs not in the state the suite needs, one line each (exit 2).
    Fixtures(Vec<String>),
    /// The endpoint could not be judged at all: unreachable, TLS refused, credentials refused
    /// (exit 3).
    Endpoint(String),
}

impl std::fmt::Display for Unjudgeable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unjudgeable::Fixtures(lines) => write!(
                f,
                "error: the fixtures cannot serve (a fixtures file an earlier run used up needs fresh jobs); nothing was judged:\n  {}",
                lines.join("\n  ")
            ),
            Unjudgeable::Endpoint(why) => {
                write!(f, "error: the endpoint cannot be judged: {why}")
            }
        }
    }
}

/// What a fixture job must be.
#[derive(Clone, Copy)]
enum Need {
    Running,
    Abnormal,
    Missing,
}

/// The detail read of a fixture job.
pub(super) async fn read(client: &Client, job: &JobId) -> Seen {
    let path = client.project_path(&format!("/jobs/{job}"));
    let probe = Probe {
        method: http::Method::GET,
        path: &path,
        query: Some("type=detail"),
        body: b"",
        content_type: None,
        language: None,
        authenticate: true,
        timeout: Duration::from_secs(30),
    };
    Seen::send(client, &probe, format!("GET {path}?type=detail")).await
}

/// Reads every fixture job; the reads are kept as evidence for the detail rules.
pub(super) async fn precheck(client: &Client, jobs: &Jobs) -> Result<Vec<Seen>, Unjudgeable> {
    let wanted = jobs
        .running
        .iter()
        .map(|j| (j, Need::Running))
        .chain(jobs.abnormal.iter().map(|j| (j, Need::Abnormal)))
        .chain(jobs.missing.first().map(|j| (j, Need::Missing)));
    let mut seen = Vec::new();
    let mut unfit = Vec::new();
    for (job, need) in wanted {
        let s = read(client, job).await;
        if let Some(why) = unreachable(&s) {
            return Err(Unjudgeable::Endpoint(why));
        }
        if let Some(why) = unfit_for(&s, need) {
            unfit.push(format!("{job}: {why}"));
        }
        seen.push(s);
    }
    match unfit.is_empty() {
        true => Ok(seen),
        false => Err(Unjudgeable::Fixtures(unfit)),
    }
}

/// Why `s` shows the endpoint cannot be judged at all, if it does.
fn unreachable(s: &Seen) -> Option<String> {
    match &s.answer {
        Err(CallError::NotSent(e)) => Some(format!("it cannot be reached ({e})")),
        Err(CallError::Fatal(e)) => Some(e.detail.clone()),
        Err(CallError::Unknown(e)) => Some(format!("no answer to `{}` ({e})", s.request)),
        Ok(a) if matches!(a.http, 401 | 403) => Some(format!(
            "the credentials were refused ({}) on `{}`",
            s.shown(),
            s.request
        )),
        Ok(_) => None,
    }
}

/// Why a fixture job is not in the state `need`, if the answer shows it.
fn unfit_for(s: &Seen, need: Need) -> Option<String> {
    let answer = s.ok()?;
    let not_found = answer.http == 400 && answer.field("error_code") == Some(codes::JOB_NOT_FOUND);
    let shown = s
        .body()
        .and_then(|b| b.get("job"))
        .and_then(|j| j.get("status"))
        .and_then(|v| v.as_str())
        .filter(|_| answer.http == 200);
    match need {
        Need::Missing => shown.map(|st| format!("listed as missing, but it exists ({st})")),
        _ if not_found => Some("does not exist".to_owned()),
        Need::Running => shown
            .filter(|st| status::is_known(st) && !status::RUNNING.contains(st))
            .map(|st| format!("listed as running, but it is {st} (used up by an earlier run?)")),
        Need::Abnormal => shown
            .filter(|st| status::is_known(st) && !status::ABNORMAL.contains(st))
            .map(|st| format!("listed as abnormal, but it is {st} (used up by an earlier run?)")),
    }
}
