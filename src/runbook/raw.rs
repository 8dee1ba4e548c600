//! The runbook exactly as written: every key of format v1 with the position it came from, before
//! any cross-checking or defaulting.
//!
//! These types are read from the node tree by hand ([`Decode`]) so that every problem is found in
//! one pass, and the JSON Schema for editors is derived from them (`schemars`), so the schema and
//! the parser describe the same format. Doc comments here become the schema's descriptions.

use schemars::JsonSchema;

use super::decode::{Cx, Decode, MapReader, Spanned, Written, not_a_secret};
use super::values::{Duration, EnvVarName, FailureBudget, Rate};
use super::yaml::{Node, Value};
use crate::diag::Span;
use crate::diag::mask::{looks_like_password, looks_random};
use crate::drs::{Endpoint, JobId, Language, ProjectId, Region};

mod expect;
mod gate;
mod notify;
mod select;
pub use expect::{ExpectKeyword, RawExpect, ResultWord};
pub use notify::RawNotify;
pub use select::{JobType, RawExclude, RawMockTarget, RawSelect};

/// A stopbook runbook, format v1: stops of DRS tasks grouped in ordered phases.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Runbook", deny_unknown_fields, title = "stopbook runbook v1")]
pub struct RawRunbook {
    /// The format version; only `1` exists.
    #[schemars(range(min = 1, max = 1))]
    pub version: Spanned<u64>,
    /// A human name for the run, shown in plans and reports.
    pub name: Spanned<String>,
    /// Where the stops are sent. Absent: the embedded mock.
    pub target: Option<RawTarget>,
    /// Settings for every stop; a phase or a stop may override each key.
    pub defaults: Option<RawSettings>,
    /// Limits on the whole run.
    pub limits: Option<RawLimits>,
    /// The phases, run in order: each starts when the one before has finished.
    #[schemars(length(min = 1))]
    pub phases: Spanned<Vec<RawPhase>>,
    /// Webhooks told of the run's events, signed; they never delay or fail a stop.
    pub notify: Option<Vec<notify::RawNotify>>,
}

impl Decode for RawRunbook {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        if matches!(node.value, Value::Null) {
            return cx.error(
                Span::start(),
                "the runbook is empty: it needs at least `version`, `name` and `phases`",
            );
        }
        let mut map = MapReader::open(node, "the runbook", cx)?;
        // A missing version or name is reported here; the stand-ins only let the remaining
        // checks run (a runbook with any report is never used).
        let stand_in = map.span();
        let version = map.required("version", cx).unwrap_or(Spanned {
            value: 1,
            span: stand_in,
        });
        let name = map.required("name", cx).unwrap_or(Spanned {
            value: "(unnamed)".to_owned(),
            span: stand_in,
        });
        let target = map.optional("target", cx);
        let defaults = map
            .node("defaults")
            .and_then(|n| RawSettings::decode_map(n, "`defaults`", cx));
        let limits = map.optional("limits", cx);
        if let Some(phases) = map.node("phases")
            && matches!(&phases.value, Value::Seq(items) if items.is_empty())
        {
            cx.error::<()>(
                phases.span,
                "`phases` is empty: a runbook needs at least one phase",
            );
        }
        let phases = map.required("phases", cx);
        let notify = map.optional("notify", cx);
        map.finish(cx);
        Some(RawRunbook {
            version,
            name,
            target,
            defaults,
            limits,
            phases: phases?,
            notify,
        })
    }
}

/// The DRS endpoint, project and credentials.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Target", deny_unknown_fields)]
pub struct RawTarget {
    /// The DRS endpoint: `https://host`, or `http://` on a loopback host.
    pub endpoint: Option<Spanned<Endpoint>>,
    /// Instead of `endpoint`: the region whose vendor DRS host to use, e.g. `cn-north-4`.
    pub region: Option<Spanned<Region>>,
    /// The tenant's project ID: 32 lowercase hex characters.
    pub project_id: Option<Spanned<ProjectId>>,
    /// How to authenticate: exactly one way, never a literal secret.
    pub auth: Option<RawAuth>,
    /// The `X-Language` header: `en-us` or `zh-cn`.
    pub language: Option<Spanned<Language>>,
    /// Instead of an endpoint: the embedded mock serving this fleet (to rehearse a `select`).
    pub mock: Option<RawMockTarget>,
    /// Where `target` starts, for problems of the map as a whole.
    #[schemars(skip)]
    pub span: Span,
    /// The keys written, valid or not: an invalid value is reported once, not again as missing.
    #[schemars(skip)]
    pub written: Written,
}

