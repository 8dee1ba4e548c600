//! The mock's faults: each one, reproducible from its seed, and the request log.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stopbook::mock::{self, Faults, JobSpec, MockConfig};

use super::*;

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

#[tokio::test]
async fn a_gateway_error_after_apply_answers_5xx_but_the_stop_took_effect() {
    let mock = start(MockConfig {
        faults: Faults {
            error_after: 1.0,
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let answer = mock.stop(RUNNING, "{}").await;
    assert!(matches!(answer.status, 502 | 504), "{}", answer.status);
    assert_eq!(mock.true_status(RUNNING).await, "RELEASE_RESOURCE_STARTED");
    let log = mock.admin("/__mock/requests").await;
    assert_eq!(log["requests"][0]["fault"], "server error after apply");
    // Seeded: the same seed gives the same mix of statuses and bodies.
    let kinds = |seed| async move {
        let m = start(MockConfig {
            faults: Faults {
                error_after: 1.0,
                ..Faults::default()
            },
            seed,
            ..config()
        })
        .await;
        let mut seen = Vec::new();
        for _ in 0..6 {
            let a = m.stop(MISSING, "{}").await;
            seen.push((a.status, a.json.is_null()));
        }
        seen
    };
    assert_eq!(kinds(5).await, kinds(5).await);
}

#[tokio::test]
async fn status_lag_shows_the_old_status_for_a_while_after_a_stop() {
    let mock = start(MockConfig {
        faults: Faults {
            status_lag: Duration::from_millis(600),
            ..Faults::default()
        },
        ..config()
    })
    .await;
    assert_eq!(mock.stop(RUNNING, "{}").await.status, 200);
    assert_eq!(
        mock.status_of(RUNNING).await,
        "INCRE_TRANSFER_STARTED",
        "the read lags"
    );
    assert_eq!(mock.true_status(RUNNING).await, "RELEASE_RESOURCE_STARTED");
    assert_eq!(
        mock.stop(RUNNING, "{}").await.status,
        400,
        "the backend refuses a second stop even while reads lag"
    );
    tokio::time::sleep(Duration::from_millis(650)).await;
    let later = mock.status_of(RUNNING).await;
    assert!(
        later.starts_with("RELEASE_RESOURCE_"),
        "the lag is over: {later}"
    );
}

#[tokio::test]
async fn faults_change_while_the_mock_runs_and_credentials_can_be_revoked() {
    let mock = start(config()).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let put = client
        .put(mock.url("/__mock/faults"))
        .json(&json!({"error_rate": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    assert_eq!(mock.stop(RUNNING, "{}").await.status, 502);
    assert_eq!(mock.true_status(RUNNING).await, "INCRE_TRANSFER_STARTED");
    let healed = client
        .put(mock.url("/__mock/faults"))
        .json(&json!({"error_rate": 0.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(healed.status(), 204);
    assert_eq!(mock.stop(RUNNING, "{}").await.status, 200);
    // A Retry-After set while the mock runs is the one throttled answers carry (it was
    // accepted and ignored before).
    let slow = client
        .put(mock.url("/__mock/faults"))
        .json(&json!({"throttle": 1, "retry_after_s": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 204);
    let _ = mock.stop(ABNORMAL, "{}").await;
    let throttled = mock.stop(ABNORMAL, "{}").await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.headers["retry-after"], "5");
    let unthrottled = client
        .put(mock.url("/__mock/faults"))
        .json(&json!({"throttle": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(unthrottled.status(), 204);
    let bad = client
        .put(mock.url("/__mock/faults"))
        .json(&json!({"no_such_fault": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let revoked = client
        .post(mock.url("/__mock/revoke"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let refused = mock.stop(ABNORMAL, "{}").await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json["error_code"], "APIGW.0301");
}
