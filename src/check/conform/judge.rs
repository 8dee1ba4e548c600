//! Judging each rule from the observations: one function per rule, chosen by an exhaustive
//! match over the rule IDs (no fallback). Pass on evidence that the rule holds, fail on evidence
//! that it does not, skip (with the reason) when what the rule needs did not happen.

use serde_json::Value;

use super::judge_calls as calls;
use super::{
    ABNORMAL_NEEDED, Ended, Ending, Jobs, Observations, Outcome, Seen, Verdict, over_every,
    pass_if, verdict,
};
use crate::check::rules::Rule;
use crate::drs::{RuleId, codes, status};

pub(super) fn judge(rule: &Rule, o: &Observations, jobs: &Jobs) -> Verdict {
    let stop = |check: fn(&Rule, &Observations) -> Verdict| on_stop_call(rule, o, check);
    match rule.rule {
        RuleId::StopPath => stop_path(rule, o),
        RuleId::ContentType => stop(content_type),
        RuleId::AuthToken => stop(|rule, o| {
            let ok = matches!(o.no_token.http(), Some(401 | 403));
            pass_if(rule, ok, "401 or 403", &o.no_token)
        }),
        RuleId::Language => stop(language),
        RuleId::ForceDefault => stop(force_default),
        RuleId::ForceBoolean => stop(force_boolean),
        RuleId::ForceIgnored => stop(force_forces),
        RuleId::OkStatus => stop(ok_status),
        RuleId::OkErrorCode => stop(ok_error_code),
        RuleId::OkErrorMsg => stop(ok_error_msg),
        RuleId::OkId => stop(ok_id),
        RuleId::OkName => stop(ok_name),
        RuleId::BadErrorCode => bad_bodies(
            rule,
            o,
            "error_code",
            "an error_code of exactly 12 characters",
            |v| v.chars().count() == 12,
        ),
        RuleId::BadErrorMsg => bad_bodies(
            rule,
            o,
            "error_msg",
            "an error_msg of 1 to 512 characters",
            |v| (1..=512).contains(&v.chars().count()),
        ),
        RuleId::StatusCodes => stop(documented_statuses),
        RuleId::Example200 => stop(|rule, o| {
            pass_if(
                rule,
                o.accepted.accepted(),
                "200 {\"status\": \"success\"}",
                &o.accepted,
            )
        }),
        RuleId::Example400 => stop(|rule, o| {
            let ok = o.missing.http() == Some(400)
                && o.missing.field("error_code") == Some(codes::JOB_NOT_FOUND);
            pass_if(rule, ok, "400 DRS.10000010", &o.missing)
        }),
        RuleId::AsyncEnds => stop(async_ends),
        RuleId::AnswerJson => answer_json(rule, o),
        RuleId::DetailStatus => calls::detail_status(rule, o, jobs),
        RuleId::DetailType => calls::detail_type(rule, o),
        RuleId::ListJobType => calls::list_job_type(rule, o),
        RuleId::ListPaging => calls::list_paging(rule, o),
        RuleId::ListFilters => calls::list_filters(rule, o),
        RuleId::TagFilter => calls::tag_filter(rule, o),
        RuleId::BatchPerItem => calls::batch_per_item(rule, o),
        RuleId::BatchItems => calls::batch_items(rule, o),
    }
}

/// A rule about the stop call: without the call served, it cannot be judged.
fn on_stop_call(
    rule: &Rule,
    o: &Observations,
    check: fn(&Rule, &Observations) -> Verdict,
) -> Verdict {
    match served(&o.accepted) {
        true => check(rule, o),
        false => verdict(
            rule,
            Outcome::Skip,
            "the stop call was not answered at its documented path (see stop.path)",
            Some(&o.accepted),
        ),
    }
}

fn served(s: &Seen) -> bool {
    s.http().is_some_and(|h| h != 404 && h != 405)
}

