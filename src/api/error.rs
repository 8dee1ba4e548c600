//! How a call can fail, sorted by what it means for a call that changes state: whether the
//! request may have reached the server. Shared by the client and its transport.

/// A call that got no answer, and where it failed: what decides whether it may be sent again.
/// Each kind is read from the HTTP and TLS libraries' error types (see
/// [`super::transport`]), never from their text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// It failed before the request was written: it surely did not reach the server.
    #[error("not sent: {0}")]
    NotSent(Failure<BeforeWrite>),
    /// It failed once the request may have been written: it may have been applied.
    #[error("outcome unknown: {0}")]
    Unknown(Failure<AfterWrite>),
    /// Going on is pointless, and nothing was sent: the endpoint's certificate or TLS handshake
    /// was refused before the request was written, or the request cannot be made at all.
    #[error("{0}")]
    Fatal(Failure<Fatal>),
}

impl CallError {
    /// A call that failed before its request was written.
    pub fn not_sent(at: BeforeWrite, detail: impl Into<String>) -> Self {
        CallError::NotSent(Failure::new(at, detail))
    }

    /// A call that failed once its request may have been written.
    pub fn unknown(at: AfterWrite, detail: impl Into<String>) -> Self {
        CallError::Unknown(Failure::new(at, detail))
    }

    /// A call that cannot be made, nothing sent.
    pub fn fatal(why: Fatal, detail: impl Into<String>) -> Self {
        CallError::Fatal(Failure::new(why, detail))
    }
}

/// A failure of a kind `K`, and what the libraries said of it (for people; never decided on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure<K> {
    /// Where or why it failed.
    pub at: K,
    /// The libraries' own account, causes included.
    pub detail: String,
}

impl<K> Failure<K> {
    /// A failure at `at`, told as `detail`.
    pub fn new(at: K, detail: impl Into<String>) -> Self {
        Failure {
            at,
            detail: detail.into(),
        }
    }
}

impl<K> std::fmt::Display for Failure<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// Where a call failed before its request was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeforeWrite {
    /// The connection was refused.
    Refused,
    /// The connection did not open in time.
    ConnectTimeout,
    /// The connection did not open for another reason: the name did not resolve, no route to
    /// the host, the TLS handshake cut short by the network.
    Connect,
    /// The IAM token exchange before it failed, so the call itself never went.
    TokenExchange,
}

/// Where a call failed once its request may have been written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterWrite {
    /// The connection was reset.
    Reset,
    /// The TLS connection was closed without `close_notify` before the whole answer came.
    ClosedWithoutNotify,
    /// The connection was closed before the whole answer came.
    Closed,
    /// No complete answer within the request's timeout.
    Timeout,
    /// The answer's body was cut off.
    CutBody,
    /// The answer's body is larger than the client reads.
    TooLarge,
    /// TLS failed after the connection opened.
    Tls,
    /// Anything else after the connection opened (an answer head that does not parse, a
    /// request the connection dropped).
    Other,
}

/// Why a call cannot be made at all; nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fatal {
    /// The endpoint's certificate, or the TLS handshake, was refused before the request was
    /// written.
    Tls,
    /// The request cannot be built (a credential that is not a header value).
    Request,
    /// The endpoint may not be reached the way the environment would send it.
    Route,
    /// IAM refused the credentials, or answered without a token.
    AuthRefused,
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
