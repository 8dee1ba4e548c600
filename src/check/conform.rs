//! Checking an endpoint against the rule catalogue.
//!
//! The suite makes a fixed set of observations (each a real request), then judges every rule
//! from them. A rule that cannot be judged because what it needs did not happen (no 200 answer
//! to inspect, no abnormal tasks given) is skipped with the reason, so a server that breaks one
//! rule fails that rule and those that truly depend on it, and no others.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::rules::{CATALOGUE, Rule};
use crate::api::client::{Answer, CallError, Client, Probe};
use crate::api::status;
use crate::runbook::values::JobId;

/// Disposable tasks the suite may stop.
#[derive(Debug, Clone, Default)]
pub struct Jobs {
    pub running: Vec<JobId>,
    pub abnormal: Vec<JobId>,
    pub missing: Vec<JobId>,
}

/// Tasks of each kind the suite stops.
pub const RUNNING_NEEDED: usize = 3;
pub const ABNORMAL_NEEDED: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
}

/// One rule's verdict, with the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub id: &'static str,
    pub tag: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    /// The request and answer the verdict rests on, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// How long an accepted stop may take to end, and how often to look.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    pub timeout: Duration,
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
    let seen = observe(client, jobs, wait).await;
    CATALOGUE
        .iter()
        .filter(|r| selected.is_empty() || selected.contains(&r.id))
        .map(|rule| judge(rule, &seen, jobs))
        .collect()
}

