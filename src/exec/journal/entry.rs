//! The journal's lines: the header each process writes, the plan's stops, every event of a
//! stop (each with its time), and a process's end. One `kind`-tagged JSON object a line.

use serde::{Deserialize, Serialize};

use super::Holder;
use crate::drs::JobId;
use crate::exec::history::{At, Undelivered};
use crate::exec::{Outcome, RunOutcome, StopResult};
use crate::plan::Plan;

/// What a process writes first in the journal: the window it works in. A resume is refused
/// when the plan differs, or the project; another endpoint needs `--retarget`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The plan's content hash; a journal of another plan is refused.
    pub plan_id: String,
    /// The runbook's name, for a person reading the file.
    pub runbook: String,
    /// The sha256 (hex) of the runbook bytes that were parsed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub runbook_sha256: Option<String>,
    /// Where the stops go.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target: Option<Binding>,
    /// The endpoint of the journal's earlier processes, when `--retarget` moved the window.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retargeted_from: Option<String>,
    /// The process that wrote the lines after this header.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub process: Option<Holder>,
    /// The command of that process and the flags that matter (`run --resume`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub command: Option<String>,
    /// When that process opened the journal.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub at: Option<At>,
    /// The approved plan a drift was accepted from (`run --plan --accept-drift`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approved_plan_id: Option<String>,
    /// The address the process reached its endpoint at (the embedded mock's, which changes
    /// from process to process): what the reports show as the target.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    /// The fault profile of a rehearsal (`run --plan --rehearse`), when the process was one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rehearsal: Option<String>,
}

impl Header {
    /// A header naming the plan only; the caller adds what it knows of the window.
    pub fn of_plan(plan_id: &str, runbook: &str) -> Self {
        Header {
            plan_id: plan_id.to_owned(),
            runbook: runbook.to_owned(),
            runbook_sha256: None,
            target: None,
            retargeted_from: None,
            process: None,
            command: None,
            at: Some(At::now()),
            approved_plan_id: None,
            url: None,
            rehearsal: None,
        }
    }
}

/// The target a window is bound to: never a credential, only its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The endpoint's base URL (`embedded mock` for the embedded one).
    pub endpoint: String,
    /// The project the stops go to.
    pub project_id: String,
    /// The kind of credential (`token`, `ak_sk`, `iam_password`, `embedded`).
    pub auth: String,
    /// The shard of the plan the window runs (`K/N`), or none when it runs the whole plan.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<String>,
}