impl Decode for RawTarget {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "`target`", cx)?;
        let target = RawTarget {
            endpoint: map.optional("endpoint", cx),
            region: map.optional("region", cx),
            project_id: map.optional("project_id", cx),
            auth: map.optional("auth", cx),
            language: map.optional("language", cx),
            mock: map.optional("mock", cx),
            span: map.span(),
            written: map.written(),
        };
        map.finish(cx);
        Some(target)
    }
}

/// What a credential written in place of a file path, or of an account name, is told.
const TOKEN_FILE_SECRET: (&str, &str) = (
    "a file path",
    "write the path of a file that holds the token, e.g. `token_file: secrets/drs-token`",
);
const DOMAIN_SECRET: (&str, &str) = (
    "an account name",
    "`domain` is the account the IAM user belongs to; the password goes in the variable `password_env` names",
);

/// Credentials, by reference only: environment variable names or a file path.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Auth", deny_unknown_fields)]
pub struct RawAuth {
    /// An IAM token (`X-Auth-Token`) from this environment variable.
    pub token_env: Option<Spanned<EnvVarName>>,
    /// An IAM token read from this file (relative to the runbook).
    pub token_file: Option<Spanned<String>>,
    /// AK/SK signing (SDK-HMAC-SHA256): the access key from this environment variable.
    pub ak_env: Option<Spanned<EnvVarName>>,
    /// AK/SK signing: the secret key from this environment variable.
    pub sk_env: Option<Spanned<EnvVarName>>,
    /// AK/SK signing with temporary credentials: the security token from this variable.
    pub security_token_env: Option<Spanned<EnvVarName>>,
    /// An IAM password exchange for a token, scoped to the project.
    pub iam_password: Option<RawIamPassword>,
    /// Where `auth` starts, for problems of the map as a whole.
    #[schemars(skip)]
    pub span: Span,
    /// The keys written, valid or not: an invalid value is reported once, not again as missing.
    #[schemars(skip)]
    pub written: Written,
}

impl Decode for RawAuth {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "`auth`", cx)?;
        let auth = RawAuth {
            token_env: map.optional("token_env", cx),
            token_file: map
                .optional("token_file", cx)
                .and_then(|f| not_a_secret(f, cx, looks_random, TOKEN_FILE_SECRET)),
            ak_env: map.optional("ak_env", cx),
            sk_env: map.optional("sk_env", cx),
            security_token_env: map.optional("security_token_env", cx),
            iam_password: map.optional("iam_password", cx),
            span: map.span(),
            written: map.written(),
        };
        map.finish(cx);
        Some(auth)
    }
}

/// An IAM password exchange: `POST /v3/auth/tokens` on `endpoint`.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "IamPassword", deny_unknown_fields)]
pub struct RawIamPassword {
    /// The IAM endpoint, e.g. `https://iam.cn-north-4.myhuaweicloud.com`; may be left out with
    /// `target.region`, which names the vendor's IAM host.
    pub endpoint: Option<Spanned<Endpoint>>,
    /// Where `iam_password` starts, for problems of the map as a whole.
    #[schemars(skip)]
    pub span: Span,
    /// The IAM user name, from this environment variable.
    pub user_env: Spanned<EnvVarName>,
    /// The IAM password, from this environment variable.
    pub password_env: Spanned<EnvVarName>,
    /// The account (domain) name the user belongs to.
    pub domain: Spanned<String>,
}

