//! Judging each rule from the observations: pass on evidence that it holds, fail on evidence
//! that it does not, skip (with the reason) when what the rule needs did not happen.

use serde_json::Value;

use super::{ABNORMAL_NEEDED, Jobs, Observations, Outcome, Seen, Verdict};
use crate::check::rules::Rule;
use crate::drs::status;

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

pub(super) fn judge(rule: &'static Rule, o: &Observations, jobs: &Jobs) -> Verdict {
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
        "ok.status" | "ok.error-code" | "ok.error-msg" | "ok.id" | "ok.name" => match body {
            None => no_200(),
            Some(b) => judge_ok_body(rule, o, jobs, b),
        },
        "bad.error-code" | "bad.error-msg" => judge_bad_bodies(rule, o),
        "status.documented" => judge_documented_statuses(rule, o),
        "example.400" => pass_if(
            rule,
            o.missing.http() == Some(400)
                && o.missing.field("error_code") == Some(crate::drs::codes::JOB_NOT_FOUND),
            "400 DRS.10000010",
            &o.missing,
        ),
        "header.x-auth-token" => pass_if(
            rule,
            matches!(o.no_token.http(), Some(401 | 403)),
            "401 or 403",
            &o.no_token,
        ),
        "header.x-language" => judge_language(rule, o),
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
        "body.is-force-stop.default" | "body.is-force-stop.force" => judge_force(rule, o),
        "async.ends" => judge_async_ends(rule, o),
        _ => verdict(rule, Outcome::Skip, "no check", None),
    }
}

/// The 200 body rules: `status`, `error_code`, `error_msg`, `id`, `name`.
fn judge_ok_body(rule: &Rule, o: &Observations, jobs: &Jobs, body: &Value) -> Verdict {
    let b = body;
    match rule.id {
        "ok.status" => pass_if(
            rule,
            matches!(
                b.get("status").and_then(Value::as_str),
                Some("success" | "failed")
            ),
            "a status of success or failed",
            &o.accepted,
        ),
        "ok.error-code" => pass_if(
            rule,
            b.get("error_code")
                .is_none_or(|c| c.as_str().is_some_and(|c| c.chars().count() == 12)),
            "no error_code, or one of exactly 12 characters",
            &o.accepted,
        ),
        "ok.error-msg" => pass_if(
            rule,
            b.get("error_msg").is_none_or(|m| {
                m.as_str()
                    .is_some_and(|m| (1..=512).contains(&m.chars().count()))
            }),
            "no error_msg, or one of 1 to 512 characters",
            &o.accepted,
        ),
        "ok.id" => pass_if(
            rule,
            b.get("id")
                .is_none_or(|id| id.as_str() == Some(jobs.running[0].as_str())),
            "no id, or the task's ID",
            &o.accepted,
        ),
        "ok.name" => pass_if(
            rule,
            b.get("name").is_none_or(Value::is_string),
            "no name, or a string",
            &o.accepted,
        ),
        _ => verdict(rule, Outcome::Skip, "no check", None),
    }
}

/// The 400 body rules, over every 400 answer observed.
fn judge_bad_bodies(rule: &Rule, o: &Observations) -> Verdict {
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

/// Only the documented status codes, 200 and 400, answer a call with credentials.
fn judge_documented_statuses(rule: &Rule, o: &Observations) -> Verdict {
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

/// `X-Language` changes the language of a message, nothing else.
fn judge_language(rule: &Rule, o: &Observations) -> Verdict {
    let like_plain = |s: &Seen| {
        s.http() == o.missing.http() && s.field("error_code") == o.missing.field("error_code")
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

/// What `is_force_stop` does: left out is `false`, and only `true` forces.
fn judge_force(rule: &Rule, o: &Observations) -> Verdict {
    let Some([omitted, graceful, forced]) = &o.force else {
        return verdict(
            rule,
            Outcome::Skip,
            format!("needs {ABNORMAL_NEEDED} abnormal tasks (abnormal: in the fixtures)"),
            None,
        );
    };
    let ends =
        |s: &(Seen, Option<String>)| s.1.clone().unwrap_or_else(|| "no final status".to_owned());
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
        let ended = |s: &(Seen, Option<String>)| s.1.as_deref().is_some_and(status::is_terminal);
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

/// An accepted stop's task reaches `RELEASE_RESOURCE_COMPLETE`.
fn judge_async_ends(rule: &Rule, o: &Observations) -> Verdict {
    let accepted_200 = o.accepted.ok().filter(|a| a.http == 200);
    let no_200 = || {
        verdict(
            rule,
            Outcome::Skip,
            "no 200 answer to a stop of a healthy task to inspect (see stop.path)",
            Some(&o.accepted),
        )
    };
    match (accepted_200, &o.accepted_final) {
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
    }
}
