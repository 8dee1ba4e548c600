//! `select` as written: a query that chooses a phase's jobs from live state (ListJobs and the
//! tag-filter call), and `target.mock`, the embedded mock's fleet a runbook rehearses it on.
//! Its own file so `raw` stays within the size the architecture test holds every file to.

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::diag::{Diagnostic, did_you_mean};
use crate::drs::status;
use crate::runbook::decode::{Cx, Decode, MapReader, Spanned, parse_str};
use crate::runbook::yaml::{Node, Value};

/// Jobs chosen from live state instead of, or besides, listing them. Resolved by `plan` and
/// `run` against the target, ordered by name then ID; a job listed anywhere is left out.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Select", deny_unknown_fields)]
pub struct RawSelect {
    /// The task type, required by ListJobs: `migration`, `sync` or `cloudDataGuard`, or a list
    /// of them (one ListJobs query a type).
    pub job_type: Spanned<JobTypes>,
    /// Only tasks in one of these statuses (ListJobs `status`).
    pub status: Option<Spanned<Vec<Spanned<String>>>>,
    /// The server's own match on a task ID or name (ListJobs `name`).
    pub name: Option<Spanned<String>>,
    /// A glob (`*`, `?`, `[abc]`) the whole task name must match.
    pub name_glob: Option<Spanned<String>>,
    /// Only tasks of this enterprise project (ListJobs `enterprise_project_id`).
    pub enterprise_project_id: Option<Spanned<EnterpriseProjectId>>,
    /// Tags every task must carry, each key with the values allowed (the tag-filter call).
    pub tags: Option<Spanned<BTreeMap<String, Vec<String>>>>,
    /// The most jobs this select may stop: more matches is an error and nothing is sent.
    #[schemars(range(min = 1))]
    pub max: Spanned<u32>,
    /// The fewest jobs this select must find (default 1): fewer is an error and nothing is
    /// sent, so a typo that matches nothing never passes; `0` allows an empty match.
    pub min: Option<Spanned<u32>>,
    /// Jobs the filters matched that are left out (after the server's filters).
    pub exclude: Option<Spanned<RawExclude>>,
    /// `status` checked against the vocabulary (each reported where written, when decoded,
    /// so a bad status is found even when another key of the select is wrong too).
    #[schemars(skip)]
    pub known_status: Option<Vec<&'static str>>,
}

impl Decode for RawSelect {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "`select`", cx)?;
        let job_type = map.required("job_type", cx);
        let status: Option<Spanned<Vec<Spanned<String>>>> = map.optional("status", cx);
        let known_status = status.as_ref().and_then(|list| {
            let checked: Vec<Option<&'static str>> =
                list.value.iter().map(|s| check_status(s, cx)).collect();
            checked.into_iter().collect::<Option<Vec<_>>>()
        });
        let name = map.optional("name", cx);
        let name_glob: Option<Spanned<String>> = map.optional("name_glob", cx);
        // Checked here, so a bad glob is found even when another key of the select is wrong.
        let name_glob = name_glob.and_then(|g| checked_glob(g, cx));
        let enterprise_project_id = map.optional("enterprise_project_id", cx);
        let tags = map.node("tags").and_then(|n| tags(n, cx));
        let max = map.required("max", cx);
        let min = map.optional("min", cx);
        let exclude = map.optional("exclude", cx);
        map.finish(cx);
        Some(RawSelect {
            job_type: job_type?,
            status,
            name,
            name_glob,
            enterprise_project_id,
            tags,
            max: max?,
            min,
            exclude,
            known_status,
        })
    }
}

/// `name_glob` compiled (and put back as written): a bad glob, or one written as a negation
/// (`!x*`, which globs do not have), is reported where it is written.
fn checked_glob(glob: Spanned<String>, cx: &mut Cx) -> Option<Spanned<String>> {
    if glob.value.starts_with('!') {
        let d = Diagnostic::at(
            cx.place(glob.span),
            "`name_glob` cannot be negated: `!` would be taken as a character of the name",
        )
        .hint(format!(
            "to leave these jobs out, write `exclude: {{ name_glob: \"{}\" }}`",
            &glob.value[1..]
        ));
        cx.report(d);
        return None;
    }
    match crate::runbook::glob::NameGlob::new(&glob.value) {
        Ok(_) => Some(glob),
        Err(e) => cx.error(glob.span, format!("`name_glob` is not a glob: {e}")),
    }
}

