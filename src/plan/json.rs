//! The JSON form of a plan. Every struct here declares its fields in alphabetical order, so
//! serde writes keys sorted and the compact output is the canonical form that `plan_id` hashes.
//! (A test checks this against a generic sorted-key serialisation.)

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::{Serialize, Serializer};

use super::{Plan, Totals, totals};
use crate::runbook::model::{
    Auth, DEFAULT_SELECT_MIN, Expectation, Host, Phase, Retry, Runbook, Select, Settings, Stop,
    Target, Wait,
};
use crate::runbook::raw::ResultWord;
use crate::runbook::values::{Duration, FailureBudget, Rate};

/// The version of the plan format, part of the hashed content.
const PLAN_FORMAT: u32 = 1;

pub(super) fn write_canonical<W: Write>(runbook: &Runbook, out: W) -> io::Result<()> {
    serde_json::to_writer(out, &PlanBody::new(runbook)).map_err(io::Error::from)
}

pub(super) fn write_pretty<W: Write>(plan: &Plan, mut out: W) -> io::Result<()> {
    #[derive(Serialize)]
    struct Document<'a> {
        plan_id: &'a str,
        #[serde(flatten)]
        body: PlanBody<'a>,
    }
    let document = Document {
        plan_id: &plan.plan_id,
        body: PlanBody::new(&plan.runbook),
    };
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, StopPerLine::default());
    document
        .serialize(&mut serializer)
        .map_err(io::Error::from)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct PlanBody<'a> {
    limits: LimitsView,
    phases: Vec<PhaseView<'a>>,
    runbook: &'a str,
    stopbook_plan: u32,
    target: TargetView<'a>,
    totals: Totals,
}

impl<'a> PlanBody<'a> {
    fn new(runbook: &'a Runbook) -> Self {
        let total = runbook.stop_count();
        let mut seq = 0;
        PlanBody {
            limits: LimitsView {
                batch: runbook.limits.batch,
                concurrency: runbook.limits.concurrency,
                max_failures: runbook
                    .limits
                    .max_failures
                    .map(|budget| FailureView::of(budget, total)),
                max_force: runbook.limits.max_force,
                rate: runbook.limits.rate,
            },
            phases: runbook
                .phases
                .iter()
                .map(|phase| {
                    let first = seq + 1;
                    seq += phase.stops.len();
                    PhaseView { phase, first }
                })
                .collect(),
            runbook: &runbook.name,
            stopbook_plan: PLAN_FORMAT,
            target: TargetView(&runbook.target),
            totals: totals(runbook),
        }
    }
}

#[derive(Serialize)]
struct LimitsView {
    #[serde(skip_serializing_if = "is_one")]
    batch: u32,
    concurrency: u32,
    max_failures: Option<FailureView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_force: Option<u32>,
    rate: Option<Rate>,
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

#[derive(Serialize)]
struct FailureView {
    /// Failures tolerated among this plan's stops; one more aborts.
    allowed: u64,
    budget: FailureBudget,
}

impl FailureView {
    fn of(budget: FailureBudget, total: usize) -> Self {
        FailureView {
            allowed: budget.allowed(total),
            budget,
        }
    }
}

struct TargetView<'a>(&'a Target);

impl Serialize for TargetView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Remote<'a> {
            auth: AuthView<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            endpoint: Option<String>,
            kind: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            language: Option<String>,
            project_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            region: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct Mock<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            jobs: Option<&'a str>,
            kind: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            profile: Option<&'a str>,
        }
        match self.0 {
            Target::EmbeddedMock => Mock {
                jobs: None,
                kind: "embedded-mock",
                profile: None,
            }
            .serialize(s),
            Target::MockFleet(fleet) => Mock {
                jobs: Some(&fleet.written),
                kind: "embedded-mock",
                profile: fleet.profile.as_deref(),
            }
            .serialize(s),
            Target::Remote(r) => Remote {
                auth: AuthView(&r.auth),
                endpoint: match &r.host {
                    Host::Endpoint(e) => Some(e.to_string()),
                    Host::Region(_) => None,
                },
                kind: "remote",
                language: r.language.map(|l| l.to_string()),
                project_id: r.project_id.as_str(),
                region: match &r.host {
                    Host::Region(region) => Some(region.as_str()),
                    Host::Endpoint(_) => None,
                },
            }
            .serialize(s),
        }
    }
}

/// Names where credentials come from; never holds one.
struct AuthView<'a>(&'a Auth);

