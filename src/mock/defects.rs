//! Deliberate defects: `--defect RULE_ID` makes the mock break exactly one documented rule, so a
//! conformance check can be shown to catch it. Each ID names the rule of the stop-task page it
//! breaks (the citation tag in brackets).

use std::fmt;
use std::str::FromStr;

/// A documented rule the mock can break on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// [URI] The stop call is not served at its documented path.
    StopPath,
    /// [T2.content_type] A body not declared as JSON is accepted.
    ContentType,
    /// [T2.x_auth_token] A request without a token is accepted.
    AuthToken,
    /// [T2.x_language] `X-Language: zh-cn` is refused.
    Language,
    /// [T3.is_force_stop] An omitted `is_force_stop` acts as `true`.
    ForceDefault,
    /// [T3.is_force_stop] A non-boolean `is_force_stop` is accepted.
    ForceBoolean,
    /// [T3.is_force_stop] `is_force_stop: true` is ignored.
    ForceIgnored,
    /// [T4.status] The 200 body has no `status`.
    OkStatus,
    /// [T4.error_code] The 200 body carries a 10-character `error_code`.
    OkErrorCode,
    /// [T4.error_msg] The 200 body carries an empty `error_msg`.
    OkErrorMsg,
    /// [T4.id] The 200 body carries another task's `id`.
    OkId,
    /// [T4.name] The 200 body carries a `name` that is not a string.
    OkName,
    /// [T5.error_code] 400 bodies carry 10-character codes.
    BadErrorCode,
    /// [T5.error_msg] 400 bodies carry an empty `error_msg`.
    BadErrorMsg,
    /// [SC.200, SC.400] An unknown task is answered 404.
    StatusCodes,
    /// [EX-200] A stop of a healthy task is answered `status: failed`, and nothing happens.
    Example200,
    /// [EX-400] An unknown task is answered with the generic code `DRS.10000001`.
    Example400,
    /// [EX-REQ] An accepted stop never ends: the task stays RELEASE_RESOURCE_STARTED.
    AsyncEnds,
}

/// Every defect with its rule ID, in catalogue order.
pub const ALL: &[(Defect, &str)] = &[
    (Defect::StopPath, "stop.path"),
    (Defect::ContentType, "header.content-type"),
    (Defect::AuthToken, "header.x-auth-token"),
    (Defect::Language, "header.x-language"),
    (Defect::ForceDefault, "body.is-force-stop.default"),
    (Defect::ForceBoolean, "body.is-force-stop.boolean"),
    (Defect::ForceIgnored, "body.is-force-stop.force"),
    (Defect::OkStatus, "ok.status"),
    (Defect::OkErrorCode, "ok.error-code"),
    (Defect::OkErrorMsg, "ok.error-msg"),
    (Defect::OkId, "ok.id"),
    (Defect::OkName, "ok.name"),
    (Defect::BadErrorCode, "bad.error-code"),
    (Defect::BadErrorMsg, "bad.error-msg"),
    (Defect::StatusCodes, "status.documented"),
    (Defect::Example200, "example.200"),
    (Defect::Example400, "example.400"),
    (Defect::AsyncEnds, "async.ends"),
];

impl Defect {
    /// The rule ID, as `--defect` and the catalogue write it.
    pub fn id(self) -> &'static str {
        ALL.iter()
            .find(|(d, _)| *d == self)
            .map(|(_, id)| *id)
            .unwrap_or("?")
    }
}

impl FromStr for Defect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ALL.iter()
            .find(|(_, id)| *id == s)
            .map(|(d, _)| *d)
            .ok_or_else(|| {
                let ids: Vec<&str> = ALL.iter().map(|(_, id)| *id).collect();
                format!("unknown rule `{s}`; the rules are: {}", ids.join(", "))
            })
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        for (defect, id) in ALL {
            assert_eq!(id.parse::<Defect>().unwrap(), *defect);
            assert_eq!(defect.to_string(), *id);
        }
        let mut ids: Vec<_> = ALL.iter().map(|(_, id)| id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        assert!("nope".parse::<Defect>().unwrap_err().contains("stop.path"));
    }
}
