//! Checking an endpoint against the rule catalogue.
//!
//! ```text
//! precheck ─▶ every fixture job's status read: used-up fixtures refused (exit 2), an endpoint
//!             that cannot be reached or refuses the credentials refused (exit 3)
//! observe  ─▶ a fixed set of real requests (the stop page's, then detail, ListJobs, batch-stop)
//! judge    ─▶ one function per rule, from the observations to a verdict with its evidence
//! ```
//!
//! A rule passes only on evidence that it holds (a refusal is never evidence of what an accepted
//! request does); a rule whose evidence is missing skips with the reason, so a server that
//! breaks one rule fails that rule and those that truly depend on it, and no others.

use std::time::Duration;

use serde::Serialize;

mod calls;
mod judge;
mod judge_calls;
mod observe;
mod precheck;
#[cfg(test)]
mod tests;

use super::rules::{CATALOGUE, Rule};
use crate::api::client::{Answer, Client, Probe};
use crate::api::error::CallError;
use crate::drs::JobId;

pub use precheck::Unjudgeable;

/// Disposable tasks the suite may stop.
#[derive(Debug, Clone, Default)]
pub struct Jobs {
    /// Healthy tasks: one is stopped gracefully, two with requests the API must refuse, one in a
    /// batch.
    pub running: Vec<JobId>,
    /// Abnormal tasks, stopped with `is_force_stop` left out, false and true.
    pub abnormal: Vec<JobId>,
    /// Well-formed IDs of tasks that do not exist (the first is used).
    pub missing: Vec<JobId>,
}

/// Healthy tasks the suite stops.
pub const RUNNING_NEEDED: usize = 4;
/// Abnormal tasks the suite needs for the force-stop rules.
pub const ABNORMAL_NEEDED: usize = 3;

/// How one rule fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The evidence shows the rule holds.
    Pass,
    /// The evidence shows the rule broken.
    Fail,
    /// What the rule needs did not happen; the detail says why.
    Skip,
}

/// One rule's verdict, with the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The rule's ID, as in the catalogue.
    pub id: &'static str,
    /// The citation tag of the line of stop-task-api.md (or drs-api-notes.md) the rule encodes.
    pub tag: &'static str,
    /// How the rule fared.
    pub outcome: Outcome,
    /// What was expected and what was observed, or why the rule was skipped.
    pub detail: String,
    /// The request the verdict rests on, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The answer the verdict rests on, shown as status and body, or the failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// How long an accepted stop may take to end, and how often to look.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// Give up waiting after this long.
    pub timeout: Duration,
    /// Read the task's status this often.
    pub poll: Duration,
}

/// One request the suite made and what came back.
#[derive(Debug, Clone)]
struct Seen {
    request: String,
    answer: Result<Answer, CallError>,
    /// The media type the answer declared.
    media_type: Option<String>,
}

impl Seen {
    /// Sends `probe`, keeping `request` (its description) beside the answer.
    async fn send(client: &Client, probe: &Probe<'_>, request: String) -> Seen {
        let (answer, media_type) = match client.probe_typed(probe).await {
            Ok((a, m)) => (Ok(a), m),
            Err(e) => (Err(e), None),
        };
        Seen {
            request,
            answer,
            media_type,
        }
    }
    fn ok(&self) -> Option<&Answer> {
        self.answer.as_ref().ok()
    }
    fn http(&self) -> Option<u16> {
        self.ok().map(|a| a.http)
    }
    fn body(&self) -> Option<&serde_json::Value> {
        self.ok().and_then(|a| a.body.as_ref())
    }
    fn field(&self, name: &str) -> Option<&str> {
        self.ok().and_then(|a| a.field(name))
    }
    /// An answer of 200 whose `status` is `success`: the only evidence of an accepted request.
    fn accepted(&self) -> bool {
        self.http() == Some(200) && self.field("status") == Some("success")
    }
    fn shown(&self) -> String {
        match &self.answer {
            Ok(a) => match &a.body {
                Some(body) => format!("HTTP {} {body}", a.http),
                None => format!("HTTP {} (not JSON)", a.http),
            },
            Err(e) => format!("no answer: {e}"),
        }
    }
}

/// What became of a task after its stop was accepted, as its status reads showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    /// A terminal status, read after the stop was seen to act.
    Ended(String),
    /// The last status read when the wait ran out, the task not ended.
    Unfinished(String),
    /// Every read showed the terminal status the task had before the stop (a status that lags,
    /// or a stop that ended where it began between two reads): no evidence of what it did.
    NotSeenToAct(String),
    /// No status could be read (or the stop was refused, so there was nothing to follow).
    Unread,
}