fn stop_path(rule: &Rule, o: &Observations) -> Verdict {
    match &o.accepted.answer {
        Err(e) => verdict(
            rule,
            Outcome::Skip,
            format!("the stop call got no answer ({e})"),
            Some(&o.accepted),
        ),
        Ok(_) => pass_if(
            rule,
            served(&o.accepted),
            "an answer, not 404 or 405",
            &o.accepted,
        ),
    }
}

/// A request the API must refuse: refused, and the task (read after) not stopping.
fn refused_and_unchanged(rule: &Rule, seen: &Seen, after: &Option<String>) -> Verdict {
    let refused = seen.http().is_some_and(|h| (400..500).contains(&h));
    if !refused {
        let detail = format!("expected a 4xx refusal; observed {}", seen.shown());
        return verdict(rule, Outcome::Fail, detail, Some(seen));
    }
    match after.as_deref() {
        None => verdict(
            rule,
            Outcome::Skip,
            "refused, but the task's status could not be read after it, so whether it changed nothing is unknown (see detail.status)",
            Some(seen),
        ),
        Some(s) if status::is_ending_or_ended(s) => verdict(
            rule,
            Outcome::Fail,
            format!("refused, yet the task is {s}: the refused request stopped it"),
            Some(seen),
        ),
        Some(s) => verdict(
            rule,
            Outcome::Pass,
            format!("a 4xx refusal, and the task still {s}"),
            Some(seen),
        ),
    }
}

fn content_type(rule: &Rule, o: &Observations) -> Verdict {
    refused_and_unchanged(rule, &o.wrong_type, &o.wrong_type_after)
}

fn force_boolean(rule: &Rule, o: &Observations) -> Verdict {
    refused_and_unchanged(rule, &o.string_force, &o.string_force_after)
}

/// `X-Language` changes the language of a message, nothing else.
fn language(rule: &Rule, o: &Observations) -> Verdict {
    let like_plain = |s: &Seen| {
        s.http() == o.missing.http() && s.field("error_code") == o.missing.field("error_code")
    };
    match [&o.english, &o.chinese]
        .into_iter()
        .find(|s| !like_plain(s))
    {
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

fn no_force(rule: &Rule) -> Verdict {
    let detail = format!("needs {ABNORMAL_NEEDED} abnormal tasks (abnormal: in the fixtures)");
    verdict(rule, Outcome::Skip, detail, None)
}

fn ends(e: &Ended) -> String {
    e.1.shown()
}

/// The first of `endings` whose accepted stop left no evidence of what it did, with why.
fn unseen<'a>(endings: &[&'a Ended]) -> Option<(&'a Ended, &'static str)> {
    endings.iter().copied().find_map(|e| match (&e.1, e.0.accepted()) {
        (_, false) | (Ending::Ended(_) | Ending::Unfinished(_), true) => None,
        (Ending::NotSeenToAct(_), true) => Some((
            e,
            "the stop was never seen to act: every status read showed the status from before it",
        )),
        (Ending::Unread, true) => Some((e, "the task's status could not be read after the stop")),
    })
}

/// Left out is `false`: the same answer (code, status, error code) and the same ending.
fn force_default(rule: &Rule, o: &Observations) -> Verdict {
    let Some([omitted, graceful, _]) = &o.force else {
        return no_force(rule);
    };
    let (a, b) = (&omitted.0, &graceful.0);
    let detail = format!(
        "left out: {} ending {}; false: {} ending {}",
        a.shown(),
        ends(omitted),
        b.shown(),
        ends(graceful)
    );
    if !a.accepted() && !b.accepted() {
        let why =
            format!("neither stop was accepted, so what they do cannot be compared: {detail}");
        return verdict(rule, Outcome::Skip, why, Some(a));
    }
    if let Some((e, why)) = unseen(&[omitted, graceful]) {
        let why = format!("{why}, so the endings cannot be compared: {detail}");
        return verdict(rule, Outcome::Skip, why, Some(&e.0));
    }
    let same = a.http() == b.http()
        && a.field("status") == b.field("status")
        && a.field("error_code") == b.field("error_code")
        && omitted.1 == graceful.1;
    let outcome = if same { Outcome::Pass } else { Outcome::Fail };
    verdict(rule, outcome, detail, Some(a))
}

