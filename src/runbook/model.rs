//! The validated runbook: every default applied, every override resolved, every job listed once.
//!
//! Nothing here can be invalid: the types only hold values that passed [`super::resolve`]. The
//! planner and the executor read this model and never the YAML.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::raw::ResultWord;
use super::values::{Duration, EnvVarName, FailureBudget, Rate};
use crate::drs::{Endpoint, JobId, Language, ProjectId, Region};

/// A runbook that passed every check: what `plan` orders and `run` executes.
#[derive(Debug, Clone)]
pub struct Runbook {
    /// The human name for the run, shown in plans and reports.
    pub name: String,
    /// Where the stops are sent.
    pub target: Target,
    /// Limits on the whole run.
    pub limits: Limits,
    /// The phases, in the order they run.
    pub phases: Vec<Phase>,
    /// Webhooks told of the run's events (not part of the plan: they change nothing stopped).
    pub notify: Vec<Notify>,
}

/// A webhook told of the run's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// Where to POST (https, or http on loopback).
    pub url: url::Url,
    /// The environment variable holding the signing key.
    pub secret_env: super::values::EnvVarName,
    /// The events told.
    pub on: Vec<NotifyOn>,
}

/// An event a webhook may be told of.
// No variant docs: schemars would turn them into schema descriptions.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, schemars::JsonSchema)]
#[schemars(rename = "NotifyOn", rename_all = "snake_case")]
pub enum NotifyOn {
    PhaseDone,
    StopFailed,
    GateWaiting,
    Paused,
    RunDone,
}

impl NotifyOn {
    /// Every event, in the order a run meets them.
    pub const ALL: [NotifyOn; 5] = [
        NotifyOn::PhaseDone,
        NotifyOn::StopFailed,
        NotifyOn::GateWaiting,
        NotifyOn::Paused,
        NotifyOn::RunDone,
    ];

    /// The event's name, as runbooks and notifications write it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyOn::PhaseDone => "phase_done",
            NotifyOn::StopFailed => "stop_failed",
            NotifyOn::GateWaiting => "gate_waiting",
            NotifyOn::Paused => "paused",
            NotifyOn::RunDone => "run_done",
        }
    }
}

impl Runbook {
    /// Every stop with its phase, in run order.
    pub fn stops(&self) -> impl Iterator<Item = (&Phase, &Stop)> {
        self.phases
            .iter()
            .flat_map(|p| p.stops.iter().map(move |s| (p, s)))
    }

    /// How many stops the runbook holds, over all phases.
    pub fn stop_count(&self) -> usize {
        self.phases.iter().map(|p| p.stops.len()).sum()
    }
}

/// Where the stops go.
#[derive(Debug, Clone)]
pub enum Target {
    /// The mock started in-process on a free loopback port.
    EmbeddedMock,
    /// The embedded mock serving a fleet file (`target: { mock: { jobs: FILE } }`).
    MockFleet(Fleet),
    /// A real DRS endpoint (or a mock the user started), reached over the network.
    Remote(Box<RemoteTarget>),
}

/// The fleet file of the embedded mock.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// As written in the runbook, for plans and messages.
    pub written: String,
    /// Resolved against the runbook's folder.
    pub path: PathBuf,
    /// Where the runbook names it.
    pub at: crate::diag::Span,
    /// The mock's fault profile (`gateway`, `chaos`, …), when the runbook names one.
    pub profile: Option<String>,
}

/// A DRS endpoint outside the process, with the project and the way to authenticate.
#[derive(Debug, Clone)]
pub struct RemoteTarget {
    /// Where the DRS API is.
    pub host: Host,
    /// The tenant's project, part of every request path.
    pub project_id: ProjectId,
    /// How requests are authenticated.
    pub auth: Auth,
    /// The `X-Language` header to send; absent, none is sent.
    pub language: Option<Language>,
}

/// How the DRS host is named: an endpoint, or a region that names the vendor's host.
#[derive(Debug, Clone)]
pub enum Host {
    /// An endpoint written in the runbook.
    Endpoint(Endpoint),
    /// A region, whose vendor DRS host is used.
    Region(Region),
}

/// How requests are authenticated. Holds where secrets are, never the secrets.
#[derive(Debug, Clone)]
pub enum Auth {
    /// An IAM token read from this environment variable.
    TokenEnv(EnvVarName),
    /// An IAM token read from a file.
    TokenFile {
        /// As written in the runbook, for plans and messages.
        written: String,
        /// Resolved against the runbook's folder.
        path: PathBuf,
    },
    /// AK/SK signing (SDK-HMAC-SHA256), the keys read from environment variables.
    AkSk {
        /// The variable holding the access key.
        ak_env: EnvVarName,
        /// The variable holding the secret key.
        sk_env: EnvVarName,
        /// The variable holding the security token of temporary credentials.
        security_token_env: Option<EnvVarName>,
    },
    /// A token obtained by exchanging an IAM user's password, scoped to the project.
    IamPassword {
        /// The IAM endpoint that issues the token.
        endpoint: Endpoint,
        /// The variable holding the IAM user name.
        user_env: EnvVarName,
        /// The variable holding the IAM password.
        password_env: EnvVarName,
        /// The account (domain) the user belongs to.
        domain: String,
    },
}

