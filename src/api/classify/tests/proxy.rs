//! A proxy on loopback for the classifier's tests, and the failures only a proxy can have: it
//! cannot be reached, it refuses or drops the CONNECT. Every one comes before the request is
//! written, so the request is surely not sent. And the way through an `https://` proxy with
//! credentials: the CONNECT carries them, inside the proxy's TLS.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{REMOTE, Then, identity, not_sent, proxied, server};
use crate::api::error::BeforeWrite;
use crate::api::route::Router;
use crate::api::transport::Transport;

/// What the proxy does with a CONNECT.
#[derive(Debug, Clone)]
pub(super) enum ProxyDoes {
    /// Opens the tunnel to this `host:port`, whatever host was asked for, and passes a reset
    /// on as a reset.
    Tunnel(String),
    /// Answers with this status line and closes.
    Answer(&'static str),
    /// Closes without answering.
    Close,
}

/// The heads of the CONNECT requests a proxy received.
type Heads = Arc<Mutex<Vec<String>>>;

/// A proxy on loopback doing `does`, over TLS when `tls` is given: its URL and what it received.
pub(super) async fn proxy(
    does: ProxyDoes,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> (String, Heads) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}", listener.local_addr().unwrap());
    let heads = Heads::default();
    let seen = Arc::clone(&heads);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (does, tls, seen) = (does.clone(), tls.clone(), Arc::clone(&seen));
            tokio::spawn(async move {
                match tls {
                    None => serve(client, |s| s, does, seen).await,
                    Some(config) => {
                        let acceptor = tokio_rustls::TlsAcceptor::from(config);
                        if let Ok(client) = acceptor.accept(client).await {
                            serve(client, |s| s.get_ref().0, does, seen).await;
                        }
                    }
                }
            });
        }
    });
    (url, heads)
}

/// Reads one CONNECT head, records it, and does what the proxy does.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut client: S,
    tcp: impl FnOnce(&S) -> &TcpStream,
    does: ProxyDoes,
    seen: Heads,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    seen.lock()
        .unwrap()
        .push(String::from_utf8_lossy(&head).into_owned());
    match does {
        ProxyDoes::Close => {}
        ProxyDoes::Answer(status) => {
            let answer = format!("{status}\r\ncontent-length: 0\r\n\r\n");
            let _ = client.write_all(answer.as_bytes()).await;
            let _ = client.shutdown().await;
        }
        ProxyDoes::Tunnel(upstream) => {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
            if client.write_all(established).await.is_err() {
                return;
            }
            if tokio::io::copy_bidirectional(&mut client, &mut server)
                .await
                .is_err()
            {
                // The server reset the connection: so does the proxy, to the client.
                let _ = tcp(&client).set_zero_linger();
            }
        }
    }
}

#[tokio::test]
async fn a_proxy_that_refuses_or_drops_the_tunnel_is_surely_not_sent() {
    for does in [
        ProxyDoes::Answer("HTTP/1.1 502 Bad Gateway"),
        ProxyDoes::Answer("HTTP/1.1 407 Proxy Authentication Required"),
        ProxyDoes::Close,
    ] {
        let (url, heads) = proxy(does.clone(), None).await;
        let e = proxied(&url, None).await;
        assert_eq!(not_sent(&e), Some(BeforeWrite::Connect), "{does:?}: {e:?}");
        let heads = heads.lock().unwrap();
        assert!(heads.iter().all(|h| h.starts_with("CONNECT ")), "{heads:?}");
    }
}

#[tokio::test]
async fn an_https_proxy_with_credentials_tunnels_and_gets_them_in_the_connect() {
    let (ca, config) = identity();
    let url = server(Then::Answer, Some(Arc::clone(&config))).await;
    let upstream = url.split("://").nth(1).unwrap().to_owned();
    let (proxy_url, heads) = proxy(ProxyDoes::Tunnel(upstream), Some(config)).await;
    let proxy_url = proxy_url.replace("https://", "https://user:s3cret@");
    let endpoint: http::Uri = format!("https://{REMOTE}").parse().unwrap();
    let router = Router::through(&proxy_url);
    let transport = Transport::with_router(&endpoint, 1, Some(ca.as_bytes()), router).unwrap();
    let request = http::Request::get(format!("https://{REMOTE}/v5"))
        .body(bytes::Bytes::new())
        .unwrap();
    let answer = transport
        .send(request, std::time::Duration::from_secs(5))
        .await
        .expect("an answer through the tunnel");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.body().as_ref(), b"{}");
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let head = heads[0].to_ascii_lowercase();
    assert!(
        head.starts_with(&format!("connect {REMOTE}:443 ")),
        "{head}"
    );
    // "user:s3cret", in Basic.
    assert!(
        head.contains("proxy-authorization: basic dxnlcjpzm2nyzxq="),
        "{head}"
    );
}
