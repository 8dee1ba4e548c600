//! The HTTP client for the DRS calls a run makes: the stop call and the job detail.
//!
//! It sends the documented headers (`Content-Type`, `X-Auth-Token` or an AK/SK signature,
//! `X-Language`), always sends `is_force_stop` explicitly, and sorts failures by what they mean
//! for a state-changing call: a request that surely never reached the server ([`CallError::NotSent`])
//! may be resent; one whose fate is unknown ([`CallError::Unknown`]) may not, until the job's
//! status has been read.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::error::{BeforeWrite, CallError, Fatal, SetupError};
use super::signing;
use super::transport::Transport;
use crate::drs::{JobId, Language};
use crate::secret::Secret;
use crate::timestamp::sdk_date;

/// How requests prove who sends them.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// An IAM token, sent as `X-Auth-Token`.
    Token(Secret),
    /// AK/SK signing (SDK-HMAC-SHA256) of every request.
    AkSk {
        /// The access key, sent in the `Authorization` header.
        ak: String,
        /// The secret key the signature is made with; never sent.
        sk: Secret,
        /// The security token of temporary credentials, sent as `X-Security-Token`.
        security_token: Option<Secret>,
    },
    /// An IAM password exchanged for a token, scoped to the project.
    Iam(IamLogin),
}

/// What the IAM password exchange sends.
#[derive(Debug, Clone)]
pub struct IamLogin {
    /// The IAM endpoint, e.g. `https://iam.cn-north-4.myhuaweicloud.com`.
    pub endpoint: String,
    /// The IAM user name.
    pub user: String,
    /// The user's password.
    pub password: Secret,
    /// The account (domain) the user belongs to.
    pub domain: String,
}

/// The run's IAM token, or the refusal that ends it (asking again with a refused password
/// only brings the account closer to a lock).
#[derive(Debug, Default)]
enum IamState {
    #[default]
    None,
    Token(Secret, std::time::Instant),
    Refused(String),
}

/// IAM tokens are valid for 24 hours [doc]; one is renewed an hour before that.
const TOKEN_LIFETIME: Duration = Duration::from_secs(23 * 3600);

/// A request as the conformance suite shapes it.
#[derive(Debug, Clone)]
pub struct Probe<'a> {
    /// The HTTP method.
    pub method: http::Method,
    /// The path, from `/`, without the query.
    pub path: &'a str,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// The body, sent as given.
    pub body: &'a [u8],
    /// The Content-Type header, if any.
    pub content_type: Option<&'a str>,
    /// The X-Language header, if any.
    pub language: Option<&'a str>,
    /// Whether to send the credentials.
    pub authenticate: bool,
    /// How long the request may take.
    pub timeout: Duration,
}

/// An answer the server gave.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The answer's HTTP status.
    pub http: u16,
    /// The body as JSON, or `None` when it is not JSON (truncated, malformed, empty).
    pub body: Option<Value>,
    /// `Retry-After`, when the server sent one that reads as seconds or a date; at most
    /// [`super::retry_after::MAX_RETRY_AFTER`].
    pub retry_after: Option<Duration>,
    /// The answer's `X-Request-Id`, when the server sent one.
    pub request_id: Option<String>,
}

impl Answer {
    /// The string field `name` of a JSON object body, if there is one.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.body.as_ref()?.get(name)?.as_str()
    }
}

/// The DRS API client of one run: one endpoint, one project, one way to authenticate, one
/// connection pool. Clones share the pool and the IAM token.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    /// The endpoint, without a trailing `/`; request URIs are this followed by a path.
    base: String,
    project_id: String,
    credentials: Credentials,
    language: Option<Language>,
    /// What the IAM exchange gave; shared by every request of the run.
    iam_token: std::sync::Arc<tokio::sync::Mutex<IamState>>,
}

impl Client {
    /// A client for `base`; `ca_pem` adds certificates (PEM) to the platform's trusted roots.
    pub fn new(
        base: &str,
        project_id: &str,
        credentials: Credentials,
        language: Option<Language>,
        pool: usize,
        ca_pem: Option<&[u8]>,
    ) -> Result<Self, SetupError> {
        let base = base.trim_end_matches('/');
        let endpoint: http::Uri = base.parse().map_err(|e| SetupError::NotAUrl {
            endpoint: base.to_owned(),
            reason: format!("{e}"),
        })?;
        Ok(Client {
            transport: Transport::new(&endpoint, pool, ca_pem)?,
            base: base.to_owned(),
            project_id: project_id.to_owned(),
            credentials,
            language,
            iam_token: Default::default(),
        })
    }

