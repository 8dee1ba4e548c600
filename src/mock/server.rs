//! The TCP side: an accept loop, one hyper connection per client (over TLS when the mock has a
//! certificate), and the fault pipeline around the routes. A connection can end in a real TCP
//! reset (zero linger), before or after the request was applied, or in a bare close after it
//! (under TLS without `close_notify`), which is what a client meets when a network or gateway
//! fails mid-call.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming as HyperBody;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::cut::{Cut, Cuttable, Cutter};
use super::errors::ApiError;
use super::faults::{After, Before};
use super::incoming::Incoming;
use super::recorder::Record;
use super::routes::router;
use super::{MockConfig, Shared, lock};

/// Largest request body read.
const MAX_BODY: usize = 1 << 20;
/// How long shutdown waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(5);
/// How long a client may take over its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// A running mock. Dropping it stops the server; [`MockServer::shutdown`] also waits for it.
pub struct MockServer {
    addr: SocketAddr,
    tls: bool,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MockServer {
    /// The address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT` (`https://` when it serves TLS), without a trailing slash.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish (up to a few seconds), and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

pub async fn start(addr: SocketAddr, config: MockConfig) -> io::Result<MockServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let shared = Shared::new(config);
    let tls = shared.config.tls.is_some();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, shared, stopped));
    Ok(MockServer {
        addr,
        tls,
        stop,
        task: Some(task),
    })
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let routes = router(Arc::clone(&shared));
    let acceptor = shared.config.tls.as_ref().map(|tls| tls.acceptor());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let serving = (Arc::clone(&shared), routes.clone(), stopped.clone());
                connections.spawn(connection(stream, acceptor.clone(), serving));
            }
            _ = stopped.changed() => break,
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.abort_all();
}

/// A failure that ends the connection without an answer.
#[derive(Debug)]
struct CutConnection;

impl std::fmt::Display for CutConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection cut by fault injection")
    }
}

impl std::error::Error for CutConnection {}

/// What every connection is served with: the mock's state, its routes, the stop signal.
type Serving = (Arc<Shared>, axum::Router, watch::Receiver<bool>);

/// One client's connection: its TLS handshake first when the mock serves TLS.
async fn connection(
    stream: TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    serving: Serving,
) {
    let cutter = Cutter::default();
    let stream = Cuttable::new(stream, cutter.clone());
    let Some(acceptor) = acceptor else {
        return serve(stream, cutter, serving).await;
    };
    let mut stopped = serving.2.clone();
    let handshake = tokio::time::timeout(HANDSHAKE, acceptor.accept(stream));
    tokio::select! {
        done = handshake => {
            if let Ok(Ok(tls)) = done {
                serve(tls, cutter, serving).await;
            }
        }
        _ = stopped.changed() => {}
    }
}

