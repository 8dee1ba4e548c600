//! `SDK-HMAC-SHA256`, the AK/SK request signature of Huawei Cloud's API gateway.
//!
//! Unlike AWS SigV4 there is no credential scope and no derived key: the secret key signs the
//! string to sign directly. The vendor's three published test vectors are the unit tests below.
//! The client signs with [`sign`]; the mock verifies with [`verify`] (the same canonical form,
//! pinned by the vectors, so a shared mistake cannot hide).

use ring::{digest, hmac};

/// The algorithm's name, first in the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// What a signature covers.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The HTTP method, in any case.
    pub method: &'a str,
    /// The path as sent, percent-encoded or not.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// The signed headers: names in any case, values as sent.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body as sent; its SHA-256 is signed.
    pub body: &'a [u8],
    /// The `X-Sdk-Date` value, `YYYYMMDDTHHMMSSZ`.
    pub date: &'a str,
}

/// The hex signature of `request` with secret key `sk`.
pub fn sign(sk: &[u8], request: &Request<'_>) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, sk);
    hex::encode(hmac::sign(&key, string_to_sign(request).as_bytes()))
}

/// Whether `signature` (hex) is `request`'s signature with `sk`, compared in constant time.
pub fn verify(sk: &[u8], request: &Request<'_>, signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, sk);
    hmac::verify(&key, string_to_sign(request).as_bytes(), &expected).is_ok()
}

/// `Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`.
pub fn authorization(ak: &str, request: &Request<'_>, signature: &str) -> String {
    format!(
        "{ALGORITHM} Access={ak}, SignedHeaders={}, Signature={signature}",
        signed_headers(request)
    )
}

/// The parts of an `Authorization` header value.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The access key (`Access=`).
    pub access: &'a str,
    /// The signed header names, lower case (`SignedHeaders=`).
    pub signed_headers: Vec<&'a str>,
    /// The hex signature (`Signature=`).
    pub signature: &'a str,
}

/// Parses an `Authorization` header value of this algorithm.
pub fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix(ALGORITHM)?.trim_start();
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Access" => access = Some(val),
            "SignedHeaders" => signed = Some(val.split(';').collect()),
            "Signature" => signature = Some(val),
            _ => return None,
        }
    }
    Some(Authorization {
        access: access?,
        signed_headers: signed?,
        signature: signature?,
    })
}

/// The string the secret key signs: the algorithm, the date and the canonical request's hash.
pub fn string_to_sign(request: &Request<'_>) -> String {
    let hashed = hex::encode(digest::digest(
        &digest::SHA256,
        canonical_request(request).as_bytes(),
    ));
    format!("{ALGORITHM}\n{}\n{hashed}", request.date)
}

/// The canonical request: method, path, sorted query, signed headers and the body's hash, one a
/// line, each in the gateway's normalised form.
pub fn canonical_request(request: &Request<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        canonical_uri(request.path),
        canonical_query(request.query.unwrap_or("")),
        canonical_headers(request),
        signed_headers(request),
        hex::encode(digest::digest(&digest::SHA256, request.body)),
    )
}

fn canonical_uri(path: &str) -> String {
    let mut out = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(&encode(&decode(segment)));
    }
    out.push('/');
    out
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (encode(&decode(k)), encode(&decode(v)))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn sorted_headers(request: &Request<'_>) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    headers.sort();
    headers
}

fn canonical_headers(request: &Request<'_>) -> String {
    sorted_headers(request)
        .iter()
        .map(|(n, v)| format!("{n}:{v}\n"))
        .collect()
}

fn signed_headers(request: &Request<'_>) -> String {
    sorted_headers(request)
        .into_iter()
        .map(|(n, _)| n)
        .collect::<Vec<_>>()
        .join(";")
}

/// Percent-encodes all but `A-Z a-z 0-9 - _ . ~`, with upper-case hex.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(text: &str) -> String {
    percent_decode(text.as_bytes())
}

