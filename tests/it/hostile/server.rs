//! A tiny loopback HTTP server that answers whatever bytes it is told to: the hostile server of
//! these tests. It reads each request's head (and a `Content-Length` body, at most 64 KiB), then
//! writes the next scripted answer and closes the connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the server does once it has read a request.
#[derive(Clone, Debug)]
pub enum Script {
    /// Writes these bytes, then closes.
    Bytes(Vec<u8>),
    /// Writes `head`, then `piece` every `every`, `times` times (an endless or slow body).
    Drip {
        head: Vec<u8>,
        piece: Vec<u8>,
        every: Duration,
        times: usize,
    },
    /// Reads the request and never answers (until `for_` has passed).
    Silent { for_: Duration },
}

/// The server: its URL, and the answers it gives in turn (the last one repeats).
pub struct Hostile {
    pub url: String,
    answers: Arc<Mutex<(Vec<Script>, usize)>>,
}

impl Hostile {
    pub fn start(runtime: &tokio::runtime::Runtime, answers: Vec<Script>) -> Self {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answers = Arc::new(Mutex::new((answers, 0)));
        let script = Arc::clone(&answers);
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&script)));
            }
        });
        Hostile { url, answers }
    }

    /// Replaces the answers (and starts from the first again).
    pub fn set(&self, answers: Vec<Script>) {
        *self.answers.lock().unwrap() = (answers, 0);
    }

    /// How many requests were read.
    pub fn served(&self) -> usize {
        self.answers.lock().unwrap().1
    }
}

async fn serve(mut stream: tokio::net::TcpStream, script: Arc<Mutex<(Vec<Script>, usize)>>) {
    if !read_request(&mut stream).await {
        return;
    }
    let answer = {
        let mut s = script.lock().unwrap();
        let answer = s.0[s.1.min(s.0.len() - 1)].clone();
        s.1 += 1;
        answer
    };
    match answer {
        Script::Bytes(bytes) => {
            let _ = stream.write_all(&bytes).await;
        }
        Script::Drip {
            head,
            piece,
            every,
            times,
        } => {
            if stream.write_all(&head).await.is_err() {
                return;
            }
            for _ in 0..times {
                tokio::time::sleep(every).await;
                if stream.write_all(&piece).await.is_err() {
                    return;
                }
            }
        }
        Script::Silent { for_ } => tokio::time::sleep(for_).await,
    }
    let _ = stream.shutdown().await;
}

/// Reads one request: its head, and a body of its `Content-Length`; false at end of stream.
async fn read_request(stream: &mut tokio::net::TcpStream) -> bool {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if data.len() > 65536 {
            return false;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
        .min(65536);
    while data.len() < head_end + length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// An answer with `status_line` (e.g. `200 OK`), extra header lines and a body.
pub fn answer(status_line: &str, headers: &[&str], body: &[u8]) -> Script {
    let mut bytes = format!("HTTP/1.1 {status_line}\r\n").into_bytes();
    for header in headers {
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(body);
    Script::Bytes(bytes)
}