async fn observe(client: &Client, jobs: &Jobs, wait: Wait) -> Observations {
    let stop_path = |job: &JobId| client.project_path(&format!("/jobs/{job}/stop"));
    let send = |job: JobId,
                body: &'static str,
                content_type: Option<&'static str>,
                language: Option<&'static str>,
                authenticate: bool| {
        let path = stop_path(&job);
        async move {
            let probe = Probe {
                method: http::Method::POST,
                path: &path,
                query: None,
                body: body.as_bytes(),
                content_type,
                language,
                authenticate,
                timeout: Duration::from_secs(30),
            };
            let mut request = format!("POST {path} {body}");
            if let Some(ct) = content_type {
                request.push_str(&format!(" (Content-Type: {ct})"));
            }
            if let Some(l) = language {
                request.push_str(&format!(" (X-Language: {l})"));
            }
            if !authenticate {
                request.push_str(" (no credentials)");
            }
            Seen {
                request,
                answer: client.probe(&probe).await,
            }
        }
    };
    let json = Some("application/json");
    let (running, missing) = (&jobs.running, jobs.missing[0]);

    let accepted = send(running[0], r#"{"is_force_stop": false}"#, json, None, true).await;
    let missing_seen = send(missing, r#"{"is_force_stop": false}"#, json, None, true).await;
    let no_token = send(missing, r#"{"is_force_stop": false}"#, json, None, false).await;
    let english = send(
        missing,
        r#"{"is_force_stop": false}"#,
        json,
        Some("en-us"),
        true,
    )
    .await;
    let chinese = send(
        missing,
        r#"{"is_force_stop": false}"#,
        json,
        Some("zh-cn"),
        true,
    )
    .await;
    let wrong_type = send(
        running[1],
        r#"{"is_force_stop": false}"#,
        Some("text/plain"),
        None,
        true,
    )
    .await;
    let wrong_type_after = current_status(client, &running[1]).await;
    let string_force = send(running[2], r#"{"is_force_stop": "true"}"#, json, None, true).await;
    let string_force_after = current_status(client, &running[2]).await;

    let force = if jobs.abnormal.len() >= ABNORMAL_NEEDED {
        let omitted = send(jobs.abnormal[0], "{}", json, None, true).await;
        let graceful = send(
            jobs.abnormal[1],
            r#"{"is_force_stop": false}"#,
            json,
            None,
            true,
        )
        .await;
        let forced = send(
            jobs.abnormal[2],
            r#"{"is_force_stop": true}"#,
            json,
            None,
            true,
        )
        .await;
        let ends = tokio::join!(
            final_status(client, &jobs.abnormal[0], wait),
            final_status(client, &jobs.abnormal[1], wait),
            final_status(client, &jobs.abnormal[2], wait),
        );
        Some([(omitted, ends.0), (graceful, ends.1), (forced, ends.2)])
    } else {
        None
    };
    let accepted_final = match accepted.http() {
        Some(200) => final_status(client, &running[0], wait).await,
        _ => None,
    };
    Observations {
        accepted,
        accepted_final,
        missing: missing_seen,
        no_token,
        english,
        chinese,
        wrong_type,
        wrong_type_after,
        string_force,
        string_force_after,
        force,
    }
}

async fn current_status(client: &Client, job: &JobId) -> Option<String> {
    let answer = client.detail(job, Duration::from_secs(30)).await.ok()?;
    answer
        .body?
        .get("job")?
        .get("status")?
        .as_str()
        .map(str::to_owned)
}

/// The status a task settles in: a terminal one, or the last seen when `wait.timeout` runs out.
async fn final_status(client: &Client, job: &JobId, wait: Wait) -> Option<String> {
    let deadline = Instant::now() + wait.timeout;
    let mut last = None;
    loop {
        if let Some(s) = current_status(client, job).await {
            if status::is_terminal(&s) {
                return Some(s);
            }
            last = Some(s);
        }
        if Instant::now() >= deadline {
            return last;
        }
        tokio::time::sleep(wait.poll).await;
    }
}

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

fn is_refusal(seen: &Seen) -> bool {
    seen.http().is_some_and(|h| (400..500).contains(&h))
}

fn not_stopping(after: &Option<String>) -> bool {
    after
        .as_deref()
        .is_some_and(|s| !status::is_ending_or_ended(s))
}

fn judge(rule: &'static Rule, o: &Observations, jobs: &Jobs) -> Verdict {
    // Every rule but stop.path is about the stop call: without it nothing else can be judged.
    let served = o.accepted.http().is_some_and(|h| h != 404 && h != 405);
    if !served && rule.id != "stop.path" {
        return verdict(
            rule,
            Outcome::Skip,
            "the stop call is not served at its documented path (see stop.path)",
            Some(&o.accepted),
        );
    }
    let accepted_200 = o.accepted.ok().filter(|a| a.http == 200);
    let body = accepted_200.and_then(|a| a.body.as_ref());
    let no_200 = || {
        verdict(
            rule,
            Outcome::Skip,
            "no 200 answer to a stop of a healthy task to inspect (see stop.path)",
            Some(&o.accepted),
        )
    };
    match rule.id {
        "stop.path" => pass_if(
            rule,
            o.accepted.http().is_some_and(|h| h != 404 && h != 405) && accepted_200.is_some(),
            "the stop call answered 200",
            &o.accepted,
        ),
        "example.200" => pass_if(
            rule,
            accepted_200.is_some() && o.accepted.field("status") == Some("success"),
            "200 {\"status\": \"success\"}",
            &o.accepted,
        ),
        "ok.status" => match body {
            None => no_200(),
            Some(b) => pass_if(
                rule,
                matches!(
                    b.get("status").and_then(Value::as_str),
                    Some("success" | "failed")
                ),
                "a status of success or failed",
                &o.accepted,
            ),
        },
        "ok.error-code" => match body {
            None => no_200(),
            Some(b) => pass_if(
                rule,
                b.get("error_code")
                    .is_none_or(|c| c.as_str().is_some_and(|c| c.chars().count() == 12)),
                "no error_code, or one of exactly 12 characters",
                &o.accepted,
            ),
        },
        "ok.error-msg" => match body {
            None => no_200(),
            Some(b) => pass_if(
                rule,
                b.get("error_msg").is_none_or(|m| {
                    m.as_str()
                        .is_some_and(|m| (1..=512).contains(&m.chars().count()))
                }),
                "no error_msg, or one of 1 to 512 characters",
                &o.accepted,
            ),
        },
        "ok.id" => match body {
            None => no_200(),
            Some(b) => pass_if(
                rule,
                b.get("id")
                    .is_none_or(|id| id.as_str() == Some(jobs.running[0].as_str())),
                "no id, or the task's ID",
                &o.accepted,
            ),
        },
        "ok.name" => match body {
            None => no_200(),
            Some(b) => pass_if(
                rule,
                b.get("name").is_none_or(Value::is_string),
                "no name, or a string",
                &o.accepted,
            ),
        },
        "bad.error-code" | "bad.error-msg" => {
            let four_hundreds: Vec<&Seen> = [
                &o.missing,
                &o.english,
                &o.chinese,
                &o.wrong_type,
                &o.string_force,
            ]
            .into_iter()
            .filter(|s| s.http() == Some(400))
            .collect();
            if four_hundreds.is_empty() {
                return verdict(rule, Outcome::Skip, "no 400 answer was observed", None);
            }
            let broken = four_hundreds.iter().find(|s| {
                let b = s.ok().and_then(|a| a.body.as_ref());
                let field = if rule.id == "bad.error-code" {
                    "error_code"
                } else {
                    "error_msg"
                };
                let value = b.and_then(|b| b.get(field)).and_then(Value::as_str);
                let kept = match rule.id {
                    "bad.error-code" => value.is_some_and(|c| c.chars().count() == 12),
                    _ => value.is_some_and(|m| (1..=512).contains(&m.chars().count())),
                };
                !kept
            });
            let expected = if rule.id == "bad.error-code" {
                "an error_code of exactly 12 characters in every 400 answer"
            } else {
                "an error_msg of 1 to 512 characters in every 400 answer"
            };
            match broken {
                Some(s) => verdict(
                    rule,
                    Outcome::Fail,
                    format!("expected {expected}; observed {}", s.shown()),
                    Some(s),
                ),
                None => verdict(
                    rule,
                    Outcome::Pass,
                    format!("{expected} ({} answers)", four_hundreds.len()),
                    Some(four_hundreds[0]),
                ),
            }
        }
        "status.documented" => {
            let mut with_credentials = vec![
                &o.accepted,
                &o.missing,
                &o.english,
                &o.chinese,
                &o.wrong_type,
                &o.string_force,
            ];
            if let Some(force) = &o.force {
                with_credentials.extend(force.iter().map(|(s, _)| s));
            }
            match with_credentials
                .into_iter()
                .find(|s| !matches!(s.http(), Some(200 | 400)))
            {
                Some(s) => verdict(
                    rule,
                    Outcome::Fail,
                    format!("expected only 200 or 400; observed {}", s.shown()),
                    Some(s),
                ),
                None => verdict(rule, Outcome::Pass, "every answer was 200 or 400", None),
            }
        }
        "example.400" => pass_if(
            rule,
            o.missing.http() == Some(400) && o.missing.field("error_code") == Some("DRS.10000010"),
            "400 DRS.10000010",
            &o.missing,
        ),
        "header.x-auth-token" => pass_if(
            rule,
            matches!(o.no_token.http(), Some(401 | 403)),
            "401 or 403",
            &o.no_token,
        ),
        "header.x-language" => {
            let like_plain = |s: &Seen| {
                s.http() == o.missing.http()
                    && s.field("error_code") == o.missing.field("error_code")
            };
            let odd = [&o.english, &o.chinese]
                .into_iter()
                .find(|s| !like_plain(s));
            match odd {
                Some(s) => verdict(
                    rule,
                    Outcome::Fail,
                    format!(
                        "expected the answer given without X-Language ({}); observed {}",
                        o.missing.shown(),
                        s.shown()
                    ),
                    Some(s),
                ),
                None => verdict(
                    rule,
                    Outcome::Pass,
                    "en-us and zh-cn answered like a call without X-Language",
                    Some(&o.chinese),
                ),
            }
        }
        "header.content-type" => pass_if(
            rule,
            is_refusal(&o.wrong_type) && not_stopping(&o.wrong_type_after),
            "a 4xx refusal, and the task not stopping",
            &o.wrong_type,
        ),
        "body.is-force-stop.boolean" => pass_if(
            rule,
            is_refusal(&o.string_force) && not_stopping(&o.string_force_after),
            "a 4xx refusal, and the task not stopping",
            &o.string_force,
        ),
        "body.is-force-stop.default" | "body.is-force-stop.force" => {
            let Some([omitted, graceful, forced]) = &o.force else {
                return verdict(
                    rule,
                    Outcome::Skip,
                    format!("needs {ABNORMAL_NEEDED} abnormal tasks (abnormal: in the fixtures)"),
                    None,
                );
            };
            let ends = |s: &(Seen, Option<String>)| {
                s.1.clone().unwrap_or_else(|| "no final status".to_owned())
            };
            if rule.id == "body.is-force-stop.default" {
                let same = omitted.0.http() == graceful.0.http() && omitted.1 == graceful.1;
                let detail = format!(
                    "left out: {} ending {}; false: {} ending {}",
                    omitted.0.shown(),
                    ends(omitted),
                    graceful.0.shown(),
                    ends(graceful)
                );
                verdict(
                    rule,
                    if same { Outcome::Pass } else { Outcome::Fail },
                    detail,
                    Some(&omitted.0),
                )
            } else {
                let ended =
                    |s: &(Seen, Option<String>)| s.1.as_deref().is_some_and(status::is_terminal);
                if !ended(forced) && !ended(graceful) {
                    let detail = "neither the forced nor the graceful stop ended, so their difference cannot be seen (see async.ends)";
                    return verdict(rule, Outcome::Skip, detail, Some(&forced.0));
                }
                let works = forced.1.as_deref() == Some(status::COMPLETE)
                    && graceful.1.as_deref() != Some(status::COMPLETE);
                let detail = format!(
                    "true: ending {}; false: ending {} (expected RELEASE_RESOURCE_COMPLETE only for true)",
                    ends(forced),
                    ends(graceful)
                );
                verdict(
                    rule,
                    if works { Outcome::Pass } else { Outcome::Fail },
                    detail,
                    Some(&forced.0),
                )
            }
        }
        "async.ends" => match (accepted_200, &o.accepted_final) {
            (None, _) => no_200(),
            (Some(_), _) if o.accepted.field("status") != Some("success") => verdict(
                rule,
                Outcome::Skip,
                "the stop was not accepted (status is not success; see example.200)",
                Some(&o.accepted),
            ),
            (Some(_), Some(s)) if s == status::COMPLETE => verdict(
                rule,
                Outcome::Pass,
                "the task reached RELEASE_RESOURCE_COMPLETE",
                Some(&o.accepted),
            ),
            (Some(_), last) => verdict(
                rule,
                Outcome::Fail,
                format!(
                    "expected RELEASE_RESOURCE_COMPLETE within the wait; last status {}",
                    last.as_deref().unwrap_or("unknown")
                ),
                Some(&o.accepted),
            ),
        },
        _ => verdict(rule, Outcome::Skip, "no check", None),
    }
}
