//! The rule catalogue: one entry per documented rule of the stop-task page, with a stable ID,
//! the citation tag of the line it encodes, and what it means. Where a rule is our reading of the
//! page rather than its words, the entry says so.
//!
//! The IDs are one list, [`RuleId`], which `stopbook mock --defect` takes too, so every rule can
//! be shown to fail. The catalogue is one table, as data, checked at compile time to follow
//! that list entry for entry. Rules about the calls stopbook relies on beyond the stop page (detail,
//! ListJobs, batch-stop) cite sections of drs-api-notes.md.

use crate::drs::RuleId;

/// One documented rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable ID, e.g. `header.x-auth-token`; what `conform --rules` and `mock --defect` name.
    pub id: &'static str,
    /// The same ID, as the one list of rules has it.
    pub rule: RuleId,
    /// The citation tag(s): in stop-task-api.md, or `[notes 2]`/`[notes 2a]` for sections of
    /// drs-api-notes.md.
    pub tag: &'static str,
    /// What the rule says, in one line: the claim a verdict checks.
    pub meaning: &'static str,
    /// True where the check is our reading of the page, not its words.
    pub reading: bool,
    /// Rules a server breaking this one breaks too, by what they say (the page's 400 example
    /// is a 400 with a 12-character code: a server breaking either breaks the example). The
    /// self-test and the precision matrix allow these, and only these, to fail beside it.
    pub breaks_also: &'static [RuleId],
}

/// The rule is the page's own words.
const WORDS: bool = false;
/// The rule is our reading of the page.
const READING: bool = true;

/// The entry of `rule`: its citation tag(s), whether it is our reading, what it means, and the
/// rules a server breaking it breaks too.
const fn entry(
    rule: RuleId,
    tag: &'static str,
    reading: bool,
    meaning: &'static str,
    breaks_also: &'static [RuleId],
) -> Rule {
    Rule {
        id: rule.as_str(),
        rule,
        tag,
        meaning,
        reading,
        breaks_also,
    }
}

