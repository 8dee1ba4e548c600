//! How a call can fail, sorted by what it means for a call that changes state: whether the
//! request may have reached the server. Shared by the client and its transport.

/// A call that got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The request surely did not reach the server (it could not connect).
    #[error("not sent: {0}")]
    NotSent(String),
    /// The request may have reached the server: timeout, reset or a cut answer after sending.
    #[error("outcome unknown: {0}")]
    Unknown(String),
    /// TLS or certificate failure, or a request that cannot be built: going on is pointless.
    #[error("{0}")]
    Fatal(String),
}
