//! The mock over loopback with a real HTTP client: endpoints, errors, the state machine over
//! time, authentication, every fault, every defect, concurrency, and the `stopbook mock` binary.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stopbook::mock::{self, Defect, Faults, JobSpec, MockConfig, MockServer};

const P: &str = "054ba152d480d55b2f5dc0069e7ddef0";
const TOKEN: &str = "test-token";
const RUNNING: &str = "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r";
const ABNORMAL: &str = "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1jb11x";
const ENDED: &str = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7ab99";
const MISSING: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

fn jobs() -> Vec<JobSpec> {
    let job = |id: &str, name: &str, status: &str| JobSpec {
        id: id.into(),
        name: name.into(),
        status: status.into(),
        job_type: "sync".into(),
    };
    vec![
        job(RUNNING, "DRS-1", "INCRE_TRANSFER_STARTED"),
        job(ABNORMAL, "DRS-2", "INCRE_TRANSFER_FAILED"),
        job(ENDED, "DRS-3", "RELEASE_RESOURCE_COMPLETE"),
    ]
}

fn config() -> MockConfig {
    MockConfig {
        jobs: jobs(),
        token: Some(TOKEN.into()),
        stop_delay: Duration::from_millis(300),
        ..MockConfig::default()
    }
}

struct Mock {
    server: MockServer,
    http: reqwest::Client,
}

async fn start(config: MockConfig) -> Mock {
    let server = mock::start_embedded(config).await.expect("the mock starts");
    stopbook::api::client::install_crypto_provider();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Mock { server, http }
}

/// An answer: status, body as JSON (`Null` if it is not JSON), and the raw text.
struct Answer {
    status: u16,
    json: Value,
    text: String,
    headers: reqwest::header::HeaderMap,
}

impl Mock {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            json,
            text,
            headers,
        })
    }

    fn post_stop(&self, job: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(&format!("/v5/{P}/jobs/{job}/stop")))
            .header("X-Auth-Token", TOKEN)
            .header("Content-Type", "application/json")
    }

    async fn stop(&self, job: &str, body: &str) -> Answer {
        self.send(self.post_stop(job).body(body.to_owned()))
            .await
            .expect("an answer")
    }

    async fn status_of(&self, job: &str) -> String {
        let answer = self
            .send(
                self.http
                    .get(self.url(&format!("/v5/{P}/jobs/{job}?type=detail")))
                    .header("X-Auth-Token", TOKEN),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.json["job"]["status"].as_str().unwrap().to_owned()
    }

    async fn admin(&self, path: &str) -> Value {
        self.send(self.http.get(self.url(path))).await.unwrap().json
    }

    /// A job's status from `/__mock/jobs`, which needs no token and meets no fault.
    async fn true_status(&self, job: &str) -> String {
        let jobs = self.admin("/__mock/jobs").await;
        let job = jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == job)
            .cloned()
            .unwrap();
        job["status"].as_str().unwrap().to_owned()
    }
}

/// Documented body rules of every error answer [T5]: a 12-character code, a 1-512 message.
fn assert_documented_error(answer: &Answer, http: u16) {
    assert_eq!(answer.status, http, "{}", answer.text);
    let code = answer.json["error_code"].as_str().unwrap_or_default();
    let message = answer.json["error_msg"].as_str().unwrap_or_default();
    assert_eq!(code.chars().count(), 12, "{}", answer.text);
    assert!(
        (1..=512).contains(&message.chars().count()),
        "{}",
        answer.text
    );
}

