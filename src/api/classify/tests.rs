//! The classifier on real failures, not on made-up messages: loopback servers that refuse,
//! reset, close, cut a body, stall, cut a handshake, show an untrusted certificate, or drop a
//! TLS connection without `close_notify`, met through hyper's pool straight and through a
//! proxy's CONNECT tunnel; and proxies that cannot be reached or refuse the tunnel.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::api::error::{AfterWrite, BeforeWrite, CallError, Failure, Fatal};
use crate::api::route::Router;
use crate::api::transport::{Transport, install_crypto_provider};

mod proxy;
use proxy::{ProxyDoes, proxy};

/// What the server does once it has read the whole request (or, for `CutHandshake`, the first
/// bytes of a TLS handshake).
#[derive(Debug, Clone, Copy)]
enum Then {
    /// A reset (RST).
    Reset,
    /// A close (FIN); under TLS without `close_notify`.
    Close,
    /// The head of a 200 and part of its body, then a close.
    CutBody,
    /// Nothing, for longer than the client waits.
    Stall,
    /// Under TLS: a close in the middle of the handshake.
    CutHandshake,
    /// A 200 with a small body, and the connection kept.
    Answer,
}

/// The name a remote endpoint goes by: it resolves nowhere, so only a proxy reaches it.
const REMOTE: &str = "drs.proxied.test";

/// A CA, and a certificate for 127.0.0.1 and [`REMOTE`] it signed: (CA PEM, server
/// configuration).
fn identity() -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), REMOTE.to_owned()])
        .unwrap()
        .signed_by(&key, &Issuer::from_params(&ca, &ca_key))
        .unwrap();
    install_crypto_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    (ca_cert.pem(), Arc::new(config))
}

/// Reads a request's head and as much body as its `Content-Length` says (test-side parsing).
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return;
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// After the request: what `then` says, on a plain stream or a TLS one.
async fn finish<S: AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut stream: S,
    tcp: impl FnOnce(&S) -> &TcpStream,
    then: Then,
) {
    read_request(&mut stream).await;
    match then {
        Then::Reset => {
            let _ = tcp(&stream).set_zero_linger();
        }
        Then::CutBody => {
            let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"status\":";
            let _ = stream.write_all(head).await;
            let _ = stream.flush().await;
        }
        Then::Stall => tokio::time::sleep(Duration::from_secs(5)).await,
        Then::Answer => {
            let answer =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
            let _ = stream.write_all(answer).await;
            let _ = stream.flush().await;
            // Kept until the client goes.
            let _ = stream.read(&mut [0u8; 1]).await;
        }
        Then::Close | Then::CutHandshake => {}
    }
    // Dropped without a shutdown: under TLS, no close_notify.
    drop(stream);
}

/// A loopback server doing `then` to every connection, over TLS when `tls` is given.
async fn server(then: Then, tls: Option<Arc<rustls::ServerConfig>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    _ if matches!(then, Then::CutHandshake) => {
                        let _ = stream.read(&mut [0u8; 64]).await;
                    }
                    None => finish(stream, |s| s, then).await,
                    Some(config) => {
                        let acceptor = tokio_rustls::TlsAcceptor::from(config);
                        if let Ok(tls) = acceptor.accept(stream).await {
                            finish(tls, |s| s.get_ref().0, then).await;
                        }
                    }
                }
            });
        }
    });
    url
}

/// A URL nothing listens on.
async fn refusing(scheme: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("{scheme}://{addr}")
}

const PATH: &str =
    "/v5/054ba152d480d55b2f5dc0069e7ddef0/jobs/c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r/stop";
const BODY: &[u8] = b"{\"is_force_stop\":false}";

/// A stop through the transport (hyper's pool), trusting `ca`.
async fn direct(url: &str, ca: Option<&str>) -> CallError {
    let endpoint: http::Uri = url.parse().unwrap();
    let transport = Transport::new(&endpoint, 1, ca.map(str::as_bytes)).unwrap();
    let request = http::Request::post(format!("{url}{PATH}"))
        .header("content-type", "application/json")
        .body(Bytes::from_static(BODY))
        .unwrap();
    let answer = transport.send(request, Duration::from_millis(500)).await;
    answer.expect_err("no answer")
}