/// One line of the journal, as JSON with a `kind` tag. Every line of a stop carries its time
/// (`at`; absent in journals written before it did).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// The header each process writes on opening: which plan and target the lines after it
    /// belong to, and which process wrote them.
    Run(Box<Header>),
    /// The stops the window is to run (written once, by the journal's first process, in chunks):
    /// what a report needs of the plan to render the window from the journal alone.
    Planned {
        /// The phase the stops belong to.
        phase: String,
        /// The stops, in plan order.
        stops: Vec<PlannedStop>,
    },
    /// The stop may be sent from here on (on disk before its request goes).
    Intent {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The job the stop is for.
        job: JobId,
        /// Whether the stop is a force stop.
        force: bool,
        /// The batch-stop call it goes out in (batch mode).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        batch: Option<usize>,
        /// When.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        at: Option<At>,
    },
    /// An answer that did not settle the stop, or refused it: a 429, a refusal.
    Answer {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// What it said.
        #[serde(flatten)]
        answer: Said,
        /// When.
        at: At,
    },
    /// The answer was lost after the request may have reached the server.
    Lost {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// Why the outcome is unknown.
        reason: String,
        /// The HTTP status, when a 5xx or an odd answer came.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        http: Option<u16>,
        /// When.
        at: At,
    },
    /// A status read that settled an unknown outcome.
    Status {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The status that settled it, when one did.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        status: Option<String>,
        /// What the reads came to, in words.
        reason: String,
        /// When.
        at: At,
    },
    /// The server accepted the stop; a resumed run waits for the job and never resends.
    Accepted {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The job the stop is for.
        job: JobId,
        /// The answer's `X-Request-Id`.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        request_id: Option<String>,
        /// When.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        at: Option<At>,
    },
    /// A force stop of an escalation is about to be sent.
    Escalating {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The job the stop is for.
        job: JobId,
        /// When.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        at: Option<At>,
    },
    /// A stop (or an escalation's force stop) is sent again: written before it goes, so the
    /// journal's last write is never older than the last send.
    Resending {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The job the stop is for.
        job: JobId,
        /// Why the last request is known not to have taken effect (a refused connection).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reason: Option<String>,
        /// When.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        at: Option<At>,
    },
    /// The escalation's force stop was accepted.
    Escalated {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The job the stop is for.
        job: JobId,
        /// When.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        at: Option<At>,
    },
    /// The escalation's force stop was refused: it took no effect, and a resume may send
    /// another.
    EscalationRefused {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The job the stop is for.
        job: JobId,
        /// The refusal.
        #[serde(flatten)]
        answer: Said,
        /// When.
        at: At,
    },
    /// An escalation's force stop that surely never reached the server (the run stopped while
    /// it waited to resend after a 429 or a refused connection).
    EscalationUnsent {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The job the stop is for.
        job: JobId,
        /// When.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        at: Option<At>,
    },
    /// A stop whose intent was written but that surely never reached the server (refused
    /// connections and 429s only, or the run stopped first).
    Unsent {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The job the stop is for.
        job: JobId,
        /// When.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        at: Option<At>,
    },
    /// The task's name, learnt after the plan (a status read), once.
    Name {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The name.
        name: String,
    },
    /// The stop finished; its result stands on resume.
    Result {
        /// The stop's place in the plan, from 1.
        seq: usize,
        /// The job the stop is for.
        job: JobId,
        /// What it came to.
        result: Box<Finished>,
        /// When.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        at: Option<At>,
    },
    /// The process that wrote the lines since its header ended, and how.
    Ended(Box<Closing>),
    /// The run was steered from outside (`stopbook ctl drain | pause | go | abort`).
    Control {
        /// The action.
        action: String,
        /// Who asked (user, host and process of the `ctl` command).
        by: String,
        /// When.
        at: At,
    },
    /// The run waits at the gate before a phase.
    GateWaiting {
        /// The gated phase.
        phase: String,
        /// When.
        at: At,
    },
    /// The gate before a phase was let pass; a resume does not ask again.
    GatePassed {
        /// The gated phase.
        phase: String,
        /// Who let it pass.
        by: String,
        /// When.
        at: At,
    },
    /// A notification that could not be delivered (the run went on without it).
    Undelivered(Box<Undelivered>),
}

impl Entry {
    /// The stop the line is about, when it is about one.
    pub fn seq(&self) -> Option<usize> {
        match self {
            Entry::Intent { seq, .. }
            | Entry::Answer { seq, .. }
            | Entry::Lost { seq, .. }
            | Entry::Status { seq, .. }
            | Entry::Accepted { seq, .. }
            | Entry::Escalating { seq, .. }
            | Entry::Resending { seq, .. }
            | Entry::Escalated { seq, .. }
            | Entry::EscalationRefused { seq, .. }
            | Entry::EscalationUnsent { seq, .. }
            | Entry::Unsent { seq, .. }
            | Entry::Name { seq, .. }
            | Entry::Result { seq, .. } => Some(*seq),
            Entry::Run(_)
            | Entry::Planned { .. }
            | Entry::Ended(_)
            | Entry::Control { .. }
            | Entry::GateWaiting { .. }
            | Entry::GatePassed { .. }
            | Entry::Undelivered(_) => None,
        }
    }
}

/// What an answer said, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Said {
    /// The HTTP status.
    pub http: u16,
    /// Its `error_code`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    /// Its `error_msg`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_msg: Option<String>,
    /// Its `X-Request-Id`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
}