    /// `POST /v5/{project_id}/jobs/{job_id}/stop` with `{"is_force_stop": force}`.
    pub async fn stop(
        &self,
        job: &JobId,
        force: bool,
        timeout: Duration,
    ) -> Result<Answer, CallError> {
        let path = format!("/v5/{}/jobs/{job}/stop", self.project_id);
        let body = if force {
            &b"{\"is_force_stop\":true}"[..]
        } else {
            &b"{\"is_force_stop\":false}"[..]
        };
        self.call(http::Method::POST, &path, None, body, timeout)
            .await
    }

    /// `POST /v5/{project_id}/jobs/batch-stop` with `{"jobs": [{"job_id", "is_force_stop"}]}`,
    /// every force flag sent explicitly.
    pub async fn batch_stop(
        &self,
        jobs: &[(JobId, bool)],
        timeout: Duration,
    ) -> Result<Answer, CallError> {
        let path = format!("/v5/{}/jobs/batch-stop", self.project_id);
        let items: Vec<serde_json::Value> = jobs
            .iter()
            .map(|(job, force)| serde_json::json!({"job_id": job.as_str(), "is_force_stop": force}))
            .collect();
        let body = serde_json::json!({ "jobs": items }).to_string();
        self.call(http::Method::POST, &path, None, body.as_bytes(), timeout)
            .await
    }

    /// `GET /v5/{project_id}/jobs/{job_id}?type=detail`.
    pub async fn detail(&self, job: &JobId, timeout: Duration) -> Result<Answer, CallError> {
        let path = format!("/v5/{}/jobs/{job}", self.project_id);
        self.call(http::Method::GET, &path, Some("type=detail"), b"", timeout)
            .await
    }

    /// `GET /v5/{project_id}/jobs?QUERY`: ListJobs, `query` already encoded (see
    /// [`query_string`]).
    pub async fn list_jobs(&self, query: &str, timeout: Duration) -> Result<Answer, CallError> {
        let path = format!("/v5/{}/jobs", self.project_id);
        self.call(http::Method::GET, &path, Some(query), b"", timeout)
            .await
    }

    /// `POST /v5/{project_id}/{resource_type}/resource-instances/filter?limit=&offset=` with
    /// `body` (the tag filter).
    pub async fn tag_filter(
        &self,
        resource_type: &str,
        offset: usize,
        limit: usize,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> Result<Answer, CallError> {
        let path = format!(
            "/v5/{}/{resource_type}/resource-instances/filter",
            self.project_id
        );
        let query = format!("limit={limit}&offset={offset}");
        let body = body.to_string();
        self.call(
            http::Method::POST,
            &path,
            Some(&query),
            body.as_bytes(),
            timeout,
        )
        .await
    }

    async fn call(
        &self,
        method: http::Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Answer, CallError> {
        let post = method == http::Method::POST;
        let probe = Probe {
            method,
            path,
            query,
            body,
            content_type: post.then_some("application/json"),
            language: self.language.map(Language::as_str),
            authenticate: true,
            timeout,
        };
        self.probe(&probe).await
    }

    /// `/v5/{project_id}` followed by `rest`: the paths of this client's project.
    pub fn project_path(&self, rest: &str) -> String {
        format!("/v5/{}{rest}", self.project_id)
    }

    /// Sends a request shaped by `probe`, which may leave out what the documented calls send
    /// (the conformance suite asks what a server does with such requests).
    pub async fn probe(&self, probe: &Probe<'_>) -> Result<Answer, CallError> {
        self.probe_typed(probe).await.map(|(answer, _)| answer)
    }

    /// [`Client::probe`], with the media type the answer declared (its `Content-Type` without
    /// parameters, lowercase), for the conformance suite's judgement of whole answers.
    pub async fn probe_typed(
        &self,
        probe: &Probe<'_>,
    ) -> Result<(Answer, Option<String>), CallError> {
        let Probe {
            method,
            path,
            query,
            body,
            timeout,
            ..
        } = probe;
        let (path, query, body, timeout) = (*path, *query, *body, *timeout);
        let uri = match query {
            Some(q) => format!("{}{path}?{q}", self.base),
            None => format!("{}{path}", self.base),
        };
        let bad =
            |e: http::header::InvalidHeaderValue| CallError::fatal(Fatal::Request, e.to_string());
        let mut headers = HeaderMap::new();
        if let Some(content_type) = probe.content_type {
            headers.insert(
                "content-type",
                HeaderValue::from_str(content_type).map_err(bad)?,
            );
        }
        if let Some(language) = probe.language {
            headers.insert("x-language", HeaderValue::from_str(language).map_err(bad)?);
        }
        if probe.authenticate {
            if let Credentials::Iam(login) = &self.credentials {
                let token = self.iam_token(login).await?;
                let mut value = HeaderValue::from_str(token.expose()).map_err(|e| {
                    CallError::fatal(
                        Fatal::Request,
                        format!("the IAM token is not a valid header value: {e}"),
                    )
                })?;
                value.set_sensitive(true);
                headers.insert("x-auth-token", value);
            }
            self.authenticate(&mut headers, method.as_str(), path, query, body)?;
        }
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Bytes::copy_from_slice(body))
            .map_err(|e| {
                CallError::fatal(Fatal::Request, format!("cannot build the request: {e}"))
            })?;
        *request.headers_mut() = headers;
        let response = self.transport.send(request, timeout).await?;
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| super::retry_after::parse(v.as_bytes(), std::time::SystemTime::now()));
        let media_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer = Answer {
            http: response.status().as_u16(),
            body: serde_json::from_slice(response.body()).ok(),
            retry_after,
            request_id,
        };
        Ok((answer, media_type))
    }