/// The same stop to [`REMOTE`] through the proxy at `proxy_url`, trusting `ca`.
async fn proxied(proxy_url: &str, ca: Option<&str>) -> CallError {
    let url = format!("https://{REMOTE}");
    let endpoint: http::Uri = url.parse().unwrap();
    let router = Router::through(proxy_url);
    let transport = Transport::with_router(&endpoint, 1, ca.map(str::as_bytes), router).unwrap();
    let request = http::Request::post(format!("{url}{PATH}"))
        .header("content-type", "application/json")
        .body(Bytes::from_static(BODY))
        .unwrap();
    let answer = transport.send(request, Duration::from_millis(500)).await;
    answer.expect_err("no answer")
}

/// The same stop through a proxy that tunnels to the server at `url`.
async fn tunnelled(url: &str, ca: Option<&str>) -> CallError {
    let upstream = url.split("://").nth(1).unwrap().to_owned();
    let (proxy_url, _) = proxy(ProxyDoes::Tunnel(upstream), None).await;
    proxied(&proxy_url, ca).await
}

fn not_sent(e: &CallError) -> Option<BeforeWrite> {
    match e {
        CallError::NotSent(Failure { at, .. }) => Some(*at),
        _ => None,
    }
}

fn unknown(e: &CallError) -> Option<AfterWrite> {
    match e {
        CallError::Unknown(Failure { at, .. }) => Some(*at),
        _ => None,
    }
}

#[tokio::test]
async fn a_refused_connection_is_surely_not_sent_both_ways() {
    for scheme in ["http", "https"] {
        let url = refusing(scheme).await;
        let e = direct(&url, None).await;
        assert_eq!(not_sent(&e), Some(BeforeWrite::Refused), "{e:?}");
        // A proxy that cannot be reached: nothing went anywhere.
        let e = proxied(&url, None).await;
        assert_eq!(not_sent(&e), Some(BeforeWrite::Refused), "{e:?}");
    }
}

#[tokio::test]
async fn a_tls_close_without_close_notify_after_the_request_is_an_unknown_outcome() {
    let (ca, config) = identity();
    let url = server(Then::Close, Some(config)).await;
    let e = direct(&url, Some(&ca)).await;
    assert_eq!(unknown(&e), Some(AfterWrite::ClosedWithoutNotify), "{e:?}");
    let e = tunnelled(&url, Some(&ca)).await;
    assert_eq!(unknown(&e), Some(AfterWrite::ClosedWithoutNotify), "{e:?}");
}

#[tokio::test]
async fn a_reset_after_the_request_is_an_unknown_outcome_with_or_without_tls() {
    let (ca, config) = identity();
    for tls in [None, Some(config)] {
        let proxied = tls.is_some();
        let url = server(Then::Reset, tls).await;
        let e = direct(&url, Some(&ca)).await;
        assert_eq!(unknown(&e), Some(AfterWrite::Reset), "{url}: {e:?}");
        // Through a proxy only over TLS: a remote endpoint is https only. The proxy passes the
        // reset on.
        if proxied {
            let e = tunnelled(&url, Some(&ca)).await;
            assert_eq!(unknown(&e), Some(AfterWrite::Reset), "{url}: {e:?}");
        }
    }
}

#[tokio::test]
async fn a_plain_close_a_cut_body_and_a_stall_are_unknown_outcomes() {
    for (then, expected) in [
        (Then::Close, AfterWrite::Closed),
        (Then::CutBody, AfterWrite::CutBody),
        (Then::Stall, AfterWrite::Timeout),
    ] {
        let url = server(then, None).await;
        let e = direct(&url, None).await;
        assert_eq!(unknown(&e), Some(expected), "{then:?}: {e:?}");
    }
    let (ca, config) = identity();
    let url = server(Then::Stall, Some(config)).await;
    let e = tunnelled(&url, Some(&ca)).await;
    assert_eq!(unknown(&e), Some(AfterWrite::Timeout), "{e:?}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_fatal_and_a_cut_handshake_is_not_sent() {
    let (_, config) = identity();
    let url = server(Then::Close, Some(config)).await;
    for e in [direct(&url, None).await, tunnelled(&url, None).await] {
        match &e {
            CallError::Fatal(Failure {
                at: Fatal::Tls,
                detail,
            }) => {
                assert!(detail.contains("--ca-cert"), "says what to do: {detail}");
            }
            other => panic!("{other:?}"),
        }
    }
    let url = server(Then::CutHandshake, None)
        .await
        .replace("http:", "https:");
    let e = direct(&url, None).await;
    assert_eq!(not_sent(&e), Some(BeforeWrite::Connect), "{e:?}");
}
