//! Unit tests of [`super`]: layering, defaults and cross-checks.
use std::path::Path;

use crate::runbook::load_str;
use crate::runbook::model::{Expectation, Runbook, Settings, Target};

const A: &str = "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r";
const B: &str = "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1jb11x";

fn load(yaml: &str) -> Runbook {
    load_str("t.yaml", yaml.to_owned(), Path::new(".")).unwrap_or_else(|d| panic!("{d}"))
}

fn settings(rb: &Runbook, phase: usize, stop: usize) -> &Settings {
    &rb.phases[phase].stops[stop].settings
}

#[test]
fn built_in_defaults_apply_when_nothing_is_said() {
    let rb = load(&format!(
        "version: 1\nname: n\nphases:\n  - name: p\n    stops:\n      - job: {A}\n"
    ));
    assert!(matches!(rb.target, Target::EmbeddedMock));
    assert_eq!(rb.limits.concurrency, 8);
    assert_eq!(rb.phases[0].concurrency, 8);
    assert_eq!(*settings(&rb, 0, 0), Settings::default());
}

#[test]
fn the_nearest_layer_wins_key_by_key() {
    let rb = load(&format!(
        "version: 1\nname: n\n\
         defaults: {{ force: true, retry: {{ attempts: 3, backoff: 1s }}, request_timeout: 10s }}\n\
         phases:\n  - name: p\n    retry: {{ max_backoff: 1m }}\n    stops:\n\
         \x20     - job: {A}\n        retry: {{ attempts: 9 }}\n        force: false\n\
         \x20     - job: {B}\n"
    ));
    let a = settings(&rb, 0, 0);
    assert!(!a.force);
    assert_eq!(
        (
            a.retry.attempts,
            a.retry.backoff.to_string(),
            a.retry.max_backoff.to_string()
        ),
        (9, "1s".into(), "1m".into())
    );
    assert_eq!(a.request_timeout.to_string(), "10s");
    let b = settings(&rb, 0, 1);
    assert!(b.force);
    assert_eq!(
        (
            b.retry.attempts,
            b.retry.backoff.to_string(),
            b.retry.max_backoff.to_string()
        ),
        (3, "1s".into(), "1m".into())
    );
}

#[test]
fn stops_without_overrides_share_their_phase_settings() {
    let rb = load(&format!(
        "version: 1\nname: n\nphases:\n  - name: p\n    force: true\n    stops:\n      - job: {A}\n      - job: {B}\n"
    ));
    assert!(std::sync::Arc::ptr_eq(
        &rb.phases[0].stops[0].settings,
        &rb.phases[0].stops[1].settings
    ));
}

#[test]
fn wait_can_be_turned_off_and_back_on() {
    let rb = load(&format!(
        "version: 1\nname: n\ndefaults: {{ wait: false }}\nphases:\n  - name: p\n    stops:\n\
         \x20     - job: {A}\n      - job: {B}\n        wait: {{ timeout: 5m }}\n"
    ));
    let a = settings(&rb, 0, 0);
    assert_eq!(a.wait, None);
    assert_eq!(
        a.effective_expect(),
        Expectation::Accepted,
        "stopped without waiting is accepted"
    );
    let b = settings(&rb, 0, 1);
    let wait = b.wait.unwrap();
    assert_eq!(
        (wait.timeout.to_string(), wait.poll.to_string()),
        ("5m".into(), "10s".into())
    );
    assert_eq!(b.effective_expect(), Expectation::Stopped);
}

#[test]
fn exact_answers_do_not_wait_or_escalate() {
    let rb = load(&format!(
        "version: 1\nname: n\ndefaults: {{ escalate: {{ after: 1m }} }}\nphases:\n  - name: p\n    stops:\n\
         \x20     - job: {A}\n        expect: {{ http: 400, error_code: DRS.10000010 }}\n      - job: {B}\n"
    ));
    assert_eq!(settings(&rb, 0, 0).effective_wait(), None);
    assert_eq!(settings(&rb, 0, 0).effective_escalate(), None);
    assert!(settings(&rb, 0, 1).effective_escalate().is_some());
}

/// A force stop has nothing to escalate to: the plan must not show it escalating (issue 24's
/// rough edge; the run never did escalate one).
#[test]
fn force_stops_do_not_escalate() {
    let rb = load(&format!(
        "version: 1\nname: n\ndefaults: {{ escalate: {{ after: 1m }} }}\nphases:\n  - name: p\n    stops:\n\
         \x20     - job: {A}\n        force: true\n      - job: {B}\n"
    ));
    assert_eq!(settings(&rb, 0, 0).effective_escalate(), None);
    assert!(settings(&rb, 0, 1).effective_escalate().is_some());
}

#[test]
fn a_200_answer_without_a_code_means_success() {
    let rb = load(&format!(
        "version: 1\nname: n\nphases:\n  - name: p\n    stops:\n      - job: {A}\n        expect: {{ http: 200 }}\n"
    ));
    assert!(matches!(
        settings(&rb, 0, 0).expect,
        Expectation::Answer {
            http: 200,
            result: Some(crate::runbook::raw::ResultWord::Success),
            ..
        }
    ));
}

#[test]
fn the_iam_endpoint_comes_from_the_region_when_not_given() {
    let with = |target: &str| {
        load_str(
            "t.yaml",
            format!(
                "version: 1\nname: n\ntarget:\n{target}\nphases:\n  - name: p\n    stops: [ {{ job: {A} }} ]\n"
            ),
            Path::new("."),
        )
    };
    let auth = "  auth: { iam_password: { user_env: U, password_env: P, domain: d } }";
    let rb = with(&format!(
        "  region: ap-southeast-1\n  project_id: 054ba152d480d55b2f5dc0069e7ddef0\n{auth}"
    ))
    .unwrap();
    let Target::Remote(remote) = rb.target else {
        panic!()
    };
    let crate::runbook::model::Auth::IamPassword { endpoint, .. } = remote.auth else {
        panic!()
    };
    assert_eq!(
        endpoint.to_string(),
        "https://iam.ap-southeast-1.myhuaweicloud.com"
    );
    let err = with(&format!("  endpoint: https://drs.example.com\n  project_id: 054ba152d480d55b2f5dc0069e7ddef0\n{auth}")).unwrap_err();
    assert!(
        err.to_string()
            .contains("needs an `endpoint`, or a `target.region`"),
        "{err}"
    );
}

#[test]
fn phase_concurrency_defaults_to_the_runs() {
    let rb = load(&format!(
        "version: 1\nname: n\nlimits: {{ concurrency: 3 }}\nphases:\n  - name: p\n    stops: [ {{ job: {A} }} ]\n  - name: q\n    concurrency: 2\n    stops: [ {{ job: {B} }} ]\n"
    ));
    assert_eq!((rb.phases[0].concurrency, rb.phases[1].concurrency), (3, 2));
}
