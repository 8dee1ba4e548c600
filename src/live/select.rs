//! A runbook's `select`s resolved against the target: each query paged through ListJobs (and
//! the tag-filter call when it names tags, the two intersected), filtered by its glob, the jobs
//! listed anywhere in the runbook and those an earlier select found left out, ordered by name
//! then ID, and checked against `max`. The matched jobs become stops of their phase, with the
//! phase's settings and their names.

use std::collections::{BTreeMap, HashMap, HashSet};
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
    /// A select matched fewer jobs than its `min` (exit 2: nothing is sent): a typo in a
    /// filter matches nothing, and must never pass as a run that stopped nothing.
    #[error(
        "phase `{phase}`: the select matched {found} jobs, fewer than its `min: {min}` ({query}; {funnel}); nothing was sent. If no match is expected here, write `min: 0`"
    )]
    TooFew {
        /// The phase.
        phase: String,
        /// How many it matched.
        found: usize,
        /// Its guard.
        min: u32,
        /// The query, in words.
        query: String,
        /// What each step kept, in words.
        funnel: Funnel,
    },
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

/// How many jobs each step of a select kept, so a select that found too few says where
/// they went.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Funnel {
    /// Jobs ListJobs listed (its filters checked again on each).
    pub listed: usize,
    /// Of those, the ones the tag filter also found (when the select names tags).
    pub tagged: Option<usize>,
    /// Of those, the ones whose whole name matches the glob (when it has one).
    pub globbed: Option<usize>,
    /// Jobs `exclude` left out.
    pub excluded: usize,
    /// Jobs left out as listed in the runbook or found by an earlier select.
    pub claimed: usize,
}

impl std::fmt::Display for Funnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ListJobs listed {}", self.listed)?;
        if let Some(n) = self.tagged {
            write!(f, ", the tag filter kept {n}")?;
        }
        if let Some(n) = self.globbed {
            write!(f, ", the glob kept {n}")?;
        }
        if self.excluded > 0 {
            write!(f, ", exclude left out {}", self.excluded)?;
        }
        if self.claimed > 0 {
            let n = self.claimed;
            write!(
                f,
                ", {n} listed in the runbook or found by an earlier select"
            )?;
        }
        Ok(())
    }
}

/// Resolves every phase's `select` in `runbook`, appending the jobs found to their phase.
pub async fn resolve(runbook: &mut Runbook, client: &Client) -> Result<(), SelectError> {
    let pace = Pace::new(runbook.limits.concurrency, runbook.limits.rate);
    let mut claimed: HashSet<JobId> = runbook.stops().map(|(_, s)| s.job).collect();
    for phase in &mut runbook.phases {
        let Some(select) = &phase.select else {
            continue;
        };
        let (found, mut funnel) = matches(select, &phase.settings.retry, client, &pace).await?;
        let matched = found.len();
        let found: Vec<Found> = found
            .into_iter()
            .filter(|f| !claimed.contains(&f.id))
            .collect();
        funnel.claimed = matched - found.len();
        if found.len() < select.min as usize {
            return Err(SelectError::TooFew {
                phase: phase.name.clone(),
                found: found.len(),
                min: select.min,
                query: crate::runbook::select::describe(select, &|s| s.to_owned()).join(", "),
                funnel,
            });
        }
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

/// Every job `select` matches on the target, by name then ID, and what each step kept.
pub async fn matches(
    select: &Select,
    retry: &Retry,
    client: &Client,
    pace: &Pace,
) -> Result<(Vec<Found>, Funnel), LiveError> {
    let mut funnel = Funnel::default();
    let mut found: Vec<Found> = Vec::new();
    let reading = Reading {
        retry,
        client,
        pace,
        most: MOST.max(select.max as usize),
    };
    for job_type in &select.job_types {
        let listed = list_jobs(select, job_type.as_str(), retry, client, pace).await?;
        funnel.listed += listed.len();
        let mut kept: Vec<Found> = match select.tags.is_empty() {
            true => listed,
            false => {
                let tagged = reading.ids(&select.tags, job_type.as_str()).await?;
                let kept: Vec<Found> = listed
                    .into_iter()
                    .filter(|f| tagged.contains(&f.id))
                    .collect();
                *funnel.tagged.get_or_insert(0) += kept.len();
                kept
            }
        };
        if let Some(glob) = &select.name_glob {
            kept.retain(|f| glob.matches(&f.name));
            *funnel.globbed.get_or_insert(0) += kept.len();
        }
        let before = kept.len();
        let x = &select.exclude;
        kept.retain(|f| !x.ids.contains(&f.id));
        kept.retain(|f| x.name.as_ref().is_none_or(|n| !server_name_match(n, f)));
        kept.retain(|f| x.name_glob.as_ref().is_none_or(|g| !g.matches(&f.name)));
        // Any one excluded tag leaves a job out: one tag-filter call a key.
        for (key, values) in &x.tags {
            let one = std::collections::BTreeMap::from([(key.clone(), values.clone())]);
            let tagged = reading.ids(&one, job_type.as_str()).await?;
            kept.retain(|f| !tagged.contains(&f.id));
        }
        funnel.excluded += before - kept.len();
        found.extend(kept);
    }
    found.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok((found, funnel))
}

/// Pages through ListJobs with the select's filters: the first page gives the total, the rest
/// are read at once within the limits. A set that changes while it is read is read again.
async fn list_jobs(
    select: &Select,
    job_type: &str,
    retry: &Retry,
    client: &Client,
    pace: &Pace,
) -> Result<Vec<Found>, LiveError> {
    let status = select.status.join(",");
    let mut query = Query::new(job_type, PAGE);
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
                job_item(item, select, job_type)
            })
        }
    };
    paged(page, pace, MOST.max(select.max as usize)).await
}

