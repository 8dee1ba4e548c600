//! TLS against a CA made in the test: a run trusts it only when told to (`--ca-cert` or
//! `SSL_CERT_FILE`), a certificate it does not trust ends the run plainly, before any stop is
//! sent, and a TLS connection dropped without `close_notify` after the stop was applied is an
//! unknown outcome, settled by reading the job, never a reason to send the stop again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::Value;
use stopbook::mock::{Faults, JobSpec, MockConfig, TlsIdentity};

use crate::run::{External, config, job_id, jobs, journaled, run, runbook, stderr, stops_yaml};
use crate::support::stopbook;

const TOKEN: &str = "tls-test-token";
const JOB: &str = "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r";
const ENV_JOB: &str = "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1jb11x";

/// A CA, and a server certificate for 127.0.0.1 signed by it: (CA PEM, server cert DER, key DER).
fn certificates() -> (String, Vec<u8>, Vec<u8>) {
    certificates_for("127.0.0.1")
}

/// A CA, and a server certificate for `name` signed by it: (CA PEM, server cert DER, key DER).
pub fn certificates_for(name: &str) -> (String, Vec<u8>, Vec<u8>) {
    let made = Made::for_name(name);
    (made.ca_pem, made.cert_der, made.key_der)
}

/// A CA, and a server certificate for `name` signed by it, all PEM: (CA, server cert, key),
/// what `stopbook mock --tls-cert --tls-key` serves with.
pub fn pem_certificates_for(name: &str) -> (String, String, String) {
    let made = Made::for_name(name);
    (made.ca_pem, made.cert_pem, made.key_pem)
}

/// A CA and a server certificate it signed, in both encodings.
struct Made {
    ca_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
    cert_pem: String,
    key_pem: String,
}

impl Made {
    fn for_name(name: &str) -> Self {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::from_params(&ca_params, &ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server_cert = CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .signed_by(&server_key, &issuer)
            .unwrap();
        Made {
            ca_pem: ca_cert.pem(),
            cert_der: server_cert.der().to_vec(),
            key_der: server_key.serialize_der(),
            cert_pem: server_cert.pem(),
            key_pem: server_key.serialize_pem(),
        }
    }
}

/// Serves TLS on a loopback port and forwards the plaintext to the mock at `backend`.
pub fn tls_front(
    runtime: &tokio::runtime::Runtime,
    backend: std::net::SocketAddr,
    cert: Vec<u8>,
    key: Vec<u8>,
) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.into()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    url
}

#[test]
fn a_private_ca_is_trusted_only_with_ca_cert_and_a_bad_certificate_is_fatal() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let job = |id: &str| JobSpec {
        id: id.into(),
        name: "DRS-1".into(),
        status: "INCRE_TRANSFER_STARTED".into(),
        job_type: "sync".into(),
        ..Default::default()
    };
    let config = MockConfig {
        jobs: vec![job(JOB), job(ENV_JOB)],
        token: Some(TOKEN.into()),
        stop_delay: Duration::from_millis(200),
        ..MockConfig::default()
    };
    let mock = runtime
        .block_on(stopbook::mock::start_embedded(config))
        .unwrap();
    let (ca_pem, cert, key) = certificates();
    let url = tls_front(&runtime, mock.addr(), cert, key);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
    for (file, id) in [("tls.yaml", JOB), ("env.yaml", ENV_JOB)] {
        let runbook = format!(
            "version: 1\nname: tls\ntarget:\n  endpoint: {url}\n  project_id: 054ba152d480d55b2f5dc0069e7ddef0\n  auth: {{ token_env: TLS_TOKEN }}\ndefaults: {{ wait: {{ timeout: 20s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n      - job: {id}\n"
        );
        std::fs::write(dir.path().join(file), runbook).unwrap();
    }
    let run =
        |runbook: &str, journal: &str, extra: &[&str], cert_file: Option<&std::path::Path>| {
            let mut cmd = stopbook(["run", runbook, "--no-progress", "--journal", journal]);
            cmd.args(extra)
                .current_dir(dir.path())
                .env("TLS_TOKEN", TOKEN)
                .env_remove("SSL_CERT_FILE")
                .timeout(Duration::from_secs(60));
            if let Some(file) = cert_file {
                cmd.env("SSL_CERT_FILE", file);
            }
            cmd.output().unwrap()
        };

    let untrusted = run("tls.yaml", "untrusted.jsonl", &[], None);
    let err = String::from_utf8_lossy(&untrusted.stderr).into_owned();
    assert_eq!(untrusted.status.code(), Some(3), "{err}");
    assert!(
        err.contains("TLS failure") && err.contains("certificate"),
        "the certificate error is named plainly: {err}"
    );
    assert!(err.contains("--ca-cert"), "and says what to do: {err}");
    let log = runtime.block_on(request_log(mock.addr()));
    assert!(
        !log.contains("/stop"),
        "no stop went through an untrusted connection: {log}"
    );

    let trusted = run("tls.yaml", "trusted.jsonl", &["--ca-cert", "ca.pem"], None);
    assert_eq!(
        trusted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    let by_env = run(
        "env.yaml",
        "env.jsonl",
        &[],
        Some(&dir.path().join("ca.pem")),
    );
    assert_eq!(
        by_env.status.code(),
        Some(0),
        "SSL_CERT_FILE names trusted roots too: {}",
        String::from_utf8_lossy(&by_env.stderr)
    );
    let log = runtime.block_on(request_log(mock.addr()));
    assert_eq!(log.matches("/stop\"").count(), 2, "{log}");
}