/// `exclude`: jobs a select's filters matched that are left out, by ID, by the server's kind
/// of name match, by a glob on the whole name, or by tag.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Exclude", deny_unknown_fields)]
pub struct RawExclude {
    /// These task IDs.
    pub ids: Option<Vec<Spanned<crate::drs::JobId>>>,
    /// Tasks whose ID is this, or whose name contains it (case aside).
    pub name: Option<Spanned<String>>,
    /// Tasks whose whole name matches this glob.
    pub name_glob: Option<Spanned<String>>,
    /// Tasks carrying any of these tags (a key with one of its values).
    pub tags: Option<Spanned<BTreeMap<String, Vec<String>>>>,
}

impl Decode for RawExclude {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "`exclude`", cx)?;
        let ids = map.optional("ids", cx);
        let name = map.optional("name", cx);
        let name_glob: Option<Spanned<String>> = map.optional("name_glob", cx);
        let name_glob = name_glob.and_then(|g| checked_glob(g, cx));
        let tags = map.node("tags").and_then(|n| tags(n, cx));
        map.finish(cx);
        Some(RawExclude {
            ids,
            name,
            name_glob,
            tags,
        })
    }
}

/// `job_type`: one task type, or a list of different ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTypes(pub Vec<JobType>);

impl Decode for JobTypes {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let Value::Seq(items) = &node.value else {
            return JobType::decode(node, cx).map(|t| JobTypes(vec![t]));
        };
        if items.is_empty() {
            return cx.error(
                node.span,
                "`job_type` is an empty list: name at least one of migration, sync, cloudDataGuard",
            );
        }
        let mut types = Vec::new();
        for item in items {
            let t = JobType::decode(item, cx)?;
            if types.contains(&t) {
                return cx.error(
                    item.span,
                    format!("`{}` is listed twice in `job_type`", t.as_str()),
                );
            }
            types.push(t);
        }
        Some(JobTypes(types))
    }
}

impl JsonSchema for JobTypes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "JobTypes".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<JobType>();
        json_schema!({
            "description": "A task type, or a list of them (one ListJobs query a type).",
            "anyOf": [one, { "type": "array", "items": one, "minItems": 1, "uniqueItems": true }]
        })
    }
}

/// The most tag keys, and values per key, the tag-filter call takes (drs-api-notes.md §2a).
pub const MAX_TAGS: usize = 20;

/// `tags: { key: [values] }` (a single value may be written without the list).
fn tags(node: &Node, cx: &mut Cx) -> Option<Spanned<BTreeMap<String, Vec<String>>>> {
    let Value::Map(entries) = &node.value else {
        return cx.expected(node, "a map such as `{ team: [payments] }` for `tags`");
    };
    if entries.len() > MAX_TAGS {
        return cx.error(
            node.span,
            format!(
                "`tags` holds {} keys; the tag filter takes at most {MAX_TAGS}",
                entries.len()
            ),
        );
    }
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (key, value) in entries {
        let values = match &value.value {
            Value::Str(s) => vec![s.clone()],
            Value::Int(i) => vec![i.to_string()],
            Value::Seq(items) => items
                .iter()
                .filter_map(|item| match &item.value {
                    Value::Str(s) => Some(s.clone()),
                    Value::Int(i) => Some(i.to_string()),
                    _ => cx.expected(item, "a tag value (a string)"),
                })
                .collect(),
            _ => cx.expected(value, "a tag value or a list of them")?,
        };
        if key.name.trim().is_empty() {
            ok = cx.error::<()>(key.span, "a tag key is empty").is_some();
        } else if values.len() > MAX_TAGS {
            let message = format!(
                "tag `{}` lists {} values; the tag filter takes at most {MAX_TAGS}",
                key.name,
                values.len()
            );
            ok = cx.error::<()>(value.span, message).is_some();
        } else if values.is_empty() || values.iter().any(String::is_empty) {
            let message = format!("tag `{}` needs at least one non-empty value", key.name);
            ok = cx.error::<()>(value.span, message).is_some();
        }
        out.insert(key.name.clone(), values);
    }
    ok.then_some(Spanned {
        value: out,
        span: node.span,
    })
}

/// A task type, as ListJobs and the tag-filter call name it.
// No variant docs: schemars would turn them into schema descriptions.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(rename_all = "camelCase")]
pub enum JobType {
    Migration,
    Sync,
    CloudDataGuard,
}

impl JobType {
    /// Every task type, as the API writes them.
    pub const ALL: [&'static str; 3] = ["migration", "sync", "cloudDataGuard"];

    /// The type as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Migration => "migration",
            JobType::Sync => "sync",
            JobType::CloudDataGuard => "cloudDataGuard",
        }
    }
}

