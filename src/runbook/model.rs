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

#[derive(Debug, Clone)]
pub struct Runbook {
    pub name: String,
    pub target: Target,
    pub limits: Limits,
    pub phases: Vec<Phase>,
}

impl Runbook {
    pub fn stops(&self) -> impl Iterator<Item = (&Phase, &Stop)> {
        self.phases
            .iter()
            .flat_map(|p| p.stops.iter().map(move |s| (p, s)))
    }

    pub fn stop_count(&self) -> usize {
        self.phases.iter().map(|p| p.stops.len()).sum()
    }
}

/// Where the stops go.
#[derive(Debug, Clone)]
pub enum Target {
    /// The mock started in-process on a free loopback port.
    EmbeddedMock,
    Remote(Box<RemoteTarget>),
}

#[derive(Debug, Clone)]
pub struct RemoteTarget {
    pub host: Host,
    pub project_id: ProjectId,
    pub auth: Auth,
    pub language: Option<Language>,
}

#[derive(Debug, Clone)]
pub enum Host {
    Endpoint(Endpoint),
    Region(Region),
}

/// How requests are authenticated. Holds where secrets are, never the secrets.
#[derive(Debug, Clone)]
pub enum Auth {
    TokenEnv(EnvVarName),
    TokenFile {
        /// As written in the runbook, for plans and messages.
        written: String,
        /// Resolved against the runbook's folder.
        path: PathBuf,
    },
    AkSk {
        ak_env: EnvVarName,
        sk_env: EnvVarName,
        security_token_env: Option<EnvVarName>,
    },
    IamPassword {
        endpoint: Endpoint,
        user_env: EnvVarName,
        password_env: EnvVarName,
        domain: String,
    },
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub concurrency: u32,
    pub rate: Option<Rate>,
    pub max_failures: Option<FailureBudget>,
}

/// Requests in flight when the runbook does not say.
pub const DEFAULT_CONCURRENCY: u32 = 8;

#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    /// Requests in flight within this phase (never above the run's).
    pub concurrency: u32,
    /// The phase's own failure budget, besides the run's.
    pub max_failures: Option<FailureBudget>,
    pub stops: Vec<Stop>,
}

#[derive(Debug, Clone)]
pub struct Stop {
    pub job: JobId,
    pub label: Option<String>,
    /// Shared by every stop that does not override anything, so 200,000 stops cost one copy.
    pub settings: Arc<Settings>,
}

/// Everything that decides how one stop is made and judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub force: bool,
    pub expect: Expectation,
    pub request_timeout: Duration,
    pub retry: Retry,
    pub wait: Option<Wait>,
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
        self.effective_wait().and(self.escalate)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub backoff: Duration,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub timeout: Duration,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalate {
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
        http: u16,
        error_code: Option<String>,
        error_msg_contains: Option<String>,
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
