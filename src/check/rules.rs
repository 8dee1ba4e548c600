//! The rule catalogue: one entry per documented rule of the stop-task page, with a stable ID,
//! the citation tag of the line it encodes, and what it means. Where a rule is our reading of the
//! page rather than its words, the entry says so.
//!
//! The IDs are one list, [`RuleId`], which `stopbook mock --defect` takes too, so every rule can
//! be shown to fail. Rules about the calls stopbook relies on beyond the stop page (detail,
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

/// A catalogue entry's text: citation tag(s), meaning, our reading or not, rules broken too.
type Entry = (&'static str, &'static str, bool, &'static [RuleId]);

/// The catalogue entry of `id`. Each group matches its own rules and panics on any other; as
/// [`CATALOGUE`] is built at compile time, a rule left out of every group does not compile.
pub const fn rule(id: RuleId) -> Rule {
    let (tag, meaning, reading, breaks_also) = match id {
        RuleId::StopPath
        | RuleId::ContentType
        | RuleId::AuthToken
        | RuleId::Language
        | RuleId::ForceDefault
        | RuleId::ForceBoolean
        | RuleId::ForceIgnored => calls_entry(id),
        RuleId::OkStatus
        | RuleId::OkErrorCode
        | RuleId::OkErrorMsg
        | RuleId::OkId
        | RuleId::OkName
        | RuleId::BadErrorCode
        | RuleId::BadErrorMsg
        | RuleId::StatusCodes
        | RuleId::Example200
        | RuleId::Example400
        | RuleId::AsyncEnds => answers_entry(id),
        RuleId::AnswerJson
        | RuleId::DetailStatus
        | RuleId::DetailType
        | RuleId::ListJobType
        | RuleId::ListPaging
        | RuleId::ListFilters
        | RuleId::TagFilter
        | RuleId::BatchPerItem
        | RuleId::BatchItems => beyond_entry(id),
    };
    Rule {
        id: id.as_str(),
        rule: id,
        tag,
        meaning,
        reading,
        breaks_also,
    }
}

/// Entries of the stop call, its headers and its body.
const fn calls_entry(id: RuleId) -> Entry {
    match id {
        RuleId::StopPath => (
            "[URI]",
            "POST /v5/{project_id}/jobs/{job_id}/stop is the stop call: it is answered, not 404/405",
            false,
            &[],
        ),
        RuleId::ContentType => (
            "[T2.content_type]",
            "Content-Type is mandatory (application/json): a body declared otherwise is refused and changes nothing",
            true,
            &[],
        ),
        RuleId::AuthToken => (
            "[T2.x_auth_token]",
            "X-Auth-Token is mandatory: a call without it is refused with 401 or 403",
            true,
            &[],
        ),
        RuleId::Language => (
            "[T2.x_language]",
            "X-Language takes en-us and zh-cn: both are accepted and answered like a call without it",
            false,
            &[],
        ),
        RuleId::ForceDefault => (
            "[T3.is_force_stop]",
            "is_force_stop is optional and defaults to false: leaving it out behaves exactly like false",
            false,
            &[],
        ),
        RuleId::ForceBoolean => (
            "[T3.is_force_stop]",
            "is_force_stop is a boolean: a string such as \"true\" is refused and changes nothing",
            true,
            &[],
        ),
        RuleId::ForceIgnored => (
            "[T3.is_force_stop]",
            "is_force_stop: true forcibly stops the task: an abnormal task ends RELEASE_RESOURCE_COMPLETE where false does not",
            true,
            &[],
        ),
        _ => panic!("not a rule of this group"),
    }
}

/// Entries of the answers and the page's examples.
const fn answers_entry(id: RuleId) -> Entry {
    match id {
        RuleId::OkStatus => (
            "[T4.status]",
            "a 200 answer carries status, the operation result: one of the two documented words, success or failed",
            false,
            &[RuleId::Example200],
        ),
        RuleId::OkErrorCode => (
            "[T4.error_code]",
            "an error_code in a 200 answer is exactly 12 characters",
            false,
            &[],
        ),
        RuleId::OkErrorMsg => (
            "[T4.error_msg]",
            "an error_msg in a 200 answer is 1 to 512 characters",
            false,
            &[],
        ),
        RuleId::OkId => (
            "[T4.id]",
            "an id in a 200 answer is the task's ID",
            false,
            &[],
        ),
        RuleId::OkName => (
            "[T4.name]",
            "a name in a 200 answer is a string, the task's name",
            false,
            &[],
        ),
        RuleId::BadErrorCode => (
            "[T5.error_code]",
            "a 400 answer carries an error_code of exactly 12 characters",
            false,
            &[RuleId::Example400],
        ),
        RuleId::BadErrorMsg => (
            "[T5.error_msg]",
            "a 400 answer carries an error_msg of 1 to 512 characters",
            false,
            &[],
        ),
        RuleId::StatusCodes => (
            "[SC.200] [SC.400]",
            "with valid credentials a well-formed stop call answers 200 or 400, the documented status codes",
            false,
            &[RuleId::Example400],
        ),
        RuleId::Example200 => (
            "[EX-200]",
            "a stop of a healthy task is answered 200 {\"status\": \"success\"}",
            false,
            &[],
        ),
        RuleId::Example400 => (
            "[EX-400]",
            "a stop of a task that does not exist is answered 400 DRS.10000010",
            false,
            &[],
        ),
        RuleId::AsyncEnds => (
            "[EX-REQ]",
            "the call is asynchronous: an accepted stop leads the task to RELEASE_RESOURCE_COMPLETE",
            true,
            &[],
        ),
        _ => panic!("not a rule of this group"),
    }
}

/// Entries of answers as a whole, and the calls beyond the stop page (drs-api-notes.md).
const fn beyond_entry(id: RuleId) -> Entry {
    match id {
        RuleId::AnswerJson => (
            "[EX-200] [EX-400]",
            "every answer is JSON, as every body the page shows is: declared application/json, and parsing as JSON",
            true,
            &[],
        ),
        RuleId::DetailStatus => (
            "[notes 2]",
            "GET …/jobs/{job_id}?type=detail answers 200 {\"job\": {\"status\"}} with a status in the documented vocabulary",
            false,
            &[],
        ),
        RuleId::DetailType => (
            "[notes 2]",
            "the detail call requires type: without type=detail it is refused with 400",
            false,
            &[],
        ),
        RuleId::ListJobType => (
            "[notes 2a]",
            "ListJobs requires job_type: without it the call is refused with 400",
            false,
            &[],
        ),
        RuleId::ListPaging => (
            "[notes 2a]",
            "ListJobs pages with offset and limit, and total_count counts every match, not the page",
            false,
            &[],
        ),
        RuleId::ListFilters => (
            "[notes 2a]",
            "ListJobs honours status (one or several, comma-joined) and name (a task ID or name): only matching jobs are listed",
            false,
            &[],
        ),
        RuleId::TagFilter => (
            "[notes 2a]",
            "the tag filter (POST …/{resource_type}/resource-instances/filter) answers {total_count, resources}: only tasks carrying the tags, paged by limit",
            false,
            &[],
        ),
        RuleId::BatchPerItem => (
            "[notes 2a]",
            "batch-stop reports per-job failures inside a 200: an unknown task fails alone, the others stop",
            false,
            &[],
        ),
        RuleId::BatchItems => (
            "[notes 2a]",
            "each batch-stop item carries the task's id and status success or failed; a failed one an error_code of 12 characters and an error_msg of 1 to 512",
            false,
            &[],
        ),
        _ => panic!("not a rule of this group"),
    }
}

/// Every rule, in the order the suite reports them.
pub const CATALOGUE: &[Rule] = &{
    let mut all = [rule(RuleId::StopPath); RuleId::ALL.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = rule(RuleId::ALL[i]);
        i += 1;
    }
    all
};

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
        }
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
