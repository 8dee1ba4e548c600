//! Proxies from the environment never see a credential: a loopback endpoint bypasses every
//! proxy, a remote https endpoint goes through a plaintext proxy in a CONNECT tunnel (TLS end to
//! end), and a proxy that would take its own credentials in clear across a network is refused.
//!
//! The proxy here is a tiny recording one on loopback. It answers CONNECT for any host by
//! connecting to a loopback TLS front of the mock, so a remote-looking host name
//! (`drs.proxied.test`, which resolves nowhere) is reached only through it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use stopbook::mock::{JobSpec, MockConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::stopbook;
use crate::tls::{certificates_for, tls_front};

const TOKEN: &str = "proxy-test-token-7Qx93kd";
const JOB: &str = "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r";
const P: &str = "054ba152d480d55b2f5dc0069e7ddef0";

/// Everything the proxy received from clients, and how many connections it took.
#[derive(Default)]
struct Seen {
    bytes: Vec<u8>,
    connections: usize,
}

/// A proxy on loopback that records what clients send it and tunnels CONNECT to `upstream`.
fn recording_proxy(
    runtime: &tokio::runtime::Runtime,
    upstream: String,
) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let record = Arc::clone(&seen);
    runtime.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            record.lock().unwrap().connections += 1;
            tokio::spawn(tunnel(client, upstream.clone(), Arc::clone(&record)));
        }
    });
    (url, seen)
}

/// Reads the request head; for CONNECT, answers 200 and relays both ways, recording what the
/// client sends; anything else gets a 502.
async fn tunnel(mut client: tokio::net::TcpStream, upstream: String, seen: Arc<Mutex<Seen>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    seen.lock().unwrap().bytes.extend_from_slice(&head);
    if !head.starts_with(b"CONNECT ") {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut server) =
        tokio::net::TcpStream::connect(upstream.trim_start_matches("https://")).await
    else {
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let up = async {
        let mut buf = [0u8; 8192];
        while let Ok(n) = client_read.read(&mut buf).await {
            if n == 0 || server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
            seen.lock().unwrap().bytes.extend_from_slice(&buf[..n]);
        }
        let _ = server_write.shutdown().await;
    };
    let down = tokio::io::copy(&mut server_read, &mut client_write);
    let _ = tokio::join!(up, down);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn mock(runtime: &tokio::runtime::Runtime) -> stopbook::mock::MockServer {
    let config = MockConfig {
        jobs: vec![JobSpec {
            id: JOB.into(),
            name: "DRS-1".into(),
            status: "INCRE_TRANSFER_STARTED".into(),
            job_type: "sync".into(),
            ..Default::default()
        }],
        token: Some(TOKEN.into()),
        ..MockConfig::default()
    };
    runtime
        .block_on(stopbook::mock::start_embedded(config))
        .unwrap()
}

fn write_runbook(dir: &std::path::Path, endpoint: &str) -> std::path::PathBuf {
    let path = dir.join("rb.yaml");
    std::fs::write(
        &path,
        format!(
            "version: 1\nname: proxy\ntarget:\n  endpoint: {endpoint}\n  project_id: {P}\n  auth: {{ token_env: PROXY_TEST_TOKEN }}\ndefaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n      - job: {JOB}\n"
        ),
    )
    .unwrap();
    path
}

/// `stopbook run` with every proxy variable set to `proxy`.
fn run_through(dir: &std::path::Path, proxy: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = stopbook(["run", "rb.yaml", "--no-progress", "--journal", "j.jsonl"]);
    cmd.args(extra)
        .current_dir(dir)
        .env("PROXY_TEST_TOKEN", TOKEN)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("SSL_CERT_FILE")
        .timeout(Duration::from_secs(60));
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env(name, proxy);
    }
    cmd.output().unwrap()
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_loopback_endpoint_bypasses_every_proxy() {
    let runtime = runtime();
    let mock = mock(&runtime);
    let (proxy, seen) = recording_proxy(&runtime, "127.0.0.1:1".into());
    let dir = tempfile::tempdir().unwrap();
    write_runbook(dir.path(), &mock.url());
    let output = run_through(dir.path(), &proxy, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.connections, 0,
        "the proxy was used for a loopback endpoint"
    );
}

#[test]
fn a_remote_endpoint_tunnels_through_a_plaintext_proxy_that_never_sees_the_token() {
    let runtime = runtime();
    let mock = mock(&runtime);
    let (ca_pem, cert, key) = certificates_for("drs.proxied.test");
    let front = tls_front(&runtime, mock.addr(), cert, key);
    let (proxy, seen) = recording_proxy(&runtime, front);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
    write_runbook(dir.path(), "https://drs.proxied.test");
    let output = run_through(dir.path(), &proxy, &["--ca-cert", "ca.pem"]);
    // The mock requires the token: a pass means it arrived, inside the tunnel.
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let seen = seen.lock().unwrap();
    let bytes = String::from_utf8_lossy(&seen.bytes);
    assert!(
        bytes.starts_with("CONNECT drs.proxied.test:443 "),
        "{bytes}"
    );
    assert!(!bytes.contains(TOKEN), "the proxy saw the token");
    assert!(!bytes.contains("/v5/"), "the proxy saw the request path");
}

#[test]
fn a_plaintext_remote_proxy_with_credentials_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    write_runbook(dir.path(), "https://drs.proxied.test");
    // TEST-NET-1: never reached, since nothing is sent.
    let output = run_through(dir.path(), "http://user:pr0xyPassw0rd@192.0.2.1:3128", &[]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains("carries credentials"), "{all}");
    assert!(!all.contains("pr0xyPassw0rd"), "{all}");
}
