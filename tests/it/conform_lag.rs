//! `conform` takes a fixture's final status only from a read after its stop is seen to act: with
//! abnormal fixtures already in `RELEASE_RESOURCE_FAILED` (a terminal status) behind a status
//! that lags the stop, the first read after a stop still shows the status from before it.

use std::time::Duration;

use serde_json::Value;
use stopbook::mock::{self, Defect, Faults, JobSpec, MockConfig};

use crate::support::stopbook;

const TOKEN: &str = "conform-lag-token";
const RUNNING: [&str; 4] = [
    "r1000000-0000-4000-8000-000000000001",
    "r1000000-0000-4000-8000-000000000002",
    "r1000000-0000-4000-8000-000000000003",
    "r1000000-0000-4000-8000-000000000004",
];
const ABNORMAL: [&str; 3] = [
    "a1000000-0000-4000-8000-000000000001",
    "a1000000-0000-4000-8000-000000000002",
    "a1000000-0000-4000-8000-000000000003",
];
const MISSING: &str = "m1000000-0000-4000-8000-000000000001";

/// Abnormal fixtures in `RELEASE_RESOURCE_FAILED`, stops taking 300 ms (a force stop 75 ms),
/// reads lagging each stop by `lag`.
fn config(defect: Option<Defect>, lag: Duration) -> MockConfig {
    let spec = |id: &str, status: &str| JobSpec {
        id: id.into(),
        name: "DRS-lag".into(),
        status: status.into(),
        job_type: "sync".into(),
        ..Default::default()
    };
    MockConfig {
        jobs: RUNNING
            .iter()
            .map(|id| spec(id, "INCRE_TRANSFER_STARTED"))
            .chain(
                ABNORMAL
                    .iter()
                    .map(|id| spec(id, "RELEASE_RESOURCE_FAILED")),
            )
            .collect(),
        token: Some(TOKEN.into()),
        stop_delay: Duration::from_millis(300),
        faults: Faults {
            status_lag: lag,
            ..Faults::default()
        },
        defect,
        ..MockConfig::default()
    }
}

/// `stopbook conform` against a fresh mock of `config`: exit code and the JSON report.
fn conform(config: MockConfig) -> (Option<i32>, Value) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(mock::start_embedded(config)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fixtures = format!(
        "target: {{ endpoint: {}, project_id: 054ba152d480d55b2f5dc0069e7ddef0, auth: {{ token_env: CONFORM_TOKEN }} }}\nrunning: [{}]\nabnormal: [{}]\nmissing: [{MISSING}]\nwait: {{ timeout: 5s, poll: 50ms }}\n",
        server.url(),
        RUNNING.join(", "),
        ABNORMAL.join(", ")
    );
    std::fs::write(dir.path().join("fixtures.yaml"), fixtures).unwrap();
    let output = stopbook(["conform", "fixtures.yaml", "--report-json", "report.json"])
        .current_dir(dir.path())
        .env("CONFORM_TOKEN", TOKEN)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    runtime.block_on(server.shutdown());
    let report = std::fs::read_to_string(dir.path().join("report.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (output.status.code(), report)
}

fn outcome<'a>(report: &'a Value, rule: &str) -> (&'a str, &'a str) {
    let rule = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rule)
        .unwrap_or_else(|| panic!("{rule} is judged: {report}"));
    (
        rule["outcome"].as_str().unwrap(),
        rule["detail"].as_str().unwrap_or(""),
    )
}

/// The faithful mock behind a status lag shorter than a stop: every stop is seen to act, so
/// every rule is judged, and none fails (before: the force rule failed, having taken the
/// `RELEASE_RESOURCE_FAILED` read before the forced stop acted as its ending).
#[test]
fn a_lagging_status_raises_no_false_alarm() {
    let (code, report) = conform(config(None, Duration::from_millis(150)));
    let failed: Vec<&Value> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "fail")
        .collect();
    assert!(failed.is_empty(), "false alarms: {failed:#?}");
    assert_eq!(code, Some(0), "{report}");
    for rule in ["body.is-force-stop.default", "body.is-force-stop.force"] {
        assert_eq!(outcome(&report, rule).0, "pass", "{rule}: {report}");
    }
}

/// A broken default (an omitted `is_force_stop` forces) behind the same lag fails its rule
/// (before: it passed, both endings read as the `RELEASE_RESOURCE_FAILED` from before the stops).
#[test]
fn a_lagging_status_hides_no_broken_default() {
    let (code, report) = conform(config(
        Some(Defect::ForceDefault),
        Duration::from_millis(150),
    ));
    let (verdict, detail) = outcome(&report, "body.is-force-stop.default");
    assert_eq!(verdict, "fail", "{detail}\n{report}");
    assert_eq!(code, Some(1), "{report}");
}

/// A lag longer than the stops: a graceful stop that ends where it began is never seen to act,
/// and a rule that needs its ending skips saying so instead of judging the status from before.
#[test]
fn a_stop_never_seen_to_act_is_no_evidence() {
    let (_, report) = conform(config(None, Duration::from_secs(1)));
    for rule in ["body.is-force-stop.default", "body.is-force-stop.force"] {
        let (verdict, detail) = outcome(&report, rule);
        assert_ne!(verdict, "fail", "{rule}: {detail}");
    }
    let (verdict, detail) = outcome(&report, "body.is-force-stop.default");
    assert_eq!(verdict, "skip", "{detail}");
    assert!(detail.contains("seen to act"), "{detail}");
}
