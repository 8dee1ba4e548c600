//! Where a failed exchange stood when it failed, read from the libraries' error types: the
//! difference between a stop that surely never reached the server (it may be sent again) and
//! one that may have been applied (its job's status must be read first).
//!
//! hyper's pool says whether a failure came while the connection was opening (`is_connect()`),
//! straight or through a proxy's tunnel: nothing was written then. Below that, the chain of causes holds the
//! `std::io::Error` (its kind: refused, reset, timed out, closed early) and, inside an
//! `io::Error`, the `rustls::Error` of a refused certificate or handshake. Each link is
//! downcast, never read as text: a close without `close_notify` after the request says "tls"
//! in its message, and is no certificate problem (issue 22).

use std::error::Error;
use std::io;

use super::error::{AfterWrite, BeforeWrite, CallError, Fatal};

/// What the top of an error says of its place, from its own methods.
#[derive(Debug, Clone, Copy, Default)]
struct Place {
    /// The failure came while the connection was opening (`is_connect()`).
    pub connect: bool,
    /// The endpoint speaks TLS (its scheme is `https`).
    pub tls: bool,
}

/// What the chain of causes holds, link by link.
#[derive(Debug, Default)]
struct Causes<'a> {
    io: Option<io::ErrorKind>,
    tls: Option<&'a rustls::Error>,
    connect: bool,
    timeout: bool,
    incomplete: bool,
}

/// The most links followed: real chains have a handful.
const MAX_LINKS: usize = 32;

impl<'a> Causes<'a> {
    fn of(top: &'a (dyn Error + 'static)) -> Self {
        let mut causes = Causes::default();
        let mut link = Some(top);
        for _ in 0..MAX_LINKS {
            let Some(e) = link else { break };
            causes.note(e);
            link = next(e);
        }
        causes
    }

    fn note(&mut self, e: &'a (dyn Error + 'static)) {
        if let Some(e) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            self.connect |= e.is_connect();
        } else if let Some(e) = e.downcast_ref::<hyper::Error>() {
            self.timeout |= e.is_timeout();
            self.incomplete |= e.is_incomplete_message();
        } else if let Some(e) = e.downcast_ref::<io::Error>() {
            // The innermost kind: the root cause.
            self.io = Some(e.kind());
        } else if let Some(e) = e.downcast_ref::<rustls::Error>() {
            self.tls.get_or_insert(e);
        }
    }
}

/// The next link: an `io::Error`'s own payload (its `source()` skips it), else the cause.
fn next<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a (dyn Error + 'static)> {
    if let Some(io) = e.downcast_ref::<io::Error>()
        && let Some(inner) = io.get_ref()
    {
        return Some(inner);
    }
    e.source()
}

/// Sorts a failure of hyper's pool by whether its request may have been applied; `tls` says
/// the endpoint speaks TLS.
pub fn pool_failure(e: &hyper_util::client::legacy::Error, tls: bool) -> CallError {
    let place = Place {
        connect: e.is_connect(),
        tls,
    };
    classify(e, place)
}

/// Sorts a failed exchange by whether its request may have been applied.
fn classify(e: &(dyn Error + 'static), place: Place) -> CallError {
    let causes = Causes::of(e);
    let text = plain(e);
    if place.connect || causes.connect {
        before_write(&causes, text)
    } else {
        after_write(&causes, place, text)
    }
}

/// Nothing was written: a refused certificate or handshake ends the run, the rest may be
/// sent again.
fn before_write(causes: &Causes<'_>, text: String) -> CallError {
    if let Some(tls) = causes.tls {
        let hint = match tls {
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                " (for an endpoint with a private CA, pass its certificate with --ca-cert FILE)"
            }
            _ => "",
        };
        return CallError::fatal(Fatal::Tls, format!("TLS failure: {text}{hint}"));
    }
    let at = match causes.io {
        Some(io::ErrorKind::ConnectionRefused) => BeforeWrite::Refused,
        Some(io::ErrorKind::TimedOut) => BeforeWrite::ConnectTimeout,
        _ if causes.timeout => BeforeWrite::ConnectTimeout,
        _ => BeforeWrite::Connect,
    };
    CallError::not_sent(at, text)
}

/// The request may have been written: whatever happened, its outcome is unknown.
fn after_write(causes: &Causes<'_>, place: Place, text: String) -> CallError {
    use io::ErrorKind as K;
    let at = match causes.io {
        _ if causes.timeout => AfterWrite::Timeout,
        Some(K::TimedOut) => AfterWrite::Timeout,
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe) => AfterWrite::Reset,
        Some(K::UnexpectedEof) if place.tls => AfterWrite::ClosedWithoutNotify,
        Some(K::UnexpectedEof) => AfterWrite::Closed,
        _ if causes.incomplete => AfterWrite::Closed,
        _ if causes.tls.is_some() => AfterWrite::Tls,
        _ => AfterWrite::Other,
    };
    CallError::unknown(at, text)
}

/// An error with its causes, for messages (the HTTP libraries' own text says little).
pub fn plain(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
