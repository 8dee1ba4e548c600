//! The request log behind `/__mock/requests`: what arrived, in order, when, and what it got, with
//! every credential masked. Tests measure concurrency and rates from it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use super::incoming::Incoming;

const MASK: &str = "<redacted>";

/// One request as it arrived, and what it got. Credentials are masked when the log is shown,
/// so recording costs no formatting on the request path.
#[derive(Debug, Clone)]
pub struct Record {
    pub seq: u64,
    /// Microseconds since the mock started, when the request arrived and when it was answered.
    pub started_us: u64,
    pub finished_us: Option<u64>,
    pub request: Arc<Incoming>,
    /// The status answered, or none for a reset connection.
    pub status: Option<u16>,
    /// The injected fault, if any.
    pub fault: Option<String>,
}

impl Record {
    fn to_json(&self) -> Value {
        let request = &self.request;
        let headers: BTreeMap<String, String> = request
            .headers
            .iter()
            .map(|(name, value)| {
                let name = name.as_str().to_owned();
                let value = redact_header(&name, &String::from_utf8_lossy(value.as_bytes()));
                (name, value)
            })
            .collect();
        serde_json::json!({
            "seq": self.seq,
            "started_us": self.started_us,
            "finished_us": self.finished_us,
            "method": request.method.as_str(),
            "path": request.path,
            "query": request.query.as_deref().map(mask_loose),
            "headers": headers,
            "body": redact_body(&request.body),
            "status": self.status,
            "fault": self.fault,
        })
    }
}

#[derive(Debug)]
pub struct Recorder {
    records: VecDeque<Record>,
    limit: usize,
    dropped: u64,
    next: u64,
}

impl Recorder {
    pub fn new(limit: usize) -> Self {
        Recorder {
            records: VecDeque::new(),
            limit: limit.max(1),
            dropped: 0,
            next: 1,
        }
    }

    /// Records an arriving request; returns its sequence number.
    pub fn arrive(&mut self, mut record: Record) -> u64 {
        record.seq = self.next;
        self.next += 1;
        if self.records.len() == self.limit {
            self.records.pop_front();
            self.dropped += 1;
        }
        let seq = record.seq;
        self.records.push_back(record);
        seq
    }

    pub fn finish(&mut self, seq: u64, at_us: u64, status: Option<u16>, fault: Option<String>) {
        if let Some(r) = self.records.iter_mut().rev().find(|r| r.seq == seq) {
            r.finished_us = Some(at_us);
            r.status = status;
            if fault.is_some() {
                r.fault = fault;
            }
        }
    }

    pub fn snapshot(&self) -> Value {
        let requests: Vec<Value> = self.records.iter().map(Record::to_json).collect();
        serde_json::json!({ "dropped": self.dropped, "requests": requests })
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.dropped = 0;
    }
}

/// Header values with credentials masked: tokens wholly, signatures but not the access key.
pub fn redact_header(name: &str, value: &str) -> String {
    match name {
        "x-auth-token"
        | "x-security-token"
        | "x-subject-token"
        | "cookie"
        | "proxy-authorization" => MASK.to_owned(),
        "authorization" => match value.split_once("Signature=") {
            Some((head, _)) => format!("{head}Signature={MASK}"),
            None => MASK.to_owned(),
        },
        _ => value.to_owned(),
    }
}

/// A body as text with the values of credential-like JSON keys masked.
pub fn redact_body(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            mask_secrets(&mut value);
            value.to_string()
        }
        // Not JSON (cut off, form-encoded, garbage): what follows a credential's name is not
        // shown, whatever its shape.
        Err(_) => mask_loose(&String::from_utf8_lossy(body)),
    }
}

/// Credential names a body or a query string may hold in any shape.
const LOOSE_NAMES: &[&str] = &[
    "password",
    "token",
    "secret",
    "sk",
    "access_key",
    "secret_key",
];

/// `text` cut at the first credential name, the rest masked: a leak is worse than a short log.
pub fn mask_loose(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let first = LOOSE_NAMES
        .iter()
        .filter_map(|name| {
            lower.match_indices(name).map(|(at, _)| at).find(|at| {
                // A name, not part of a longer word.
                *at == 0 || !lower.as_bytes()[at - 1].is_ascii_alphanumeric()
            })
        })
        .min();
    match first {
        Some(at) => {
            let name_end = lower[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(text.len(), |n| at + n);
            format!("{}{MASK}", &text[..name_end])
        }
        None => text.to_owned(),
    }
}

fn mask_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let k = key.to_ascii_lowercase();
                if [
                    "password",
                    "token",
                    "secret",
                    "sk",
                    "access_key",
                    "secret_key",
                ]
                .contains(&k.as_str())
                    && v.is_string()
                {
                    *v = Value::String(MASK.to_owned());
                } else {
                    mask_secrets(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_any_shape_are_masked() {
        let cut = br#"{"auth":{"identity":{"password":{"user":{"name":"u","password":"hunter2"#;
        assert!(!redact_body(cut).contains("hunter2"));
        let form = b"user=u&password=hunter2&domain=d";
        assert!(!redact_body(form).contains("hunter2"));
        assert_eq!(
            mask_loose("type=detail&token=abc"),
            format!("type=detail&token{MASK}")
        );
        assert_eq!(mask_loose("type=detail"), "type=detail");
        assert_eq!(redact_header("proxy-authorization", "Basic dTpw"), MASK);
    }

    #[test]
    fn credentials_are_masked() {
        assert_eq!(redact_header("x-auth-token", "MIIabc"), MASK);
        assert_eq!(
            redact_header(
                "authorization",
                "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=abcd"
            ),
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=<redacted>"
        );
        let body =
            br#"{"auth":{"identity":{"password":{"user":{"name":"u","password":"hunter2"}}}}}"#;
        let shown = redact_body(body);
        assert!(
            !shown.contains("hunter2") && shown.contains("\"name\":\"u\""),
            "{shown}"
        );
    }

    #[test]
    fn the_log_is_bounded() {
        let mut r = Recorder::new(2);
        let request = Arc::new(Incoming {
            method: axum::http::Method::GET,
            path: "/".into(),
            query: None,
            headers: axum::http::HeaderMap::new(),
            body: Default::default(),
        });
        let record = Record {
            seq: 0,
            started_us: 0,
            finished_us: None,
            request,
            status: None,
            fault: None,
        };
        for _ in 0..3 {
            r.arrive(record.clone());
        }
        let snap = r.snapshot();
        assert_eq!(snap["dropped"], 1);
        assert_eq!(snap["requests"][0]["seq"], 2);
    }
}