impl Serialize for AuthView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        match self.0 {
            Auth::TokenEnv(env) => {
                map.serialize_entry("method", "token_env")?;
                map.serialize_entry("token_env", env.as_str())?;
            }
            Auth::TokenFile { written, .. } => {
                map.serialize_entry("method", "token_file")?;
                map.serialize_entry("token_file", written)?;
            }
            Auth::AkSk {
                ak_env,
                sk_env,
                security_token_env,
            } => {
                map.serialize_entry("ak_env", ak_env.as_str())?;
                map.serialize_entry("method", "ak_sk")?;
                if let Some(st) = security_token_env {
                    map.serialize_entry("security_token_env", st.as_str())?;
                }
                map.serialize_entry("sk_env", sk_env.as_str())?;
            }
            Auth::IamPassword {
                endpoint,
                user_env,
                password_env,
                domain,
            } => {
                map.serialize_entry("domain", domain)?;
                map.serialize_entry("endpoint", &endpoint.to_string())?;
                map.serialize_entry("method", "iam_password")?;
                map.serialize_entry("password_env", password_env.as_str())?;
                map.serialize_entry("user_env", user_env.as_str())?;
            }
        }
        map.end()
    }
}

struct PhaseView<'a> {
    phase: &'a Phase,
    /// The `seq` of the phase's first stop.
    first: usize,
}

impl Serialize for PhaseView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Stops<'a>(&'a PhaseView<'a>);
        impl Serialize for Stops<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // Which call each stop goes out in (named by its first stop's seq), shown only
                // where calls hold several.
                let batch_of: Vec<Option<usize>> = self
                    .0
                    .phase
                    .call_starts()
                    .into_iter()
                    .map(|start| start.map(|i| self.0.first + i))
                    .collect();
                s.collect_seq(
                    self.0
                        .phase
                        .stops
                        .iter()
                        .enumerate()
                        .map(|(i, stop)| StopView {
                            stop,
                            seq: self.0.first + i,
                            batch: batch_of[i],
                        }),
                )
            }
        }
        let mut st = s.serialize_struct("Phase", 5)?;
        if self.phase.batch > 1 {
            st.serialize_field("batch", &self.phase.batch)?;
        }
        st.serialize_field("concurrency", &self.phase.concurrency)?;
        if self.phase.gate {
            st.serialize_field("gate", "manual")?;
        }
        if let Some(budget) = self.phase.max_failures {
            st.serialize_field(
                "max_failures",
                &FailureView::of(budget, self.phase.stops.len()),
            )?;
        }
        if let Some(cap) = self.phase.max_force {
            st.serialize_field("max_force", &cap)?;
        }
        st.serialize_field("name", &self.phase.name)?;
        if let Some(select) = &self.phase.select {
            let matched = self.phase.stops.iter().filter(|s| s.name.is_some()).count();
            st.serialize_field("select", &SelectView { select, matched })?;
        }
        st.serialize_field("stops", &Stops(self))?;
        st.end()
    }
}

struct StopView<'a> {
    stop: &'a Stop,
    /// The batch-stop call this stop goes out in, named by the seq of its first stop, when calls
    /// hold several.
    batch: Option<usize>,
    seq: usize,
}

impl Serialize for StopView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let settings: &Settings = &self.stop.settings;
        let Settings {
            force,
            request_timeout,
            retry,
            ..
        } = settings;
        let mut map = s.serialize_map(None)?;
        if let Some(batch) = self.batch {
            map.serialize_entry("batch", &batch)?;
        }
        if let Some(escalate) = settings.effective_escalate() {
            map.serialize_entry(
                "escalate",
                &EscalateView {
                    after: escalate.after,
                },
            )?;
        }
        map.serialize_entry("expect", &ExpectView(self.stop.settings.effective_expect()))?;
        map.serialize_entry("force", force)?;
        map.serialize_entry("job", self.stop.job.as_str())?;
        if let Some(label) = &self.stop.label {
            map.serialize_entry("label", label)?;
        }
        if let Some(name) = &self.stop.name {
            map.serialize_entry("name", name)?;
        }
        map.serialize_entry("request_timeout", request_timeout)?;
        map.serialize_entry("retry", &RetryView(*retry))?;
        map.serialize_entry("seq", &self.seq)?;
        match settings.effective_wait() {
            Some(w) => map.serialize_entry("wait", &WaitView(w))?,
            None => map.serialize_entry("wait", &false)?,
        }
        map.end()
    }
}