/// Every rule, in the order of the one list ([`RuleId::ALL`]) and of the suite's reports.
pub const CATALOGUE: &[Rule] = &[
    // The stop call, its headers and its body.
    entry(
        RuleId::StopPath,
        "[URI]",
        WORDS,
        "POST /v5/{project_id}/jobs/{job_id}/stop is the stop call: it is answered, not 404/405",
        &[],
    ),
    entry(
        RuleId::ContentType,
        "[T2.content_type]",
        READING,
        "Content-Type is mandatory (application/json): a body declared otherwise is refused and changes nothing",
        &[],
    ),
    entry(
        RuleId::AuthToken,
        "[T2.x_auth_token]",
        READING,
        "X-Auth-Token is mandatory: a call without it is refused with 401 or 403",
        &[],
    ),
    entry(
        RuleId::Language,
        "[T2.x_language]",
        WORDS,
        "X-Language takes en-us and zh-cn: both are accepted and answered like a call without it",
        &[],
    ),
    entry(
        RuleId::ForceDefault,
        "[T3.is_force_stop]",
        WORDS,
        "is_force_stop is optional and defaults to false: leaving it out behaves exactly like false",
        &[],
    ),
    entry(
        RuleId::ForceBoolean,
        "[T3.is_force_stop]",
        READING,
        "is_force_stop is a boolean: a string such as \"true\" is refused and changes nothing",
        &[],
    ),
    entry(
        RuleId::ForceIgnored,
        "[T3.is_force_stop]",
        READING,
        "is_force_stop: true forcibly stops the task: an abnormal task ends RELEASE_RESOURCE_COMPLETE where false does not",
        &[],
    ),
    // The answers, and the page's examples.
    entry(
        RuleId::OkStatus,
        "[T4.status]",
        WORDS,
        "a 200 answer carries status, the operation result: one of the two documented words, success or failed",
        &[RuleId::Example200],
    ),
    entry(
        RuleId::OkErrorCode,
        "[T4.error_code]",
        WORDS,
        "an error_code in a 200 answer is exactly 12 characters",
        &[],
    ),
    entry(
        RuleId::OkErrorMsg,
        "[T4.error_msg]",
        WORDS,
        "an error_msg in a 200 answer is 1 to 512 characters",
        &[],
    ),
    entry(
        RuleId::OkId,
        "[T4.id]",
        WORDS,
        "an id in a 200 answer is the task's ID",
        &[],
    ),
    entry(
        RuleId::OkName,
        "[T4.name]",
        WORDS,
        "a name in a 200 answer is a string, the task's name",
        &[],
    ),
    entry(
        RuleId::BadErrorCode,
        "[T5.error_code]",
        WORDS,
        "a 400 answer carries an error_code of exactly 12 characters",
        &[RuleId::Example400],
    ),
    entry(
        RuleId::BadErrorMsg,
        "[T5.error_msg]",
        WORDS,
        "a 400 answer carries an error_msg of 1 to 512 characters",
        &[],
    ),
    entry(
        RuleId::StatusCodes,
        "[SC.200] [SC.400]",
        WORDS,
        "with valid credentials a well-formed stop call answers 200 or 400, the documented status codes",
        &[RuleId::Example400],
    ),
    entry(
        RuleId::Example200,
        "[EX-200]",
        WORDS,
        "a stop of a healthy task is answered 200 {\"status\": \"success\"}",
        &[],
    ),
    entry(
        RuleId::Example400,
        "[EX-400]",
        WORDS,
        "a stop of a task that does not exist is answered 400 DRS.10000010",
        &[],
    ),
    entry(
        RuleId::AsyncEnds,
        "[EX-REQ]",
        READING,
        "the call is asynchronous: an accepted stop leads the task to RELEASE_RESOURCE_COMPLETE",
        &[],
    ),
    // Answers as a whole, and the calls beyond the stop page (drs-api-notes.md).
    entry(
        RuleId::AnswerJson,
        "[EX-200] [EX-400]",
        READING,
        "every answer is JSON, as every body the page shows is: declared application/json, and parsing as JSON",
        &[],
    ),
    entry(
        RuleId::DetailStatus,
        "[notes 2]",
        WORDS,
        "GET …/jobs/{job_id}?type=detail answers 200 {\"job\": {\"status\"}} with a status in the documented vocabulary",
        &[],
    ),
    entry(
        RuleId::DetailType,
        "[notes 2]",
        WORDS,
        "the detail call requires type: without type=detail it is refused with 400",
        &[],
    ),
    entry(
        RuleId::ListJobType,
        "[notes 2a]",
        WORDS,
        "ListJobs requires job_type: without it the call is refused with 400",
        &[],
    ),
    entry(
        RuleId::ListPaging,
        "[notes 2a]",
        WORDS,
        "ListJobs pages with offset and limit, and total_count counts every match, not the page",
        &[],
    ),
    entry(
        RuleId::ListFilters,
        "[notes 2a]",
        WORDS,
        "ListJobs honours status (one or several, comma-joined) and name (a task ID or name): only matching jobs are listed",
        &[],
    ),
    entry(
        RuleId::TagFilter,
        "[notes 2a]",
        WORDS,
        "the tag filter (POST …/{resource_type}/resource-instances/filter) answers {total_count, resources}: only tasks carrying the tags, paged by limit",
        &[],
    ),
    entry(
        RuleId::BatchPerItem,
        "[notes 2a]",
        WORDS,
        "batch-stop reports per-job failures inside a 200: an unknown task fails alone, the others stop",
        &[],
    ),
    entry(
        RuleId::BatchItems,
        "[notes 2a]",
        WORDS,
        "each batch-stop item carries the task's id and status success or failed; a failed one an error_code of 12 characters and an error_msg of 1 to 512",
        &[],
    ),
];

// The catalogue is [`RuleId::ALL`], entry for entry: a rule left out, or out of order, does not
// compile.
const _: () = {
    assert!(CATALOGUE.len() == RuleId::ALL.len());
    let mut i = 0;
    while i < CATALOGUE.len() {
        assert!(CATALOGUE[i].rule as usize == RuleId::ALL[i] as usize);
        i += 1;
    }
};

/// The catalogue entry of `id`.
pub fn rule(id: RuleId) -> Option<&'static Rule> {
    CATALOGUE.iter().find(|r| r.rule == id)
}

/// The rule with ID `id`.
pub fn find(id: &str) -> Option<&'static Rule> {
    CATALOGUE.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_follows_the_one_list() {
        let ids: Vec<&str> = CATALOGUE.iter().map(|r| r.id).collect();
        let all: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(ids, all);
        for rule in CATALOGUE {
            assert!(!rule.breaks_also.contains(&rule.rule), "{}", rule.id);
            assert_eq!(rule.id, rule.rule.as_str());
        }
        for id in RuleId::ALL {
            assert_eq!(super::rule(*id).map(|r| r.rule), Some(*id));
            assert_eq!(find(id.as_str()).map(|r| r.rule), Some(*id));
        }
        assert!(find("header.nope").is_none());
    }

    #[test]
    fn every_tag_cites_the_reference() {
        let reference = include_str!("../../docs/stop-task-api.md");
        let notes = include_str!("../../docs/drs-api-notes.md");
        for rule in CATALOGUE {
            if let Some(section) = rule.tag.strip_prefix("[notes ") {
                let section = section.trim_end_matches(']');
                assert!(
                    notes.contains(&format!("# {section}. ")),
                    "{} cites section {section} of drs-api-notes.md, which has none",
                    rule.id
                );
                continue;
            }
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
