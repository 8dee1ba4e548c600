//! A plan file read back (`run --plan`, `verify --plan`, the jobs a resumed run's selects
//! pinned): typed, so a file that is not a plan is refused saying what is wrong, rather than
//! read as whatever its first `sha256:` or its missing keys happen to give.
//!
//! The structure a run acts on (the `plan_id`, the phases in order, each stop's job and task
//! name, its place) is typed; every other field is kept as written, so drift can still show
//! any field that changed, old → new.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::drs::JobId;
use crate::input;

/// `sha256:` and 64 lowercase hex digits: a plan's content hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlanId(String);

impl PlanId {
    /// The identifier as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A `plan_id` that is not `sha256:` and 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a plan_id is `sha256:` and 64 lowercase hex digits")]
pub struct BadPlanId;

impl TryFrom<String> for PlanId {
    type Error = BadPlanId;

    fn try_from(text: String) -> Result<Self, BadPlanId> {
        let well_formed = text.strip_prefix("sha256:").is_some_and(|hex| {
            hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        });
        match well_formed {
            true => Ok(PlanId(text)),
            false => Err(BadPlanId),
        }
    }
}

impl From<PlanId> for String {
    fn from(id: PlanId) -> String {
        id.0
    }
}

impl std::fmt::Display for PlanId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON plan, as `stopbook plan --format json` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanDocument {
    /// The plan's content hash.
    pub plan_id: PlanId,
    /// The phases, in order.
    pub phases: Vec<PhaseDocument>,
    /// Everything else (target, limits, totals, …), as written.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// One phase of a plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseDocument {
    /// The phase's name.
    pub name: String,
    /// Its stops, in order.
    #[serde(default)]
    pub stops: Vec<StopDocument>,
    /// Everything else (select, limits, …), as written.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// One stop of a plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopDocument {
    /// Its place in the plan, from 1.
    pub seq: usize,
    /// The job it stops.
    pub job: JobId,
    /// The task name, for a stop a select found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Everything else (force, expect, …), as written.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl PlanDocument {
    /// Every stop with its phase's name, in plan order.
    pub fn stops(&self) -> impl Iterator<Item = (&str, &StopDocument)> {
        self.phases
            .iter()
            .flat_map(|p| p.stops.iter().map(move |s| (p.name.as_str(), s)))
    }
}

/// What a plan file holds: a JSON plan, or the `plan_id` of a Markdown plan.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanFile {
    /// `plan --format json`.
    Json(Box<PlanDocument>),
    /// `plan --format md`: only its `plan_id` line is read.
    Markdown(PlanId),
}

impl PlanFile {
    /// The plan's content hash.
    pub fn plan_id(&self) -> &PlanId {
        match self {
            PlanFile::Json(doc) => &doc.plan_id,
            PlanFile::Markdown(id) => id,
        }
    }
}

/// Why a plan file cannot be used; each names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanFileError {
    /// The file cannot be read, or is too large to be a plan.
    #[error("cannot read the plan `{path}`: {reason}")]
    Read {
        /// The file as given.
        path: String,
        /// Why.
        reason: String,
    },
    /// Neither a JSON plan nor a Markdown plan.
    #[error(
        "`{path}` is not a plan (`stopbook plan RUNBOOK --format json`, or `--format md`): {reason}"
    )]
    NotAPlan {
        /// The file as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads a plan file: a JSON plan, or a Markdown plan's `plan_id` line.
pub fn read(path: &Path) -> Result<PlanFile, PlanFileError> {
    let shown = path.display().to_string();
    let bytes = input::read_bytes(path, input::PLAN).map_err(|e| PlanFileError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let not_a_plan = |reason: String| PlanFileError::NotAPlan {
        path: shown.clone(),
        reason,
    };
    if bytes.trim_ascii_start().starts_with(b"{") {
        return serde_json::from_slice::<PlanDocument>(&bytes)
            .map(|doc| PlanFile::Json(Box::new(doc)))
            .map_err(|e| not_a_plan(e.to_string()));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| not_a_plan(e.to_string()))?;
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(MARKDOWN_PLAN_ID)?.strip_suffix('`'))
        .ok_or_else(|| not_a_plan(format!("no `{MARKDOWN_PLAN_ID}…`` line")))?;
    PlanId::try_from(line.to_owned())
        .map(PlanFile::Markdown)
        .map_err(|e| not_a_plan(e.to_string()))
}

/// Reads a JSON plan file (a Markdown plan is refused).
pub fn read_json(path: &Path) -> Result<PlanDocument, PlanFileError> {
    match read(path)? {
        PlanFile::Json(doc) => Ok(*doc),
        PlanFile::Markdown(_) => Err(PlanFileError::NotAPlan {
            path: path.display().to_string(),
            reason: "it is a Markdown plan; give the JSON plan".to_owned(),
        }),
    }
}

/// How the Markdown plan writes its `plan_id` (see `markdown.rs`).
pub(crate) const MARKDOWN_PLAN_ID: &str = "- **plan_id:** `";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_id_is_checked_where_it_is_read() {
        assert!(PlanId::try_from(format!("sha256:{}", "a".repeat(64))).is_ok());
        for bad in [
            "sha256:abc",
            "sha1:00",
            &format!("sha256:{}", "A".repeat(64)),
        ] {
            assert!(PlanId::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_markdown_plan_gives_its_own_plan_id_line_not_the_first_hash_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plan.md");
        let (other, own) = ("1".repeat(64), "2".repeat(64));
        let text =
            format!("# Plan\n\nrunbook note: sha256:{other}\n- **plan_id:** `sha256:{own}`\n");
        std::fs::write(&file, text).unwrap();
        let read = read(&file).unwrap();
        assert_eq!(read.plan_id().as_str(), format!("sha256:{own}"));
    }

    #[test]
    fn a_json_file_that_is_not_a_plan_says_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.json");
        std::fs::write(&file, r#"{"plan_id": "sha256:x", "results": []}"#).unwrap();
        let e = read(&file).unwrap_err().to_string();
        assert!(e.contains("not a plan") && e.contains("plan_id"), "{e}");
    }
}
