//! The endpoints: the stop call, batch stop, job detail, job list, IAM tokens, and `/__mock/`.
//!
//! Every API handler checks in the gateway's order: authentication (401), then the language,
//! path parameters, content type and body (400), then acts on the tasks.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::errors::ApiError;
use super::faults::FaultsPatch;
use super::gate::{error, json_body, precheck};
use super::incoming::Incoming;
use super::jobs::{Applying, StopOutcome};
use super::listing::{list, tag_filter};
use super::{Defect, Shared, lock};
use crate::drs::JobId;

pub(super) type Call = Extension<Arc<Incoming>>;

pub fn router(shared: Arc<Shared>) -> Router {
    let stop_path = if shared.defect(Defect::StopPath) {
        "/v5/{project_id}/jobs/{job_id}/stop-job"
    } else {
        "/v5/{project_id}/jobs/{job_id}/stop"
    };
    Router::new()
        .route(stop_path, post(stop))
        .route("/v5/{project_id}/jobs/batch-stop", post(batch_stop))
        .route("/v5/{project_id}/jobs/{job_id}", get(detail))
        .route("/v5/{project_id}/jobs", get(list))
        .route(
            "/v5/{project_id}/{resource_type}/resource-instances/filter",
            post(tag_filter),
        )
        .route(
            "/v5/{project_id}/{resource_type}/resource-instances/count",
            post(tag_filter),
        )
        .route("/v3/auth/tokens", post(iam_token))
        .route("/__mock/requests", get(admin_requests).delete(admin_clear))
        .route("/__mock/jobs", get(admin_jobs).post(admin_put_jobs))
        .route("/__mock/faults", axum::routing::put(admin_faults))
        .route("/__mock/revoke", post(admin_revoke))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::map_response(with_request_id))
        .with_state(shared)
}