/// Limits on the whole run, defaults applied.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests in flight at once, stops and status polls together.
    pub concurrency: u32,
    /// A shared ceiling on every request; absent, none.
    pub rate: Option<Rate>,
    /// Failed stops the run tolerates before it aborts; absent, no budget.
    pub max_failures: Option<FailureBudget>,
    /// Stops per call (1: one stop call each; above 1: batch-stop calls).
    pub batch: u32,
    /// The most stops the plan may force, escalations that could fire included; absent, any.
    pub max_force: Option<u32>,
}

/// Requests in flight when the runbook does not say.
pub const DEFAULT_CONCURRENCY: u32 = 8;

/// A group of stops; it starts when the phase before it has finished.
#[derive(Debug, Clone)]
pub struct Phase {
    /// The phase's name, unique in the runbook.
    pub name: String,
    /// Requests in flight within this phase (never above the run's).
    pub concurrency: u32,
    /// The phase's own failure budget, besides the run's.
    pub max_failures: Option<FailureBudget>,
    /// Stops per call in this phase (its own, or the run's `limits.batch`).
    pub batch: u32,
    /// The most stops this phase may force, escalations that could fire included.
    pub max_force: Option<u32>,
    /// The run waits before this phase until told to go on (`gate: manual`).
    pub gate: bool,
    /// The stops, in order, the `stops_file`'s after those written in place, then (once
    /// resolved against the target) the jobs the phase's `select` found.
    pub stops: Vec<Stop>,
    /// The query that chooses more jobs from live state, if any.
    pub select: Option<Select>,
    /// The phase's settings (over `defaults`): what a selected job is stopped with.
    pub settings: Arc<Settings>,
}

/// A query over live state: ListJobs filters, the tag filter, a name glob, and a guard.
#[derive(Debug, Clone)]
pub struct Select {
    /// The task types (ListJobs `job_type`, required): one query a type, in this order.
    pub job_types: Vec<super::raw::JobType>,
    /// Only these statuses (ListJobs `status`); empty, any.
    pub status: Vec<&'static str>,
    /// The server's match on a task ID or name (ListJobs `name`).
    pub name: Option<String>,
    /// A glob the whole task name must match.
    pub name_glob: Option<super::glob::NameGlob>,
    /// Only this enterprise project (ListJobs `enterprise_project_id`).
    pub enterprise_project_id: Option<String>,
    /// Tags every task must carry: each key with the values allowed (the tag-filter call).
    pub tags: std::collections::BTreeMap<String, Vec<String>>,
    /// More matches than this is an error: nothing is sent.
    pub max: u32,
    /// Fewer matches than this is an error: nothing is sent (default 1; 0 allows none).
    pub min: u32,
    /// Matched jobs left out, after the server's filters.
    pub exclude: Exclude,
}

/// The fewest jobs a select must find when its runbook does not say.
pub const DEFAULT_SELECT_MIN: u32 = 1;

/// Jobs a select's filters matched that are left out.
#[derive(Debug, Clone, Default)]
pub struct Exclude {
    /// These task IDs.
    pub ids: Vec<JobId>,
    /// Tasks whose ID is this, or whose name contains it (case aside).
    pub name: Option<String>,
    /// Tasks whose whole name matches this glob.
    pub name_glob: Option<super::glob::NameGlob>,
    /// Tasks carrying any of these tags (a key with one of its values).
    pub tags: std::collections::BTreeMap<String, Vec<String>>,
}

impl Exclude {
    /// Whether it leaves nothing out.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
            && self.name.is_none()
            && self.name_glob.is_none()
            && self.tags.is_empty()
    }
}

impl Phase {
    /// The phase's stops as they go out, by index: runs of consecutive stops that share a force
    /// flag (and the call's timeout and retries), cut into pieces of at most `batch`. With `batch: 1`, one stop each. The plan shows
    /// these, and the run sends them, so what was reviewed is what goes out together.
    pub fn batches(&self) -> Vec<Vec<usize>> {
        self.batches_among(|_| true)
    }

    /// In batch mode, for each stop, the index of the first stop of the call it goes out in: a
    /// call is named by its first stop's seq, in the plan and in every report, so that calls
    /// of a resumed or sharded run never share a name with other calls.
    pub fn call_starts(&self) -> Vec<Option<usize>> {
        let mut starts = vec![None; self.stops.len()];
        if self.batch > 1 {
            for call in self.batches() {
                let first = call[0];
                call.into_iter().for_each(|i| starts[i] = Some(first));
            }
        }
        starts
    }

