//! `Retry-After` as a server may send it: seconds, an HTTP date, or anything at all.
//!
//! The value decides how long a whole run pauses, and it comes from a server stopbook does not
//! control, so reading it is total and bounded: a number too large for any clock, a date in the
//! past or far future, or garbage gives a duration no longer than [`MAX_RETRY_AFTER`] (which can
//! always be added to an `Instant`), or none. The run caps it further, at `retry.max_backoff`.

use std::time::{Duration, SystemTime};

/// The longest pause an answer can ask for: a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The pause `value` asks for, as of `now`; `None` when it is neither seconds nor a date.
pub fn parse(value: &[u8], now: SystemTime) -> Option<Duration> {
    let value = std::str::from_utf8(value).ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "very long".
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777) // Sun, 06 Nov 1994 08:49:37 GMT
    }

    #[test]
    fn seconds_are_read_and_capped() {
        assert_eq!(parse(b"5", now()), Some(Duration::from_secs(5)));
        assert_eq!(parse(b" 0 ", now()), Some(Duration::ZERO));
        for huge in [
            &b"18446744073709551615"[..],
            b"99999999999999999999999999999999",
            b"86401",
        ] {
            assert_eq!(parse(huge, now()), Some(MAX_RETRY_AFTER));
        }
    }

    #[test]
    fn dates_are_read_relative_to_now_and_capped() {
        assert_eq!(
            parse(b"Sun, 06 Nov 1994 08:50:37 GMT", now()),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse(b"Sun, 06 Nov 1994 08:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse(b"Fri, 31 Dec 9999 23:59:59 GMT", now()),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn garbage_is_no_pause() {
        for garbage in [
            &b""[..],
            b"-1",
            b"1.5",
            b"soon",
            b"\xff\xfe",
            b"Sun, 99 Nov 1994",
        ] {
            assert_eq!(parse(garbage, now()), None, "{garbage:?}");
        }
    }
}