/// Every answer carries an `X-Request-Id`, as the real gateway's do: 32 hex digits, unique.
async fn with_request_id(mut response: Response) -> Response {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("{:016x}{n:016x}", fastrand::u64(..));
    if let Ok(value) = header::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// `is_force_stop` from a body: optional, a boolean, `false` when absent [T3].
fn force_flag(shared: &Shared, body: &serde_json::Map<String, Value>) -> Result<bool, ApiError> {
    let force = match body.get("is_force_stop") {
        None => shared.defect(Defect::ForceDefault),
        Some(Value::Bool(b)) => *b,
        Some(other) if shared.defect(Defect::ForceBoolean) => {
            matches!(other, Value::String(s) if s == "true")
        }
        Some(_) => return Err(ApiError::bad_body("is_force_stop must be a boolean")),
    };
    Ok(force && !shared.defect(Defect::ForceIgnored))
}

async fn stop(
    State(shared): State<Arc<Shared>>,
    Path((project_id, job_id)): Path<(String, String)>,
    Extension(call): Call,
) -> Response {
    let lang = match precheck(&shared, &call, &project_id) {
        Ok(lang) => lang,
        Err((e, lang)) => return error(&shared, e, lang),
    };
    let force = match json_body(&shared, &call).and_then(|body| force_flag(&shared, &body)) {
        Ok(force) => force,
        Err(e) => return error(&shared, e, lang),
    };
    if job_id.parse::<JobId>().is_err() {
        return error(&shared, ApiError::bad_parameter("job_id"), lang);
    }
    let now = Instant::now();
    let outcome = {
        let mut jobs = lock(&shared.jobs);
        if shared.defect(Defect::Example200)
            && jobs
                .view(&job_id, now)
                .is_some_and(|j| crate::drs::status::RUNNING.contains(&j.status.as_str()))
        {
            return (StatusCode::OK, axum::Json(json!({"status": "failed"}))).into_response();
        }
        jobs.stop(&job_id, force, applying(&shared), now)
    };
    match outcome {
        StopOutcome::Accepted { name } => {
            (StatusCode::OK, axum::Json(ok_body(&shared, &job_id, &name))).into_response()
        }
        StopOutcome::Unknown if shared.defect(Defect::StatusCodes) => {
            let mut response = error(&shared, ApiError::job_not_found(), lang);
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
        StopOutcome::Unknown if shared.defect(Defect::Example400) => {
            let e = ApiError {
                code: crate::drs::codes::ALREADY_ENDING,
                ..ApiError::job_not_found()
            };
            error(&shared, e, lang)
        }
        StopOutcome::Unknown => error(&shared, ApiError::job_not_found(), lang),
        StopOutcome::AlreadyEnding { .. } => error(&shared, ApiError::already_ending(), lang),
    }
}

/// How a stop is applied now: the model's delay, the `async.ends` defect, a status lag drawn
/// from the seeded faults.
fn applying(shared: &Shared) -> Applying {
    let lag = match shared.faulty() {
        false => std::time::Duration::ZERO,
        true => lock(&shared.injector).status_lag(),
    };
    Applying {
        delay: shared.config.stop_delay,
        stuck: shared.defect(Defect::AsyncEnds),
        lag,
    }
}

/// The 200 body of an accepted stop: the page's example (`status`) with the task's `id` and
/// `name` from table 4, and the 200 defects applied.
fn ok_body(shared: &Shared, job_id: &str, name: &str) -> Value {
    let mut body = json!({ "id": job_id, "name": name, "status": "success" });
    match shared.config.defect {
        Some(Defect::OkStatus) => {
            body.as_object_mut().map(|b| b.remove("status"));
        }
        Some(Defect::OkErrorCode) => body["error_code"] = json!("DRS.M00202"),
        Some(Defect::OkErrorMsg) => body["error_msg"] = json!(""),
        Some(Defect::OkId) => body["id"] = json!("00000000-0000-0000-0000-000000000000"),
        Some(Defect::OkName) => body["name"] = json!(12345),
        _ => {}
    }
    body
}

async fn batch_stop(
    State(shared): State<Arc<Shared>>,
    Path(project_id): Path<String>,
    Extension(call): Call,
) -> Response {
    let lang = match precheck(&shared, &call, &project_id) {
        Ok(lang) => lang,
        Err((e, lang)) => return error(&shared, e, lang),
    };
    let body = match json_body(&shared, &call) {
        Ok(body) => body,
        Err(e) => return error(&shared, e, lang),
    };
    let Some(Value::Array(items)) = body.get("jobs") else {
        return error(&shared, ApiError::bad_body("`jobs` must be a list"), lang);
    };
    if items.is_empty() || items.len() > 100 {
        return error(
            &shared,
            ApiError::bad_body("`jobs` must hold 1 to 100 entries"),
            lang,
        );
    }
    let mut requests = Vec::with_capacity(items.len());
    for item in items {
        let Some(item) = item.as_object() else {
            return error(
                &shared,
                ApiError::bad_body("each entry of `jobs` must be an object"),
                lang,
            );
        };
        let Some(job_id) = item.get("job_id").and_then(Value::as_str) else {
            return error(
                &shared,
                ApiError::bad_body("each entry needs a `job_id` string"),
                lang,
            );
        };
        match force_flag(&shared, item) {
            Ok(force) => requests.push((job_id.to_owned(), force)),
            Err(e) => return error(&shared, e, lang),
        }
    }
    let now = Instant::now();
    let results: Vec<Value> = {
        let mut jobs = lock(&shared.jobs);
        if shared.defect(Defect::BatchPerItem)
            && requests.iter().any(|(id, _)| jobs.view(id, now).is_none())
        {
            return error(&shared, ApiError::job_not_found(), lang);
        }
        requests
            .iter()
            .map(|(job_id, force)| {
                let failed = |e: ApiError, name: Option<String>| {
                    let mut item = json!({"id": job_id, "name": name, "status": "failed", "error_code": e.code, "error_msg": e.message(lang)});
                    if shared.defect(Defect::BatchItems) {
                        item.as_object_mut().map(|i| i.remove("error_code"));
                    }
                    item
                };
                match jobs.stop(job_id, *force, applying(&shared), now) {
                    StopOutcome::Accepted { name } => json!({"id": job_id, "name": name, "status": "success"}),
                    StopOutcome::Unknown => failed(ApiError::job_not_found(), None),
                    StopOutcome::AlreadyEnding { name } => failed(ApiError::already_ending(), Some(name)),
                }
            })
            .collect()
    };
    (StatusCode::OK, axum::Json(json!({ "jobs": results }))).into_response()
}

async fn detail(
    State(shared): State<Arc<Shared>>,
    Path((project_id, job_id)): Path<(String, String)>,
    Extension(call): Call,
) -> Response {
    let lang = match precheck(&shared, &call, &project_id) {
        Ok(lang) => lang,
        Err((e, lang)) => return error(&shared, e, lang),
    };
    if call.query_param("type").as_deref() != Some("detail") && !shared.defect(Defect::DetailType) {
        return error(&shared, ApiError::bad_parameter("type"), lang);
    }
    match lock(&shared.jobs).view(&job_id, Instant::now()) {
        Some(mut job) => {
            if shared.defect(Defect::DetailStatus)
                && crate::drs::status::RUNNING.contains(&job.status.as_str())
            {
                job.status = "RUNNING".to_owned();
            }
            (StatusCode::OK, axum::Json(json!({ "job": job }))).into_response()
        }
        None => error(&shared, ApiError::job_not_found(), lang),
    }
}

/// IAM `POST /v3/auth/tokens` with a password identity and a project scope: 201 and the token in
/// `X-Subject-Token` [doc]. Errors use IAM's own body shape.
async fn iam_token(State(shared): State<Arc<Shared>>, Extension(call): Call) -> Response {
    let iam_error = |status: StatusCode, message: &str| {
        (status, axum::Json(json!({"error": {"code": status.as_u16(), "message": message, "title": status.canonical_reason()}}))).into_response()
    };
    let Ok(body) = serde_json::from_slice::<Value>(&call.body) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        );
    };
    let identity = &body["auth"]["identity"];
    let password_method = identity["methods"]
        .as_array()
        .is_some_and(|m| m.iter().any(|v| v == "password"));
    let user = &identity["password"]["user"];
    let (Some(name), Some(password), Some(_domain)) = (
        user["name"].as_str(),
        user["password"].as_str(),
        user["domain"]["name"].as_str(),
    ) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "A password identity needs user name, password and domain name.",
        );
    };
    let Some(project_id) = body["auth"]["scope"]["project"]["id"].as_str() else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "A project scope (auth.scope.project.id) is required.",
        );
    };
    if !password_method {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "Only the password method is supported.",
        );
    }
    if let Some((user_ok, password_ok)) = &shared.config.iam_user
        && (name != user_ok || password != password_ok.expose())
    {
        return iam_error(
            StatusCode::UNAUTHORIZED,
            "The username or password is wrong.",
        );
    }
    let token = match &shared.config.token {
        Some(token) => token.expose().to_owned(),
        None => {
            let mut rng = fastrand::Rng::new();
            let token: String = std::iter::repeat_with(|| rng.alphanumeric())
                .take(64)
                .collect();
            let token = format!("MIIM{token}");
            lock(&shared.auth).issued.insert(token.clone());
            token
        }
    };
    let now = SystemTime::now();
    let expires = now + std::time::Duration::from_secs(24 * 3600);
    let body = json!({"token": {
        "methods": ["password"],
        "issued_at": crate::timestamp::iam_time(now),
        "expires_at": crate::timestamp::iam_time(expires),
        "project": {"id": project_id},
        "user": {"name": name, "domain": {"name": user["domain"]["name"]}},
    }});
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = header::HeaderValue::from_str(&token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    response
}

