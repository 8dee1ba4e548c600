//! The error answers of the mock: `{"error_code", "error_msg"}` with the vendor's codes where it
//! documents them, and 12-character codes of the model's own where it does not (marked).

use crate::drs::codes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The request language (`X-Language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

/// One error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub http: StatusCode,
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

impl ApiError {
    fn new(
        http: StatusCode,
        code: &'static str,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        ApiError {
            http,
            code,
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// [doc] The job does not exist (the page's own example).
    pub fn job_not_found() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::JOB_NOT_FOUND,
            "Job does not exist, please check job id.",
            "任务不存在，请检查任务ID。",
        )
    }

    /// [doc] code `DRS.10000001` "Failed."; [model] used when the job is already ending or ended.
    pub fn already_ending() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::ALREADY_ENDING,
            "Failed. The job is already being stopped or has been stopped.",
            "失败。任务正在结束或已经结束。",
        )
    }

    /// [model] The body is not what the operation takes.
    pub fn bad_body(detail: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "DRS.10000002",
            format!("Invalid request body: {detail}."),
            format!("请求体无效：{detail}。"),
        )
    }

    /// [model] The body is not declared as JSON.
    pub fn bad_content_type() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "DRS.10000003",
            "Unsupported Content-Type: use application/json.",
            "不支持的Content-Type，请使用application/json。",
        )
    }

    /// [model] A path, query or header parameter is invalid.
    pub fn bad_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "DRS.10000004",
            format!("Invalid parameter: {name}."),
            format!("参数无效：{name}。"),
        )
    }

    /// [doc] Any IAM authentication failure.
    pub fn unauthorized(reason: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            format!("Incorrect IAM authentication information: {reason}"),
            format!("IAM认证信息错误：{reason}"),
        )
    }

    /// [doc] Throttled.
    pub fn throttled(limit: u32) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            codes::THROTTLED,
            format!(
                "The throttling threshold has been reached: policy user over ratelimit,limit:{limit},time:1 second"
            ),
            format!("已达到流控阈值：policy user over ratelimit,limit:{limit},time:1 second"),
        )
    }

    /// [model] No such API.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APIGW.0101",
            "The API does not exist or has not been published.",
            "API不存在或未发布。",
        )
    }

    /// [model] The path exists, the method does not.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "DRS.10000005",
            "Method not allowed.",
            "不支持该请求方法。",
        )
    }

    /// [model] An injected server fault.
    pub fn injected(http: StatusCode) -> Self {
        Self::new(
            http,
            "DRS.10000006",
            "Service temporarily unavailable.",
            "服务暂时不可用。",
        )
    }

    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }

    /// The answer, in `lang`.
    pub fn into_response_in(self, lang: Lang) -> Response {
        let body = json!({ "error_code": self.code, "error_msg": self.message(lang) });
        (self.http, axum::Json(body)).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.into_response_in(Lang::En)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_twelve_characters_or_a_gateway_code() {
        for e in [
            ApiError::job_not_found(),
            ApiError::already_ending(),
            ApiError::bad_body("x"),
            ApiError::bad_content_type(),
            ApiError::bad_parameter("x"),
            ApiError::method_not_allowed(),
            ApiError::injected(StatusCode::BAD_GATEWAY),
        ] {
            assert_eq!(e.code.chars().count(), 12, "{}", e.code);
            for lang in [Lang::En, Lang::Zh] {
                let n = e.message(lang).chars().count();
                assert!((1..=512).contains(&n), "{}", e.code);
            }
        }
    }
}