/// The mock's request log, read over a plain TCP connection (no HTTP client needed).
async fn request_log(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /__mock/requests HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    text
}

/// A mock serving HTTPS for 127.0.0.1 in a thread of its own, closing the connection without
/// `close_notify` right after every stop it applies (single or batch); and its CA, in PEM.
fn dropping_mock(fleet: Vec<JobSpec>) -> (External, String) {
    let (ca, cert, key) = pem_certificates_for("127.0.0.1");
    let tls = TlsIdentity::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
    let faults = Faults {
        close_after: 1.0,
        stops_only: true,
        ..Faults::default()
    };
    let mock = External::start(MockConfig {
        faults,
        tls: Some(tls),
        ..config(fleet)
    });
    assert!(mock.url.starts_with("https://"), "{}", mock.url);
    (mock, ca)
}

/// The mock's own record (`/__mock/jobs`), read over HTTPS trusting `ca`.
fn truth(mock: &External, ca: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    stopbook::api::transport::install_crypto_provider();
    runtime.block_on(async {
        let root = reqwest::Certificate::from_pem(ca.as_bytes()).unwrap();
        let client = reqwest::Client::builder()
            .no_proxy()
            .add_root_certificate(root)
            .build()
            .unwrap();
        let answer = client.get(format!("{}/__mock/jobs", mock.url)).send();
        answer.await.unwrap().json().await.unwrap()
    })
}

/// The stops that reached the mock's model, by job: the mock's own record, whatever answers
/// the client saw.
fn stops_by_job(mock: &External, ca: &str) -> BTreeMap<String, usize> {
    let stops = truth(mock, ca)["stops"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    stops
        .into_iter()
        .map(|(job, list)| (job, list.as_array().map_or(0, Vec::len)))
        .collect()
}

/// Runs `runbook` (journaled, trusting `ca.pem`), then `--resume`s it: every job must have been
/// stopped once, by the mock's record, the run passed, and nothing left `unsent`.
fn run_then_resume(dir: &std::path::Path, mock: &External, ca: &str, runbook: &std::path::Path) {
    std::fs::write(dir.join("ca.pem"), ca).unwrap();
    let mut args = journaled(runbook).to_vec();
    args.extend(["--ca-cert", "ca.pem"]);
    let first = run(dir, &args);
    args.push("--resume");
    let resumed = run(dir, &args);
    let once: BTreeMap<String, usize> = (0..4).map(|n| (job_id(n), 1)).collect();
    assert_eq!(
        stops_by_job(mock, ca),
        once,
        "every job stopped exactly once, by the mock's record; the run said: {}\nthe resume said: {}",
        stderr(&first),
        stderr(&resumed)
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let journal = std::fs::read_to_string(dir.join("j.jsonl")).unwrap();
    assert!(!journal.contains("unsent"), "{journal}");
    let jobs = truth(mock, ca);
    for job in jobs["jobs"].as_array().unwrap() {
        assert_eq!(job["status"], "RELEASE_RESOURCE_COMPLETE", "{job}");
    }
}

#[test]
fn a_tls_connection_closed_without_close_notify_after_the_stop_is_an_unknown_outcome() {
    let (mock, ca) = dropping_mock(jobs(0..4, "INCRE_TRANSFER_STARTED"));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..4).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    run_then_resume(dir.path(), &mock, &ca, &path);
}

#[test]
fn a_batch_stop_whose_tls_connection_closes_without_close_notify_is_settled_not_resent() {
    let (mock, ca) = dropping_mock(jobs(0..4, "INCRE_TRANSFER_STARTED"));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ batch: 10 }}\ndefaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..4).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    run_then_resume(dir.path(), &mock, &ca, &path);
}
