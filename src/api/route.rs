//! Which way a request travels, and the ways it must never take.
//!
//! Proxies come from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, the
//! rules curl reads), with two departures that keep credentials safe:
//!
//! - a loopback host (`localhost`, `127.0.0.0/8`, `::1`) is never proxied, as Go's and curl's
//!   conventions do for localhost: a proxy elsewhere would otherwise receive the credentials that
//!   the loopback-only `http://` rule sends in plaintext;
//! - a request to a host that is not loopback is https only, so through a proxy it travels in a
//!   CONNECT tunnel with TLS end to end; the proxy sees the host name and nothing else. A proxy
//!   URL that carries its own credentials over plaintext `http://` to a host that is not loopback
//!   is refused, since they would cross the network in clear.

use super::error::RouteError;
use hyper_util::client::proxy::matcher::Matcher;

/// How a request to one host travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Straight to the host.
    Direct,
    /// Through the environment's proxy, tunnelled.
    Proxied,
}

/// The environment's proxy settings, read once.
pub struct Router {
    matcher: Matcher,
}

impl std::fmt::Debug for Router {
    /// Proxy URLs may carry credentials: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Router")
    }
}

impl Router {
    /// Reads the proxy variables of the environment.
    pub fn from_env() -> Self {
        Router {
            matcher: Matcher::from_env(),
        }
    }

    /// Refuses a proxy variable that is set but is not a URL: it would be ignored silently and
    /// the request sent direct, which is not what the environment asked for.
    pub fn check_env() -> Result<(), RouteError> {
        for name in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            let Ok(value) = std::env::var(name) else {
                continue;
            };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let with_scheme = match value.contains("://") {
                true => value.to_owned(),
                false => format!("http://{value}"),
            };
            if url::Url::parse(&with_scheme).is_err() || with_scheme.parse::<http::Uri>().is_err() {
                return Err(RouteError::BadProxy(name.to_owned()));
            }
        }
        Ok(())
    }

    /// How a request to `uri` travels, or why it may not be sent at all.
    pub fn route(&self, uri: &http::Uri) -> Result<Route, RouteError> {
        if is_loopback(uri) {
            return Ok(Route::Direct);
        }
        if uri.scheme_str() != Some("https") {
            return Err(RouteError::Plaintext(shown(uri)));
        }
        let Some(intercept) = self.matcher.intercept(uri) else {
            return Ok(Route::Direct);
        };
        let proxy = intercept.uri();
        match proxy.scheme_str() {
            Some("https") => Ok(Route::Proxied),
            Some("http") if intercept.basic_auth().is_some() && !is_loopback(proxy) => {
                Err(RouteError::PlaintextProxy(shown(proxy)))
            }
            Some("http") => Ok(Route::Proxied),
            _ => Err(RouteError::ProxyScheme(shown(proxy))),
        }
    }

    /// The proxy a request to `uri` tunnels through, with the `Proxy-Authorization` it takes if
    /// its URL carries credentials; `None` for a request that goes direct (or may not go at all:
    /// [`Router::route`] says why).
    pub fn proxy(&self, uri: &http::Uri) -> Option<Proxy> {
        if self.route(uri) != Ok(Route::Proxied) {
            return None;
        }
        let intercept = self.matcher.intercept(uri)?;
        let auth = intercept.basic_auth().map(|auth| {
            let mut auth = auth.clone();
            auth.set_sensitive(true);
            auth
        });
        Some(Proxy {
            uri: intercept.uri().clone(),
            auth,
        })
    }

    /// A router sending every request that is not loopback through `proxy`, for tests.
    #[cfg(test)]
    pub(crate) fn through(proxy: &str) -> Self {
        Router {
            matcher: Matcher::builder().all(proxy.to_owned()).build(),
        }
    }
}

/// A proxy to tunnel through, as the environment names it.
#[derive(Clone)]
pub struct Proxy {
    /// The proxy's own URL, without credentials.
    pub uri: http::Uri,
    /// The `Proxy-Authorization` of the CONNECT request, if the URL carries credentials.
    pub auth: Option<http::HeaderValue>,
}

impl std::fmt::Debug for Proxy {
    /// The credentials are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&shown(&self.uri))
    }
}

/// Whether `uri`'s host is a loopback name or address.
pub fn is_loopback(uri: &http::Uri) -> bool {
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A URI as messages show it: scheme, host and port, never user information.
fn shown(uri: &http::Uri) -> String {
    let host = uri.host().unwrap_or("");
    match (uri.scheme_str(), uri.port_u16()) {
        (Some(scheme), Some(port)) => format!("{scheme}://{host}:{port}"),
        (Some(scheme), None) => format!("{scheme}://{host}"),
        (None, _) => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> http::Uri {
        s.parse().unwrap()
    }

    fn router(all_proxy: &str) -> Router {
        Router::through(all_proxy)
    }

    #[test]
    fn loopback_is_never_proxied() {
        let r = router("http://proxy.example:3128");
        for host in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "https://[::1]:9",
        ] {
            assert_eq!(r.route(&uri(host)), Ok(Route::Direct), "{host}");
            assert!(r.proxy(&uri(host)).is_none(), "{host}");
        }
        assert_eq!(r.route(&uri("https://drs.example.com")), Ok(Route::Proxied));
    }

    #[test]
    fn plaintext_to_a_remote_host_is_refused() {
        let err = router("")
            .route(&uri("http://drs.example.com"))
            .unwrap_err();
        assert!(err.to_string().contains("not https"), "{err}");
    }

    #[test]
    fn proxy_credentials_never_go_over_plaintext_to_a_remote_proxy() {
        let err = router("http://u:hunter22@proxy.example:3128")
            .route(&uri("https://drs.example.com"))
            .unwrap_err();
        assert!(err.to_string().contains("carries credentials"), "{err}");
        assert!(!err.to_string().contains("hunter22"), "{err}");
        let local = router("http://u:hunter22@127.0.0.1:3128");
        assert_eq!(
            local.route(&uri("https://drs.example.com")),
            Ok(Route::Proxied)
        );
        let target = "https://drs.example.com";
        let proxy = local.proxy(&uri(target)).unwrap();
        assert_eq!(proxy.uri, "http://127.0.0.1:3128/");
        assert!(proxy.auth.is_some_and(|auth| auth.is_sensitive()));
        assert_eq!(
            router("https://u:p@proxy.example").route(&uri("https://drs.example.com")),
            Ok(Route::Proxied)
        );
        assert!(
            router("socks5://proxy.example")
                .route(&uri("https://drs.example.com"))
                .is_err()
        );
    }
}
