//! How requests travel: a pool of HTTP/1.1 connections (hyper, rustls with the platform's
//! roots), or reqwest when the environment sends the endpoint through a proxy; and the bounds
//! every answer is read within, whatever the server does.
//!
//! A run sends one request per stop, so the client's own cost per request is what limits a
//! large run on a small machine. reqwest adds URL parsing, redirect and retry layers and header
//! copies to every request; measured on 200,000 stops, a run over hyper's pool directly took
//! about three quarters of the time. reqwest stays for proxies, where its CONNECT tunnelling is
//! the well-tried part; [`super::route`] decides which way each host goes (loopback never through
//! a proxy, nothing in plaintext to a host that is not loopback). Both transports verify
//! certificates the same way: the platform verifier, plus any `--ca-cert` roots.
//!
//! A server may answer anything: the whole exchange (connecting, the head, the body) fits in the
//! request's timeout, the head in [`MAX_HEAD_BYTES`], the body in [`MAX_BODY_BYTES`], or the
//! request fails with a [`CallError`] that says so, and where it failed ([`super::classify`]):
//! before the request was written, or after.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::classify::{plain, pool_failure, proxied_failure};
use super::error::{AfterWrite, CallError, Fatal, SetupError};
use super::route::{Route, Router};

/// How long a connection may take to open, and to stay idle in the pool.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest answer body read: DRS answers are a few kilobytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The largest answer head (status line and headers) read, and the most headers.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

/// hyper's pool of connections to the endpoint.
type Direct = Pool<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The way requests reach the endpoint: hyper's pool directly, or reqwest through a proxy, as
/// the route decides. Clones share the connections.
#[derive(Debug, Clone)]
pub struct Transport {
    direct: Direct,
    /// reqwest through the proxy, built when a request first needs it.
    proxied: Arc<OnceLock<Result<reqwest::Client, SetupError>>>,
    router: Arc<Router>,
    /// The endpoint's host and port, and its route, decided once.
    base: (Option<http::uri::Authority>, Route),
    extra: Arc<Vec<CertificateDer<'static>>>,
    pool: usize,
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
        install_crypto_provider();
        let extra = match ca_pem {
            Some(pem) => CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SetupError::CaCert(e.to_string()))?,
            None => Vec::new(),
        };
        Router::check_env()?;
        let router = Router::from_env();
        let route = router.route(endpoint)?;
        let transport = Transport {
            direct: direct_pool(pool, extra.clone())?,
            proxied: Arc::new(OnceLock::new()),
            router: Arc::new(router),
            base: (endpoint.authority().cloned(), route),
            extra: Arc::new(extra),
            pool,
        };
        if route == Route::Proxied {
            transport.proxied_client(endpoint)?;
        }
        Ok(transport)
    }

    /// Sends `request` and reads the whole answer, all within `timeout`.
    pub async fn send(
        &self,
        request: http::Request<Bytes>,
        timeout: Duration,
    ) -> Result<http::Response<Bytes>, CallError> {
        let route = match &self.base {
            (Some(base), route) if request.uri().authority() == Some(base) => *route,
            _ => self
                .router
                .route(request.uri())
                .map_err(|e| CallError::fatal(Fatal::Route, e.to_string()))?,
        };
        let exchange = async {
            match route {
                Route::Direct => self.send_direct(request).await,
                Route::Proxied => self.send_proxied(request).await,
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(CallError::unknown(
                    AfterWrite::Timeout,
                    format!("no complete answer within {timeout:?}"),
                ))
            })
    }

    async fn send_direct(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, CallError> {
        let tls = is_tls(request.uri());
        let response = self
            .direct
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

    async fn send_proxied(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, CallError> {
        let client = self
            .proxied_client(request.uri())
            .map_err(|e| CallError::fatal(Fatal::Setup, e.to_string()))?;
        let tls = is_tls(request.uri());
        let request = reqwest::Request::try_from(request).map_err(|e| {
            CallError::fatal(Fatal::Request, format!("cannot build the request: {e}"))
        })?;
        let mut response = client
            .execute(request)
            .await
            .map_err(|e| proxied_failure(&e, tls))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| cut_off(&e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large(status));
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = http::Response::new(body.freeze());
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    }

    /// reqwest through the environment's proxy; the proxy's credentials, if any, are those of
    /// the proxy `uri` goes through.
    fn proxied_client(&self, uri: &http::Uri) -> Result<&reqwest::Client, SetupError> {
        self.proxied
            .get_or_init(|| {
                let router = Arc::clone(&self.router);
                let mut proxy = reqwest::Proxy::custom(move |url| router.proxy_for(url));
                if let Some(auth) = self.router.proxy_auth(uri) {
                    proxy = proxy.custom_http_auth(auth);
                }
                proxied_client(self.pool, &self.extra, proxy)
            })
            .as_ref()
            .map_err(Clone::clone)
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

/// hyper's pool of HTTP/1.1 connections, TLS by rustls with the platform verifier.
fn direct_pool(pool: usize, extra: Vec<CertificateDer<'static>>) -> Result<Direct, SetupError> {
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
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Pool::builder(TokioExecutor::new())
        .pool_max_idle_per_host(pool.max(1))
        .pool_idle_timeout(IDLE_TIMEOUT)
        .http1_max_buf_size(MAX_HEAD_BYTES)
        .http1_max_headers(MAX_HEADERS)
        .build(connector))
}

fn proxied_client(
    pool: usize,
    extra: &[CertificateDer<'_>],
    proxy: reqwest::Proxy,
) -> Result<reqwest::Client, SetupError> {
    let mut builder = reqwest::Client::builder()
        .proxy(proxy)
        .http1_max_headers(MAX_HEADERS)
        .pool_max_idle_per_host(pool.max(1))
        .pool_idle_timeout(IDLE_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        // The DRS API does not redirect; a 3xx to a stop is reported, never followed.
        .redirect(reqwest::redirect::Policy::none());
    for certificate in extra {
        let certificate = reqwest::Certificate::from_der(certificate)
            .map_err(|e| SetupError::CaCert(e.to_string()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|e| SetupError::Client(e.to_string()))
}

/// rustls needs one process-wide crypto provider; ring's builds with the C compiler alone.
/// Call before building any TLS client in this process (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
