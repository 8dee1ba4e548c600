//! Judging the calls stopbook relies on beyond the stop page: job detail, ListJobs and
//! batch-stop, as drs-api-notes.md §2 and §2a describe them.

use serde_json::Value;

use super::calls::ABNORMAL_FILTER;
use super::{Jobs, Observations, Outcome, Seen, Verdict, over_every, pass_if, verdict};
use crate::check::rules::Rule;
use crate::drs::status;

/// `job.status` of a detail answer, in the vocabulary.
pub(super) fn detail_status(rule: &Rule, o: &Observations, jobs: &Jobs) -> Verdict {
    let existing = jobs.running.len() + jobs.abnormal.len();
    let reads: Vec<&Seen> = o.before.iter().take(existing).collect();
    over_every(
        rule,
        &reads,
        "200 {\"job\": {\"status\"}} with a documented status",
        |s| {
            if s.http() != Some(200) {
                return Some("the detail of an existing task was not answered 200".to_owned());
            }
            match s
                .body()
                .and_then(|b| b.get("job"))
                .and_then(|j| j.get("status"))
            {
                None => Some("no job.status".to_owned()),
                Some(Value::String(w)) if status::is_known(w) => None,
                Some(v) => Some(format!(
                    "job.status {v} is not in the documented vocabulary"
                )),
            }
        },
    )
}

pub(super) fn detail_type(rule: &Rule, o: &Observations) -> Verdict {
    let s = &o.calls.detail_untyped;
    pass_if(rule, s.http() == Some(400), "400: type is required", s)
}

pub(super) fn list_job_type(rule: &Rule, o: &Observations) -> Verdict {
    let s = &o.calls.list_untyped;
    pass_if(rule, s.http() == Some(400), "400: job_type is required", s)
}

/// `total_count` and the jobs of a ListJobs answer.
fn listing(s: &Seen) -> Result<(u64, Vec<&Value>), String> {
    if s.http() != Some(200) {
        return Err("expected 200".to_owned());
    }
    let body = s.body().ok_or("the answer is not JSON")?;
    let total = body
        .get("total_count")
        .and_then(Value::as_u64)
        .ok_or("no total_count integer")?;
    let jobs = body
        .get("jobs")
        .and_then(Value::as_array)
        .ok_or("no jobs list")?;
    Ok((total, jobs.iter().collect()))
}

fn id_of(job: &Value) -> Option<&str> {
    job.get("id").and_then(Value::as_str)
}

/// Pages of one at offsets 0 and 1 are different jobs, and `total_count` counts every match.
pub(super) fn list_paging(rule: &Rule, o: &Observations) -> Verdict {
    let [p0, p1, all] = &o.calls.pages;
    let mut read = Vec::new();
    for s in [p0, p1, all] {
        match listing(s) {
            Ok(l) => read.push(l),
            Err(why) => {
                return verdict(
                    rule,
                    Outcome::Fail,
                    format!("{why}; observed {}", s.shown()),
                    Some(s),
                );
            }
        }
    }
    let (total, listed) = (read[2].0, read[2].1.len() as u64);
    let broken = if read.iter().any(|(t, _)| *t != total) {
        Some((
            p0,
            "total_count differs between pages of the same listing: it counts the page, not every match",
        ))
    } else if listed != total.min(1000) {
        Some((all, "a page of up to 1000 does not hold total_count jobs"))
    } else if read[0].1.len() > 1 || read[1].1.len() > 1 {
        Some((p0, "a page of limit=1 holds more than one job"))
    } else if total >= 2
        && (read[0].1.len() != 1
            || read[1].1.len() != 1
            || id_of(read[0].1[0]) == id_of(read[1].1[0]))
    {
        Some((p1, "offset=1 does not give the next job"))
    } else {
        None
    };
    match broken {
        Some((s, why)) => verdict(
            rule,
            Outcome::Fail,
            format!("{why}; observed {}", s.shown()),
            Some(s),
        ),
        None => verdict(
            rule,
            Outcome::Pass,
            format!("pages of one at offsets 0 and 1, total_count {total} in each"),
            Some(p1),
        ),
    }
}

/// Filtered listings hold only matching jobs, and the job named by its ID.
pub(super) fn list_filters(rule: &Rule, o: &Observations) -> Verdict {
    let (by_name, name) = &o.calls.by_name;
    let wanted: Vec<&str> = ABNORMAL_FILTER.split(',').collect();
    let judged = [&o.calls.by_status, by_name];
    over_every(
        rule,
        &judged,
        "only jobs matching status (comma-joined) or name",
        |s| {
            let (_, jobs) = match listing(s) {
                Ok(l) => l,
                Err(why) => return Some(why),
            };
            let by_status = std::ptr::eq(s, &o.calls.by_status);
            let stray = jobs.iter().find(|j| match by_status {
                true => !j
                    .get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|st| wanted.contains(&st)),
                false => {
                    id_of(j) != Some(name.as_str())
                        && !j
                            .get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.contains(name.as_str()))
                }
            });
            if let Some(j) = stray {
                return Some(format!("{j} does not match the filter"));
            }
            (!by_status && !jobs.iter().any(|j| id_of(j) == Some(name.as_str())))
                .then(|| format!("the job named by its ID ({name}) is not listed"))
        },
    )
}