impl Said {
    /// What `answer` said.
    pub fn of(answer: &crate::api::client::Answer) -> Said {
        Said {
            http: answer.http,
            error_code: answer.field("error_code").map(str::to_owned),
            error_msg: answer.field("error_msg").map(str::to_owned),
            request_id: answer.request_id.clone(),
        }
    }
}

/// A stop of the plan, as the journal keeps it for the reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStop {
    /// Its place in the plan, from 1.
    pub seq: usize,
    /// The job.
    pub job: JobId,
    /// Whether it is a force stop.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub force: bool,
    /// The expectation it is judged by, in words.
    pub expected: String,
    /// Its label, if the runbook gave one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub label: Option<String>,
    /// The task's name, when the plan knows it (a select found it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

/// How a process ended, written last by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closing {
    /// When.
    pub at: At,
    /// Its exit code.
    pub exit: i32,
    /// What its run came to.
    pub outcome: RunOutcome,
    /// Why it stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub halted: Option<String>,
    /// Answers that were 429.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub throttled: u64,
    /// The request rate it adapted to after 429s.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub adapted_rate: Option<f64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a finished stop came to: the parts of its result that the plan cannot give again
/// (phase, job, force and expectation are the plan's, and are rebuilt from it on resume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    /// The verdict.
    pub outcome: Outcome,
    /// The HTTP status of the last answer, if one came.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub http_status: Option<u16>,
    /// The `error_code` of the last answer, if it had one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    /// The `error_msg` of the last answer, if it had one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_msg: Option<String>,
    /// The job's last status read, when the job was waited for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub final_status: Option<String>,
    /// Requests sent for the stop, retries included.
    pub attempts: u32,
    /// A force stop was sent and accepted after the job did not end in time.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub escalated: bool,
    /// Why it failed or was skipped; how it passed when that is worth saying.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// Documented body rules the answers broke (reported; they do not fail the stop).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub violations: Vec<String>,
    /// No request of this stop reached the server (every attempt failed to connect, or was
    /// refused before it was looked at): `--resume` tries it again.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub unsent: bool,
    /// The batch-stop call (its number in the phase) the stop went out in, in batch mode.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub batch: Option<usize>,
    /// The `X-Request-Id` of the answer that decided the stop, when the server gave one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
}

impl Finished {
    /// The journal's part of a stop's result.
    pub fn of(result: &StopResult) -> Self {
        Finished {
            outcome: result.outcome,
            http_status: result.http_status,
            error_code: result.error_code.clone(),
            error_msg: result.error_msg.clone(),
            final_status: result.final_status.clone(),
            attempts: result.attempts,
            escalated: result.escalated,
            reason: result.reason.clone(),
            violations: result.violations.clone(),
            unsent: result.unsent,
            batch: result.batch,
            request_id: result.stamps.request_id.clone(),
        }
    }
}

/// The plan's stops as the journal keeps them (those of `shard` only, when it runs one): a
/// line for each phase's stretch of at most 1,000 stops, made one at a time as they are asked
/// for, so that a plan of 200,000 stops is never held twice.
pub fn planned(plan: &Plan, shard: Option<(usize, usize)>) -> impl Iterator<Item = Entry> + '_ {
    let mut first = 1;
    plan.runbook.phases.iter().flat_map(move |phase| {
        let start = first;
        first += phase.stops.len();
        let name = phase.name.clone();
        let mut at = 0;
        std::iter::from_fn(move || {
            let mut stops = Vec::new();
            while at < phase.stops.len() && stops.len() < 1000 {
                let (seq, stop) = (start + at, &phase.stops[at]);
                at += 1;
                if crate::plan::in_shard(seq, shard) {
                    stops.push(PlannedStop {
                        seq,
                        job: stop.job,
                        force: stop.settings.force,
                        expected: stop.settings.effective_expect().to_string(),
                        label: stop.label.clone(),
                        name: stop.name.clone(),
                    });
                }
            }
            (!stops.is_empty()).then(|| Entry::Planned {
                phase: name.clone(),
                stops,
            })
        })
    })
}