async fn admin_requests(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(lock(&shared.log).snapshot()).into_response()
}

async fn admin_clear(State(shared): State<Arc<Shared>>) -> StatusCode {
    lock(&shared.log).clear();
    StatusCode::NO_CONTENT
}

/// Changes the faults while the mock runs (a JSON object of the `Faults` fields to change, as
/// in `FaultsPatch`): how tests make a gateway fail for a while and then heal.
async fn admin_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let patch: FaultsPatch = match serde_json::from_slice(&body) {
        Ok(patch) => patch,
        Err(e) => return ApiError::bad_body(&e.to_string()).into_response(),
    };
    let mut injector = lock(&shared.injector);
    let faults = patch.apply(injector.faults().clone());
    shared.faulty.store(
        faults != super::Faults::default(),
        std::sync::atomic::Ordering::Relaxed,
    );
    injector.set_faults(faults);
    StatusCode::NO_CONTENT.into_response()
}

/// Refuses every credential from now on, as when a token expires or a key is revoked mid-run.
async fn admin_revoke(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared
        .revoked
        .store(true, std::sync::atomic::Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

async fn admin_jobs(State(shared): State<Arc<Shared>>) -> Response {
    // The truth, not what reads show during a status lag: tests judge by this.
    // `stops`: every stop request that reached the model, by job, so tests can count them.
    let jobs = lock(&shared.jobs);
    let body = json!({ "jobs": jobs.truth(Instant::now()), "stops": jobs.received() });
    drop(jobs);
    axum::Json(body).into_response()
}

/// Adds tasks to the fleet, or replaces those with the same ID (their stop forgotten): how
/// tests change the live set between a plan and its run.
async fn admin_put_jobs(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let specs: Vec<super::JobSpec> = match serde_json::from_slice(&body) {
        Ok(specs) => specs,
        Err(e) => return ApiError::bad_body(&e.to_string()).into_response(),
    };
    let mut jobs = lock(&shared.jobs);
    specs.into_iter().for_each(|spec| jobs.put(spec));
    StatusCode::NO_CONTENT.into_response()
}
