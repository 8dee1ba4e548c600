//! `stopbook rules` and `stopbook conform`: the faithful mock passes every rule, and each of the
//! mock's defects fails exactly its rule (and the rules that truly depend on it), no other.

use std::time::Duration;

use serde_json::Value;
use stopbook::mock::{self, Defect, JobSpec, MockConfig};

use crate::support::stopbook;

const TOKEN: &str = "conform-test-token";
const RUNNING: [&str; 3] = [
    "r0000000-0000-4000-8000-000000000001",
    "r0000000-0000-4000-8000-000000000002",
    "r0000000-0000-4000-8000-000000000003",
];
const ABNORMAL: [&str; 3] = [
    "a0000000-0000-4000-8000-000000000001",
    "a0000000-0000-4000-8000-000000000002",
    "a0000000-0000-4000-8000-000000000003",
];
const MISSING: &str = "m0000000-0000-4000-8000-000000000001";

fn mock_config(defect: Option<Defect>) -> MockConfig {
    let spec = |id: &str, status: &str| JobSpec {
        id: id.into(),
        name: "DRS-1".into(),
        status: status.into(),
        job_type: "sync".into(),
    };
    MockConfig {
        jobs: RUNNING
            .iter()
            .map(|id| spec(id, "INCRE_TRANSFER_STARTED"))
            .chain(ABNORMAL.iter().map(|id| spec(id, "INCRE_TRANSFER_FAILED")))
            .collect(),
        token: Some(TOKEN.into()),
        stop_delay: Duration::from_millis(300),
        defect,
        ..MockConfig::default()
    }
}

/// Runs `stopbook conform` on a fixtures file aimed at a fresh mock; exit code and JSON report.
fn conform_against(
    runtime: &tokio::runtime::Runtime,
    defect: Option<Defect>,
    extra: &[&str],
) -> (Option<i32>, Value) {
    let server = runtime
        .block_on(mock::start_embedded(mock_config(defect)))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fixtures = format!(
        "target: {{ endpoint: {}, project_id: 054ba152d480d55b2f5dc0069e7ddef0, auth: {{ token_env: CONFORM_TOKEN }} }}\nrunning: [{}]\nabnormal: [{}]\nmissing: [{MISSING}]\nwait: {{ timeout: 5s, poll: 50ms }}\n",
        server.url(),
        RUNNING.join(", "),
        ABNORMAL.join(", ")
    );
    std::fs::write(dir.path().join("fixtures.yaml"), fixtures).unwrap();
    let output = stopbook(["conform", "fixtures.yaml", "--report-json", "report.json"])
        .args(extra)
        .current_dir(dir.path())
        .env("CONFORM_TOKEN", TOKEN)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let report = std::fs::read_to_string(dir.path().join("report.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    runtime.block_on(server.shutdown());
    (output.status.code(), report)
}

fn with(report: &Value, outcome: &str) -> Vec<String> {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == outcome)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn rules_lists_the_catalogue() {
    let output = stopbook(["rules"]).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text.lines().count(), 18);
    assert!(
        text.lines().any(
            |l| l.starts_with("body.is-force-stop.default") && l.contains("[T3.is_force_stop]")
        )
    );
}

#[test]
fn the_embedded_mock_passes_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let output = stopbook([
        "conform",
        "--report-json",
        "r.json",
        "--report-junit",
        "r.xml",
    ])
    .current_dir(dir.path())
    .timeout(Duration::from_secs(60))
    .output()
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert!(
        report["endpoint"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(with(&report, "pass").len(), 18, "{report}");
    for rule in report["rules"].as_array().unwrap() {
        for key in ["id", "outcome", "detail"] {
            assert!(rule.get(key).is_some(), "a rule verdict lacks {key}");
        }
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("r.xml"))
            .unwrap()
            .matches("<testcase ")
            .count(),
        18
    );
}

/// Each defect, and the rules it must fail: its own, and those that truly depend on it.
const EXPECTED: &[(&str, &[&str])] = &[
    ("stop.path", &["stop.path"]),
    ("header.content-type", &["header.content-type"]),
    ("header.x-auth-token", &["header.x-auth-token"]),
    ("header.x-language", &["header.x-language"]),
    (
        "body.is-force-stop.default",
        &["body.is-force-stop.default"],
    ),
    (
        "body.is-force-stop.boolean",
        &["body.is-force-stop.boolean"],
    ),
    ("body.is-force-stop.force", &["body.is-force-stop.force"]),
    // The page's 200 example is {"status": "success"}: without status it is broken too.
    ("ok.status", &["ok.status", "example.200"]),
    ("ok.error-code", &["ok.error-code"]),
    ("ok.error-msg", &["ok.error-msg"]),
    ("ok.id", &["ok.id"]),
    ("ok.name", &["ok.name"]),
    // The 400 example's code is DRS.10000010, 12 characters: a 10-character code breaks both.
    ("bad.error-code", &["bad.error-code", "example.400"]),
    ("bad.error-msg", &["bad.error-msg"]),
    // The 400 example is a 400: answering 404 breaks both.
    ("status.documented", &["status.documented", "example.400"]),
    ("example.200", &["example.200"]),
    ("example.400", &["example.400"]),
    ("async.ends", &["async.ends"]),
];

#[test]
fn each_defect_fails_exactly_its_rule_and_the_faithful_mock_none() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (code, report) = conform_against(&runtime, None, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(with(&report, "fail"), Vec::<String>::new());
    assert_eq!(EXPECTED.len(), mock::defects::ALL.len());
    for (id, expected) in EXPECTED {
        let defect: Defect = id.parse().unwrap();
        let (code, report) = conform_against(&runtime, Some(defect), &[]);
        assert_eq!(code, Some(1), "{id}: {report}");
        let mut failed = with(&report, "fail");
        failed.sort();
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(failed, expected, "defect {id}");
        for rule in report["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["outcome"] == "fail")
        {
            assert!(
                rule["detail"].as_str().unwrap().len() > 10 && rule.get("tag").is_some(),
                "a failure says what and cites: {rule}"
            );
        }
    }
}

#[test]
fn rules_can_be_selected_and_fixtures_are_checked() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (code, report) = conform_against(
        &runtime,
        Some(Defect::OkId),
        &["--rules", "ok.name,example.400"],
    );
    assert_eq!(
        code,
        Some(0),
        "the defect is in a rule not selected: {report}"
    );
    assert_eq!(report["rules"].as_array().unwrap().len(), 2);

    let unknown = stopbook(["conform", "--rules", "no.such.rule"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("few.yaml"),
        format!("target: {{ endpoint: http://127.0.0.1:1, project_id: 054ba152d480d55b2f5dc0069e7ddef0, auth: {{ token_env: T }} }}\nrunning: [{}]\nabnormal: [{}]\nmisssing: []\n", RUNNING[0], ABNORMAL[0]),
    )
    .unwrap();
    let few = stopbook(["conform", "few.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&few.stderr);
    assert_eq!(few.status.code(), Some(2), "{err}");
    assert!(
        err.contains("few.yaml:2:10: the suite stops 3 healthy tasks"),
        "{err}"
    );
    assert!(
        err.contains("few.yaml:3:11: the force rules stop 3 abnormal tasks"),
        "{err}"
    );
    assert!(err.contains("did you mean `missing`?"), "{err}");
}