fn percent_decode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_vector_1_get_with_query_and_three_signed_headers() {
        let headers = [
            ("Content-Type", "application/json"),
            ("Host", "service.region.example.com"),
            ("X-Sdk-Date", "20191115T033655Z"),
        ];
        let request = Request {
            method: "GET",
            path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
            query: Some("limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"),
            headers: &headers,
            body: b"",
            date: "20191115T033655Z",
        };
        let signature = sign(b"MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", &request);
        assert_eq!(
            signature,
            "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
        assert_eq!(
            authorization("QTWAOYTTINDUT2QVKYUC", &request, &signature),
            format!(
                "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature={signature}"
            )
        );
    }

    #[test]
    fn vendor_vector_2_get_signing_only_the_date() {
        let headers = [("X-Sdk-Date", "20060102T150405Z")];
        let request = Request {
            method: "GET",
            path: "/path",
            query: Some("limit=1"),
            headers: &headers,
            body: b"",
            date: "20060102T150405Z",
        };
        assert_eq!(
            sign(b"SecretKey", &request),
            "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
    }

    #[test]
    fn vendor_vector_3_post_with_a_body() {
        let headers = [("X-Sdk-Date", "20060102T150405Z")];
        let request = Request {
            method: "POST",
            path: "/path",
            query: Some("key=value"),
            headers: &headers,
            body: b"{\"Name\":\"test\",\"Id\":1}\n",
            date: "20060102T150405Z",
        };
        assert_eq!(
            sign(b"SecretKey", &request),
            "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"
        );
    }

    #[test]
    fn verify_accepts_the_signature_and_rejects_any_change() {
        let headers = [("X-Sdk-Date", "20060102T150405Z")];
        let request = Request {
            method: "POST",
            path: "/v5/p/jobs/j/stop",
            query: None,
            headers: &headers,
            body: b"{}",
            date: "20060102T150405Z",
        };
        let signature = sign(b"sk", &request);
        assert!(verify(b"sk", &request, &signature));
        assert!(!verify(b"sk2", &request, &signature));
        assert!(!verify(
            b"sk",
            &Request {
                body: b"{ }",
                ..request.clone()
            },
            &signature
        ));
        assert!(!verify(b"sk", &request, "zz"));
    }

    #[test]
    fn authorization_round_trips() {
        let parsed = parse_authorization(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=ab12",
        )
        .unwrap();
        assert_eq!(
            parsed,
            Authorization {
                access: "AK1",
                signed_headers: vec!["host", "x-sdk-date"],
                signature: "ab12"
            }
        );
        assert!(parse_authorization("Bearer x").is_none());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Changes one byte of `text` at `at` (modulo its length) to another printable byte.
    fn tamper(text: &str, at: usize) -> String {
        let mut bytes = text.as_bytes().to_vec();
        if bytes.is_empty() {
            return "x".to_owned();
        }
        let i = at % bytes.len();
        bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
        String::from_utf8_lossy(&bytes).into_owned()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn the_verifier_accepts_what_the_signer_signs_and_nothing_else(
            path in "(/[a-z0-9-]{1,12}){1,5}",
            query in "([a-z]{1,6}=[a-z0-9]{0,6})(&[a-z]{1,6}=[a-z0-9]{0,6}){0,3}",
            body in "[ -~]{0,64}",
            sk in "[A-Za-z0-9]{8,40}",
            date in "20[0-9]{2}[01][0-9][0-3][0-9]T[0-2][0-9][0-5][0-9][0-5][0-9]Z",
            at in 0usize..1000,
            which in 0usize..6,
        ) {
            let headers = [("x-sdk-date", date.as_str()), ("host", "drs.example.com")];
            let request = Request { method: "POST", path: &path, query: Some(&query), headers: &headers, body: body.as_bytes(), date: &date };
            let signature = sign(sk.as_bytes(), &request);
            prop_assert!(verify(sk.as_bytes(), &request, &signature));

            let (t_path, t_query, t_body, t_date, t_sk, t_sig);
            let (mut p, mut q, mut b, mut d, mut k, mut s) = (path.as_str(), query.as_str(), body.as_str(), date.as_str(), sk.as_str(), signature.as_str());
            match which {
                0 => { t_path = tamper(&path, at); p = &t_path; }
                1 => { t_query = tamper(&query, at); q = &t_query; }
                2 => { t_body = tamper(&body, at); b = &t_body; }
                3 => { t_date = tamper(&date, at); d = &t_date; }
                4 => { t_sk = tamper(&sk, at); k = &t_sk; }
                _ => { t_sig = tamper(&signature, at); s = &t_sig; }
            }
            let changed_headers = [("x-sdk-date", d), ("host", "drs.example.com")];
            let changed = Request { method: "POST", path: p, query: Some(q), headers: &changed_headers, body: b.as_bytes(), date: d };
            prop_assert!(!verify(k.as_bytes(), &changed, s), "a one-byte change (part {}) still verified", which);
        }
    }
}