/// One ListJobs item, if it is a job the select may take: every filter the server applied is
/// checked again here (an item that lacks a field a filter needs is not taken), so a server
/// that ignores one cannot put a job in the plan that the query does not describe.
fn job_item(item: &Value, select: &Select, job_type: &str) -> Result<Option<Found>, BadItem> {
    let found = found(item, "id", "name")?;
    let text = |key: &str| item.get(key).and_then(Value::as_str);
    let status_ok =
        select.status.is_empty() || text("status").is_some_and(|s| select.status.contains(&s));
    let type_ok = text("job_type") == Some(job_type);
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

/// One tag-filter resource, if it carries every tag of `wanted` (with an allowed value): its
/// own `tags` are checked, so a server that ignores the filter cannot add a job.
fn tag_item(
    item: &Value,
    wanted: &BTreeMap<String, Vec<String>>,
) -> Result<Option<Found>, BadItem> {
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
    let ok = wanted.iter().all(|(key, values)| has(key, values));
    Ok(ok.then_some(found))
}

/// How the tag filter is read.
struct Reading<'a> {
    retry: &'a Retry,
    client: &'a Client,
    pace: &'a Pace,
    most: usize,
}

impl Reading<'_> {
    /// The IDs of the tasks of `job_type` the tag filter finds carrying every tag `wanted`.
    async fn ids(
        &self,
        wanted: &BTreeMap<String, Vec<String>>,
        job_type: &str,
    ) -> Result<HashSet<JobId>, LiveError> {
        let tags: Vec<Value> = wanted
            .iter()
            .map(|(key, values)| json!({"key": key, "values": values}))
            .collect();
        let body = json!({"without_any_tag": false, "tags": tags});
        let page = |offset: usize| {
            let body = &body;
            async move {
                let call = || {
                    self.client
                        .tag_filter(job_type, offset, PAGE, body, TIMEOUT)
                };
                let answer = read(self.pace, self.retry, "the tag filter", call).await?;
                let what = ("the tag filter", "resources", "resource_id");
                page_of(&answer, what, |item| tag_item(item, wanted))
            }
        };
        Ok(paged(page, self.pace, self.most)
            .await?
            .into_iter()
            .map(|f| f.id)
            .collect())
    }
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
