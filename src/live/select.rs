//! A runbook's `select`s resolved against the target: each query paged through ListJobs (and
//! the tag-filter call when it names tags, the two intersected), filtered by its glob, the jobs
//! listed anywhere in the runbook and those an earlier select found left out, ordered by name
//! then ID, and checked against `max`. The matched jobs become stops of their phase, with the
//! phase's settings and their names.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::listing::{self, Page, Query, Walk};
use super::{LiveError, Pace, read, refused};
use crate::api::client::{Answer, Client};
use crate::drs::JobId;
use crate::runbook::Runbook;
use crate::runbook::model::{Retry, Select, Stop};

/// Jobs per page: the most ListJobs and the tag filter take.
const PAGE: usize = 1000;
/// How long one read may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Times a listing is read again when the set changed while it was paged through.
const REREADS: usize = 3;
/// The most results a listing is paged through (100 pages), or the select's `max` when that is
/// more: a server that says more is not believed, and nothing is read past its first page.
pub const MOST: usize = 100_000;

/// Why the selects cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// Reading live state failed (exit 3).
    #[error(transparent)]
    Live(#[from] LiveError),
    /// A select matched more jobs than its `max` (exit 2: nothing is sent).
    #[error(
        "phase `{phase}`: the select matched {found} jobs, more than its `max: {max}`; nothing was sent"
    )]
    TooMany {
        /// The phase.
        phase: String,
        /// How many it matched.
        found: usize,
        /// Its guard.
        max: u32,
    },
}

/// A job a select found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The task ID.
    pub id: JobId,
    /// The task name ListJobs gave.
    pub name: String,
}

/// Resolves every phase's `select` in `runbook`, appending the jobs found to their phase.
pub async fn resolve(runbook: &mut Runbook, client: &Client) -> Result<(), SelectError> {
    let pace = Pace::new(runbook.limits.concurrency, runbook.limits.rate);
    let mut claimed: HashSet<JobId> = runbook.stops().map(|(_, s)| s.job).collect();
    for phase in &mut runbook.phases {
        let Some(select) = &phase.select else {
            continue;
        };
        let found = matches(select, &phase.settings.retry, client, &pace).await?;
        let found: Vec<Found> = found
            .into_iter()
            .filter(|f| !claimed.contains(&f.id))
            .collect();
        if found.len() > select.max as usize {
            return Err(SelectError::TooMany {
                phase: phase.name.clone(),
                found: found.len(),
                max: select.max,
            });
        }
        for f in found {
            claimed.insert(f.id);
            phase.stops.push(Stop {
                job: f.id,
                label: None,
                name: Some(f.name),
                settings: Arc::clone(&phase.settings),
            });
        }
    }
    Ok(())
}

/// Every job `select` matches on the target, by name then ID.
pub async fn matches(
    select: &Select,
    retry: &Retry,
    client: &Client,
    pace: &Pace,
) -> Result<Vec<Found>, LiveError> {
    let listed = list_jobs(select, retry, client, pace).await?;
    let tagged = match select.tags.is_empty() {
        true => None,
        false => Some(tag_filter(select, retry, client, pace).await?),
    };
    let mut found: Vec<Found> = listed
        .into_iter()
        .filter(|f| tagged.as_ref().is_none_or(|t| t.contains(&f.id)))
        .filter(|f| select.name_glob.as_ref().is_none_or(|g| g.matches(&f.name)))
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(found)
}

/// Pages through ListJobs with the select's filters: the first page gives the total, the rest
/// are read at once within the limits. A set that changes while it is read is read again.
async fn list_jobs(
    select: &Select,
    retry: &Retry,
    client: &Client,
    pace: &Pace,
) -> Result<Vec<Found>, LiveError> {
    let status = select.status.join(",");
    let mut query = Query::new(select.job_type.as_str(), PAGE);
    if !status.is_empty() {
        query = query.filter("status", &status);
    }
    if let Some(name) = &select.name {
        query = query.filter("name", name);
    }
    if let Some(ep) = &select.enterprise_project_id {
        query = query.filter("enterprise_project_id", ep);
    }
    let page = |offset: usize| {
        let query = query.page(offset);
        async move {
            let call = || client.list_jobs(&query, TIMEOUT);
            let answer = read(pace, retry, "ListJobs", call).await?;
            page_of(&answer, ("ListJobs", "jobs", "id"), |item| {
                job_item(item, select)
            })
        }
    };
    paged(page, pace, MOST.max(select.max as usize)).await
}

/// One ListJobs item, if it is a job the select may take: every filter the server applied is
/// checked again here (an item that lacks a field a filter needs is not taken), so a server
/// that ignores one cannot put a job in the plan that the query does not describe.
fn job_item(item: &Value, select: &Select) -> Result<Option<Found>, BadItem> {
    let found = found(item, "id", "name")?;
    let text = |key: &str| item.get(key).and_then(Value::as_str);
    let status_ok =
        select.status.is_empty() || text("status").is_some_and(|s| select.status.contains(&s));
    let type_ok = text("job_type") == Some(select.job_type.as_str());
    let name_ok = select
        .name
        .as_ref()
        .is_none_or(|n| server_name_match(n, &found));
    let project_ok = select
        .enterprise_project_id
        .as_ref()
        .filter(|want| !want.is_empty())
        .is_none_or(|want| text("enterprise_project_id") == Some(want.as_str()));
    Ok((status_ok && type_ok && name_ok && project_ok).then_some(found))
}

/// ListJobs' `name`: the task's ID, or a part of its name (case aside: the server's own match
/// is not documented further, so the check is the loosest one that still excludes a stranger).
fn server_name_match(name: &str, found: &Found) -> bool {
    found.id.as_str() == name || found.name.to_lowercase().contains(&name.to_lowercase())
}