async fn wait_until(mock: &Mock, job: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while mock.status_of(job).await != status {
        assert!(Instant::now() < deadline, "{job} never reached {status}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn an_accepted_stop_ends_the_job_and_a_second_is_refused() {
    let mock = start(config()).await;
    let answer = mock.stop(RUNNING, r#"{"is_force_stop": false}"#).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json,
        json!({"id": RUNNING, "name": "DRS-1", "status": "success"})
    );
    assert_eq!(mock.status_of(RUNNING).await, "RELEASE_RESOURCE_STARTED");
    wait_until(&mock, RUNNING, "RELEASE_RESOURCE_COMPLETE").await;
    let again = mock.stop(RUNNING, "{}").await;
    assert_documented_error(&again, 400);
    assert_eq!(again.json["error_code"], "DRS.10000001");
}

#[tokio::test]
async fn abnormal_jobs_fail_a_graceful_stop_and_end_with_a_forced_one() {
    let mock = start(config()).await;
    assert_eq!(
        mock.stop(ABNORMAL, "").await.status,
        200,
        "an empty body means is_force_stop false"
    );
    wait_until(&mock, ABNORMAL, "RELEASE_RESOURCE_FAILED").await;
    assert_eq!(
        mock.stop(ABNORMAL, r#"{"is_force_stop": true}"#)
            .await
            .status,
        200
    );
    wait_until(&mock, ABNORMAL, "RELEASE_RESOURCE_COMPLETE").await;
}

#[tokio::test]
async fn unknown_and_ended_jobs_get_documented_400s_in_both_languages() {
    let mock = start(config()).await;
    let missing = mock.stop(MISSING, "{}").await;
    assert_documented_error(&missing, 400);
    assert_eq!(
        missing.json,
        json!({"error_code": "DRS.10000010", "error_msg": "Job does not exist, please check job id."})
    );
    let zh = mock
        .send(
            mock.post_stop(MISSING)
                .header("X-Language", "zh-cn")
                .body("{}"),
        )
        .await
        .unwrap();
    assert_documented_error(&zh, 400);
    assert!(
        zh.json["error_msg"]
            .as_str()
            .unwrap()
            .contains("任务不存在"),
        "{}",
        zh.text
    );
    let en = mock
        .send(
            mock.post_stop(MISSING)
                .header("X-Language", "en-us")
                .body("{}"),
        )
        .await
        .unwrap();
    assert_eq!(
        en.json["error_msg"],
        "Job does not exist, please check job id."
    );
    assert_documented_error(&mock.stop(ENDED, "{}").await, 400);
}

#[tokio::test]
async fn malformed_requests_get_400_with_twelve_character_codes() {
    let mock = start(config()).await;
    for body in [
        r#"{"is_force_stop": "yes"}"#,
        r#"{"is_force_stop": 1}"#,
        r#"{"is_force_stop": tru"#,
        "[]",
        "null",
    ] {
        let answer = mock.stop(RUNNING, body).await;
        assert_documented_error(&answer, 400);
        assert_eq!(answer.json["error_code"], "DRS.10000002", "{body}");
    }
    let url = mock.url(&format!("/v5/{P}/jobs/{RUNNING}/stop"));
    let no_type = mock
        .send(
            mock.http
                .post(&url)
                .header("X-Auth-Token", TOKEN)
                .body("{}"),
        )
        .await
        .unwrap();
    assert_documented_error(&no_type, 400);
    let text = mock
        .send(
            mock.http
                .post(&url)
                .header("X-Auth-Token", TOKEN)
                .header("Content-Type", "text/plain")
                .body("{}"),
        )
        .await
        .unwrap();
    assert_documented_error(&text, 400);
    assert_eq!(text.json["error_code"], "DRS.10000003");
    let charset = mock
        .send(
            mock.post_stop(RUNNING)
                .header("Content-Type", "application/json; charset=utf-8")
                .body("{}"),
        )
        .await
        .unwrap();
    assert_eq!(
        charset.status, 200,
        "a charset parameter is fine: {}",
        charset.text
    );
    let bad_project = mock
        .send(
            mock.http
                .post(mock.url(&format!("/v5/NOTAPROJECT/jobs/{RUNNING}/stop")))
                .header("X-Auth-Token", TOKEN)
                .header("Content-Type", "application/json"),
        )
        .await
        .unwrap();
    assert_documented_error(&bad_project, 400);
    let bad_job = mock.stop("not-a-job", "{}").await;
    assert_documented_error(&bad_job, 400);
    let bad_language = mock
        .send(
            mock.post_stop(MISSING)
                .header("X-Language", "fr-fr")
                .body("{}"),
        )
        .await
        .unwrap();
    assert_documented_error(&bad_language, 400);
    assert_eq!(
        mock.status_of(ABNORMAL).await,
        "INCRE_TRANSFER_FAILED",
        "nothing was stopped"
    );
}

#[tokio::test]
async fn other_methods_get_405_and_unknown_paths_404_never_5xx() {
    let mock = start(config()).await;
    let url = mock.url(&format!("/v5/{P}/jobs/{RUNNING}/stop"));
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let answer = mock
            .send(
                mock.http
                    .request(method.clone(), &url)
                    .header("X-Auth-Token", TOKEN),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 405, "{method}");
        assert!(answer.json["error_code"].is_string());
    }
    for path in ["/", "/v5", "/v5/x/jobs/y/stop/z", "/v4/jobs"] {
        let answer = mock
            .send(mock.http.get(mock.url(path)).header("X-Auth-Token", TOKEN))
            .await
            .unwrap();
        assert_eq!(answer.status, 404, "{path}");
        assert!(answer.json["error_code"].is_string());
    }
}

#[tokio::test]
async fn detail_needs_type_detail_and_list_pages_with_a_total() {
    let mock = start(config()).await;
    let get = |path: String| mock.http.get(mock.url(&path)).header("X-Auth-Token", TOKEN);
    assert_documented_error(
        &mock
            .send(get(format!("/v5/{P}/jobs/{RUNNING}")))
            .await
            .unwrap(),
        400,
    );
    assert_documented_error(
        &mock
            .send(get(format!("/v5/{P}/jobs/{MISSING}?type=detail")))
            .await
            .unwrap(),
        400,
    );
    assert_documented_error(&mock.send(get(format!("/v5/{P}/jobs"))).await.unwrap(), 400);
    assert_documented_error(
        &mock
            .send(get(format!("/v5/{P}/jobs?job_type=sync&limit=0")))
            .await
            .unwrap(),
        400,
    );
    let all = mock
        .send(get(format!("/v5/{P}/jobs?job_type=sync")))
        .await
        .unwrap();
    assert_eq!(all.json["total_count"], 3);
    let page = mock
        .send(get(format!("/v5/{P}/jobs?job_type=sync&offset=1&limit=1")))
        .await
        .unwrap();
    assert_eq!(page.json["total_count"], 3);
    assert_eq!(page.json["jobs"].as_array().unwrap().len(), 1);
    let failed = mock
        .send(get(format!(
            "/v5/{P}/jobs?job_type=sync&status=INCRE_TRANSFER_FAILED"
        )))
        .await
        .unwrap();
    assert_eq!(failed.json["jobs"][0]["id"], ABNORMAL);
    let migration = mock
        .send(get(format!("/v5/{P}/jobs?job_type=migration")))
        .await
        .unwrap();
    assert_eq!(migration.json["total_count"], 0);
}

#[tokio::test]
async fn batch_stop_answers_per_job() {
    let mock = start(config()).await;
    let body = json!({"jobs": [
        {"job_id": RUNNING, "is_force_stop": false},
        {"job_id": MISSING},
        {"job_id": ENDED, "is_force_stop": true},
    ]});
    let request = mock
        .http
        .post(mock.url(&format!("/v5/{P}/jobs/batch-stop")))
        .header("X-Auth-Token", TOKEN)
        .json(&body);
    let answer = mock.send(request).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text);
    let results = answer.json["jobs"].as_array().unwrap();
    assert_eq!(results[0]["status"], "success");
    assert_eq!(
        (
            results[1]["status"].as_str(),
            results[1]["error_code"].as_str()
        ),
        (Some("failed"), Some("DRS.10000010"))
    );
    assert_eq!(
        (
            results[2]["status"].as_str(),
            results[2]["error_code"].as_str()
        ),
        (Some("failed"), Some("DRS.10000001"))
    );
    assert_eq!(mock.status_of(RUNNING).await, "RELEASE_RESOURCE_STARTED");
}

#[tokio::test]
async fn without_a_valid_token_every_call_is_401_and_nothing_changes() {
    let mock = start(config()).await;
    let url = mock.url(&format!("/v5/{P}/jobs/{RUNNING}/stop"));
    for token in [None, Some(""), Some("wrong")] {
        let mut request = mock
            .http
            .post(&url)
            .header("Content-Type", "application/json")
            .body("{}");
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        let answer = mock.send(request).await.unwrap();
        assert_eq!(
            (answer.status, answer.json["error_code"].as_str()),
            (401, Some("APIGW.0301")),
            "{token:?}"
        );
    }
    assert_eq!(mock.status_of(RUNNING).await, "INCRE_TRANSFER_STARTED");
}

#[tokio::test]
async fn iam_password_exchange_issues_a_token_that_works() {
    let mock = start(MockConfig {
        token: None,
        aksk: Some(("AK".into(), "SK".into())),
        iam_user: Some(("ops".into(), "pw".into())),
        ..config()
    })
    .await;
    let exchange = |password: &str| {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": "ops", "password": password, "domain": {"name": "acme"}}}},
            "scope": {"project": {"id": P}},
        }});
        mock.http.post(mock.url("/v3/auth/tokens")).json(&body)
    };
    let refused = mock.send(exchange("nope")).await.unwrap();
    assert_eq!(refused.status, 401);
    let granted = mock.send(exchange("pw")).await.unwrap();
    assert_eq!(granted.status, 201, "{}", granted.text);
    let token = granted.headers["x-subject-token"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        granted.json["token"]["expires_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let with_token = mock
        .http
        .post(mock.url(&format!("/v5/{P}/jobs/{RUNNING}/stop")))
        .header("X-Auth-Token", &token)
        .header("Content-Type", "application/json");
    assert_eq!(mock.send(with_token).await.unwrap().status, 200);
    let log = mock.admin("/__mock/requests").await.to_string();
    assert!(
        !log.contains(&token) && !log.contains("\"pw\""),
        "secrets leaked into the request log: {log}"
    );
}

fn sdk_date_now() -> String {
    stopbook::api::client::sdk_date(std::time::SystemTime::now())
}

#[tokio::test]
async fn ak_sk_signatures_are_verified_and_five_bad_ones_lock_the_key() {
    use stopbook::api::signing;
    let mock = start(MockConfig {
        token: None,
        aksk: Some(("MYAK".into(), "MYSK".into())),
        ..config()
    })
    .await;
    let signed = |job: &str, sk: &str| {
        let path = format!("/v5/{P}/jobs/{job}/stop");
        let date = sdk_date_now();
        let host = mock.server.addr().to_string();
        let body = br#"{"is_force_stop":false}"#;
        let headers = [
            ("content-type", "application/json"),
            ("host", host.as_str()),
            ("x-sdk-date", date.as_str()),
        ];
        let request = signing::Request {
            method: "POST",
            path: &path,
            query: None,
            headers: &headers,
            body,
            date: &date,
        };
        let signature = signing::sign(sk.as_bytes(), &request);
        mock.http
            .post(mock.url(&path))
            .header("Content-Type", "application/json")
            .header("X-Sdk-Date", &date)
            .header(
                "Authorization",
                signing::authorization("MYAK", &request, &signature),
            )
            .body(body.to_vec())
    };
    assert_eq!(
        mock.send(signed(RUNNING, "MYSK")).await.unwrap().status,
        200
    );
    for _ in 0..5 {
        let answer = mock.send(signed(ABNORMAL, "WRONG")).await.unwrap();
        assert_eq!(
            (answer.status, answer.json["error_code"].as_str()),
            (401, Some("APIGW.0301"))
        );
    }
    let locked = mock.send(signed(ABNORMAL, "MYSK")).await.unwrap();
    assert_eq!(
        locked.status, 401,
        "a correct signature is refused while the key is locked"
    );
    assert_eq!(mock.true_status(RUNNING).await, "RELEASE_RESOURCE_STARTED");
    assert_eq!(mock.true_status(ABNORMAL).await, "INCRE_TRANSFER_FAILED");
}

#[tokio::test]
async fn latency_is_added_to_every_answer() {
    let mock = start(MockConfig {
        faults: Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let started = Instant::now();
    mock.stop(MISSING, "{}").await;
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "answered before the injected latency"
    );
}

#[tokio::test]
async fn a_5xx_burst_answers_502_503_504_then_recovers() {
    let mock = start(MockConfig {
        faults: Faults {
            error_rate: 1.0,
            burst: 3,
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(mock.stop(RUNNING, "{}").await.status);
    }
    assert_eq!(statuses, [502, 503, 504]);
    assert_eq!(
        mock.true_status(RUNNING).await,
        "INCRE_TRANSFER_STARTED",
        "a 5xx did not apply the stop"
    );
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after() {
    let mock = start(MockConfig {
        faults: Faults {
            throttle: Some(2),
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let mut last = None;
    for _ in 0..3 {
        last = Some(mock.stop(MISSING, "{}").await);
    }
    let last = last.unwrap();
    assert_eq!(
        (last.status, last.json["error_code"].as_str()),
        (429, Some("APIGW.0308")),
        "{}",
        last.text
    );
    assert_eq!(last.headers["retry-after"], "1");
}

#[tokio::test]
async fn a_reset_before_apply_changes_nothing_and_after_apply_stops_the_job() {
    let before = start(MockConfig {
        faults: Faults {
            reset_before: 1.0,
            ..Faults::default()
        },
        ..config()
    })
    .await;
    assert!(
        before
            .send(before.post_stop(RUNNING).body("{}"))
            .await
            .is_err(),
        "the connection was reset"
    );
    assert_eq!(before.true_status(RUNNING).await, "INCRE_TRANSFER_STARTED");

    let after = start(MockConfig {
        faults: Faults {
            reset_after: 1.0,
            ..Faults::default()
        },
        ..config()
    })
    .await;
    assert!(
        after
            .send(after.post_stop(RUNNING).body("{}"))
            .await
            .is_err(),
        "the connection was reset"
    );
    assert_eq!(after.true_status(RUNNING).await, "RELEASE_RESOURCE_STARTED");
    let log = after.admin("/__mock/requests").await;
    assert_eq!(log["requests"][0]["fault"], "reset after apply");
    assert!(log["requests"][0]["status"].is_null());
}

#[tokio::test]
async fn truncated_and_malformed_answers_are_not_json() {
    for faults in [
        Faults {
            truncate: 1.0,
            ..Faults::default()
        },
        Faults {
            malformed: 1.0,
            ..Faults::default()
        },
    ] {
        let mock = start(MockConfig { faults, ..config() }).await;
        let answer = mock.stop(MISSING, "{}").await;
        assert_eq!(answer.status, 400);
        assert!(
            serde_json::from_str::<Value>(&answer.text).is_err(),
            "{}",
            answer.text
        );
        assert!(answer.text.starts_with('{'));
    }
}

#[tokio::test]
async fn slow_bodies_arrive_whole_but_late() {
    let mock = start(MockConfig {
        faults: Faults {
            slow_body: Some(Duration::from_millis(20)),
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let started = Instant::now();
    let answer = mock.stop(MISSING, "{}").await;
    assert_eq!(answer.json["error_code"], "DRS.10000010");
    let pieces = answer.text.len().div_ceil(16) as u32;
    assert!(
        started.elapsed() >= Duration::from_millis(20) * pieces,
        "{pieces} pieces came too fast"
    );
}

#[tokio::test]
async fn the_same_seed_replays_the_same_faults() {
    let run = |seed| async move {
        let faults: Faults = "chaos".parse().unwrap();
        let mock = start(MockConfig {
            faults: Faults {
                latency: Duration::ZERO,
                latency_jitter: Duration::ZERO,
                throttle: None,
                ..faults
            },
            seed,
            ..config()
        })
        .await;
        let mut seen = Vec::new();
        for _ in 0..60 {
            seen.push(match mock.send(mock.post_stop(MISSING).body("{}")).await {
                Ok(answer) => format!(
                    "{} {}",
                    answer.status,
                    serde_json::from_str::<Value>(&answer.text).is_ok()
                ),
                Err(_) => "reset".to_owned(),
            });
        }
        seen
    };
    let first = run(42).await;
    assert_eq!(first, run(42).await);
    assert_ne!(first, run(43).await);
    assert!(
        first.iter().any(|s| s != "400 true"),
        "chaos injected something in 60 requests"
    );
}

#[tokio::test]
async fn concurrent_clients_neither_lose_nor_double_a_stop() {
    let many: Vec<JobSpec> = mock::jobs::generate(40, 9);
    let mock = std::sync::Arc::new(
        start(MockConfig {
            jobs: many.clone(),
            ..config()
        })
        .await,
    );
    let mut tasks = tokio::task::JoinSet::new();
    for spec in &many {
        for _ in 0..3 {
            let (mock, id) = (std::sync::Arc::clone(&mock), spec.id.clone());
            tasks.spawn(async move { (id.clone(), mock.stop(&id, "{}").await.status) });
        }
    }
    let mut accepted = std::collections::HashMap::new();
    while let Some(result) = tasks.join_next().await {
        let (id, status) = result.unwrap();
        assert!(status == 200 || status == 400, "{status}");
        *accepted.entry(id).or_insert(0) += u32::from(status == 200);
    }
    assert_eq!(accepted.len(), 40);
    assert!(
        accepted.values().all(|n| *n == 1),
        "each job accepted exactly one stop: {accepted:?}"
    );
    let log = mock.admin("/__mock/requests").await;
    assert_eq!(log["requests"].as_array().unwrap().len(), 120);
}

#[tokio::test]
async fn the_request_log_is_ordered_and_redacted() {
    let mock = start(config()).await;
    mock.stop(MISSING, "{}").await;
    mock.stop(RUNNING, "{}").await;
    let log = mock.admin("/__mock/requests").await;
    let requests = log["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        (requests[0]["seq"].as_u64(), requests[1]["seq"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(requests[0]["headers"]["x-auth-token"], "<redacted>");
    assert!(!log.to_string().contains(TOKEN));
    assert!(requests[0]["finished_us"].as_u64() >= requests[0]["started_us"].as_u64());
    let cleared = mock
        .send(mock.http.delete(mock.url("/__mock/requests")))
        .await
        .unwrap();
    assert_eq!(cleared.status, 204);
    assert_eq!(mock.admin("/__mock/requests").await["requests"], json!([]));
}

/// Each defect, on a request chosen to show it: the faithful mock answers one way, the defective
/// mock another.
#[tokio::test]
async fn every_defect_changes_exactly_what_it_names() {
    async fn probe(mock: &Mock, defect: Defect) -> String {
        let stop = |job: &str, body: &str| mock.post_stop(job).body(body.to_owned());
        let show = |a: Result<Answer, reqwest::Error>| match a {
            Ok(a) => format!("{} {}", a.status, a.text),
            Err(e) => format!("error {e}"),
        };
        match defect {
            Defect::StopPath
            | Defect::OkStatus
            | Defect::OkErrorCode
            | Defect::OkErrorMsg
            | Defect::OkId
            | Defect::OkName
            | Defect::Example200 => show(mock.send(stop(RUNNING, "{}")).await),
            Defect::ContentType => {
                let url = mock.url(&format!("/v5/{P}/jobs/{RUNNING}/stop"));
                show(
                    mock.send(
                        mock.http
                            .post(url)
                            .header("X-Auth-Token", TOKEN)
                            .header("Content-Type", "text/plain")
                            .body("{}"),
                    )
                    .await,
                )
            }
            Defect::AuthToken => show(
                mock.send(
                    mock.http
                        .post(mock.url(&format!("/v5/{P}/jobs/{MISSING}/stop")))
                        .header("Content-Type", "application/json"),
                )
                .await,
            ),
            Defect::Language => show(
                mock.send(stop(MISSING, "{}").header("X-Language", "zh-cn"))
                    .await,
            ),
            Defect::ForceDefault => {
                mock.stop(ABNORMAL, "{}").await;
                tokio::time::sleep(Duration::from_millis(400)).await;
                mock.status_of(ABNORMAL).await
            }
            Defect::ForceBoolean => show(
                mock.send(stop(RUNNING, r#"{"is_force_stop": "true"}"#))
                    .await,
            ),
            Defect::ForceIgnored => {
                mock.stop(ABNORMAL, r#"{"is_force_stop": true}"#).await;
                tokio::time::sleep(Duration::from_millis(400)).await;
                mock.status_of(ABNORMAL).await
            }
            Defect::BadErrorCode
            | Defect::BadErrorMsg
            | Defect::StatusCodes
            | Defect::Example400 => show(mock.send(stop(MISSING, "{}")).await),
            Defect::AsyncEnds => {
                mock.stop(RUNNING, "{}").await;
                tokio::time::sleep(Duration::from_millis(400)).await;
                mock.status_of(RUNNING).await
            }
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (defect, id) in mock::defects::ALL {
        tasks.spawn(async move {
            let faithful = probe(&start(config()).await, *defect).await;
            let broken = probe(
                &start(MockConfig {
                    defect: Some(*defect),
                    ..config()
                })
                .await,
                *defect,
            )
            .await;
            (id, faithful, broken)
        });
    }
    while let Some(result) = tasks.join_next().await {
        let (id, faithful, broken) = result.unwrap();
        assert_ne!(faithful, broken, "defect {id} changed nothing: {faithful}");
    }
}

#[test]
fn the_binary_prints_its_address_serves_and_stops_on_sigint_and_sigterm() {
    use std::io::{BufRead, BufReader};
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
            .args([
                "mock",
                "--listen",
                "127.0.0.1:0",
                "--generate",
                "2",
                "--token",
                TOKEN,
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        stopbook::api::client::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = runtime.block_on(async {
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .get(format!("{url}/v5/{P}/jobs?job_type=sync"))
                .header("X-Auth-Token", TOKEN)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        });
        assert_eq!(answer["total_count"], 2);
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, signal) };
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the mock did not stop on signal {signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "signal {signal}");
    }
}
