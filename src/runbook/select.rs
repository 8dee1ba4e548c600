//! A phase's `select` checked offline: the task type, every status against the documented
//! vocabulary (a "did you mean" for a misspelt one), the glob compiled, the guard `max`. What it
//! matches is found later, against the target (`live::select`); nothing here sends a request.

use std::path::Path;

use super::decode::Cx;
use super::glob::NameGlob;
use std::collections::BTreeMap;

use super::model::{DEFAULT_SELECT_MIN, Exclude, Fleet, Select};
use super::raw::{RawExclude, RawMockTarget, RawSelect};

/// The largest `max` a select may set: ten times the largest plan measured.
pub const MAX_SELECT: u32 = 2_000_000;

/// Checks `raw`; problems go to `cx`.
pub(crate) fn resolve_select(raw: &RawSelect, cx: &mut Cx) -> Option<Select> {
    let mut ok = raw.status.is_none() || raw.known_status.is_some();
    let mut status: Vec<&'static str> = Vec::new();
    for known in raw.known_status.iter().flatten() {
        if !status.contains(known) {
            status.push(known);
        }
    }
    if let Some(list) = &raw.status
        && list.value.is_empty()
    {
        ok = cx
            .error::<()>(
                list.span,
                "`status` is empty: leave it out to match any status",
            )
            .is_some();
    }
    if let Some(name) = &raw.name
        && name.value.trim().is_empty()
    {
        ok = cx
            .error::<()>(name.span, "`name` is empty: leave it out to match any name")
            .is_some();
    }
    if let Some(glob) = &raw.name_glob
        && glob.value.is_empty()
    {
        let message =
            "`name_glob` is empty: it would match no task; leave it out to match any name";
        ok = cx.error::<()>(glob.span, message).is_some();
    }
    if let Some(tags) = &raw.tags
        && tags.value.is_empty()
    {
        let message = "`tags` is empty: leave it out, or name a key with the values allowed";
        ok = cx.error::<()>(tags.span, message).is_some();
    }
    // A bad glob was reported when decoded (and the select is then absent).
    let name_glob = raw
        .name_glob
        .as_ref()
        .and_then(|g| NameGlob::new(&g.value).ok());
    if !(1..=MAX_SELECT).contains(&raw.max.value) {
        let message = format!(
            "`max` must be from 1 to {MAX_SELECT}, found {}: it is the most jobs this select may stop",
            raw.max.value
        );
        ok = cx.error::<()>(raw.max.span, message).is_some();
    }
    let min = guard_min(raw, cx);
    ok = ok && min.is_some();
    let exclude = raw.exclude.as_ref().map(|e| exclude(&e.value, cx));
    ok = ok && exclude.as_ref().is_none_or(Option::is_some);
    ok.then(|| Select {
        job_types: raw.job_type.value.0.clone(),
        status,
        name: raw.name.as_ref().map(|n| n.value.clone()),
        name_glob,
        enterprise_project_id: raw
            .enterprise_project_id
            .as_ref()
            .map(|e| e.value.0.clone()),
        tags: raw
            .tags
            .as_ref()
            .map(|t| t.value.clone())
            .unwrap_or_default(),
        max: raw.max.value,
        min: min.unwrap_or(DEFAULT_SELECT_MIN),
        exclude: exclude.flatten().unwrap_or_default(),
    })
}

/// `min` (default 1), refused above `max`.
fn guard_min(raw: &RawSelect, cx: &mut Cx) -> Option<u32> {
    match &raw.min {
        None => Some(DEFAULT_SELECT_MIN),
        Some(m) if m.value > raw.max.value => cx.error(
            m.span,
            format!(
                "`min` ({}) is more than `max` ({}): no number of matches could pass both",
                m.value, raw.max.value
            ),
        ),
        Some(m) => Some(m.value),
    }
}

/// `exclude` checked: nothing in it empty (an empty value would leave out nothing, or all).
fn exclude(raw: &RawExclude, cx: &mut Cx) -> Option<Exclude> {
    let mut ok = true;
    if let Some(name) = &raw.name
        && name.value.trim().is_empty()
    {
        ok = cx
            .error::<()>(name.span, "`exclude.name` is empty: leave it out")
            .is_some();
    }
    if let Some(glob) = &raw.name_glob
        && glob.value.is_empty()
    {
        ok = cx
            .error::<()>(glob.span, "`exclude.name_glob` is empty: leave it out")
            .is_some();
    }
    if let Some(tags) = &raw.tags
        && tags.value.is_empty()
    {
        ok = cx
            .error::<()>(tags.span, "`exclude.tags` is empty: leave it out")
            .is_some();
    }
    ok.then(|| Exclude {
        ids: raw.ids.iter().flatten().map(|id| id.value).collect(),
        name: raw.name.as_ref().map(|n| n.value.clone()),
        name_glob: raw
            .name_glob
            .as_ref()
            .and_then(|g| NameGlob::new(&g.value).ok()),
        tags: raw
            .tags
            .as_ref()
            .map(|t| t.value.clone())
            .unwrap_or_default(),
    })
}

/// A select's query in words, each value passed through `quote` (backticks and escaping in
/// Markdown, as written in a terminal's error): one home for the words plan and errors use.
pub fn describe(q: &Select, quote: &dyn Fn(&str) -> String) -> Vec<String> {
    let types: Vec<String> = q.job_types.iter().map(|t| quote(t.as_str())).collect();
    let mut parts = vec![format!("job_type {}", types.join(" or "))];
    if !q.status.is_empty() {
        parts.push(format!("status {}", q.status.join(" or ")));
    }
    if let Some(name) = &q.name {
        parts.push(format!(
            "name matching {} (the server's match)",
            quote(name)
        ));
    }
    if let Some(glob) = &q.name_glob {
        parts.push(format!(
            "whole name matching the glob {}",
            quote(&glob.pattern)
        ));
    }
    if let Some(ep) = &q.enterprise_project_id {
        parts.push(format!("enterprise project {}", quote(ep)));
    }
    parts.extend(tag_words(&q.tags, quote));
    let x = &q.exclude;
    let mut out: Vec<String> = x
        .ids
        .iter()
        .map(|id| format!("ID {}", quote(id.as_str())))
        .collect();
    if let Some(name) = &x.name {
        out.push(format!("names containing {}", quote(name)));
    }
    if let Some(glob) = &x.name_glob {
        out.push(format!("names matching the glob {}", quote(&glob.pattern)));
    }
    out.extend(tag_words(&x.tags, quote));
    if !out.is_empty() {
        parts.push(format!("excluding {}", out.join(", ")));
    }
    parts
}

/// `tag key = v1 or v2`, one a key.
fn tag_words(tags: &BTreeMap<String, Vec<String>>, quote: &dyn Fn(&str) -> String) -> Vec<String> {
    tags.iter()
        .map(|(key, values)| {
            let values: Vec<String> = values.iter().map(|v| quote(v)).collect();
            format!("tag {} = {}", quote(key), values.join(" or "))
        })
        .collect()
}

/// `target: { mock: { jobs: FILE } }`: the file must exist (its content is read by the mock).
pub(crate) fn resolve_fleet(raw: &RawMockTarget, base_dir: &Path, cx: &mut Cx) -> Option<Fleet> {
    let path = base_dir.join(&raw.jobs.value);
    if !path.exists() {
        return cx.error(
            raw.jobs.span,
            format!("the fleet file `{}` does not exist", path.display()),
        );
    }
    Some(Fleet {
        written: raw.jobs.value.clone(),
        path,
        at: raw.jobs.span,
        profile: raw.profile.as_ref().map(|p| p.value.clone()),
    })
}
