//! Where the API is: an endpoint URL (https, or http on loopback only) or a region that names
//! the vendor's hosts.

use std::fmt;
use std::str::FromStr;

use super::Invalid;

/// A cloud region such as `cn-north-4`, resolved to the vendor's DRS host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Region(String);

impl FromStr for Region {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let parts: Vec<&str> = s.split('-').collect();
        let valid = parts.len() >= 3
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].parse::<u32>().is_ok();
        if valid {
            Ok(Region(s.to_owned()))
        } else {
            Err(Invalid::Region {
                shown: crate::diag::mask::shown_value(s).to_string(),
            })
        }
    }
}

impl Region {
    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Region {
    /// The vendor's domain for this region: the EU sovereign region has its own.
    fn domain(&self) -> &'static str {
        if self.0 == "eu-west-101" {
            "myhuaweicloud.eu"
        } else {
            "myhuaweicloud.com"
        }
    }

    /// The vendor's DRS endpoint in this region.
    pub fn drs_endpoint(&self) -> Endpoint {
        Endpoint(
            url::Url::parse(&format!("https://drs.{}.{}", self.0, self.domain()))
                .expect("a valid URL"),
        )
    }

    /// The vendor's IAM endpoint in this region.
    pub fn iam_endpoint(&self) -> Endpoint {
        Endpoint(
            url::Url::parse(&format!("https://iam.{}.{}", self.0, self.domain()))
                .expect("a valid URL"),
        )
    }
}

/// The endpoint a run talks to: `https`, or `http` on a loopback host only (so a credential
/// never crosses a network in plaintext).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint(url::Url);

/// Whether `host` is a loopback name or address.
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl FromStr for Endpoint {
    type Err = Invalid;
    fn from_str(text: &str) -> Result<Self, Invalid> {
        // Messages quote the URL: never with the user information it may carry.
        let shown = crate::diag::mask::mask_text(text, &[]);
        let url = url::Url::parse(text).map_err(|e| Invalid::Url {
            shown: shown.clone(),
            reason: e.to_string(),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Invalid::Credentials);
        }
        let host = url.host().ok_or_else(|| Invalid::NoHost {
            shown: shown.clone(),
        })?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            "http" => return Err(Invalid::Plaintext { shown }),
            other => {
                let scheme = other.to_owned();
                return Err(Invalid::Scheme { shown, scheme });
            }
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(Invalid::Path { shown });
        }
        Ok(Endpoint(url))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

serialize_as_text!(Region, Endpoint);