/// Serves HTTP/1.1 on `io` until the client or the mock ends it; a fault cuts it through
/// `cutter`.
async fn serve<IO>(io: IO, cutter: Cutter, (shared, routes, mut stopped): Serving)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<HyperBody>| {
        let (shared, routes, cutter) = (Arc::clone(&shared), routes.clone(), cutter.clone());
        async move {
            match handle(&shared, routes, request).await {
                Ok(response) => Ok(response),
                Err(how) => {
                    cutter.cut(how);
                    Err(CutConnection)
                }
            }
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Handles one request through the fault pipeline; `Err` cuts the connection, that way.
async fn handle(
    shared: &Arc<Shared>,
    routes: axum::Router,
    request: Request<HyperBody>,
) -> Result<Response<Body>, Cut> {
    let (parts, body) = request.into_parts();
    let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(ApiError::bad_body("the body is too large or was cut off")
                .into_response_in(Default::default()));
        }
    };
    let incoming = Arc::new(Incoming {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    let admin = incoming.path.starts_with("/__mock/");
    let seq = (!admin).then(|| record_arrival(shared, &incoming));
    let stop = incoming.method == http::Method::POST
        && (incoming.path.ends_with("/stop") || incoming.path.ends_with("/batch-stop"));
    let faulted = !admin && shared.faulty() && (stop || !shared.faults().stops_only);
    if faulted && let Some(early) = faults_before(shared, seq).await {
        return early;
    }
    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(incoming);
    let response = match routes.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if admin {
        return Ok(response);
    }
    faults_after(shared, seq, response, faulted).await
}

/// Latency, then a fault that keeps the request from being applied: `Some` is the answer
/// given instead (`Some(Err(_))`: the connection is reset).
async fn faults_before(
    shared: &Arc<Shared>,
    seq: Option<u64>,
) -> Option<Result<Response<Body>, Cut>> {
    let latency = lock(&shared.injector).latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let before = lock(&shared.injector).before(Instant::now());
    let (response, fault) = match before {
        Before::Pass => return None,
        Before::Reset => {
            finish(shared, seq, None, Some("reset before apply"));
            return Some(Err(Cut::Reset));
        }
        Before::Throttled { retry_after_secs } => {
            let limit = shared.faults().throttle.unwrap_or(0);
            let mut response = ApiError::throttled(limit).into_response_in(Default::default());
            response
                .headers_mut()
                .insert("retry-after", retry_after_secs.into());
            (response, "throttled")
        }
        Before::ServerError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let response = ApiError::injected(status).into_response_in(Default::default());
            (response, "server error")
        }
    };
    finish(shared, seq, Some(response.status().as_u16()), Some(fault));
    Some(Ok(response))
}

/// What happens to an applied request's answer: a reset or a close with no answer, a gateway's
/// 5xx, a garbled or slow body, or nothing; `Err` cuts the connection, that way.
async fn faults_after(
    shared: &Arc<Shared>,
    seq: Option<u64>,
    response: Response<Body>,
    faulted: bool,
) -> Result<Response<Body>, Cut> {
    let after = match faulted {
        true => lock(&shared.injector).after(),
        false => After::Pass,
    };
    let mut fault = None;
    let response = match after {
        After::Pass => response,
        After::Reset => {
            finish(shared, seq, None, Some("reset after apply"));
            return Err(Cut::Reset);
        }
        After::Close => {
            finish(shared, seq, None, Some("closed after apply"));
            return Err(Cut::Close);
        }
        After::GatewayError { http, html } => {
            fault = Some("server error after apply");
            gateway_error(http, html)
        }
        After::Truncate | After::Malformed => {
            fault = Some(match after {
                After::Truncate => "truncated",
                _ => "malformed",
            });
            garble(response, after).await
        }
    };
    let slow_body = match faulted {
        true => shared.faults().slow_body,
        false => None,
    };
    let response = match slow_body {
        Some(pause) => trickle(response, pause).await,
        None => response,
    };
    finish(shared, seq, Some(response.status().as_u16()), fault);
    Ok(response)
}

fn elapsed_us(shared: &Shared) -> u64 {
    shared.started.elapsed().as_micros() as u64
}

fn record_arrival(shared: &Shared, incoming: &Arc<Incoming>) -> u64 {
    let record = Record {
        seq: 0,
        started_us: elapsed_us(shared),
        finished_us: None,
        request: Arc::clone(incoming),
        status: None,
        fault: None,
    };
    lock(&shared.log).arrive(record)
}

fn finish(shared: &Shared, seq: Option<u64>, status: Option<u16>, fault: Option<&str>) {
    if let Some(seq) = seq {
        lock(&shared.log).finish(seq, elapsed_us(shared), status, fault.map(str::to_owned));
    }
}

/// What a gateway answers when it gave up waiting for the backend, which went on to apply the
/// request: its own HTML page or its own JSON error, never the backend's answer.
fn gateway_error(http: u16, html: bool) -> Response<Body> {
    let status = StatusCode::from_u16(http).unwrap_or(StatusCode::BAD_GATEWAY);
    let (content_type, body) = if html {
        let reason = status.canonical_reason().unwrap_or("Gateway Error");
        (
            "text/html",
            format!(
                "<html><head><title>{http} {reason}</title></head><body><center><h1>{http} {reason}</h1></center></body></html>"
            ),
        )
    } else {
        (
            "application/json",
            r#"{"error_code":"APIGW.0202","error_msg":"The backend did not answer in time."}"#
                .to_owned(),
        )
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    response
}

/// Cuts the JSON answer in half, or breaks its syntax, keeping the status and a correct length.
async fn garble(response: Response<Body>, how: After) -> Response<Body> {
    let (mut parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let garbled: Vec<u8> = match how {
        After::Truncate => bytes[..bytes.len() / 2].to_vec(),
        _ => {
            let text = String::from_utf8_lossy(&bytes);
            text.replacen(':', "=", 1).into_bytes()
        }
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts
        .headers
        .insert(axum::http::header::CONTENT_LENGTH, garbled.len().into());
    Response::from_parts(parts, Body::from(garbled))
}

/// Sends the answer body in 16-byte pieces with a pause before each.
async fn trickle(response: Response<Body>, pause: Duration) -> Response<Body> {
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let pieces: Vec<Bytes> = bytes.chunks(16).map(Bytes::copy_from_slice).collect();
    let stream = trickle_stream(pieces, pause);
    Response::from_parts(parts, Body::from_stream(stream))
}

/// The pieces one by one, each after `pause`: a body that comes slowly.
fn trickle_stream(
    pieces: Vec<Bytes>,
    pause: Duration,
) -> impl futures_util::Stream<Item = Result<Bytes, io::Error>> + Send {
    use futures_util::StreamExt;
    futures_util::stream::iter(pieces).then(move |piece| async move {
        tokio::time::sleep(pause).await;
        Ok(piece)
    })
}