/// The tag filter: 200 `{total_count, resources}`; a tag no task carries finds none; a page of
/// `limit=1` holds at most one resource, each with its `resource_id`.
pub(super) fn tag_filter(rule: &Rule, o: &Observations) -> Verdict {
    let [absent, page] = &o.calls.tagged;
    let judged = [absent, page];
    over_every(
        rule,
        &judged,
        "200 {total_count, resources}, only tasks carrying the tags",
        |s| {
            if s.http() != Some(200) {
                return Some("expected 200".to_owned());
            }
            let Some(body) = s.body() else {
                return Some("the answer is not JSON".to_owned());
            };
            let total = body.get("total_count").and_then(Value::as_u64);
            let resources = body.get("resources").and_then(Value::as_array);
            let (Some(total), Some(resources)) = (total, resources) else {
                return Some("no total_count integer or no resources list".to_owned());
            };
            if resources
                .iter()
                .any(|r| !r.get("resource_id").is_some_and(Value::is_string))
            {
                return Some("a resource without its resource_id".to_owned());
            }
            match std::ptr::eq(s, absent) {
                true if total > 0 || !resources.is_empty() => Some(format!(
                    "{total} tasks listed for a tag no task carries: the tags are not filtered"
                )),
                false if resources.len() > 1 => {
                    Some("a page of limit=1 holds more than one resource".to_owned())
                }
                _ => None,
            }
        },
    )
}

/// The item of a batch-stop answer for `id`.
fn item<'a>(body: Option<&'a Value>, id: &str) -> Option<&'a Value> {
    body?
        .get("jobs")?
        .as_array()?
        .iter()
        .find(|j| id_of(j) == Some(id))
}

/// One unknown task fails alone, inside a 200; the healthy one stops.
pub(super) fn batch_per_item(rule: &Rule, o: &Observations) -> Verdict {
    let Some((s, [healthy, missing])) = &o.calls.batch else {
        return verdict(
            rule,
            Outcome::Skip,
            "needs 4 healthy tasks (running: in the fixtures)",
            None,
        );
    };
    let word = |id: &str| {
        item(s.body(), id)
            .and_then(|j| j.get("status"))
            .and_then(Value::as_str)
    };
    let ok = s.http() == Some(200)
        && word(healthy) == Some("success")
        && word(missing) == Some("failed");
    pass_if(
        rule,
        ok,
        "200 with the healthy task's item success and the unknown task's item failed",
        s,
    )
}

/// Each item: the task's `id`, `status` success or failed, a failed one its error fields.
pub(super) fn batch_items(rule: &Rule, o: &Observations) -> Verdict {
    let Some((s, ids)) = &o.calls.batch else {
        return verdict(
            rule,
            Outcome::Skip,
            "needs 4 healthy tasks (running: in the fixtures)",
            None,
        );
    };
    let items = s
        .body()
        .and_then(|b| b.get("jobs"))
        .and_then(Value::as_array);
    let (Some(200), Some(items)) = (s.http(), items) else {
        let why = "no 200 answer with a jobs list to inspect (see batch.per-item)";
        return verdict(rule, Outcome::Skip, why, Some(s));
    };
    let broken = items.iter().find_map(|j| {
        let text = |f: &str| j.get(f).and_then(Value::as_str);
        let chars = |f: &str| text(f).map(|t| t.chars().count());
        if !text("id").is_some_and(|id| ids.iter().any(|i| i == id)) {
            return Some(format!("{j}: no id of a task asked for"));
        }
        if j.get("name")
            .is_some_and(|n| !n.is_string() && !n.is_null())
        {
            return Some(format!("{j}: name is not a string"));
        }
        match text("status") {
            Some("success") => None,
            Some("failed") if chars("error_code") != Some(12) => Some(format!(
                "{j}: a failed item without a 12-character error_code"
            )),
            Some("failed") if !chars("error_msg").is_some_and(|n| (1..=512).contains(&n)) => Some(
                format!("{j}: a failed item without an error_msg of 1 to 512 characters"),
            ),
            Some("failed") => None,
            _ => Some(format!("{j}: status is not success or failed")),
        }
    });
    match broken {
        Some(why) => verdict(
            rule,
            Outcome::Fail,
            format!("expected items by their rules; {why}"),
            Some(s),
        ),
        None => verdict(
            rule,
            Outcome::Pass,
            format!(
                "{} items, each with its id, status and (failed) error fields",
                items.len()
            ),
            Some(s),
        ),
    }
}