    fn authenticate(
        &self,
        headers: &mut HeaderMap,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<(), CallError> {
        let bad = |e: http::header::InvalidHeaderValue| {
            CallError::fatal(
                Fatal::Request,
                format!("a credential is not a valid header value: {e}"),
            )
        };
        match &self.credentials {
            Credentials::Token(token) => {
                let mut value = HeaderValue::from_str(token.expose()).map_err(bad)?;
                value.set_sensitive(true);
                headers.insert("x-auth-token", value);
            }
            Credentials::Iam(_) => {}
            Credentials::AkSk {
                ak,
                sk,
                security_token,
            } => {
                let date = sdk_date(std::time::SystemTime::now());
                let host = self
                    .base
                    .split("://")
                    .nth(1)
                    .unwrap_or("")
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let mut signed: Vec<(&str, &str)> = vec![("host", &host), ("x-sdk-date", &date)];
                let content_type = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                if let Some(content_type) = &content_type {
                    signed.push(("content-type", content_type));
                }
                let request = signing::Request {
                    method,
                    path,
                    query,
                    headers: &signed,
                    body,
                    date: &date,
                };
                let signature = signing::sign(sk.expose().as_bytes(), &request);
                let mut value =
                    HeaderValue::from_str(&signing::authorization(ak, &request, &signature))
                        .map_err(bad)?;
                value.set_sensitive(true);
                headers.insert("authorization", value);
                headers.insert("x-sdk-date", HeaderValue::from_str(&date).map_err(bad)?);
                if let Some(token) = security_token {
                    let mut value = HeaderValue::from_str(token.expose()).map_err(bad)?;
                    value.set_sensitive(true);
                    headers.insert("x-security-token", value);
                }
            }
        }
        Ok(())
    }
}

impl Client {
    /// The run's IAM token: exchanged once, reused, renewed before it expires.
    async fn iam_token(&self, login: &IamLogin) -> Result<Secret, CallError> {
        let mut cached = self.iam_token.lock().await;
        match &*cached {
            IamState::Token(token, at) if at.elapsed() < TOKEN_LIFETIME => return Ok(token.clone()),
            IamState::Refused(reason) => {
                return Err(CallError::fatal(Fatal::AuthRefused, reason.clone()));
            }
            _ => {}
        }
        let body = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": login.user, "password": login.password.expose(), "domain": {"name": login.domain},
            }}},
            "scope": {"project": {"id": self.project_id}},
        }});
        let uri = format!("{}/v3/auth/tokens", login.endpoint.trim_end_matches('/'));
        let request = http::Request::post(uri)
            .header("content-type", "application/json")
            .body(Bytes::from(body.to_string()))
            .map_err(|e| {
                CallError::fatal(
                    Fatal::Request,
                    format!("the IAM endpoint is not a URL: {e}"),
                )
            })?;
        let response = self
            .transport
            .send(request, Duration::from_secs(30))
            .await
            .map_err(|e| match e {
                fatal @ CallError::Fatal(_) => fatal,
                other => CallError::not_sent(
                    BeforeWrite::TokenExchange,
                    format!("the IAM token exchange failed: {other}"),
                ),
            })?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            let reason = format!(
                "authentication refused: IAM answered {status} to the password exchange (check the user, password and domain)"
            );
            *cached = IamState::Refused(reason.clone());
            return Err(CallError::fatal(Fatal::AuthRefused, reason));
        }
        if status != 201 {
            return Err(CallError::not_sent(
                BeforeWrite::TokenExchange,
                format!("the IAM token exchange answered {status}, not 201"),
            ));
        }
        let token = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(Secret::new)
            .ok_or_else(|| {
                let detail = "IAM answered 201 without an X-Subject-Token";
                CallError::fatal(Fatal::AuthRefused, detail)
            })?;
        *cached = IamState::Token(token.clone(), std::time::Instant::now());
        Ok(token)
    }
}

/// `key=value` pairs joined by `&`, each part percent-encoded (everything but `A-Z a-z 0-9 - _
/// . ~`, as the signature's canonical query writes it).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    fn encode(text: &str, out: &mut String) {
        for b in text.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(b as char)
                }
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode(k, &mut out);
        out.push('=');
        encode(v, &mut out);
    }
    out
}