/// Only `true` forces: the forced stop ends COMPLETE, the graceful one does not. Both must have
/// been accepted: a refusal is no evidence of what an accepted stop does.
fn force_forces(rule: &Rule, o: &Observations) -> Verdict {
    let Some([_, graceful, forced]) = &o.force else {
        return no_force(rule);
    };
    if let Some(refused) = [forced, graceful].into_iter().find(|e| !e.0.accepted()) {
        let why = format!(
            "the stop was not accepted ({}), so what it does cannot be seen (see example.200)",
            refused.0.shown()
        );
        return verdict(rule, Outcome::Skip, why, Some(&refused.0));
    }
    let ended = |e: &Ended| e.1.ended().is_some();
    if !ended(forced) && !ended(graceful) {
        let detail = "neither the forced nor the graceful stop ended, so their difference cannot be seen (see async.ends)";
        return verdict(rule, Outcome::Skip, detail, Some(&forced.0));
    }
    if let Some((e, why)) = unseen(&[forced, graceful]) {
        let detail = format!("{why}, so the difference cannot be seen");
        return verdict(rule, Outcome::Skip, detail, Some(&e.0));
    }
    let works =
        forced.1.seen() == Some(status::COMPLETE) && graceful.1.seen() != Some(status::COMPLETE);
    let detail = format!(
        "true: ending {}; false: ending {} (expected RELEASE_RESOURCE_COMPLETE only for true)",
        ends(forced),
        ends(graceful)
    );
    let outcome = if works { Outcome::Pass } else { Outcome::Fail };
    verdict(rule, outcome, detail, Some(&forced.0))
}

/// Every 200 answer to a stop call the suite provoked.
fn stop_200s(o: &Observations) -> Vec<&Seen> {
    let mut all = vec![
        &o.accepted,
        &o.missing,
        &o.english,
        &o.chinese,
        &o.wrong_type,
        &o.string_force,
    ];
    if let Some(force) = &o.force {
        all.extend(force.iter().map(|(s, _)| s));
    }
    all.retain(|s| s.http() == Some(200));
    all
}

/// A rule on one field of every 200 stop answer; `kept` judges the field when present.
fn ok_field(
    rule: &Rule,
    o: &Observations,
    field: &str,
    expected: &str,
    kept: impl Fn(&Value) -> bool,
) -> Verdict {
    over_every(rule, &stop_200s(o), expected, |s| match s.body() {
        None => Some("the 200 answer is not JSON".to_owned()),
        Some(b) => b
            .get(field)
            .filter(|v| !kept(v))
            .map(|v| format!("{field} is {v}")),
    })
}

fn ok_status(rule: &Rule, o: &Observations) -> Verdict {
    over_every(
        rule,
        &stop_200s(o),
        "a status of success or failed in every 200",
        |s| match s.body().and_then(|b| b.get("status")) {
            None => Some("the 200 answer has no status".to_owned()),
            Some(Value::String(w)) if w == "success" || w == "failed" => None,
            Some(v) => Some(format!("status is {v}")),
        },
    )
}

fn ok_error_code(rule: &Rule, o: &Observations) -> Verdict {
    ok_field(
        rule,
        o,
        "error_code",
        "no error_code, or one of exactly 12 characters",
        |c| c.as_str().is_some_and(|c| c.chars().count() == 12),
    )
}