    /// [`Phase::batches`] formed from the stops `keep` selects only (a shard's): the kept
    /// stops, in order, make full batches instead of each plan batch losing the others' stops.
    pub fn batches_among(&self, keep: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
        let size = self.batch.max(1) as usize;
        let mut out: Vec<Vec<usize>> = Vec::new();
        for i in (0..self.stops.len()).filter(|i| keep(*i)) {
            let settings = &self.stops[i].settings;
            match out.last_mut() {
                Some(last)
                    if last.len() < size && same_call(&self.stops[last[0]].settings, settings) =>
                {
                    last.push(i)
                }
                _ => out.push(vec![i]),
            }
        }
        out
    }
}

/// Whether two stops may share a batch-stop call: the same force flag, and the same timing of
/// the call (its timeout and retries), which a call has only one of.
fn same_call(a: &Settings, b: &Settings) -> bool {
    a.force == b.force && a.request_timeout == b.request_timeout && a.retry == b.retry
}

/// One job to stop, with its settings resolved.
#[derive(Debug, Clone)]
pub struct Stop {
    /// The DRS job to stop.
    pub job: JobId,
    /// A human label shown in plans and reports.
    pub label: Option<String>,
    /// The task's name as a `select` found it: set only on selected stops.
    pub name: Option<String>,
    /// Shared by every stop that does not override anything, so 200,000 stops cost one copy.
    pub settings: Arc<Settings>,
}

/// Everything that decides how one stop is made and judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Send `is_force_stop: true` (for abnormal tasks).
    pub force: bool,
    /// The outcome the stop must have, as written (see [`Settings::effective_expect`]).
    pub expect: Expectation,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// Resending of requests that surely changed nothing.
    pub retry: Retry,
    /// How long to wait for the job to end, and how often to look; `None` does not wait.
    pub wait: Option<Wait>,
    /// When to force-stop a job that has not ended; `None` never does.
    pub escalate: Option<Escalate>,
}

impl Default for Settings {
    /// The built-in defaults, under the runbook's `defaults`.
    fn default() -> Self {
        Settings {
            force: false,
            expect: Expectation::Stopped,
            request_timeout: Duration::from_millis(30_000),
            retry: Retry::default(),
            wait: Some(Wait::default()),
            escalate: None,
        }
    }
}

impl Settings {
    /// The expectation actually checked: `stopped` without waiting is `accepted`.
    pub fn effective_expect(&self) -> Expectation {
        match (&self.expect, self.wait) {
            (Expectation::Stopped, None) => Expectation::Accepted,
            (e, _) => e.clone(),
        }
    }

    /// Waiting applies only to `stopped`: an `accepted` or exact-answer stop is judged on the
    /// answer alone.
    pub fn effective_wait(&self) -> Option<Wait> {
        match self.effective_expect() {
            Expectation::Stopped => self.wait,
            _ => None,
        }
    }

    /// Escalation needs waiting: it acts on a job that has not ended in time.
    pub fn effective_escalate(&self) -> Option<Escalate> {
        // A force stop has nothing to escalate to (soak seed 12).
        self.effective_wait()
            .and(self.escalate)
            .filter(|_| !self.force)
    }
}

/// Retry timing for requests that are safe to resend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The first wait between attempts; it doubles, with jitter.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// How long an unknown outcome is resolved by status reads before the stop is resent.
    pub settle: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_millis(30_000),
            settle: Duration::from_millis(10_000),
        }
    }
}

/// How long to wait for a stopped job to end, and how often to read its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// Give up waiting after this long.
    pub timeout: Duration,
    /// Read the job's status this often.
    pub poll: Duration,
}

impl Default for Wait {
    fn default() -> Self {
        Wait {
            timeout: Duration::from_millis(30 * 60_000),
            poll: Duration::from_millis(10_000),
        }
    }
}

/// When to send a force stop to a job that has not ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalate {
    /// Time after the stop was accepted.
    pub after: Duration,
}

/// The outcome a stop must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// 200 `success`, then the job reaches `RELEASE_RESOURCE_COMPLETE` within `wait.timeout`.
    Stopped,
    /// 200 `success`; no waiting. (`stopped` with `wait: false` resolves to this.)
    Accepted,
    /// An exact answer.
    Answer {
        /// The HTTP status expected.
        http: u16,
        /// The `error_code` expected in the body.
        error_code: Option<String>,
        /// Text the `error_msg` must contain.
        error_msg_contains: Option<String>,
        /// With `http: 200`: the `status` expected in the body.
        result: Option<ResultWord>,
    },
}

/// An expectation in words: `stopped`, `accepted`, `HTTP 400 DRS.10000010`,
/// `HTTP 200 status failed`: the one rendering reports, plans and messages use.
impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expectation::Stopped => f.write_str("stopped"),
            Expectation::Accepted => f.write_str("accepted"),
            Expectation::Answer {
                http,
                error_code,
                error_msg_contains,
                result,
            } => {
                write!(f, "HTTP {http}")?;
                if let Some(code) = error_code {
                    write!(f, " {code}")?;
                } else if let Some(word) = result {
                    write!(f, " status {}", word.as_str())?;
                }
                if let Some(part) = error_msg_contains {
                    write!(f, ", message contains {part:?}")?;
                }
                Ok(())
            }
        }
    }
}