impl Decode for JobType {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let Value::Str(s) = &node.value else {
            return cx.expected(node, "`migration`, `sync` or `cloudDataGuard`");
        };
        match s.as_str() {
            "migration" => Some(JobType::Migration),
            "sync" => Some(JobType::Sync),
            "cloudDataGuard" => Some(JobType::CloudDataGuard),
            other => {
                let lower: Vec<String> = JobType::ALL.iter().map(|t| t.to_lowercase()).collect();
                let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
                let mut d =
                    Diagnostic::at(cx.place(node.span), format!("unknown job_type `{other}`"))
                        .hint("expected one of: migration, sync, cloudDataGuard");
                if let Some(i) =
                    did_you_mean(other, &lower).and_then(|s| lower.iter().position(|l| *l == s))
                {
                    d = d.label(format!("did you mean `{}`?", JobType::ALL[i]));
                }
                cx.report(d);
                None
            }
        }
    }
}

/// A task status written in `select.status`, checked against the documented vocabulary with a
/// "did you mean" for a misspelt one.
pub fn check_status(status: &Spanned<String>, cx: &mut Cx) -> Option<&'static str> {
    if let Some(known) = status::canonical(&status.value) {
        return Some(known);
    }
    let all: Vec<&'static str> =
        [status::RUNNING, status::ABNORMAL, status::ENDING_OR_ENDED].concat();
    let lower: Vec<String> = all.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower_refs: Vec<&str> = lower.iter().map(String::as_str).collect();
    let mut d = Diagnostic::at(
        cx.place(status.span),
        format!("unknown job status `{}`", status.value),
    )
    .hint("a status as ListJobs shows it, e.g. INCRE_TRANSFER_STARTED, FULL_TRANSFER_STARTED, INCRE_TRANSFER_FAILED");
    if let Some(i) = did_you_mean(&status.value, &lower_refs)
        .and_then(|s| lower_refs.iter().position(|l| *l == s))
    {
        d = d.label(format!("did you mean `{}`?", all[i]));
    }
    cx.report(d);
    None
}

/// An enterprise project ID: a string, or a number such as `0` (the default project).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseProjectId(pub String);

impl Decode for EnterpriseProjectId {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Int(i) if *i >= 0 => Some(EnterpriseProjectId(i.to_string())),
            _ => parse_str(node, cx, "an enterprise project ID", |s| {
                let ok = !s.is_empty()
                    && s.len() <= 64
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                ok.then(|| EnterpriseProjectId(s.to_owned()))
                    .ok_or_else(|| format!("`{s}` is not an enterprise project ID (letters, digits and `-`, e.g. `0`)"))
            }),
        }
    }
}

impl JsonSchema for EnterpriseProjectId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EnterpriseProjectId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An enterprise project ID; `0` is the default project.",
            "type": ["string", "integer"]
        })
    }
}

/// `target: { mock: { jobs: FILE } }`: the embedded mock, serving this fleet.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "MockTarget", deny_unknown_fields)]
pub struct RawMockTarget {
    /// The fleet: a JSON or YAML list of `{id, name, status}` (optionally `job_type`, `tags`,
    /// `enterprise_project_id`, `charging_mode`, `job_mode_role`), relative to the runbook.
    pub jobs: Spanned<String>,
    /// The faults the mock makes, as `stopbook mock --profile` names them (`gateway`,
    /// `chaos`, …): a rehearsal as unkind as the world.
    pub profile: Option<Spanned<String>>,
}

impl Decode for RawMockTarget {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "`mock`", cx)?;
        let jobs = map.required("jobs", cx);
        let profile: Option<Spanned<String>> = map.optional("profile", cx);
        map.finish(cx);
        let profile = match profile {
            Some(p) if !crate::profile::is_profile(&p.value) => {
                let names: Vec<&str> = crate::profile::PROFILES.iter().map(|(n, _)| *n).collect();
                let mut d = Diagnostic::at(
                    cx.place(p.span),
                    format!("unknown fault profile `{}`", p.value),
                )
                .hint(format!("expected one of: {}", names.join(", ")));
                if let Some(near) = did_you_mean(&p.value, &names) {
                    d = d.label(format!("did you mean `{near}`?"));
                }
                cx.report(d);
                return None;
            }
            other => other,
        };
        Some(RawMockTarget {
            jobs: jobs?,
            profile,
        })
    }
}
