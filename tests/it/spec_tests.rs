//! The conformance suite as data: each file in `spec-tests/` is one rule's case, run against the
//! faithful mock and against the mock with that rule's defect. The verdicts must be the case's,
//! and both, with the request and answer they rest on, are snapshots (ports redacted).

use std::time::Duration;

use serde::Deserialize;
use stopbook::api::client::{Client, Credentials};
use stopbook::check::conform::{self, Jobs, Outcome, Wait};
use stopbook::check::rules;
use stopbook::mock::{self, JobSpec, MockConfig};
use stopbook::secret::Secret;

use crate::support::{root, snapshot_settings};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    rule: String,
    cites: String,
    request: String,
    setup: Setup,
    faithful: Outcome,
    defective: Outcome,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Setup {
    running: usize,
    abnormal: usize,
    missing: usize,
}

const PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";
const TOKEN: &str = "spec-test-token";

fn id(kind: char, n: usize) -> String {
    format!("{kind}0000000-0000-4000-8000-{n:012}")
}

/// The verdict on `rule` from a mock with `defect`, as a record for the snapshot.
async fn verdict(case: &Case, defect: Option<mock::Defect>) -> (Outcome, serde_json::Value) {
    let spec = |id: String, status: &str| JobSpec {
        id,
        name: "DRS-1".into(),
        status: status.into(),
        job_type: "sync".into(),
        ..Default::default()
    };
    let running: Vec<String> = (1..=case.setup.running).map(|n| id('r', n)).collect();
    let abnormal: Vec<String> = (1..=case.setup.abnormal).map(|n| id('a', n)).collect();
    let missing: Vec<String> = (1..=case.setup.missing).map(|n| id('m', n)).collect();
    let config = MockConfig {
        jobs: running
            .iter()
            .map(|i| spec(i.clone(), "INCRE_TRANSFER_STARTED"))
            .chain(
                abnormal
                    .iter()
                    .map(|i| spec(i.clone(), "INCRE_TRANSFER_FAILED")),
            )
            .collect(),
        token: Some(TOKEN.into()),
        stop_delay: Duration::from_millis(200),
        defect,
        ..MockConfig::default()
    };
    let server = mock::start_embedded(config).await.unwrap();
    let client = Client::new(
        &server.url(),
        PROJECT,
        Credentials::Token(Secret::new(TOKEN)),
        None,
        4,
        None,
    )
    .unwrap();
    let parse = |ids: &[String]| ids.iter().map(|i| i.parse().unwrap()).collect();
    let jobs = Jobs {
        running: parse(&running),
        abnormal: parse(&abnormal),
        missing: parse(&missing),
    };
    let wait = Wait {
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(50),
    };
    let mut verdicts = conform::run(&client, &jobs, wait, &[case.rule.as_str()])
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", case.rule));
    server.shutdown().await;
    assert_eq!(verdicts.len(), 1, "{}", case.rule);
    let v = verdicts.remove(0);
    (v.outcome, serde_json::to_value(&v).unwrap())
}

#[test]
fn every_rule_has_a_case_that_passes_faithfully_and_fails_on_its_defect() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut settings = snapshot_settings();
    settings.add_filter(r"127\.0\.0\.1:[0-9]+", "127.0.0.1:[port]");
    let mut seen = Vec::new();
    settings.bind(|| {
        insta::glob!(
            concat!(env!("CARGO_MANIFEST_DIR"), "/spec-tests"),
            // Cases are named after their rule, and every rule ID has a dot: openapi.yaml is left out.
            "*.*.yaml",
            |path| {
                let case: Case =
                    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                let rule = rules::find(&case.rule)
                    .unwrap_or_else(|| panic!("{}: no such rule", path.display()));
                assert_eq!(
                    case.cites, rule.tag,
                    "{}: the case cites what the catalogue does",
                    case.rule
                );
                assert_eq!(
                    path.file_stem().unwrap().to_str().unwrap(),
                    case.rule,
                    "one file per rule, named after it"
                );
                let defect: mock::Defect = case.rule.parse().unwrap();
                let (faithful, faithful_record) = runtime.block_on(verdict(&case, None));
                let (defective, defective_record) = runtime.block_on(verdict(&case, Some(defect)));
                assert_eq!(
                    (faithful, defective),
                    (case.faithful, case.defective),
                    "{}",
                    case.rule
                );
                let record = serde_json::json!({
                    "rule": case.rule,
                    "cites": case.cites,
                    "request": case.request,
                    "faithful": faithful_record,
                    "with_defect": defective_record,
                });
                insta::assert_json_snapshot!("spec", record);
                seen.push(case.rule.clone());
            }
        );
    });
    seen.sort();
    let mut catalogue: Vec<String> = rules::CATALOGUE.iter().map(|r| r.id.to_owned()).collect();
    catalogue.sort();
    assert_eq!(
        seen, catalogue,
        "spec-tests/ holds one case for every rule of the catalogue"
    );
    let _ = root();
}
