//! Checking an endpoint against the rule catalogue.
//!
//! The suite makes a fixed set of observations (each a real request), then judges every rule
//! from them. A rule that cannot be judged because what it needs did not happen (no 200 answer
//! to inspect, no abnormal tasks given) is skipped with the reason, so a server that breaks one
//! rule fails that rule and those that truly depend on it, and no others.

use std::time::Duration;

use serde::Serialize;

mod judge;
mod observe;

use super::rules::CATALOGUE;
use crate::api::client::{Answer, Client};
use crate::api::error::CallError;
use crate::drs::JobId;

/// Disposable tasks the suite may stop.
#[derive(Debug, Clone, Default)]
pub struct Jobs {
    /// Healthy tasks: one is stopped gracefully, the others with requests the API must refuse.
    pub running: Vec<JobId>,
    /// Abnormal tasks, stopped with `is_force_stop` left out, false and true.
    pub abnormal: Vec<JobId>,
    /// Well-formed IDs of tasks that do not exist (the first is used).
    pub missing: Vec<JobId>,
}

/// Tasks of each kind the suite stops.
pub const RUNNING_NEEDED: usize = 3;
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
    /// The citation tag of the line of stop-task-api.md the rule encodes.
    pub tag: &'static str,
    /// How the rule fared.
    pub outcome: Outcome,
    /// What was expected and what was observed, or why the rule was skipped.
    pub detail: String,
    /// The request and answer the verdict rests on, when one does.
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
}

impl Seen {
    fn ok(&self) -> Option<&Answer> {
        self.answer.as_ref().ok()
    }
    fn http(&self) -> Option<u16> {
        self.ok().map(|a| a.http)
    }
    fn field(&self, name: &str) -> Option<&str> {
        self.ok().and_then(|a| a.field(name))
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

/// Everything the rules are judged on.
struct Observations {
    accepted: Seen,
    accepted_final: Option<String>,
    missing: Seen,
    no_token: Seen,
    english: Seen,
    chinese: Seen,
    wrong_type: Seen,
    wrong_type_after: Option<String>,
    string_force: Seen,
    string_force_after: Option<String>,
    /// Abnormal tasks stopped with the field left out, false and true, and how each ended.
    force: Option<[(Seen, Option<String>); 3]>,
}

/// Runs the suite; `selected` limits it to some rule IDs.
pub async fn run(client: &Client, jobs: &Jobs, wait: Wait, selected: &[&str]) -> Vec<Verdict> {
    let seen = observe::observe(client, jobs, wait).await;
    CATALOGUE
        .iter()
        .filter(|r| selected.is_empty() || selected.contains(&r.id))
        .map(|rule| judge::judge(rule, &seen, jobs))
        .collect()
}