impl Decode for RawIamPassword {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "`iam_password`", cx)?;
        let endpoint = map.optional("endpoint", cx);
        let written = map.wrote("endpoint");
        let span = map.span();
        let user_env = map.required("user_env", cx);
        let password_env = map.required("password_env", cx);
        let domain = map
            .required("domain", cx)
            .and_then(|d| not_a_secret(d, cx, looks_like_password, DOMAIN_SECRET));
        map.finish(cx);
        if written && endpoint.is_none() {
            return None;
        }
        Some(RawIamPassword {
            endpoint,
            span,
            user_env: user_env?,
            password_env: password_env?,
            domain: domain?,
        })
    }
}

/// Limits on the whole run.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Limits", deny_unknown_fields)]
pub struct RawLimits {
    /// Requests in flight at once, stops and status polls together (default 8).
    #[schemars(range(min = 1))]
    pub concurrency: Option<Spanned<u32>>,
    /// A shared ceiling on every request (stops and polls): `N/s` or `N/m`. Absent: no ceiling.
    pub rate: Option<Spanned<Rate>>,
    /// Failed stops tolerated: a count or a percentage; one more aborts the run. Absent: no budget.
    pub max_failures: Option<Spanned<FailureBudget>>,
    /// Stops per call (default 1); above 1, stops sharing a force flag go out together in one
    /// `batch-stop` call, in plan order. At most 100.
    #[schemars(range(min = 1, max = 100))]
    pub batch: Option<Spanned<u32>>,
    /// The most force stops the plan may send, escalations that could fire included.
    pub max_force: Option<Spanned<u32>>,
}

impl Decode for RawLimits {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "`limits`", cx)?;
        let limits = RawLimits {
            concurrency: map.optional("concurrency", cx),
            rate: map.optional("rate", cx),
            max_failures: map.optional("max_failures", cx),
            batch: map.optional("batch", cx),
            max_force: map.optional("max_force", cx),
        };
        map.finish(cx);
        Some(limits)
    }
}

/// A group of stops. It starts when the phase before it has finished.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Phase", deny_unknown_fields)]
pub struct RawPhase {
    /// The phase's name, unique in the runbook.
    pub name: Spanned<String>,
    /// Requests in flight at once within this phase; at most `limits.concurrency`.
    #[schemars(range(min = 1))]
    pub concurrency: Option<Spanned<u32>>,
    /// Failed stops tolerated in this phase: a count or a percentage of the phase; one more
    /// aborts the run (`0` on a canary phase: a failed canary ends the run).
    pub max_failures: Option<Spanned<FailureBudget>>,
    /// Stops per call in this phase, instead of `limits.batch`.
    #[schemars(range(min = 1, max = 100))]
    pub batch: Option<Spanned<u32>>,
    /// The most force stops this phase may send, escalations that could fire included.
    pub max_force: Option<Spanned<u32>>,
    /// `manual`: the run waits before this phase until told to go on (`stopbook ctl go`).
    pub gate: Option<Spanned<gate::Gate>>,
    /// Per-stop settings for this phase, over `defaults`.
    #[schemars(flatten)]
    pub settings: RawSettings,
    /// The stops, in order; they come before those of `stops_file`.
    pub stops: Option<Vec<RawStop>>,
    /// A file of job IDs, one a line, `#` comments; relative to the runbook.
    pub stops_file: Option<Spanned<String>>,
    /// Jobs chosen from live state, after `stops` and `stops_file`.
    pub select: Option<RawSelect>,
    /// Where the phase starts, for problems of the phase as a whole.
    #[schemars(skip)]
    pub span: Span,
    /// The keys written, valid or not: an invalid value is reported once, not again as missing.
    #[schemars(skip)]
    pub written: Written,
    /// A misspelt key was taken for `stops` or `stops_file` (so "no stops" would repeat it).
    #[schemars(skip)]
    pub misspelt_stops: bool,
}

