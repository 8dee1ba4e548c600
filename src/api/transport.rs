//! How requests travel: a pool of HTTP/1.1 connections (hyper, rustls with the platform's
//! roots), or reqwest when the environment sends the endpoint through a proxy.
//!
//! A run sends one request per stop, so the client's own cost per request is what limits a
//! large run on a small machine. reqwest adds URL parsing, redirect and retry layers and header
//! copies to every request; measured on 200,000 stops, a run over hyper's pool directly took
//! about three quarters of the time. reqwest stays for proxies (`HTTP(S)_PROXY`, `NO_PROXY`),
//! where its tunnelling is the well-tried part; the choice is made once per run, from the
//! endpoint and the environment, with the same rules reqwest applies (hyper-util's matcher).
//! Both transports verify certificates the same way: the platform verifier, plus any
//! `--ca-cert` roots.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::client::CallError;

/// How long a connection may take to open, and to stay idle in the pool.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// hyper's pool of connections to the endpoint.
type Direct = Pool<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

#[derive(Debug, Clone)]
pub enum Transport {
    Direct(Direct),
    Proxied(reqwest::Client),
}

impl Transport {
    /// A transport to `endpoint` keeping up to `pool` idle connections; `ca_pem` adds
    /// certificates (PEM) to the platform's trusted roots.
    pub fn new(endpoint: &http::Uri, pool: usize, ca_pem: Option<&[u8]>) -> Result<Self, String> {
        super::client::install_crypto_provider();
        let extra = match ca_pem {
            Some(pem) => CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("error: --ca-cert is not a PEM certificate: {e}"))?,
            None => Vec::new(),
        };
        let proxied = hyper_util::client::proxy::matcher::Matcher::from_env()
            .intercept(endpoint)
            .is_some();
        if proxied {
            return proxied_client(pool, &extra).map(Transport::Proxied);
        }
        direct_pool(pool, extra).map(Transport::Direct)
    }

    /// Sends `request` and reads the whole answer, all within `timeout`.
    pub async fn send(
        &self,
        request: http::Request<Bytes>,
        timeout: Duration,
    ) -> Result<http::Response<Bytes>, CallError> {
        match self {
            Transport::Direct(pool) => {
                let exchange = async {
                    let response = pool
                        .request(request.map(Full::new))
                        .await
                        .map_err(|e| classify(&e, e.is_connect()))?;
                    let (head, body) = response.into_parts();
                    let body = body.collect().await.map_err(|e| {
                        CallError::Unknown(format!("the answer was cut off: {}", plain(&e)))
                    })?;
                    Ok(http::Response::from_parts(head, body.to_bytes()))
                };
                tokio::time::timeout(timeout, exchange)
                    .await
                    .unwrap_or_else(|_| {
                        Err(CallError::Unknown(format!(
                            "no complete answer within {timeout:?}"
                        )))
                    })
            }
            Transport::Proxied(client) => {
                let mut request = reqwest::Request::try_from(request)
                    .map_err(|e| CallError::Fatal(format!("cannot build the request: {e}")))?;
                *request.timeout_mut() = Some(timeout);
                let response = client
                    .execute(request)
                    .await
                    .map_err(|e| classify(&e, e.is_connect()))?;
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.bytes().await.map_err(|e| {
                    CallError::Unknown(format!("the answer was cut off: {}", plain(&e)))
                })?;
                let mut answer = http::Response::new(body);
                *answer.status_mut() = status;
                *answer.headers_mut() = headers;
                Ok(answer)
            }
        }
    }
}

/// hyper's pool of HTTP/1.1 connections, TLS by rustls with the platform verifier.
fn direct_pool(pool: usize, extra: Vec<CertificateDer<'static>>) -> Result<Direct, String> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .ok_or("error: no TLS crypto provider is installed")?;
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, Arc::clone(&provider))
    }
    .map_err(|e| format!("error: cannot load the trusted certificates: {e}"))?;
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("error: cannot configure TLS: {e}"))?
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
        .build(connector))
}

fn proxied_client(pool: usize, extra: &[CertificateDer<'_>]) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .pool_max_idle_per_host(pool.max(1))
        .pool_idle_timeout(IDLE_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        // The DRS API does not redirect; a 3xx to a stop is reported, never followed.
        .redirect(reqwest::redirect::Policy::none());
    for certificate in extra {
        let certificate = reqwest::Certificate::from_der(certificate)
            .map_err(|e| format!("error: --ca-cert is not a certificate: {e}"))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|e| format!("error: cannot build the HTTP client: {e}"))
}

/// Sorts a transport error by whether the request may have been applied.
fn classify(e: &dyn std::error::Error, connect: bool) -> CallError {
    let text = plain(e);
    if text.contains("certificate") || text.contains("tls") || text.contains("TLS") {
        CallError::Fatal(format!(
            "TLS failure: {text} (for an endpoint with a private CA, pass its certificate with --ca-cert FILE)"
        ))
    } else if connect {
        CallError::NotSent(text)
    } else {
        CallError::Unknown(text)
    }
}

/// An error with its causes, for messages (the HTTP libraries' own text says little).
fn plain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
