//! Finding tasks: ListJobs (`GET /v5/{project_id}/jobs`, with its filters and paging) and the
//! tag filter (`POST /v5/{project_id}/{resource_type}/resource-instances/filter`, and its
//! `/count` variant), as drs-api-notes.md §2a describes them. What `select` pages through.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::ApiError;
use super::gate::{error, json_body, precheck};
use super::incoming::Incoming;
use super::jobs::JobSpec;
use super::{Defect, Shared, lock};

/// The task types ListJobs takes [sdk].
const JOB_TYPES: [&str; 3] = ["migration", "sync", "cloudDataGuard"];
/// The resource types the tag filter takes [sdk]; the mock serves tasks of the first three.
const RESOURCE_TYPES: [&str; 6] = [
    "migration",
    "sync",
    "cloudDataGuard",
    "subscription",
    "backupMigration",
    "replay",
];
/// Most tag keys, and values per key, in one filter [sdk].
const MAX_TAGS: usize = 20;

/// A number from the query: `default` when absent, 400 when not in `range`.
fn number(
    call: &Incoming,
    name: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ApiError> {
    match call.query_param(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| ApiError::bad_parameter(name)),
    }
}

pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(project_id): Path<String>,
    Extension(call): Extension<Arc<Incoming>>,
) -> Response {
    let lang = match precheck(&shared, &call, &project_id) {
        Ok(lang) => lang,
        Err((e, lang)) => return error(&shared, e, lang),
    };
    let job_type = call.query_param("job_type");
    let known = |t: &String| JOB_TYPES.contains(&t.as_str());
    let served_untyped = job_type.is_none() && shared.defect(Defect::ListJobType);
    if !job_type.as_ref().is_some_and(known) && !served_untyped {
        return error(&shared, ApiError::bad_parameter("job_type"), lang);
    }
    let (offset, limit) = match (
        number(&call, "offset", 0, 0..=usize::MAX),
        number(&call, "limit", 10, 1..=1000),
    ) {
        (Ok(o), Ok(l)) => (o, l),
        (Err(e), _) | (_, Err(e)) => return error(&shared, e, lang),
    };
    // One status or several, comma-joined; a name matches a task's ID or its name [sdk];
    // an empty enterprise project means every one [sdk].
    let statuses = call
        .query_param("status")
        .filter(|_| !shared.defect(Defect::ListFilters));
    let name = call.query_param("name");
    let project = call
        .query_param("enterprise_project_id")
        .filter(|p| !p.is_empty());
    let keep = |spec: &JobSpec, status: &str| {
        job_type.as_ref().is_none_or(|t| &spec.job_type == t)
            && statuses
                .as_ref()
                .is_none_or(|s| s.split(',').any(|s| s == status))
            && name
                .as_ref()
                .is_none_or(|n| spec.id == *n || spec.name.contains(n.as_str()))
            && project
                .as_ref()
                .is_none_or(|p| spec.enterprise_project() == p)
    };
    let (mut total, mut page) = lock(&shared.jobs).page(Instant::now(), offset, limit, keep);
    // A ListJobs item always names its enterprise project [sdk]; the default one is "0".
    for job in &mut page {
        job.enterprise_project_id
            .get_or_insert_with(|| "0".to_owned());
    }
    if shared.defect(Defect::ListPaging) {
        total = page.len();
    }
    (
        StatusCode::OK,
        axum::Json(json!({ "total_count": total, "jobs": page })),
    )
        .into_response()
}

/// The body of a tag-filter call, checked.
struct TagQuery {
    without_any_tag: bool,
    tags: Vec<(String, Vec<String>)>,
    names: Vec<String>,
}