impl Ending {
    /// The terminal status, if the task is seen to have ended.
    fn ended(&self) -> Option<&str> {
        match self {
            Ending::Ended(s) => Some(s),
            _ => None,
        }
    }

    /// The status the task is seen to be in after the stop acted, ended or not.
    fn seen(&self) -> Option<&str> {
        match self {
            Ending::Ended(s) | Ending::Unfinished(s) => Some(s),
            Ending::NotSeenToAct(_) | Ending::Unread => None,
        }
    }

    fn shown(&self) -> String {
        match self {
            Ending::Ended(s) | Ending::Unfinished(s) => s.clone(),
            Ending::NotSeenToAct(s) => {
                format!("never seen to act (every read showed {s}, as before the stop)")
            }
            Ending::Unread => "no final status".to_owned(),
        }
    }
}

/// A stop and what became of its task.
type Ended = (Seen, Ending);

/// Everything the rules are judged on.
struct Observations {
    /// The detail of every fixture job, read before anything was sent.
    before: Vec<Seen>,
    accepted: Seen,
    accepted_final: Ending,
    missing: Seen,
    no_token: Seen,
    english: Seen,
    chinese: Seen,
    wrong_type: Seen,
    wrong_type_after: Option<String>,
    string_force: Seen,
    string_force_after: Option<String>,
    /// Abnormal tasks stopped with the field left out, false and true, and how each ended.
    force: Option<[Ended; 3]>,
    calls: calls::CallsSeen,
}

impl Observations {
    /// Every answer the suite provoked, in the order asked.
    fn every(&self) -> Vec<&Seen> {
        let mut all: Vec<&Seen> = self.before.iter().collect();
        all.extend([
            &self.accepted,
            &self.missing,
            &self.no_token,
            &self.english,
            &self.chinese,
            &self.wrong_type,
            &self.string_force,
        ]);
        if let Some(force) = &self.force {
            all.extend(force.iter().map(|(s, _)| s));
        }
        all.extend(self.calls.every());
        all
    }
}

/// Runs the suite; `selected` limits it to some rule IDs. Fixtures that cannot serve and an
/// endpoint that cannot be judged are refused before any rule is.
pub async fn run(
    client: &Client,
    jobs: &Jobs,
    wait: Wait,
    selected: &[&str],
) -> Result<Vec<Verdict>, Unjudgeable> {
    let before = precheck::precheck(client, jobs).await?;
    let seen = observe::observe(client, jobs, wait, before).await;
    Ok(CATALOGUE
        .iter()
        .filter(|r| selected.is_empty() || selected.contains(&r.id))
        .map(|rule| judge::judge(rule, &seen, jobs))
        .collect())
}

/// A verdict on `rule`, resting on `on` when given.
fn verdict(rule: &Rule, outcome: Outcome, detail: impl Into<String>, on: Option<&Seen>) -> Verdict {
    Verdict {
        id: rule.id,
        tag: rule.tag,
        outcome,
        detail: detail.into(),
        request: on.map(|s| s.request.clone()),
        answer: on.map(Seen::shown),
    }
}

/// Pass when `ok`, else fail with what was expected and observed.
fn pass_if(rule: &Rule, ok: bool, expected: &str, on: &Seen) -> Verdict {
    match ok {
        true => verdict(rule, Outcome::Pass, expected, Some(on)),
        false => verdict(
            rule,
            Outcome::Fail,
            format!("expected {expected}; observed {}", on.shown()),
            Some(on),
        ),
    }
}

/// Over every answer in `seen`: fail on the first one `broken` names (what is wrong with it),
/// pass naming how many were judged, skip when there were none.
fn over_every(
    rule: &Rule,
    seen: &[&Seen],
    expected: &str,
    broken: impl Fn(&Seen) -> Option<String>,
) -> Verdict {
    let Some(first) = seen.first() else {
        return verdict(
            rule,
            Outcome::Skip,
            format!("no answer to judge ({expected})"),
            None,
        );
    };
    for s in seen {
        if let Some(why) = broken(s) {
            return verdict(
                rule,
                Outcome::Fail,
                format!("expected {expected}; {why}: {}", s.shown()),
                Some(s),
            );
        }
    }
    verdict(
        rule,
        Outcome::Pass,
        format!("{expected} ({} answers judged)", seen.len()),
        Some(first),
    )
}
