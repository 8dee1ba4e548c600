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

/// Why a client cannot be built: nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The endpoint does not parse as a URL.
    #[error("the endpoint `{endpoint}` is not a URL: {reason}")]
    NotAUrl {
        /// The endpoint as given.
        endpoint: String,
        /// What the URL parser said.
        reason: String,
    },
    /// `--ca-cert` holds no usable certificate.
    #[error("--ca-cert is not a PEM certificate: {0}")]
    CaCert(String),
    /// The TLS configuration or the trusted roots cannot be loaded.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The HTTP client itself cannot be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// The endpoint may not be reached the way the environment would send it.
    #[error(transparent)]
    Route(#[from] RouteError),
}

/// Why a request may not be sent at all: credentials would cross a network in clear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// A plaintext endpoint that is not loopback.
    #[error(
        "`{0}` is not https and not a loopback host: credentials would cross the network in clear; nothing was sent"
    )]
    Plaintext(String),
    /// A plaintext proxy with credentials, not on loopback.
    #[error(
        "the proxy `{0}` (from the environment) carries credentials over plaintext http://: they would cross the network in clear; use an https:// proxy, or one without credentials; nothing was sent"
    )]
    PlaintextProxy(String),
    /// A proxy variable that is not a URL.
    #[error("the proxy in `{0}` is not a URL: fix or unset it; nothing was sent")]
    BadProxy(String),
    /// A proxy of another scheme than http or https.
    #[error(
        "the proxy `{0}` (from the environment) is not an http:// or https:// proxy; nothing was sent"
    )]
    ProxyScheme(String),
}
