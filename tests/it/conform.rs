//! `stopbook rules` and `stopbook conform`: the faithful mock passes every rule, and each of the
//! mock's defects fails exactly its rule (and the rules that truly depend on it), no other.

use std::time::Duration;

use serde_json::Value;
use stopbook::mock::{self, Defect, JobSpec, MockConfig};

use crate::support::stopbook;

const TOKEN: &str = "conform-test-token";
const RUNNING: [&str; 4] = [
    "r0000000-0000-4000-8000-000000000001",
    "r0000000-0000-4000-8000-000000000002",
    "r0000000-0000-4000-8000-000000000003",
    "r0000000-0000-4000-8000-000000000004",
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
        ..Default::default()
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

/// Writes a fixtures file naming `endpoint` into `dir`.
fn write_fixtures(dir: &std::path::Path, endpoint: &str) {
    let fixtures = format!(
        "target: {{ endpoint: {endpoint}, project_id: 054ba152d480d55b2f5dc0069e7ddef0, auth: {{ token_env: CONFORM_TOKEN }} }}\nrunning: [{}]\nabnormal: [{}]\nmissing: [{MISSING}]\nwait: {{ timeout: 5s, poll: 50ms }}\n",
        RUNNING.join(", "),
        ABNORMAL.join(", ")
    );
    std::fs::write(dir.join("fixtures.yaml"), fixtures).unwrap();
}

/// Runs `stopbook conform fixtures.yaml` in `dir`: exit code, stderr, and the JSON report.
fn conform_in(dir: &std::path::Path, token: &str, extra: &[&str]) -> (Option<i32>, String, Value) {
    let _ = std::fs::remove_file(dir.join("report.json"));
    let output = stopbook(["conform", "fixtures.yaml", "--report-json", "report.json"])
        .args(extra)
        .current_dir(dir)
        .env("CONFORM_TOKEN", token)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let report = std::fs::read_to_string(dir.join("report.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), err, report)
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
    write_fixtures(dir.path(), &server.url());
    let (code, _, report) = conform_in(dir.path(), TOKEN, extra);
    runtime.block_on(server.shutdown());
    (code, report)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A second run on fixtures the first used up is a fixtures error (exit 2, naming the jobs), not
/// a non-conformance: before, it failed stop.path and example.200 and passed the force rule on
/// an answer of `HTTP 400 DRS.10000001`. `--endpoint` overrides the fixtures' endpoint.
#[test]
fn fixtures_used_up_by_an_earlier_run_are_refused_before_anything_is_judged() {
    let runtime = runtime();
    let server = runtime
        .block_on(mock::start_embedded(mock_config(None)))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_fixtures(dir.path(), "http://127.0.0.1:1");
    let url = server.url();
    let (code, err, report) = conform_in(dir.path(), TOKEN, &["--endpoint", &url]);
    assert_eq!(code, Some(0), "{err}{report}");
    let (code, err, report) = conform_in(dir.path(), TOKEN, &["--endpoint", &url]);
    runtime.block_on(server.shutdown());
    assert_eq!(code, Some(2), "{err}{report}");
    assert_eq!(report, Value::Null, "nothing is judged, no report");
    assert!(err.contains("the fixtures cannot serve"), "{err}");
    for used in [RUNNING[0], RUNNING[3], ABNORMAL[2]] {
        assert!(err.contains(used), "{used} is named: {err}");
    }
    assert!(err.contains("used up by an earlier run"), "{err}");
}

/// An endpoint that cannot be reached, or refuses the credentials, is not judged: exit 3 and
/// no verdicts (before, stop.path failed with exit 1, as if the API were non-conformant).
#[test]
fn an_endpoint_that_cannot_be_judged_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    write_fixtures(dir.path(), &dead);
    let (code, err, report) = conform_in(dir.path(), TOKEN, &[]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("cannot be judged") && err.contains("cannot be reached"),
        "{err}"
    );
    assert_eq!(report, Value::Null);

    let runtime = runtime();
    let server = runtime
        .block_on(mock::start_embedded(mock_config(None)))
        .unwrap();
    write_fixtures(dir.path(), &server.url());
    let (code, err, _) = conform_in(dir.path(), "a-wrong-token", &[]);
    runtime.block_on(server.shutdown());
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("credentials were refused"), "{err}");
}

#[test]
fn the_self_test_shows_every_rule_catches_its_defect() {
    let output = stopbook(["conform", "--self-test"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("caught ")).count(),
        27,
        "{text}"
    );
    assert!(text.contains("clean       (faithful mock)"), "{text}");
    assert!(
        text.contains("caught      ok.status                    (and, as documented: example.200)"),
        "{text}"
    );
}

#[test]
fn rules_as_json_for_tools() {
    let output = stopbook(["rules", "--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let rules: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules = rules.as_array().unwrap();
    assert_eq!(rules.len(), 27);
    let batch = rules.iter().find(|r| r["id"] == "batch.per-item").unwrap();
    assert_eq!(batch["tag"], "[notes 2a]");
    let status = rules
        .iter()
        .find(|r| r["id"] == "status.documented")
        .unwrap();
    assert_eq!(status["breaks_also"], serde_json::json!(["example.400"]));
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
    assert_eq!(text.lines().count(), 27);
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
        "--attest",
        "a.json",
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
    assert_eq!(with(&report, "pass").len(), 27, "{report}");
    for rule in report["rules"].as_array().unwrap() {
        for key in ["id", "outcome", "detail"] {
            assert!(rule.get(key).is_some(), "a rule verdict lacks {key}");
        }
    }
    let attestation: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a.json")).unwrap()).unwrap();
    assert_eq!(attestation["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        attestation["predicateType"],
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    assert_eq!(attestation["predicate"]["result"], "PASSED");
    assert_eq!(
        attestation["predicate"]["passedTests"]
            .as_array()
            .unwrap()
            .len(),
        27
    );
    let names: Vec<&str> = attestation["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["r.json", "r.xml"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("r.xml"))
            .unwrap()
            .matches("<testcase ")
            .count(),
        27
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
    ("answer.json", &["answer.json"]),
    ("detail.status", &["detail.status"]),
    ("detail.type", &["detail.type"]),
    ("list.job-type", &["list.job-type"]),
    ("list.paging", &["list.paging"]),
    ("list.filters", &["list.filters"]),
    ("tags.filter", &["tags.filter"]),
    ("batch.per-item", &["batch.per-item"]),
    ("batch.items", &["batch.items"]),
];

#[test]
fn each_defect_fails_exactly_its_rule_and_the_faithful_mock_none() {
    let runtime = runtime();
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
    let runtime = runtime();
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
        err.contains("few.yaml:2:10: the suite stops 4 healthy tasks"),
        "{err}"
    );
    assert!(
        err.contains("few.yaml:3:11: the force rules stop 3 abnormal tasks"),
        "{err}"
    );
    assert!(err.contains("did you mean `missing`?"), "{err}");
}
