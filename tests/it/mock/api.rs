//! The mock's API as documented: stops, errors, methods, detail, list, batch-stop.

use serde_json::json;

use super::*;

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
