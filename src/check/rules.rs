//! The rule catalogue: one entry per documented rule of the stop-task page, with a stable ID,
//! the citation tag of the line it encodes, and what it means. Where a rule is our reading of the
//! page rather than its words, the entry says so.
//!
//! The IDs are the ones `stopbook mock --defect` takes, so every rule can be shown to fail.

/// One documented rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable ID, e.g. `header.x-auth-token`; what `conform --rules` and `mock --defect` name.
    pub id: &'static str,
    /// The citation tag(s) in stop-task-api.md.
    pub tag: &'static str,
    /// What the rule says, in one line: the claim a verdict checks.
    pub meaning: &'static str,
    /// True where the check is our reading of the page, not its words.
    pub reading: bool,
}

/// Every rule, in the order the suite reports them.
pub const CATALOGUE: &[Rule] = &[
    Rule {
        id: "stop.path",
        tag: "[URI]",
        meaning: "POST /v5/{project_id}/jobs/{job_id}/stop is the stop call: it is answered, not 404/405",
        reading: false,
    },
    Rule {
        id: "header.content-type",
        tag: "[T2.content_type]",
        meaning: "Content-Type is mandatory (application/json): a body declared otherwise is refused and changes nothing",
        reading: true,
    },
    Rule {
        id: "header.x-auth-token",
        tag: "[T2.x_auth_token]",
        meaning: "X-Auth-Token is mandatory: a call without it is refused with 401 or 403",
        reading: true,
    },
    Rule {
        id: "header.x-language",
        tag: "[T2.x_language]",
        meaning: "X-Language takes en-us and zh-cn: both are accepted and answered like a call without it",
        reading: false,
    },
    Rule {
        id: "body.is-force-stop.default",
        tag: "[T3.is_force_stop]",
        meaning: "is_force_stop is optional and defaults to false: leaving it out behaves exactly like false",
        reading: false,
    },
    Rule {
        id: "body.is-force-stop.boolean",
        tag: "[T3.is_force_stop]",
        meaning: "is_force_stop is a boolean: a string such as \"true\" is refused and changes nothing",
        reading: true,
    },
    Rule {
        id: "body.is-force-stop.force",
        tag: "[T3.is_force_stop]",
        meaning: "is_force_stop: true forcibly stops the task: an abnormal task ends RELEASE_RESOURCE_COMPLETE where false does not",
        reading: true,
    },
    Rule {
        id: "ok.status",
        tag: "[T4.status]",
        meaning: "a 200 answer carries status, the operation result (success or failed)",
        reading: false,
    },
    Rule {
        id: "ok.error-code",
        tag: "[T4.error_code]",
        meaning: "an error_code in a 200 answer is exactly 12 characters",
        reading: false,
    },
    Rule {
        id: "ok.error-msg",
        tag: "[T4.error_msg]",
        meaning: "an error_msg in a 200 answer is 1 to 512 characters",
        reading: false,
    },
    Rule {
        id: "ok.id",
        tag: "[T4.id]",
        meaning: "an id in a 200 answer is the task's ID",
        reading: false,
    },
    Rule {
        id: "ok.name",
        tag: "[T4.name]",
        meaning: "a name in a 200 answer is a string, the task's name",
        reading: false,
    },
    Rule {
        id: "bad.error-code",
        tag: "[T5.error_code]",
        meaning: "a 400 answer carries an error_code of exactly 12 characters",
        reading: false,
    },
    Rule {
        id: "bad.error-msg",
        tag: "[T5.error_msg]",
        meaning: "a 400 answer carries an error_msg of 1 to 512 characters",
        reading: false,
    },
    Rule {
        id: "status.documented",
        tag: "[SC.200] [SC.400]",
        meaning: "with valid credentials the stop call answers 200 or 400, the documented status codes",
        reading: false,
    },
    Rule {
        id: "example.200",
        tag: "[EX-200]",
        meaning: "a stop of a healthy task is answered 200 {\"status\": \"success\"}",
        reading: false,
    },
    Rule {
        id: "example.400",
        tag: "[EX-400]",
        meaning: "a stop of a task that does not exist is answered 400 DRS.10000010",
        reading: false,
    },
    Rule {
        id: "async.ends",
        tag: "[EX-REQ]",
        meaning: "the call is asynchronous: an accepted stop leads the task to RELEASE_RESOURCE_COMPLETE",
        reading: true,
    },
];

/// The rule with ID `id`.
pub fn find(id: &str) -> Option<&'static Rule> {
    CATALOGUE.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::defects;

    #[test]
    fn every_rule_has_a_defect_and_every_defect_a_rule() {
        let rules: Vec<&str> = CATALOGUE.iter().map(|r| r.id).collect();
        let defects: Vec<&str> = defects::ALL.iter().map(|(_, id)| *id).collect();
        assert_eq!(rules, defects);
    }

    #[test]
    fn every_tag_cites_the_reference() {
        let reference = include_str!("../../docs/stop-task-api.md");
        for rule in CATALOGUE {
            for tag in rule.tag.split_whitespace() {
                assert!(
                    reference.contains(tag),
                    "{} cites {tag}, which the reference does not have",
                    rule.id
                );
            }
        }
    }
}
