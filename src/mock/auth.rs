//! Who may call: an IAM token, or an AK/SK signature (`SDK-HMAC-SHA256`). Any failure is 401
//! `APIGW.0301`, as documented; five bad signatures in a row lock the AK for five minutes.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use super::errors::ApiError;
use super::routes::Incoming;
use super::{Defect, Shared, lock};
use crate::api::signing;

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

/// `YYYYMMDDTHHMMSSZ` as a point in time.
fn parse_sdk_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<u64>().ok();
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y as i64, mo as i64, d as i64);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + mi * 60 + s;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A point in time as `YYYY-MM-DDTHH:MM:SS.000000Z`, as IAM writes `expires_at`.
pub fn iso8601(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_dates_and_iso_times() {
        let t = parse_sdk_date("20191115T033655Z").unwrap();
        assert_eq!(iso8601(t), "2019-11-15T03:36:55.000000Z");
        assert_eq!(
            iso8601(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000Z"
        );
        assert!(parse_sdk_date("2019-11-15T03:36:55Z").is_none());
        assert!(parse_sdk_date("20191315T033655Z").is_none());
    }
}