/// A phase's query, and how many jobs it found (after the listed ones and earlier selects).
struct SelectView<'a> {
    select: &'a Select,
    matched: usize,
}

impl Serialize for SelectView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Types {
            One(&'static str),
            Several(Vec<&'static str>),
        }
        #[derive(Serialize)]
        struct ExcludeView<'a> {
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            ids: Vec<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            name: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            name_glob: Option<&'a str>,
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            tags: &'a BTreeMap<String, Vec<String>>,
        }
        // Written only when they say something, so a plan that uses neither keeps its plan_id.
        #[derive(Serialize)]
        struct View<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            enterprise_project_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            exclude: Option<ExcludeView<'a>>,
            job_type: Types,
            matched: usize,
            max: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            min: Option<u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            name: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            name_glob: Option<&'a str>,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            status: &'a [&'static str],
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            tags: &'a BTreeMap<String, Vec<String>>,
        }
        let q = self.select;
        let x = &q.exclude;
        View {
            enterprise_project_id: q.enterprise_project_id.as_deref(),
            exclude: (!x.is_empty()).then(|| ExcludeView {
                ids: x.ids.iter().map(|id| id.as_str()).collect(),
                name: x.name.as_deref(),
                name_glob: x.name_glob.as_ref().map(|g| g.pattern.as_str()),
                tags: &x.tags,
            }),
            job_type: match q.job_types.as_slice() {
                [one] => Types::One(one.as_str()),
                several => Types::Several(several.iter().map(|t| t.as_str()).collect()),
            },
            matched: self.matched,
            max: q.max,
            min: (q.min != DEFAULT_SELECT_MIN).then_some(q.min),
            name: q.name.as_deref(),
            name_glob: q.name_glob.as_ref().map(|g| g.pattern.as_str()),
            status: &q.status,
            tags: &q.tags,
        }
        .serialize(s)
    }
}

#[derive(Serialize)]
struct EscalateView {
    after: Duration,
}

struct RetryView(Retry);

impl Serialize for RetryView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View {
            attempts: u32,
            backoff: Duration,
            max_backoff: Duration,
            settle: Duration,
        }
        View {
            attempts: self.0.attempts,
            backoff: self.0.backoff,
            max_backoff: self.0.max_backoff,
            settle: self.0.settle,
        }
        .serialize(s)
    }
}

struct WaitView(Wait);

impl Serialize for WaitView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View {
            poll: Duration,
            timeout: Duration,
        }
        View {
            poll: self.0.poll,
            timeout: self.0.timeout,
        }
        .serialize(s)
    }
}

struct ExpectView(Expectation);

impl Serialize for ExpectView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Answer<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            error_code: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error_msg_contains: Option<&'a str>,
            http: u16,
            #[serde(skip_serializing_if = "Option::is_none")]
            result: Option<ResultWord>,
        }
        match &self.0 {
            Expectation::Stopped => s.serialize_str("stopped"),
            Expectation::Accepted => s.serialize_str("accepted"),
            Expectation::Answer {
                http,
                error_code,
                error_msg_contains,
                result,
            } => Answer {
                error_code: error_code.as_deref(),
                error_msg_contains: error_msg_contains.as_deref(),
                http: *http,
                result: *result,
            }
            .serialize(s),
        }
    }
}

/// Pretty JSON down to the list of stops, then each stop on one line: half the bytes of fully
/// pretty output for a large plan, and a change to one stop is a one-line diff in review.
#[derive(Default)]
struct StopPerLine {
    depth: usize,
    has_value: bool,
}

impl StopPerLine {
    /// Containers this deep (a stop object is the fifth level) are written compactly.
    const COMPACT_FROM: usize = 5;

    fn pretty(&self) -> bool {
        self.depth < Self::COMPACT_FROM
    }

    fn newline<W: ?Sized + Write>(&self, w: &mut W, depth: usize) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn begin<W: ?Sized + Write>(&mut self, w: &mut W, open: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(open)
    }

    fn end<W: ?Sized + Write>(&mut self, w: &mut W, close: &[u8]) -> io::Result<()> {
        if self.pretty() && self.has_value {
            self.newline(w, self.depth - 1)?;
        }
        self.depth -= 1;
        w.write_all(close)
    }

    fn item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.pretty() {
            self.newline(w, self.depth)
        } else {
            Ok(())
        }
    }
}

impl serde_json::ser::Formatter for StopPerLine {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.pretty() { b": " } else { b":" })
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}