fn ok_error_msg(rule: &Rule, o: &Observations) -> Verdict {
    ok_field(
        rule,
        o,
        "error_msg",
        "no error_msg, or one of 1 to 512 characters",
        |m| {
            m.as_str()
                .is_some_and(|m| (1..=512).contains(&m.chars().count()))
        },
    )
}

fn ok_id(rule: &Rule, o: &Observations) -> Verdict {
    over_every(
        rule,
        &stop_200s(o),
        "no id, or the ID of the task stopped",
        |s| {
            let id = s.body()?.get("id")?;
            let of_task = id
                .as_str()
                .is_some_and(|id| s.request.contains(&format!("/jobs/{id}/stop")));
            (!of_task).then(|| format!("id {id} is not the task's"))
        },
    )
}

fn ok_name(rule: &Rule, o: &Observations) -> Verdict {
    ok_field(rule, o, "name", "no name, or a string", Value::is_string)
}

/// A rule on `field` of every 400 answer the suite provoked, on any call.
fn bad_bodies(
    rule: &Rule,
    o: &Observations,
    field: &str,
    what: &str,
    kept: fn(&str) -> bool,
) -> Verdict {
    let mut four_hundreds = o.every();
    four_hundreds.retain(|s| s.http() == Some(400));
    over_every(
        rule,
        &four_hundreds,
        &format!("{what} in every 400 answer"),
        |s| match s.body().and_then(|b| b.get(field)) {
            None => Some(format!("the 400 answer has no {field}")),
            Some(v) if v.as_str().is_some_and(kept) => None,
            Some(v) => Some(format!("{field} is {v}")),
        },
    )
}

/// Well-formed stop calls with credentials are answered 200 or 400. (The malformed ones are
/// left out: a gateway's 415 for a wrong Content-Type is a refusal, which header.content-type
/// judges.)
fn documented_statuses(rule: &Rule, o: &Observations) -> Verdict {
    let mut well_formed = vec![&o.accepted, &o.missing, &o.english, &o.chinese];
    if let Some(force) = &o.force {
        well_formed.extend(force.iter().map(|(s, _)| s));
    }
    over_every(rule, &well_formed, "only 200 or 400", |s| match s.http() {
        Some(200 | 400) => None,
        Some(h) => Some(format!("answered {h}")),
        None => Some("no answer".to_owned()),
    })
}

/// An accepted stop's task reaches `RELEASE_RESOURCE_COMPLETE`.
fn async_ends(rule: &Rule, o: &Observations) -> Verdict {
    if !o.accepted.accepted() {
        let why =
            "the stop of a healthy task was not accepted (see example.200): nothing to follow";
        return verdict(rule, Outcome::Skip, why, Some(&o.accepted));
    }
    match &o.accepted_final {
        Ending::Unread => verdict(
            rule,
            Outcome::Skip,
            "the task's status could not be read after the stop (see detail.status)",
            Some(&o.accepted),
        ),
        Ending::NotSeenToAct(s) => verdict(
            rule,
            Outcome::Skip,
            format!("the stop was never seen to act: every status read showed {s}, as before it"),
            Some(&o.accepted),
        ),
        Ending::Ended(s) | Ending::Unfinished(s) => pass_if(
            rule,
            s == status::COMPLETE,
            &format!("RELEASE_RESOURCE_COMPLETE within the wait (last status {s})"),
            &o.accepted,
        ),
    }
}

/// Every answer is JSON, declared as such, as every body the page shows is.
fn answer_json(rule: &Rule, o: &Observations) -> Verdict {
    let mut answered = o.every();
    answered.retain(|s| s.ok().is_some());
    over_every(
        rule,
        &answered,
        "application/json bodies that parse as JSON",
        |s| match (s.media_type.as_deref(), s.body()) {
            (Some("application/json"), Some(_)) => None,
            (_, None) => Some("the body is not JSON".to_owned()),
            (declared, Some(_)) => {
                Some(format!("declared {}", declared.unwrap_or("no media type")))
            }
        },
    )
}
