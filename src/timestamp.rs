//! The clock's text forms, in one home on top of `humantime`: RFC 3339 in UTC for reports,
//! journals and locks; `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`, half of the AK/SK signing header
//! format) and IAM's `YYYY-MM-DDTHH:MM:SS.000000Z` for the wire. The client, the mock and the
//! reports all write and read times through these functions.

use std::time::SystemTime;

/// `t` as RFC 3339 in UTC with milliseconds: `2026-12-01T02:00:03.250Z`.
pub fn rfc3339_millis(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// `t` as RFC 3339 in UTC to the second: `2026-12-01T02:00:03Z`.
pub fn rfc3339_seconds(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// An RFC 3339 time in UTC, with any fraction of a second or none.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(text).ok()
}

/// `YYYYMMDDTHHMMSSZ` for `X-Sdk-Date`.
pub fn sdk_date(t: SystemTime) -> String {
    rfc3339_seconds(t).replace(['-', ':'], "")
}

/// `YYYYMMDDTHHMMSSZ` as a point in time.
pub fn parse_sdk_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !text.is_ascii() {
        return None;
    }
    let (date, time) = (&text[..8], &text[9..15]);
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[0..4],
        &date[4..6],
        &date[6..8],
        &time[0..2],
        &time[2..4],
        &time[4..6]
    );
    parse_rfc3339(&rfc)
}

/// `t` as IAM writes `issued_at` and `expires_at`: `YYYY-MM-DDTHH:MM:SS.000000Z`.
pub fn iam_time(t: SystemTime) -> String {
    rfc3339_seconds(t).replace('Z', ".000000Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sdk_dates_and_iam_times() {
        let t = parse_sdk_date("20191115T033655Z").unwrap();
        assert_eq!(iam_time(t), "2019-11-15T03:36:55.000000Z");
        assert_eq!(sdk_date(t), "20191115T033655Z");
        assert_eq!(
            iam_time(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000Z"
        );
        assert!(parse_sdk_date("2019-11-15T03:36:55Z").is_none());
        assert!(parse_sdk_date("20191315T033655Z").is_none());
        assert!(parse_sdk_date("2019111５T0336Z").is_none());
    }

    #[test]
    fn rfc3339_in_utc_with_milliseconds() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_090_403_250);
        assert_eq!(rfc3339_millis(t), "2026-12-01T02:00:03.250Z");
        assert_eq!(
            rfc3339_millis(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(rfc3339_seconds(t), "2026-12-01T02:00:03Z");
        assert_eq!(parse_rfc3339("2026-12-01T02:00:03.250Z"), Some(t));
        assert_eq!(parse_rfc3339(&rfc3339_millis(t)), Some(t));
    }
}
