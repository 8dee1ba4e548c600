//! Deliberate defects: `--defect RULE_ID` makes the mock break exactly one documented rule, so a
//! conformance check can be shown to catch it. A defect is named by the rule it breaks: the rule
//! IDs are one list ([`crate::drs::RuleId`]), and the routes match on them.
//!
//! What each defect does:
//!
//! | Rule | The mock, with the defect |
//! |---|---|
//! | `stop.path` | serves the stop call at `…/stop-job` instead |
//! | `header.content-type` | accepts a body not declared as JSON |
//! | `header.x-auth-token` | accepts a call without a token |
//! | `header.x-language` | refuses `X-Language: zh-cn` |
//! | `body.is-force-stop.default` | treats an omitted `is_force_stop` as `true` |
//! | `body.is-force-stop.boolean` | accepts `"true"` (a string) |
//! | `body.is-force-stop.force` | ignores `is_force_stop: true` |
//! | `ok.status` | leaves `status` out of the 200 |
//! | `ok.error-code` | puts a 10-character `error_code` in the 200 |
//! | `ok.error-msg` | puts an empty `error_msg` in the 200 |
//! | `ok.id` | puts another task's `id` in the 200 |
//! | `ok.name` | puts a number as `name` in the 200 |
//! | `bad.error-code` | answers 400s with 10-character codes |
//! | `bad.error-msg` | answers 400s with an empty `error_msg` |
//! | `status.documented` | answers a stop of an unknown task 404 |
//! | `example.200` | answers a stop of a healthy task `status: failed`, doing nothing |
//! | `example.400` | answers a stop of an unknown task with `DRS.10000001` |
//! | `async.ends` | never ends an accepted stop |
//! | `answer.json` | declares its error answers `text/plain` (the bytes are still JSON) |
//! | `detail.status` | shows a healthy task's status as `RUNNING`, a word outside the vocabulary |
//! | `detail.type` | serves the detail call without `type=detail` |
//! | `list.job-type` | serves ListJobs without `job_type` |
//! | `list.paging` | gives the page's length as `total_count` |
//! | `list.filters` | ignores ListJobs' `status` filter |
//! | `tags.filter` | ignores the tags of a tag-filter call: every task of the type is listed |
//! | `batch.per-item` | refuses a whole batch (400) when one of its tasks does not exist |
//! | `batch.items` | leaves `error_code` out of a failed batch item |

pub use crate::drs::RuleId as Defect;

/// Every defect with its rule ID, in catalogue order.
pub const ALL: &[(Defect, &str)] = &{
    let mut all = [(Defect::StopPath, ""); Defect::ALL.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = (Defect::ALL[i], Defect::ALL[i].as_str());
        i += 1;
    }
    all
};
