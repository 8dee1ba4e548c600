//! Who may call: an IAM token, or an AK/SK signature (`SDK-HMAC-SHA256`). Any failure is 401
//! `APIGW.0301`, as documented; five bad signatures in a row lock the AK for five minutes.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use super::errors::ApiError;
use super::incoming::Incoming;
use super::{Defect, Shared, lock};
use crate::api::signing;
use crate::timestamp::parse_sdk_date;

/// Bad signatures in a row that lock an access key, and for how long [doc].
const LOCK_AFTER: u32 = 5;
const LOCK_FOR: Duration = Duration::from_secs(300);
/// How far a request's `X-Sdk-Date` may be from the mock's clock [doc].
const CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default)]
pub struct AuthState {
    /// Tokens issued by the IAM endpoint.
    pub issued: HashSet<String>,
    /// Per access key: bad signatures in a row, and the end of a lock.
    failures: HashMap<String, (u32, Option<Instant>)>,
}

pub fn check(shared: &Shared, incoming: &Incoming) -> Result<(), ApiError> {
    if shared.defect(Defect::AuthToken) {
        return Ok(());
    }
    if shared.revoked.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(ApiError::unauthorized("the credentials were revoked"));
    }
    if let Some(value) = incoming.header("authorization")
        && value.starts_with(signing::ALGORITHM)
    {
        return check_signature(shared, incoming, value);
    }
    let Some(token) = incoming.header("x-auth-token").filter(|t| !t.is_empty()) else {
        return Err(ApiError::unauthorized("no X-Auth-Token or signature"));
    };
    match (&shared.config.token, &shared.config.aksk) {
        (Some(expected), _) if token == expected.expose() => Ok(()),
        (None, None) => Ok(()),
        _ if lock(&shared.auth).issued.contains(token) => Ok(()),
        _ => Err(ApiError::unauthorized("the token is invalid or expired")),
    }
}

fn check_signature(shared: &Shared, incoming: &Incoming, value: &str) -> Result<(), ApiError> {
    let Some((ak, sk)) = &shared.config.aksk else {
        return Err(ApiError::unauthorized(
            "AK/SK authentication is not enabled",
        ));
    };
    let Some(auth) = signing::parse_authorization(value) else {
        return Err(ApiError::unauthorized("malformed Authorization header"));
    };
    if auth.access != ak {
        return Err(ApiError::unauthorized("unknown access key"));
    }
    let now = Instant::now();
    let mut state = lock(&shared.auth);
    let entry = state.failures.entry(ak.clone()).or_default();
    if let Some(until) = entry.1 {
        if now < until {
            return Err(ApiError::unauthorized(
                "the access key is locked after repeated bad signatures",
            ));
        }
        *entry = (0, None);
    }
    let verdict = verify(incoming, &auth, sk);
    match verdict {
        Ok(()) => {
            *entry = (0, None);
            Ok(())
        }
        Err(reason) => {
            entry.0 += 1;
            if entry.0 >= LOCK_AFTER {
                entry.1 = Some(now + LOCK_FOR);
            }
            Err(ApiError::unauthorized(reason))
        }
    }
}

fn verify(
    incoming: &Incoming,
    auth: &signing::Authorization<'_>,
    sk: &crate::secret::Secret,
) -> Result<(), &'static str> {
    if !auth.signed_headers.contains(&"x-sdk-date") {
        return Err("x-sdk-date must be signed");
    }
    let date = incoming
        .header("x-sdk-date")
        .ok_or("no X-Sdk-Date header")?;
    let when = parse_sdk_date(date).ok_or("X-Sdk-Date is not YYYYMMDDTHHMMSSZ")?;
    let skew = SystemTime::now()
        .duration_since(when)
        .unwrap_or_else(|e| e.duration());
    if skew > CLOCK_SKEW {
        return Err("X-Sdk-Date is more than 15 minutes from the server's clock");
    }
    let mut headers = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = incoming.header(name).ok_or("a signed header is missing")?;
        headers.push((*name, value));
    }
    let request = signing::Request {
        method: incoming.method.as_str(),
        path: &incoming.path,
        query: incoming.query.as_deref(),
        headers: &headers,
        body: &incoming.body,
        date,
    };
    if signing::verify(sk.expose().as_bytes(), &request, auth.signature) {
        Ok(())
    } else {
        Err("verify aksk signature fail")
    }
}
