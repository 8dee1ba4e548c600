//! HTTPS for a schedule with the TLS twist: a CA made for the schedule, a server certificate it
//! signed for both names the soak reaches the mock by (`127.0.0.1`, and `localhost` for a
//! retarget), and the mock's admin record read over HTTPS trusting that CA.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::Value;
use stopbook::mock::TlsIdentity;

/// A CA (PEM) and the mock's identity, signed by it.
pub fn identity() -> (String, TlsIdentity) {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("the CA certificate");
    let issuer = Issuer::from_params(&ca, &ca_key);
    let key = KeyPair::generate().expect("a server key");
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let cert = CertificateParams::new(names)
        .expect("server parameters")
        .signed_by(&key, &issuer)
        .expect("the server certificate");
    let tls = TlsIdentity::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
        .expect("the mock takes its identity");
    (ca_cert.pem(), tls)
}

/// An admin endpoint's JSON over HTTPS, trusting `ca`.
pub fn get(url: &str, ca: &str) -> Value {
    stopbook::api::transport::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the admin read");
    runtime.block_on(async {
        let root = reqwest::Certificate::from_pem(ca.as_bytes()).expect("the CA");
        let client = reqwest::Client::builder()
            .no_proxy()
            .add_root_certificate(root)
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("an admin client");
        match client.get(url).send().await {
            Ok(answer) => answer.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    })
}