impl Decode for RawPhase {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let what = match named(node) {
            Some(name) => format!("phase `{name}`"),
            None => "a phase".to_owned(),
        };
        let mut map = MapReader::open(node, what, cx)?;
        let name = map.required("name", cx);
        let concurrency = map.optional("concurrency", cx);
        let max_failures = map.optional("max_failures", cx);
        let batch = map.optional("batch", cx);
        let max_force = map.optional("max_force", cx);
        let gate = map.optional("gate", cx);
        let settings = RawSettings::read(&mut map, cx);
        let stops = map.optional("stops", cx);
        let stops_file = map.optional("stops_file", cx);
        let select = map.optional("select", cx);
        let span = map.span();
        let written = map.written();
        let misspelt_stops = map
            .finish(cx)
            .iter()
            .any(|k| *k == "stops" || *k == "stops_file" || *k == "select");
        Some(RawPhase {
            name: name?,
            concurrency,
            max_failures,
            batch,
            max_force,
            gate,
            settings,
            stops,
            stops_file,
            select,
            span,
            written,
            misspelt_stops,
        })
    }
}

/// The `name` of a map node, for naming it in messages before it is decoded.
fn named(node: &Node) -> Option<&str> {
    let Value::Map(entries) = &node.value else {
        return None;
    };
    entries
        .iter()
        .find_map(|(k, v)| match (&k.name[..], &v.value) {
            ("name", Value::Str(s)) => Some(s.as_str()),
            _ => None,
        })
}

/// One stop: the job to stop, and settings that override the phase's.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Stop", deny_unknown_fields)]
pub struct RawStop {
    /// The DRS job ID.
    pub job: Spanned<JobId>,
    /// A human label shown in plans and reports.
    pub label: Option<Spanned<String>>,
    /// Per-stop settings for this stop, over the phase's.
    #[schemars(flatten)]
    pub settings: RawSettings,
}

impl Decode for RawStop {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "a stop", cx)?;
        let job = map.required("job", cx);
        let label = map.optional("label", cx);
        let settings = RawSettings::read(&mut map, cx);
        map.finish(cx);
        Some(RawStop {
            job: job?,
            label,
            settings,
        })
    }
}

/// Settings of a stop. Each may be set in `defaults`, a phase, or a stop; the nearest wins, and
/// a partial map (`retry: { attempts: 3 }`) keeps the other keys from further out.
#[derive(Debug, Default, JsonSchema)]
#[schemars(rename = "Settings", deny_unknown_fields)]
pub struct RawSettings {
    /// Send `is_force_stop: true` (for abnormal tasks). Always sent explicitly. Default false.
    pub force: Option<Spanned<bool>>,
    /// The outcome the stop must have. Default `stopped`.
    pub expect: Option<Spanned<RawExpect>>,
    /// How long one request may take. Default 30s.
    pub request_timeout: Option<Spanned<Duration>>,
    /// Retries of requests that surely did not change anything (connect failures, 429, 502-504).
    pub retry: Option<RawRetry>,
    /// Whether and how long to wait for the job to end: a map, or `false`. Default 30m, poll 10s.
    pub wait: Option<Spanned<RawWait>>,
    /// Force-stop a job that has not ended `after` this long, or ended in
    /// `RELEASE_RESOURCE_FAILED`; `false` turns it off. Default off.
    pub escalate: Option<Spanned<RawEscalate>>,
}

impl RawSettings {
    /// Reads the settings keys of a phase or a stop map.
    fn read(map: &mut MapReader<'_>, cx: &mut Cx) -> Self {
        RawSettings {
            force: map.optional("force", cx),
            expect: map.optional("expect", cx),
            request_timeout: map.optional("request_timeout", cx),
            retry: map.optional("retry", cx),
            wait: map.optional("wait", cx),
            escalate: map.optional("escalate", cx),
        }
    }

    fn decode_map(node: &Node, what: &str, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, what, cx)?;
        let settings = RawSettings::read(&mut map, cx);
        map.finish(cx);
        Some(settings)
    }

    /// Whether no setting is written.
    pub fn is_empty(&self) -> bool {
        self.force.is_none()
            && self.expect.is_none()
            && self.request_timeout.is_none()
            && self.retry.is_none()
            && self.wait.is_none()
            && self.escalate.is_none()
    }
}

