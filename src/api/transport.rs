//! How requests travel: a pool of HTTP/1.1 connections (hyper, rustls with the platform's
//! roots), each opened straight or through the environment's proxy ([`super::connect`]); and the
//! bounds every answer is read within, whatever the server does.
//!
//! A run sends one request per stop, so the client's own cost per request is what limits a
//! large run on a small machine: hyper's pool directly, with no redirect or retry layers, took
//! about three quarters of reqwest's time on 200,000 stops. [`super::route`] decides which way
//! each host goes (loopback never through a proxy, nothing in plaintext to a host that is not
//! loopback). Certificates are verified by the platform verifier, plus any `--ca-cert` roots.
//!
//! A server may answer anything: the whole exchange (connecting, the head, the body) fits in the
//! request's timeout, the head in [`MAX_HEAD_BYTES`], the body in [`MAX_BODY_BYTES`], or the
//! request fails with a [`CallError`] that says so, and where it failed ([`super::classify`]):
//! before the request was written, or after.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::classify::{plain, pool_failure};
use super::connect::Connector;
use super::error::{AfterWrite, CallError, Fatal, SetupError};
use super::route::Router;

/// How long a connection may take to open, and to stay idle in the pool.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest answer body read: DRS answers are a few kilobytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The largest answer head (status line and headers) read, and the most headers.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

/// hyper's pool of connections, straight or tunnelled, TLS to the endpoint on top.
type Connections = Pool<hyper_rustls::HttpsConnector<Connector>, Full<Bytes>>;

/// The way requests reach the endpoint: one pool of connections, each opened the way the route
/// decides. Clones share the connections.
#[derive(Debug, Clone)]
pub struct Transport {
    pool: Connections,
    router: Arc<Router>,
    /// The endpoint's host and port, decided once to be sendable.
    base: Option<http::uri::Authority>,
}

impl Transport {
    /// A transport to `endpoint` keeping up to `pool` idle connections; `ca_pem` adds
    /// certificates (PEM) to the platform's trusted roots. Refuses a route that would send
    /// credentials in clear (see [`super::route`]).
    pub fn new(
        endpoint: &http::Uri,
        pool: usize,
        ca_pem: Option<&[u8]>,
    ) -> Result<Self, SetupError> {
        Router::check_env()?;
        Self::with_router(endpoint, pool, ca_pem, Router::from_env())
    }

    /// The same, with the proxies `router` names rather than the environment's.
    pub(super) fn with_router(
        endpoint: &http::Uri,
        pool: usize,
        ca_pem: Option<&[u8]>,
        router: Router,
    ) -> Result<Self, SetupError> {
        install_crypto_provider();
        let extra = match ca_pem {
            Some(pem) => CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SetupError::CaCert(e.to_string()))?,
            None => Vec::new(),
        };
        router.route(endpoint)?;
        let router = Arc::new(router);
        Ok(Transport {
            pool: connections(pool, extra, Arc::clone(&router))?,
            router,
            base: endpoint.authority().cloned(),
        })
    }

    /// Sends `request` and reads the whole answer, all within `timeout`.
    pub async fn send(
        &self,
        request: http::Request<Bytes>,
        timeout: Duration,
    ) -> Result<http::Response<Bytes>, CallError> {
        if self.base.is_none() || request.uri().authority() != self.base.as_ref() {
            self.router
                .route(request.uri())
                .map_err(|e| CallError::fatal(Fatal::Route, e.to_string()))?;
        }
        tokio::time::timeout(timeout, self.exchange(request))
            .await
            .unwrap_or_else(|_| {
                Err(CallError::unknown(
                    AfterWrite::Timeout,
                    format!("no complete answer within {timeout:?}"),
                ))
            })
    }

    async fn exchange(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, CallError> {
        let tls = is_tls(request.uri());
        let response = self
            .pool
            .request(request.map(Full::new))
            .await
            .map_err(|e| pool_failure(&e, tls))?;
        let (head, body) = response.into_parts();
        let body = Limited::new(body, MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    too_large(head.status)
                } else {
                    cut_off(&*e)
                }
            })?;
        Ok(http::Response::from_parts(head, body.to_bytes()))
    }
}

/// The failure of an answer whose body is over [`MAX_BODY_BYTES`].
fn too_large(status: http::StatusCode) -> CallError {
    let detail = format!(
        "a {} answer with a body over {} KiB: not read further",
        status.as_u16(),
        MAX_BODY_BYTES / 1024
    );
    CallError::unknown(AfterWrite::TooLarge, detail)
}

/// The failure of an answer whose head came and whose body did not, whole.
fn cut_off(e: &dyn std::error::Error) -> CallError {
    let detail = format!("the answer was cut off: {}", plain(e));
    CallError::unknown(AfterWrite::CutBody, detail)
}

/// Whether requests to `uri` go over TLS.
fn is_tls(uri: &http::Uri) -> bool {
    uri.scheme() == Some(&http::uri::Scheme::HTTPS)
}

/// hyper's pool of HTTP/1.1 connections, TLS by rustls with the platform verifier, opened
/// straight or through the proxy `router` names.
fn connections(
    pool: usize,
    extra: Vec<CertificateDer<'static>>,
    router: Arc<Router>,
) -> Result<Connections, SetupError> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .ok_or_else(|| SetupError::Tls("no crypto provider is installed".to_owned()))?;
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, Arc::clone(&provider))
    }
    .map_err(|e| SetupError::Tls(format!("cannot load the trusted certificates: {e}")))?;
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let via = Connector::new(http, tls.clone(), router, CONNECT_TIMEOUT);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(via);
    Ok(Pool::builder(TokioExecutor::new())
        .pool_max_idle_per_host(pool.max(1))
        .pool_idle_timeout(IDLE_TIMEOUT)
        .http1_max_buf_size(MAX_HEAD_BYTES)
        .http1_max_headers(MAX_HEADERS)
        .build(connector))
}

/// rustls needs one process-wide crypto provider; ring's builds with the C compiler alone.
/// Call before building any TLS client in this process (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
