//! The false alarms and the false pass of issue 13, on observations shaped by hand: each was
//! a wrong verdict before the rules were rewritten.

use serde_json::{Value, json};

use super::calls::CallsSeen;
use super::*;
use crate::check::rules::rule;
use crate::drs::RuleId;

fn seen(http: u16, body: Value) -> Seen {
    Seen {
        request: "POST /v5/p/jobs/r1/stop".to_owned(),
        answer: Ok(Answer {
            http,
            body: Some(body),
            retry_after: None,
            request_id: None,
        }),
        media_type: Some("application/json".to_owned()),
    }
}

fn ok() -> Seen {
    seen(200, json!({"status": "success"}))
}

fn missing() -> Seen {
    seen(
        400,
        json!({"error_code": "DRS.10000010", "error_msg": "Job does not exist."}),
    )
}

fn refused() -> Seen {
    seen(
        400,
        json!({"error_code": "DRS.10000001", "error_msg": "Failed."}),
    )
}

/// A faithful endpoint's observations.
fn faithful() -> Observations {
    let running = Some("INCRE_TRANSFER_STARTED".to_owned());
    let list = || seen(200, json!({"total_count": 0, "jobs": []}));
    let tags = || seen(200, json!({"total_count": 0, "resources": []}));
    Observations {
        before: vec![],
        accepted: ok(),
        accepted_final: Ending::Ended("RELEASE_RESOURCE_COMPLETE".to_owned()),
        missing: missing(),
        no_token: seen(401, json!({"error_code": "APIGW.0301", "error_msg": "x"})),
        english: missing(),
        chinese: missing(),
        wrong_type: refused(),
        wrong_type_after: running.clone(),
        string_force: refused(),
        string_force_after: running,
        force: Some([
            (ok(), Ending::Ended("RELEASE_RESOURCE_FAILED".to_owned())),
            (ok(), Ending::Ended("RELEASE_RESOURCE_FAILED".to_owned())),
            (ok(), Ending::Ended("RELEASE_RESOURCE_COMPLETE".to_owned())),
        ]),
        calls: CallsSeen {
            detail_untyped: missing(),
            list_untyped: missing(),
            pages: [list(), list(), list()],
            by_status: list(),
            by_name: (list(), "r1".to_owned()),
            batch: None,
            tagged: [tags(), tags()],
        },
    }
}

fn outcome(id: RuleId, o: &Observations) -> Outcome {
    let rule = rule(id).expect("every rule is in the catalogue");
    judge::judge(rule, o, &Jobs::default()).outcome
}

#[test]
fn a_refused_force_stop_is_no_evidence_that_true_forces() {
    let mut o = faithful();
    assert_eq!(outcome(RuleId::ForceIgnored, &o), Outcome::Pass);
    // Fixtures used up: the forced stop refused, the task already ended by an earlier run.
    // This passed before (only the ending was compared).
    if let Some(force) = &mut o.force {
        force[2].0 = refused();
    }
    assert_eq!(outcome(RuleId::ForceIgnored, &o), Outcome::Skip);
}

#[test]
fn the_default_rule_compares_the_whole_answer() {
    let mut o = faithful();
    if let Some(force) = &mut o.force {
        force[0].0 = seen(200, json!({"status": "failed"}));
    }
    // Same HTTP code and ending: it passed before.
    assert_eq!(outcome(RuleId::ForceDefault, &o), Outcome::Fail);
}

#[test]
fn a_415_for_a_wrong_content_type_is_a_refusal_not_an_undocumented_status() {
    let mut o = faithful();
    o.wrong_type = seen(415, json!({"error_code": "APIGW.0415", "error_msg": "x"}));
    assert_eq!(outcome(RuleId::ContentType, &o), Outcome::Pass);
    // status.documented failed on it before.
    assert_eq!(outcome(RuleId::StatusCodes, &o), Outcome::Pass);
}

#[test]
fn without_the_detail_call_the_refusal_rules_skip_rather_than_fail() {
    let mut o = faithful();
    o.wrong_type_after = None;
    o.string_force_after = None;
    o.accepted_final = Ending::Unread;
    // Both failed before, though they are about the stop call.
    assert_eq!(outcome(RuleId::ContentType, &o), Outcome::Skip);
    assert_eq!(outcome(RuleId::ForceBoolean, &o), Outcome::Skip);
    assert_eq!(outcome(RuleId::AsyncEnds, &o), Outcome::Skip);
}

#[test]
fn every_answer_is_judged_as_json() {
    let mut o = faithful();
    assert_eq!(outcome(RuleId::AnswerJson, &o), Outcome::Pass);
    o.english.media_type = Some("text/html".to_owned());
    assert_eq!(outcome(RuleId::AnswerJson, &o), Outcome::Fail);
}

#[test]
fn an_ending_never_seen_to_act_is_no_evidence() {
    let mut o = faithful();
    let lagging = || Ending::NotSeenToAct("RELEASE_RESOURCE_FAILED".to_owned());
    if let Some(force) = &mut o.force {
        force[1].1 = lagging();
    }
    // The graceful stop's ending unknown: neither rule judges on it.
    assert_eq!(outcome(RuleId::ForceDefault, &o), Outcome::Skip);
    assert_eq!(outcome(RuleId::ForceIgnored, &o), Outcome::Skip);
    o.accepted_final = lagging();
    assert_eq!(outcome(RuleId::AsyncEnds, &o), Outcome::Skip);
}
