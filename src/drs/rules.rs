//! The IDs of the documented rules: one list, shared by the conformance catalogue (`check`) and
//! the mock's deliberate defects (`mock --defect`). Both match on [`RuleId`] exhaustively, so a
//! rule added here without a check or a defect does not compile.

/// Declares the rule IDs: the enum, its text forms and the list of all of them, in order.
macro_rules! rule_ids {
    ($($(#[$doc:meta])* $variant:ident = $id:literal,)*) => {
        /// A documented rule, by its stable ID (e.g. `header.x-auth-token`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId {
            $($(#[$doc])* $variant,)*
        }

        impl RuleId {
            /// Every rule, in the order the suite reports them.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)*];

            /// The stable ID, as `conform --rules`, `mock --defect` and the reports write it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)*
                }
            }
        }
    };
}

rule_ids! {
    /// [URI] The stop call is served at its documented path.
    StopPath = "stop.path",
    /// [T2.content_type] A body not declared as JSON is refused.
    ContentType = "header.content-type",
    /// [T2.x_auth_token] A call without a token is refused.
    AuthToken = "header.x-auth-token",
    /// [T2.x_language] `en-us` and `zh-cn` are accepted.
    Language = "header.x-language",
    /// [T3.is_force_stop] Leaving `is_force_stop` out behaves like `false`.
    ForceDefault = "body.is-force-stop.default",
    /// [T3.is_force_stop] A non-boolean `is_force_stop` is refused.
    ForceBoolean = "body.is-force-stop.boolean",
    /// [T3.is_force_stop] `is_force_stop: true` forces.
    ForceIgnored = "body.is-force-stop.force",
    /// [T4.status] A 200 carries `status`, success or failed.
    OkStatus = "ok.status",
    /// [T4.error_code] An `error_code` in a 200 is 12 characters.
    OkErrorCode = "ok.error-code",
    /// [T4.error_msg] An `error_msg` in a 200 is 1 to 512 characters.
    OkErrorMsg = "ok.error-msg",
    /// [T4.id] An `id` in a 200 is the task's.
    OkId = "ok.id",
    /// [T4.name] A `name` in a 200 is a string.
    OkName = "ok.name",
    /// [T5.error_code] A 400 carries a 12-character `error_code`.
    BadErrorCode = "bad.error-code",
    /// [T5.error_msg] A 400 carries an `error_msg` of 1 to 512 characters.
    BadErrorMsg = "bad.error-msg",
    /// [SC.200] [SC.400] Well-formed calls are answered 200 or 400.
    StatusCodes = "status.documented",
    /// [EX-200] A stop of a healthy task is answered 200 `{"status": "success"}`.
    Example200 = "example.200",
    /// [EX-400] A stop of an unknown task is answered 400 `DRS.10000010`.
    Example400 = "example.400",
    /// [EX-REQ] An accepted stop ends.
    AsyncEnds = "async.ends",
    /// [EX-200] [EX-400] Every answer is JSON, declared as such.
    AnswerJson = "answer.json",
    /// drs-api-notes §2: a task's detail shows `job.status` in the documented vocabulary.
    DetailStatus = "detail.status",
    /// drs-api-notes §2: the detail call requires `type`.
    DetailType = "detail.type",
    /// drs-api-notes §2a: ListJobs requires `job_type`.
    ListJobType = "list.job-type",
    /// drs-api-notes §2a: ListJobs pages with `offset` and `limit`; `total_count` counts all.
    ListPaging = "list.paging",
    /// drs-api-notes §2a: ListJobs honours `status` (comma-joined) and `name`.
    ListFilters = "list.filters",
    /// drs-api-notes §2a: the tag filter answers `{total_count, resources}`, only tagged matches.
    TagFilter = "tags.filter",
    /// drs-api-notes §2a: batch-stop reports per-job failures inside a 200.
    BatchPerItem = "batch.per-item",
    /// drs-api-notes §2a: each batch-stop item carries its fields, by their rules.
    BatchItems = "batch.items",
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RuleId {
    type Err = super::Invalid;
    fn from_str(s: &str) -> Result<Self, super::Invalid> {
        RuleId::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                super::Invalid::Rule {
                    given: s.to_owned(),
                    known: ids.join(", "),
                }
            })
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        for rule in RuleId::ALL {
            assert_eq!(rule.as_str().parse::<RuleId>().unwrap(), *rule);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RuleId::ALL.len());
        assert!(
            "nope"
                .parse::<RuleId>()
                .unwrap_err()
                .to_string()
                .contains("stop.path")
        );
    }
}
