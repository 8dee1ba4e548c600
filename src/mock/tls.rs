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

/// Why the mock cannot serve TLS with the files given; never their content.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A file cannot be read.
    #[error("{flag} `{path}`: cannot read it: {source}")]
    Read {
        /// `--tls-cert` or `--tls-key`.
        flag: &'static str,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file is far larger than a certificate or key.
    #[error(
        "{flag} `{path}` holds more than {mib} MiB, far more than a certificate or a key: not read further"
    )]
    TooLarge {
        /// `--tls-cert` or `--tls-key`.
        flag: &'static str,
        /// The file.
        path: String,
        /// The bound, in MiB.
        mib: u64,
    },
    /// The files read, but do not make a TLS identity.
    #[error("cannot serve TLS with `{cert}` and `{key}`: {why}")]
    Unusable {
        /// The certificate file.
        cert: String,
        /// The key file.
        key: String,
        /// Why.
        why: Box<TlsSetupError>,
    },
    /// The certificate is not PEM.
    #[error("the certificate file is not PEM")]
    CertNotPem,
    /// No certificate in the PEM.
    #[error("the certificate file holds no PEM certificate")]
    NoCert,
    /// No private key in the PEM.
    #[error("the key file holds no PEM private key")]
    NoKey,
    /// rustls refused the protocol versions.
    #[error("cannot set up TLS: {0}")]
    Rustls(rustls::Error),
    /// The key does not match the certificate.
    #[error("the key does not fit the certificate, or is of a kind not supported")]
    KeyMismatch,
}

impl TlsIdentity {
    /// The chain in `cert` and the key in `key` (both PEM), each read within
    /// [`MAX_PEM_BYTES`]. Errors name the file, never its content.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsSetupError> {
        let cert_pem = read_bounded(cert, "--tls-cert")?;
        let key_pem = read_bounded(key, "--tls-key")?;
        Self::from_pem(&cert_pem, &key_pem).map_err(|why| TlsSetupError::Unusable {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
            why: Box::new(why),
        })
    }

    /// A certificate chain and its private key, both PEM.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsSetupError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| TlsSetupError::CertNotPem)?;
        if chain.is_empty() {
            return Err(TlsSetupError::NoCert);
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| TlsSetupError::NoKey)?;
        crate::api::transport::install_crypto_provider();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsSetupError::Rustls)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|_| TlsSetupError::KeyMismatch)?;
        Ok(TlsIdentity(Arc::new(config)))
    }

    /// The acceptor that runs the handshake of each connection.
    pub(super) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(Arc::clone(&self.0))
    }
}

/// The bytes of `path`, refused when there are more than [`MAX_PEM_BYTES`] (an endless file
/// such as `/dev/zero` is refused after reading that much, never read whole).
fn read_bounded(path: &Path, flag: &'static str) -> Result<Vec<u8>, TlsSetupError> {
    let shown = path.display();
    let fail = |source: std::io::Error| TlsSetupError::Read {
        flag,
        path: shown.to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(fail)?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(fail)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(TlsSetupError::TooLarge {
            flag,
            path: shown.to_string(),
            mib: MAX_PEM_BYTES / (1024 * 1024),
        });
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
        let err = TlsIdentity::load(Path::new("/dev/zero"), Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--tls-cert") && err.contains("more than 1 MiB"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn files_that_are_not_pem_are_refused_without_echoing_them() {
        let err = TlsIdentity::from_pem(b"hunter2 secret", b"hunter2")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        let err = TlsIdentity::from_pem(b"", b"").unwrap_err().to_string();
        assert!(err.contains("no PEM certificate"), "{err}");
    }
}
