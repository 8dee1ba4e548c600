//! A phase's `select` checked offline: the task type, every status against the documented
//! vocabulary (a "did you mean" for a misspelt one), the glob compiled, the guard `max`. What it
//! matches is found later, against the target (`live::select`); nothing here sends a request.

use std::path::Path;

use super::decode::Cx;
use super::glob::NameGlob;
use super::model::{Fleet, Select};
use super::raw::{RawMockTarget, RawSelect};

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
    ok.then(|| Select {
        job_type: raw.job_type.value,
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
    })
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
    })
}
