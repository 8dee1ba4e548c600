//! A webhook receiver for the tests: a small HTTP/1.1 server on loopback that checks each
//! notification's `X-Stopbook-Signature-256` against its own HMAC-SHA256 (written here from
//! SHA-256, not with the crate stopbook signs with), and keeps what it was told.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// A notification received, with whether its signature was right.
#[derive(Debug, Clone)]
pub(crate) struct Told {
    pub body: Value,
    pub signed: bool,
    pub timestamp: Option<String>,
    pub path: String,
}

/// The receiver; it serves for two minutes at most.
pub(crate) struct Receiver {
    pub url: String,
    told: Arc<Mutex<Vec<Told>>>,
}

impl Receiver {
    /// Listens on a free loopback port, checking signatures with `secret`.
    pub(crate) fn start(secret: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!(
            "http://{}/hooks/t0ken-in-path",
            listener.local_addr().unwrap()
        );
        let told = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&told);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let kept = Arc::clone(&kept);
                        std::thread::spawn(move || serve(stream, secret, &kept));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Receiver { url, told }
    }

    /// What it was told so far.
    pub(crate) fn told(&self) -> Vec<Told> {
        self.told.lock().unwrap().clone()
    }
}

/// A loopback URL where nothing listens: every connection is refused.
pub(crate) fn refusing() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/secret-path")
}

/// Requests on one connection, until it closes (at most 100, 30 s each).
fn serve(stream: TcpStream, secret: &str, told: &Mutex<Vec<Told>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for _ in 0..100 {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
        let (mut length, mut signature, mut timestamp) = (0, None, None);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "x-stopbook-signature-256" => signature = Some(value.trim().to_owned()),
                "x-stopbook-timestamp" => timestamp = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let expected = format!(
            "sha256={}",
            hex::encode(hmac_sha256(secret.as_bytes(), &body))
        );
        told.lock().unwrap().push(Told {
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            signed: signature.as_deref() == Some(expected.as_str()),
            timestamp,
            path,
        });
        let _ = writer.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n");
    }
}

/// HMAC (RFC 2104) over SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::digest([pad(0x36), message.to_vec()].concat());
    Sha256::digest([pad(0x5c), inner.to_vec()].concat()).to_vec()
}

#[test]
fn the_receivers_hmac_matches_rfc_4231() {
    assert_eq!(
        hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}
