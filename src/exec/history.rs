//! The window's record as reports show it: each stop's events in order ([`Happened`]), and the
//! processes that worked in the window ([`Process`]). Both are read from the journal, which is
//! the one source of truth; a report written at a run's end and one rendered later from the
//! journal alone carry the same history.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// A point in time, as milliseconds since the Unix epoch: eight bytes in memory, written as
/// RFC 3339 in UTC with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct At(pub u64);

impl At {
    /// Now, by the wall clock.
    pub fn now() -> At {
        At::of(SystemTime::now())
    }

    /// The instant `t`, to the millisecond.
    pub fn of(t: SystemTime) -> At {
        At(t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64)
    }

    /// The instant as a wall-clock time.
    pub fn time(self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(self.0)
    }

    /// Milliseconds from `earlier` to this instant (0 if it is later).
    pub fn since(self, earlier: At) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::timestamp::rfc3339_millis(self.time()))
    }
}

impl Serialize for At {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for At {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        crate::timestamp::parse_rfc3339(&text)
            .map(At::of)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: `{text}`")))
    }
}

/// What happened to a stop, as its `history` names it (contract words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum What {
    /// A request for the stop was about to leave (its intent or resend was on disk first).
    Sent,
    /// An answer came and was read (a refusal, a 429, an error document).
    Answer,
    /// The answer was lost: the request may have been applied ([`Happened::reason`] says why).
    Lost,
    /// A status read settled an unknown outcome ([`Happened::status`] is what it showed).
    Status,
    /// The server accepted the stop.
    Accepted,
    /// The job did not end in time: a force stop is about to be sent.
    Escalating,
    /// The escalation's force stop was accepted.
    Escalated,
    /// The escalation's force stop was refused (with the answer).
    Refused,
    /// The stop finished ([`Happened::status`] is the job's last status, when read).
    Ended,
    /// The process working on the stop ended before it did (interrupted, halted or killed).
    Interrupted,
    /// The request surely never reached the server.
    Unsent,
}

impl What {
    /// The word as reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            What::Sent => "sent",
            What::Answer => "answer",
            What::Lost => "lost",
            What::Status => "status",
            What::Accepted => "accepted",
            What::Escalating => "escalating",
            What::Escalated => "escalated",
            What::Refused => "refused",
            What::Ended => "ended",
            What::Interrupted => "interrupted",
            What::Unsent => "unsent",
        }
    }
}

/// One event of a stop's history: when, what, and what it carried. Small (what most events
/// carry is inline; the rest is boxed), as a window of 200,000 stops holds three or more each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Happened {
    /// When.
    pub at: At,
    /// What.
    pub event: What,
    /// The request's number among the stop's requests, from 1 (`sent`, `escalating`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attempt: Option<u32>,
    /// The batch-stop call the request went out in (`sent`, in batch mode).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub batch: Option<u32>,
    /// The answer's HTTP status (`answer`, `refused`, `lost` when a 5xx came).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub http: Option<u16>,
    /// What else it carried, when anything.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Box<Detail>>,
}

/// What an event carries besides its time and status code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// The answer's `error_code`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    /// The answer's `error_msg`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_msg: Option<String>,
    /// The answer's `X-Request-Id`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
    /// Why (`lost`, `interrupted`, `unsent`, a failed `ended`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// The job's status (`status`, `ended`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
}

impl Happened {
    /// An event carrying nothing but its time.
    pub fn bare(at: At, event: What) -> Happened {
        Happened {
            at,
            event,
            attempt: None,
            batch: None,
            http: None,
            detail: None,
        }
    }

    /// What it carries, to fill in.
    pub fn detail_mut(&mut self) -> &mut Detail {
        self.detail.get_or_insert_with(Box::default)
    }

    /// The answer's `error_code`, if it carried one.
    pub fn error_code(&self) -> Option<&str> {
        self.detail.as_ref()?.error_code.as_deref()
    }

    /// Why, if it says.
    pub fn reason(&self) -> Option<&str> {
        self.detail.as_ref()?.reason.as_deref()
    }

    /// The job's status, if it carried one.
    pub fn status(&self) -> Option<&str> {
        self.detail.as_ref()?.status.as_deref()
    }
}

/// One process that worked in the window: a run, a resume, a shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    /// The command and the flags that matter (`run --until canary`, `run --resume`).
    pub command: String,
    /// When it opened the journal.
    pub started_at: At,
    /// When it ended; `None` when it left no word (killed).
    #[serde(default)]
    pub finished_at: Option<At>,
    /// Its exit code; `None` when it left no word.
    #[serde(default)]
    pub exit: Option<i32>,
    /// Who ran it.
    pub user: String,
    /// Where.
    pub host: String,
    /// Its process ID.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    /// What it came to, as reports write a run's outcome; `None` when it left no word.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub outcome: Option<String>,
    /// The shard it ran (`K/N`), when it ran one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<String>,
}

/// A notification a webhook did not take, as the journal and reports keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undelivered {
    /// The webhook, with its path hidden (a chat webhook's path is its secret).
    pub url: String,
    /// The event it was to tell.
    pub event: String,
    /// Why it was not delivered, after its retries.
    pub error: String,
    /// When it was given up.
    pub at: At,
}

/// A run steered from outside: a control action, or a gate let pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Steered {
    /// When.
    pub at: At,
    /// What was done (`drain`, `pause`, `go`, `abort`, `gate`).
    pub action: String,
    /// The gated phase, for a gate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub phase: Option<String>,
    /// Who did it.
    pub by: String,
}

/// The window as a whole: from its first process's start to its last one's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowRecord {
    /// When the first process began.
    pub started_at: At,
    /// When the last one ended (or last wrote, if it left no word).
    pub finished_at: At,
    /// Every process, in the order they began.
    pub processes: Vec<Process>,
    /// Control actions and gates let pass, in order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub steering: Vec<Steered>,
    /// Notifications not delivered, in order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub undelivered: Vec<Undelivered>,
}
