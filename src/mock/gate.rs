//! What every API handler does first, in the gateway's order: authentication (401), then the
//! language and the project ID (400); the JSON body of a POST; error answers with the error
//! defects applied. Shared by the stop, detail and listing handlers.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::{ApiError, Lang};
use super::incoming::Incoming;
use super::{Defect, Shared, auth};
use crate::drs::ProjectId;

/// An error answer, with the error defects applied.
pub(super) fn error(shared: &Shared, e: ApiError, lang: Lang) -> Response {
    let mut response = error_body(shared, e, lang);
    if shared.defect(Defect::AnswerJson) {
        let text = header::HeaderValue::from_static("text/plain");
        response.headers_mut().insert(header::CONTENT_TYPE, text);
    }
    response
}

fn error_body(shared: &Shared, e: ApiError, lang: Lang) -> Response {
    if e.http == StatusCode::BAD_REQUEST {
        if shared.defect(Defect::BadErrorCode) {
            return (
                e.http,
                axum::Json(json!({"error_code": "DRS.M00202", "error_msg": e.message(lang)})),
            )
                .into_response();
        }
        if shared.defect(Defect::BadErrorMsg) {
            return (
                e.http,
                axum::Json(json!({"error_code": e.code, "error_msg": ""})),
            )
                .into_response();
        }
    }
    e.into_response_in(lang)
}

/// Authentication, language, project ID: what every API call checks first.
pub(super) fn precheck(
    shared: &Shared,
    call: &Incoming,
    project_id: &str,
) -> Result<Lang, (ApiError, Lang)> {
    auth::check(shared, call).map_err(|e| (e, Lang::En))?;
    let lang = match call.header("x-language") {
        None | Some("en-us") => Lang::En,
        Some("zh-cn") if !shared.defect(Defect::Language) => Lang::Zh,
        Some(_) => return Err((ApiError::bad_parameter("X-Language"), Lang::En)),
    };
    if project_id.parse::<ProjectId>().is_err() {
        return Err((ApiError::bad_parameter("project_id"), lang));
    }
    Ok(lang)
}

/// The JSON body of a POST: its content type must say JSON; an empty body is `{}`.
pub(super) fn json_body(
    shared: &Shared,
    call: &Incoming,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let declared_json = call
        .header("content-type")
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if !declared_json && !shared.defect(Defect::ContentType) {
        return Err(ApiError::bad_content_type());
    }
    if call.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(&call.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_body("expected a JSON object")),
        Err(_) => Err(ApiError::bad_body("malformed JSON")),
    }
}
