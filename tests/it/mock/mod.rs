//! The mock over loopback with a real HTTP client: endpoints, errors, the state machine over
//! time, authentication, every fault, every defect, concurrency, and the `stopbook mock` binary.

mod api;
mod auth;
mod defects;
mod faults;
mod tls;

use std::time::{Duration, Instant};

use serde_json::Value;
use stopbook::mock::{self, JobSpec, MockConfig, MockServer};

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
        ..Default::default()
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
    stopbook::api::transport::install_crypto_provider();
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
