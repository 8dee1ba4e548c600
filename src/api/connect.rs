//! How a connection to a host opens: straight over TCP, or through the environment's proxy in an
//! HTTP CONNECT tunnel ([`hyper_util`]'s `Tunnel`), as [`super::route`] decides for that host.
//!
//! One connector for both ways keeps one pool and one send path: the TLS to the endpoint is
//! layered on top by the transport either way, end to end through the tunnel, so a proxy sees
//! the host name and nothing else. A proxy is reached over TLS when its URL is `https://`, with
//! the same verifier as the endpoint.
//!
//! Every failure here comes before the request is written, and hyper's pool reports it as a
//! connect failure (`is_connect()`), so [`super::classify`] sorts a proxy that cannot be reached,
//! refuses the tunnel or does not answer the CONNECT in time as "not sent".

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use tower::Service;

use super::route::Router;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection before the endpoint's TLS: plain TCP, or TCP (or TLS to an `https://` proxy)
/// carrying a tunnel.
pub type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;

/// Opens connections straight or through the proxy the router names for each host.
#[derive(Clone)]
pub struct Connector {
    /// TCP to the host itself.
    tcp: HttpConnector,
    /// TCP, or TLS for an `https://` proxy, to the proxy.
    to_proxy: HttpsConnector<HttpConnector>,
    router: Arc<Router>,
    /// The most the proxy's connection and its answer to CONNECT may take together.
    tunnel_timeout: Duration,
}

impl Connector {
    /// A connector over `tcp` (a TCP connector accepting any scheme), reaching proxies with
    /// `tls` when they are `https://`.
    pub fn new(
        tcp: HttpConnector,
        tls: rustls::ClientConfig,
        router: Arc<Router>,
        tunnel_timeout: Duration,
    ) -> Self {
        let to_proxy = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp.clone());
        Connector {
            tcp,
            to_proxy,
            router,
            tunnel_timeout,
        }
    }
}

impl std::fmt::Debug for Connector {
    /// The router holds proxy URLs, which may carry credentials: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector")
    }
}

impl Service<http::Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Both connectors are always ready: each call opens its own connection.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        let Some(proxy) = self.router.proxy(&dst) else {
            let connecting = self.tcp.call(dst);
            return Box::pin(async move { Ok(MaybeHttpsStream::Http(connecting.await?)) });
        };
        let mut tunnel = Tunnel::new(proxy.uri, self.to_proxy.clone());
        if let Some(auth) = proxy.auth {
            tunnel = tunnel.with_auth(auth);
        }
        let timeout = self.tunnel_timeout;
        let tunnelling = tunnel.call(dst);
        Box::pin(async move {
            match tokio::time::timeout(timeout, tunnelling).await {
                Ok(tunnelled) => Ok(tunnelled?),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the proxy did not open a tunnel within {timeout:?}"),
                )
                .into()),
            }
        })
    }
}
