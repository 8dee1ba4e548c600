//! The TCP side: an accept loop, one hyper connection per client, and the fault pipeline around
//! the routes. A connection can end in a real TCP reset (zero linger), before or after the
//! request was applied, which is what a client meets when a network or gateway fails mid-call.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming as HyperBody;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

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

/// A running mock. Dropping it stops the server; [`MockServer::shutdown`] also waits for it.
pub struct MockServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MockServer {
    /// The address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, shared, stopped));
    Ok(MockServer {
        addr,
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
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.spawn(connection(stream, Arc::clone(&shared), routes.clone(), stopped.clone()));
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
struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}

impl std::error::Error for ResetConnection {}

async fn connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    routes: axum::Router,
    mut stopped: watch::Receiver<bool>,
) {
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(Resettable {
        stream,
        reset: Arc::clone(&reset),
    });
    let service = hyper::service::service_fn(move |request: Request<HyperBody>| {
        let (shared, routes, reset) = (Arc::clone(&shared), routes.clone(), Arc::clone(&reset));
        async move {
            match handle(&shared, routes, request).await {
                Some(response) => Ok(response),
                None => {
                    reset.store(true, Ordering::SeqCst);
                    Err(ResetConnection)
                }
            }
        }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Handles one request through the fault pipeline; `None` resets the connection.
async fn handle(
    shared: &Arc<Shared>,
    routes: axum::Router,
    request: Request<HyperBody>,
) -> Option<Response<Body>> {
    let (parts, body) = request.into_parts();
    let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Some(
                ApiError::bad_body("the body is too large or was cut off")
                    .into_response_in(Default::default()),
            );
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
        return Some(response);
    }
    faults_after(shared, seq, response, faulted).await
}

/// Latency, then a fault that keeps the request from being applied: `Some` is the answer
/// given instead (`Some(None)`: the connection is reset).
async fn faults_before(shared: &Arc<Shared>, seq: Option<u64>) -> Option<Option<Response<Body>>> {
    let latency = lock(&shared.injector).latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let before = lock(&shared.injector).before(Instant::now());
    let (response, fault) = match before {
        Before::Pass => return None,
        Before::Reset => {
            finish(shared, seq, None, Some("reset before apply"));
            return Some(None);
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
    Some(Some(response))
}

/// What happens to an applied request's answer: a reset, a gateway's 5xx, a garbled or slow
/// body, or nothing; `None` resets the connection.
async fn faults_after(
    shared: &Arc<Shared>,
    seq: Option<u64>,
    response: Response<Body>,
    faulted: bool,
) -> Option<Response<Body>> {
    let after = match faulted {
        true => lock(&shared.injector).after(),
        false => After::Pass,
    };
    let mut fault = None;
    let response = match after {
        After::Pass => response,
        After::Reset => {
            finish(shared, seq, None, Some("reset after apply"));
            return None;
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
    Some(response)
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

fn trickle_stream(
    pieces: Vec<Bytes>,
    pause: Duration,
) -> impl futures_core::Stream<Item = Result<Bytes, io::Error>> + Send {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(1);
    tokio::spawn(async move {
        for piece in pieces {
            tokio::time::sleep(pause).await;
            if tx.send(Ok(piece)).await.is_err() {
                break;
            }
        }
    });
    ReceiverStream(rx)
}

struct ReceiverStream<T>(tokio::sync::mpsc::Receiver<T>);

impl<T> futures_core::Stream for ReceiverStream<T> {
    type Item = T;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

/// A TCP stream that, once marked, fails all IO and closes with a reset (RST), not a FIN.
struct Resettable {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Resettable {
    fn broken(&self) -> Option<io::Error> {
        self.reset
            .load(Ordering::SeqCst)
            .then(|| io::Error::from(io::ErrorKind::ConnectionReset))
    }
}

impl Drop for Resettable {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Resettable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Resettable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.reset.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
