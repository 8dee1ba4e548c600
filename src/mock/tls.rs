//! The mock's HTTPS side (`mock --tls-cert FILE --tls-key FILE`): a certificate chain and its
//! key, read within a bound, made into a rustls server configuration. A client then meets the
//! mock as it meets a real gateway, TLS and all, and the faults can drop a TLS connection the
//! way gateways do (see [`super::cut`]).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The most a certificate or key file may hold: a chain of a few certificates is a few KiB.
pub const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// What the mock serves HTTPS with: its certificate chain and key.
#[derive(Clone)]
pub struct TlsIdentity(Arc<rustls::ServerConfig>);

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration holds the private key: never shown.
        f.write_str("TlsIdentity(..)")
    }
}

impl TlsIdentity {
    /// The chain in `cert` and the key in `key` (both PEM), each read within
    /// [`MAX_PEM_BYTES`]. Errors name the file, never its content.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, String> {
        let cert_pem = read_bounded(cert, "--tls-cert")?;
        let key_pem = read_bounded(key, "--tls-key")?;
        Self::from_pem(&cert_pem, &key_pem).map_err(|why| {
            format!(
                "cannot serve TLS with `{}` and `{}`: {why}",
                cert.display(),
                key.display()
            )
        })
    }

    /// A certificate chain and its private key, both PEM.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, String> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "the certificate file is not PEM".to_owned())?;
        if chain.is_empty() {
            return Err("the certificate file holds no PEM certificate".to_owned());
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| "the key file holds no PEM private key".to_owned())?;
        crate::api::transport::install_crypto_provider();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|_| {
                "the key does not fit the certificate, or is of a kind not supported".to_owned()
            })?;
        Ok(TlsIdentity(Arc::new(config)))
    }

    /// The acceptor that runs the handshake of each connection.
    pub(super) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(Arc::clone(&self.0))
    }
}

/// The bytes of `path`, refused when there are more than [`MAX_PEM_BYTES`] (an endless file
/// such as `/dev/zero` is refused after reading that much, never read whole).
fn read_bounded(path: &Path, flag: &str) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let fail = |e: std::io::Error| format!("{flag} `{shown}`: cannot read it: {e}");
    let file = std::fs::File::open(path).map_err(fail)?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(fail)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(format!(
            "{flag} `{shown}` holds more than {} MiB, far more than a certificate or a key: not read further",
            MAX_PEM_BYTES / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_endless_file_is_refused_without_being_read_whole() {
        let started = std::time::Instant::now();
        let err = TlsIdentity::load(Path::new("/dev/zero"), Path::new("/dev/zero")).unwrap_err();
        assert!(
            err.contains("--tls-cert") && err.contains("more than 1 MiB"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn files_that_are_not_pem_are_refused_without_echoing_them() {
        let err = TlsIdentity::from_pem(b"hunter2 secret", b"hunter2").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        let err = TlsIdentity::from_pem(b"", b"").unwrap_err();
        assert!(err.contains("no PEM certificate"), "{err}");
    }
}