/// One tag-filter resource, if it carries every tag the select names (with an allowed value):
/// its own `tags` are checked, so a server that ignores the filter cannot add a job.
fn tag_item(item: &Value, select: &Select) -> Result<Option<Found>, BadItem> {
    let found = found(item, "resource_id", "resource_name")?;
    let tags = item.get("tags").and_then(Value::as_array);
    let has = |key: &str, values: &[String]| {
        tags.into_iter().flatten().any(|t| {
            t.get("key").and_then(Value::as_str) == Some(key)
                && t.get("value")
                    .and_then(Value::as_str)
                    .is_some_and(|v| values.iter().any(|w| w == v))
        })
    };
    let ok = select.tags.iter().all(|(key, values)| has(key, values));
    Ok(ok.then_some(found))
}

/// The IDs the tag filter finds for the select's tags and type.
async fn tag_filter(
    select: &Select,
    retry: &Retry,
    client: &Client,
    pace: &Pace,
) -> Result<HashSet<JobId>, LiveError> {
    let tags: Vec<Value> = select
        .tags
        .iter()
        .map(|(key, values)| json!({"key": key, "values": values}))
        .collect();
    let body = json!({"without_any_tag": false, "tags": tags});
    let page = |offset: usize| {
        let body = &body;
        async move {
            let call = || client.tag_filter(select.job_type.as_str(), offset, PAGE, body, TIMEOUT);
            let answer = read(pace, retry, "the tag filter", call).await?;
            let what = ("the tag filter", "resources", "resource_id");
            page_of(&answer, what, |item| tag_item(item, select))
        }
    };
    Ok(paged(page, pace, MOST.max(select.max as usize))
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect())
}

/// A listed item that names no job stopbook could stop.
#[derive(Debug, thiserror::Error)]
enum BadItem {
    /// It has no ID field.
    #[error("an item without `{0}`")]
    NoId(String),
    /// Its ID is not a job ID.
    #[error("item `{text}`: {source}")]
    BadId {
        /// The ID as listed.
        text: String,
        /// Why it is not a job ID.
        source: crate::drs::Invalid,
    },
}

/// A job's ID and name from the fields `id` and `name` of `item`.
fn found(item: &Value, id: &str, name: &str) -> Result<Found, BadItem> {
    let text = item
        .get(id)
        .and_then(Value::as_str)
        .ok_or_else(|| BadItem::NoId(id.to_owned()))?;
    let id = text.parse::<JobId>().map_err(|source| BadItem::BadId {
        text: text.to_owned(),
        source,
    })?;
    let name = item
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Ok(Found { id, name })
}

/// What a select takes of one page: the items `take` keeps, and the ID of every item read.
struct Taken {
    items: Vec<Found>,
    ids: Vec<JobId>,
}

/// The page in `answer` of the call named `what.0`, its items in the list `what.1`, each
/// identified by its field `what.2`.
fn page_of(
    answer: &Answer,
    (call, list, id): (&str, &'static str, &str),
    take: impl Fn(&Value) -> Result<Option<Found>, BadItem>,
) -> Result<Page<Taken>, LiveError> {
    if answer.http != 200 {
        return Err(refused(call, answer));
    }
    let bad = |why: String| LiveError::Failed {
        call: call.to_owned(),
        why,
    };
    let page = listing::listed(answer, list).map_err(|e| bad(e.to_string()))?;
    let mut kept = Vec::with_capacity(page.items.len());
    let mut ids = Vec::with_capacity(page.items.len());
    for item in page.items {
        let bad_item = |e: BadItem| bad(e.to_string());
        ids.push(found(item, id, id).map_err(bad_item)?.id);
        if let Some(f) = take(item).map_err(bad_item)? {
            kept.push(f);
        }
    }
    Ok(Page {
        total: page.total,
        items: Taken { items: kept, ids },
    })
}

/// Reads every page: the first, then the others at once (at most the pace's concurrency). The
/// set is read again when the total moved, or the pages do not hold exactly that many
/// different jobs (a server whose order moved between pages repeats one and hides another).
async fn paged<F, Fut>(page: F, pace: &Pace, most: usize) -> Result<Vec<Found>, LiveError>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<Page<Taken>, LiveError>>,
{
    let mut why = String::new();
    for _ in 0..REREADS {
        let pages = match listing::walk(PAGE, pace.concurrency(), most, &page).await {
            Ok(pages) => pages,
            Err(Walk::Read(e)) => return Err(e),
            Err(Walk::TooMany(total)) => {
                return Err(LiveError::Failed {
                    call: "listing".to_owned(),
                    why: format!(
                        "the server says {total} results match (total_count), more than this select pages through ({most}: 100000 or its `max`); narrow the select"
                    ),
                });
            }
        };
        let total = pages[0].total;
        let moved = pages.iter().any(|p| p.total != total);
        let read: usize = pages.iter().map(|p| p.items.ids.len()).sum();
        let all: HashSet<&JobId> = pages.iter().flat_map(|p| &p.items.ids).collect();
        let different = all.len();
        if !moved && read == total && different == total {
            let mut seen = HashMap::new();
            for f in pages.into_iter().flat_map(|p| p.items.items) {
                seen.entry(f.id).or_insert(f);
            }
            return Ok(seen.into_values().collect());
        }
        why = format!(
            "total_count {total}: it moved while the pages were read, or they held {read} items, {different} different jobs"
        );
    }
    Err(LiveError::Failed {
        call: "listing".to_owned(),
        why: format!("the live set kept changing while it was read ({why}); try again"),
    })
}
