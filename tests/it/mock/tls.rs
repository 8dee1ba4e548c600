//! The mock over HTTPS (`--tls-cert`, `--tls-key`), and the fault that closes a connection
//! after applying the stop with no answer: under TLS without `close_notify`, as a gateway that
//! drops connections abruptly does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use stopbook::mock::{self, Faults, MockConfig, TlsIdentity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::tls::pem_certificates_for;

/// A mock serving HTTPS for 127.0.0.1, and a rustls client configuration trusting its CA.
async fn start_tls(faults: Faults) -> (mock::MockServer, Arc<rustls::ClientConfig>) {
    let (ca, cert, key) = pem_certificates_for("127.0.0.1");
    let identity = TlsIdentity::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
    let server = mock::start_embedded(MockConfig {
        faults,
        tls: Some(identity),
        ..config()
    })
    .await
    .unwrap();
    stopbook::api::transport::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for der in rustls::pki_types::pem::PemObject::pem_slice_iter(ca.as_bytes()) {
        roots.add(der.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (server, Arc::new(client))
}

/// Sends one raw HTTP/1.1 request over TLS; what reading the answer to its end came to.
async fn exchange(
    server: &mock::MockServer,
    client: Arc<rustls::ClientConfig>,
    head: &str,
    body: &str,
) -> std::io::Result<String> {
    let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(client)
        .connect(name, tcp)
        .await?;
    let request = format!(
        "{head}\r\nHost: 127.0.0.1\r\nX-Auth-Token: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn the_mock_serves_https_with_the_certificate_it_is_given() {
    let (server, client) = start_tls(Faults::default()).await;
    assert!(
        server.url().starts_with("https://127.0.0.1:"),
        "{}",
        server.url()
    );
    let answer = exchange(
        &server,
        client,
        &format!("GET /v5/{P}/jobs/{RUNNING}?type=detail HTTP/1.1"),
        "",
    )
    .await
    .expect("a whole answer, closed with close_notify");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("INCRE_TRANSFER_STARTED"), "{answer}");
}

#[tokio::test]
async fn a_close_after_apply_ends_tls_without_close_notify_and_the_stop_stands() {
    let faults = Faults {
        close_after: 1.0,
        stops_only: true,
        ..Faults::default()
    };
    let (server, client) = start_tls(faults).await;
    let stop = format!("POST /v5/{P}/jobs/{RUNNING}/stop HTTP/1.1");
    let batch = format!("POST /v5/{P}/jobs/batch-stop HTTP/1.1");
    let batch_body = format!(r#"{{"jobs":[{{"job_id":"{ABNORMAL}","is_force_stop":false}}]}}"#);
    for (head, body) in [
        (stop, r#"{"is_force_stop":false}"#.to_owned()),
        (batch, batch_body),
    ] {
        let cut = exchange(&server, Arc::clone(&client), &head, &body).await;
        let e = cut.expect_err("no answer, and no clean end");
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::UnexpectedEof,
            "rustls reports a close without close_notify: {e:?}"
        );
    }
    let jobs = admin(&server, &client, "/__mock/jobs").await;
    let stops = |id: &str| jobs["stops"][id].as_array().map_or(0, Vec::len);
    assert_eq!(
        (stops(RUNNING), stops(ABNORMAL)),
        (1, 1),
        "each stop reached the model once: {jobs}"
    );
    let log = admin(&server, &client, "/__mock/requests").await;
    let faults: Vec<&Value> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["fault"])
        .collect();
    assert_eq!(
        faults,
        ["closed after apply", "closed after apply"],
        "{log}"
    );
}

/// An admin answer over TLS, as JSON.
async fn admin(server: &mock::MockServer, client: &Arc<rustls::ClientConfig>, path: &str) -> Value {
    let answer = exchange(
        server,
        Arc::clone(client),
        &format!("GET {path} HTTP/1.1"),
        "",
    )
    .await
    .unwrap();
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

#[tokio::test]
async fn a_close_after_apply_over_plain_http_is_a_bare_close() {
    let mock = start(MockConfig {
        faults: Faults {
            close_after: 1.0,
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let Err(err) = mock.send(mock.post_stop(RUNNING).body("{}")).await else {
        panic!("an answer to a connection closed after apply");
    };
    assert!(err.is_request() || err.is_body(), "{err:?}");
    assert_eq!(mock.true_status(RUNNING).await, "RELEASE_RESOURCE_STARTED");
}

#[test]
fn the_binary_serves_https_and_refuses_an_endless_certificate_at_once() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let endless =
        crate::support::stopbook(["mock", "--tls-cert", "/dev/zero", "--tls-key", "/dev/zero"])
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
    let err = String::from_utf8_lossy(&endless.stderr);
    assert_eq!(endless.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--tls-cert") && err.contains("more than 1 MiB"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    let (_, cert, key) = pem_certificates_for("127.0.0.1");
    std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
    std::fs::write(dir.path().join("key.pem"), &key).unwrap();
    let swapped =
        crate::support::stopbook(["mock", "--tls-cert", "key.pem", "--tls-key", "cert.pem"])
            .current_dir(dir.path())
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
    let err = String::from_utf8_lossy(&swapped.stderr);
    assert_eq!(swapped.status.code(), Some(2), "{err}");
    assert!(
        !err.contains(key.lines().nth(1).unwrap()),
        "the key is never shown: {err}"
    );

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .args(["mock", "--tls-cert", "cert.pem", "--tls-key", "key.pem"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("listening on https://127.0.0.1:"),
        "{first:?}"
    );
}