impl TagQuery {
    fn read(body: &serde_json::Map<String, Value>) -> Result<Self, ApiError> {
        let bad = |why: &str| ApiError::bad_body(why);
        let without_any_tag = match body.get("without_any_tag") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad("without_any_tag must be a boolean")),
        };
        let mut tags = Vec::new();
        for tag in list_of(body, "tags")? {
            let key = tag.get("key").and_then(Value::as_str);
            let values = tag.get("values").and_then(Value::as_array);
            let (Some(key), Some(values)) = (key, values) else {
                return Err(bad("each tag needs a `key` string and a `values` list"));
            };
            let values: Option<Vec<String>> = values
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
            match values {
                Some(values) if values.len() <= MAX_TAGS => tags.push((key.to_owned(), values)),
                Some(_) => return Err(bad("a tag takes at most 20 values")),
                None => return Err(bad("tag values must be strings")),
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(bad("at most 20 tags"));
        }
        let mut names = Vec::new();
        for m in list_of(body, "matches")? {
            match (
                m.get("key").and_then(Value::as_str),
                m.get("value").and_then(Value::as_str),
            ) {
                (Some("resource_name"), Some(value)) => names.push(value.to_owned()),
                _ => {
                    return Err(bad(
                        "a match is `{\"key\": \"resource_name\", \"value\": ...}`",
                    ));
                }
            }
        }
        Ok(TagQuery {
            without_any_tag,
            tags,
            names,
        })
    }

    fn keeps(&self, spec: &JobSpec) -> bool {
        if self.without_any_tag {
            return spec.tags.is_empty();
        }
        let tagged = self.tags.iter().all(|(key, values)| {
            spec.tags
                .get(key)
                .is_some_and(|v| values.is_empty() || values.contains(v))
        });
        tagged && self.names.iter().all(|n| spec.name.contains(n.as_str()))
    }
}

/// The objects of the list `key` of `body` (absent: none).
fn list_of<'a>(
    body: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<Vec<&'a serde_json::Map<String, Value>>, ApiError> {
    match body.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_object().ok_or_else(|| {
                    ApiError::bad_body(&format!("each entry of `{key}` must be an object"))
                })
            })
            .collect(),
        Some(_) => Err(ApiError::bad_body(&format!("`{key}` must be a list"))),
    }
}

/// `POST …/{resource_type}/resource-instances/filter?limit=&offset=` (and `…/count`).
pub(super) async fn tag_filter(
    State(shared): State<Arc<Shared>>,
    Path((project_id, resource_type)): Path<(String, String)>,
    Extension(call): Extension<Arc<Incoming>>,
) -> Response {
    let lang = match precheck(&shared, &call, &project_id) {
        Ok(lang) => lang,
        Err((e, lang)) => return error(&shared, e, lang),
    };
    if !RESOURCE_TYPES.contains(&resource_type.as_str()) {
        return error(&shared, ApiError::bad_parameter("resource_type"), lang);
    }
    let mut query = match json_body(&shared, &call).and_then(|body| TagQuery::read(&body)) {
        Ok(query) => query,
        Err(e) => return error(&shared, e, lang),
    };
    if shared.defect(Defect::TagFilter) {
        query.tags.clear();
    }
    let (offset, limit) = match (
        number(&call, "offset", 0, 0..=usize::MAX),
        number(&call, "limit", 1000, 1..=1000),
    ) {
        (Ok(o), Ok(l)) => (o, l),
        (Err(e), _) | (_, Err(e)) => return error(&shared, e, lang),
    };
    let jobs = lock(&shared.jobs);
    let matching = jobs
        .specs()
        .filter(|s| s.job_type == resource_type && query.keeps(s));
    let mut total = 0;
    let mut resources = Vec::new();
    for spec in matching {
        if total >= offset && resources.len() < limit {
            let tags: Vec<Value> = spec
                .tags
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect();
            resources.push(json!({
                "resource_id": spec.id,
                "resource_name": spec.name,
                "resource_detail": {},
                "tags": tags,
            }));
        }
        total += 1;
    }
    let body = match call.path.ends_with("/count") {
        true => json!({ "total_count": total }),
        false => json!({ "total_count": total, "resources": resources }),
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}
