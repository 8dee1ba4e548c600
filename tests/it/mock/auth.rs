//! The mock's authentication: tokens, the IAM password exchange, AK/SK signatures.

use serde_json::json;
use stopbook::mock::MockConfig;

use super::*;

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
    stopbook::timestamp::sdk_date(std::time::SystemTime::now())
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