/// Retry timing for requests that are safe to resend.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Retry", deny_unknown_fields)]
pub struct RawRetry {
    /// Attempts in all, the first included (default 5).
    #[schemars(range(min = 1, max = 100))]
    pub attempts: Option<Spanned<u32>>,
    /// The first wait between attempts; it doubles, with jitter (default 500ms).
    pub backoff: Option<Spanned<Duration>>,
    /// The longest wait between attempts (default 30s).
    pub max_backoff: Option<Spanned<Duration>>,
    /// After an answer that leaves the outcome unknown (a 5xx, a timeout, a reset), how long
    /// the job's status is read before the stop counts as not taken and is sent again
    /// (default 10s).
    pub settle: Option<Spanned<Duration>>,
}

impl Decode for RawRetry {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let mut map = MapReader::open(node, "`retry`", cx)?;
        let retry = RawRetry {
            attempts: map.optional("attempts", cx),
            backoff: map.optional("backoff", cx),
            max_backoff: map.optional("max_backoff", cx),
            settle: map.optional("settle", cx),
        };
        map.finish(cx);
        Some(retry)
    }
}

/// `wait`: `false` (do not wait), `true` (wait with the inherited timing), or a map.
// No variant docs: schemars would turn them into schema descriptions and change the committed
// schema; the doc above says what each variant is.
#[allow(missing_docs)]
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Wait", untagged)]
pub enum RawWait {
    Toggle(bool),
    Until(RawWaitUntil),
}

/// How long to wait for a stopped job to reach a terminal status, and how often to look.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "WaitUntil", deny_unknown_fields)]
pub struct RawWaitUntil {
    /// Give up waiting after this long (default 30m).
    pub timeout: Option<Spanned<Duration>>,
    /// Read the job's status this often (default 10s).
    pub poll: Option<Spanned<Duration>>,
}

impl Decode for RawWait {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        if let Value::Bool(b) = node.value {
            return Some(RawWait::Toggle(b));
        }
        if !matches!(node.value, Value::Map(_)) {
            return cx.expected(
                node,
                "`false` or a map such as `{ timeout: 30m, poll: 10s }` for `wait`",
            );
        }
        let mut map = MapReader::open(node, "`wait`", cx)?;
        let until = RawWaitUntil {
            timeout: map.optional("timeout", cx),
            poll: map.optional("poll", cx),
        };
        map.finish(cx);
        Some(RawWait::Until(until))
    }
}

/// `escalate`: `false`, or `{ after: DURATION }`.
// No variant docs: schemars would turn them into schema descriptions and change the committed
// schema; the doc above says what each variant is.
#[allow(missing_docs)]
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Escalate", untagged)]
pub enum RawEscalate {
    Off(Off),
    After(RawEscalateAfter),
}

/// `escalate: false`: the only boolean `escalate` takes (`true` does not say when). In the
/// schema it is a boolean, as it is written.
#[derive(Debug)]
pub struct Off;

impl JsonSchema for Off {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Boolean".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "boolean" })
    }
}

/// When to send a force stop to a job that has not ended.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "EscalateAfter", deny_unknown_fields)]
pub struct RawEscalateAfter {
    /// Time after the stop was accepted.
    pub after: Spanned<Duration>,
}

impl Decode for RawEscalate {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match node.value {
            Value::Bool(false) => return Some(RawEscalate::Off(Off)),
            Value::Bool(true) => {
                return cx.error(
                    node.span,
                    "`escalate: true` does not say when: write `escalate: { after: 10m }`",
                );
            }
            Value::Map(_) => {}
            _ => {
                return cx.expected(
                    node,
                    "`false` or a map such as `{ after: 10m }` for `escalate`",
                );
            }
        }
        let mut map = MapReader::open(node, "`escalate`", cx)?;
        let after = map.required("after", cx);
        map.finish(cx);
        Some(RawEscalate::After(RawEscalateAfter { after: after? }))
    }
}
