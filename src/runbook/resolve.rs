//! From the runbook as written ([`super::raw`]) to the validated [`Runbook`]: the cross-checks no
//! single value can make (version, one way to authenticate, unique phase names, each job once,
//! phase concurrency within the run's), stops files read, and settings layered
//! built-in → `defaults` → phase → stop.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::decode::{Cx, Spanned};
use super::model::{
    Auth, DEFAULT_CONCURRENCY, Escalate, Expectation, Host, Limits, Phase, RemoteTarget, Retry,
    Runbook, Settings, Stop, Target, Wait,
};
use super::raw::{
    ExpectKeyword, RawAuth, RawEscalate, RawExpect, RawLimits, RawPhase, RawRunbook, RawSettings,
    RawTarget, RawWait, ResultWord,
};
use super::stops_file;
use super::values::JobId;
use crate::diag::{Diagnostic, Place, Span};

/// Resolves `raw`, read from a file in `base_dir`. Problems go to `cx`; `None` if there were any.
pub fn resolve(raw: RawRunbook, base_dir: &Path, cx: &mut Cx) -> Option<Runbook> {
    if raw.version.value != 1 {
        cx.report(
            Diagnostic::at(
                cx.place(raw.version.span),
                format!("unsupported version {}", raw.version.value),
            )
            .label("only version 1 exists")
            .hint("write `version: 1`"),
        );
    }
    if raw.name.value.trim().is_empty() {
        cx.error::<()>(raw.name.span, "the runbook's `name` is empty");
    }
    let target = match &raw.target {
        None => Some(Target::EmbeddedMock),
        Some(t) => resolve_target(t, base_dir, cx).map(Target::Remote),
    };
    let limits = resolve_limits(raw.limits.as_ref(), cx);
    let mut layers = Layers::default();
    let defaults = match &raw.defaults {
        Some(d) => layers.apply(&Arc::new(Settings::default()), d, cx),
        None => Arc::new(Settings::default()),
    };
    let phases = resolve_phases(&raw.phases, &limits, &defaults, &mut layers, base_dir, cx);
    if !cx.diagnostics.is_empty() {
        return None;
    }
    Some(Runbook {
        name: raw.name.value,
        target: target?,
        limits,
        phases: phases?,
    })
}

fn resolve_target(t: &RawTarget, base_dir: &Path, cx: &mut Cx) -> Option<RemoteTarget> {
    let host = match (&t.endpoint, &t.region) {
        (Some(e), None) => Some(Host::Endpoint(e.value.clone())),
        (None, Some(r)) => Some(Host::Region(r.value.clone())),
        (Some(_), Some(r)) => cx.error(r.span, "give `endpoint` or `region`, not both"),
        (None, None) => cx.error(t.span, "`target` needs an `endpoint` (or a `region`)"),
    };
    let project_id = match &t.project_id {
        Some(p) => Some(p.value.clone()),
        None => cx.error(t.span, "missing required key `project_id` in `target`"),
    };
    let auth = match &t.auth {
        Some(a) => resolve_auth(a, base_dir, cx),
        None => {
            let d = Diagnostic::at(cx.place(t.span), "missing required key `auth` in `target`")
                .hint("for example `auth: { token_env: DRS_AUTH_TOKEN }`");
            cx.report(d);
            None
        }
    };
    Some(RemoteTarget {
        host: host?,
        project_id: project_id?,
        auth: auth?,
        language: t.language.as_ref().map(|l| l.value),
    })
}

fn resolve_auth(a: &RawAuth, base_dir: &Path, cx: &mut Cx) -> Option<Auth> {
    let mut ways: Vec<(&str, Option<Auth>)> = Vec::new();
    if let Some(env) = &a.token_env {
        ways.push(("token_env", Some(Auth::TokenEnv(env.value.clone()))));
    }
    if let Some(file) = &a.token_file {
        let auth = Auth::TokenFile {
            written: file.value.clone(),
            path: base_dir.join(&file.value),
        };
        ways.push(("token_file", Some(auth)));
    }
    if a.ak_env.is_some() || a.sk_env.is_some() {
        let auth = match (&a.ak_env, &a.sk_env) {
            (Some(ak), Some(sk)) => Some(Auth::AkSk {
                ak_env: ak.value.clone(),
                sk_env: sk.value.clone(),
                security_token_env: a.security_token_env.as_ref().map(|s| s.value.clone()),
            }),
            (Some(_), None) => cx.error(
                a.span,
                "`ak_env` needs `sk_env` too: AK/SK signing takes both keys",
            ),
            _ => cx.error(
                a.span,
                "`sk_env` needs `ak_env` too: AK/SK signing takes both keys",
            ),
        };
        ways.push(("ak_env/sk_env", auth));
    } else if let Some(st) = &a.security_token_env {
        cx.error::<()>(
            st.span,
            "`security_token_env` goes with `ak_env` and `sk_env` (temporary AK/SK credentials)",
        );
    }
    if let Some(iam) = &a.iam_password {
        let auth = Auth::IamPassword {
            endpoint: iam.endpoint.value.clone(),
            user_env: iam.user_env.value.clone(),
            password_env: iam.password_env.value.clone(),
            domain: iam.domain.value.clone(),
        };
        ways.push(("iam_password", Some(auth)));
    }
    match ways.len() {
        0 => cx.error(
            a.span,
            "`auth` names no way to authenticate: give one of `token_env`, `token_file`, `ak_env` with `sk_env`, or `iam_password`",
        ),
        1 => ways.pop().and_then(|(_, auth)| auth),
        _ => {
            let names: Vec<&str> = ways.iter().map(|(n, _)| *n).collect();
            cx.error(
                a.span,
                format!("`auth` must name exactly one way to authenticate, found {}", names.join(", ")),
            )
        }
    }
}

/// The most requests in flight a runbook may ask for.
const MAX_CONCURRENCY: u32 = 1024;

fn resolve_limits(raw: Option<&RawLimits>, cx: &mut Cx) -> Limits {
    let concurrency = raw.and_then(|l| l.concurrency.as_ref());
    let concurrency = match concurrency {
        Some(c) if !(1..=MAX_CONCURRENCY).contains(&c.value) => {
            cx.error::<()>(
                c.span,
                format!(
                    "`concurrency` must be from 1 to {MAX_CONCURRENCY}, found {}",
                    c.value
                ),
            );
            DEFAULT_CONCURRENCY
        }
        Some(c) => c.value,
        None => DEFAULT_CONCURRENCY,
    };
    Limits {
        concurrency,
        rate: raw.and_then(|l| l.rate.as_ref()).map(|r| r.value),
        max_failures: raw.and_then(|l| l.max_failures.as_ref()).map(|m| m.value),
    }
}

/// Where each stop was listed, to name both places when a job appears twice.
struct Listing {
    seen: HashMap<JobId, Place>,
}

impl Listing {
    fn check(&mut self, job: JobId, place: Place, cx: &mut Cx) {
        if let Some(first) = self.seen.get(&job) {
            cx.report(
                Diagnostic::at(place, format!("job `{job}` is listed twice"))
                    .label("a job may be stopped only once per runbook")
                    .related(first.clone(), "first listed here"),
            );
        } else {
            self.seen.insert(job, place);
        }
    }
}

fn resolve_phases(
    raw: &Spanned<Vec<RawPhase>>,
    limits: &Limits,
    defaults: &Arc<Settings>,
    layers: &mut Layers,
    base_dir: &Path,
    cx: &mut Cx,
) -> Option<Vec<Phase>> {
    if raw.value.is_empty() {
        return cx.error(
            raw.span,
            "`phases` is empty: a runbook needs at least one phase",
        );
    }
    let mut names: HashMap<&str, Span> = HashMap::new();
    let mut listing = Listing {
        seen: HashMap::new(),
    };
    let mut phases = Vec::with_capacity(raw.value.len());
    for phase in &raw.value {
        let name = &phase.name;
        if name.value.trim().is_empty() {
            cx.error::<()>(name.span, "a phase's `name` is empty");
        } else if let Some(first) = names.get(name.value.as_str()) {
            let d = Diagnostic::at(
                cx.place(name.span),
                format!("duplicate phase name `{}`", name.value),
            )
            .label("phase names must be unique")
            .related(cx.place(*first), "first used here");
            cx.report(d);
        } else {
            names.insert(&name.value, name.span);
        }
        let concurrency = match &phase.concurrency {
            Some(c) if c.value == 0 => {
                cx.error(c.span, "a phase's `concurrency` must be at least 1")
            }
            Some(c) if c.value > limits.concurrency => {
                let d = Diagnostic::at(
                    cx.place(c.span),
                    format!(
                        "phase concurrency {} is above the run's limit of {}",
                        c.value, limits.concurrency
                    ),
                )
                .hint("raise `limits.concurrency` or lower the phase's");
                cx.report(d);
                None
            }
            Some(c) => Some(c.value),
            None => Some(limits.concurrency),
        };
        let settings = layers.apply(defaults, &phase.settings, cx);
        let mut stops = Vec::new();
        for stop in phase.stops.iter().flatten() {
            listing.check(stop.job.value, cx.place(stop.job.span), cx);
            stops.push(Stop {
                job: stop.job.value,
                label: stop.label.as_ref().map(|l| l.value.clone()),
                settings: layers.apply(&settings, &stop.settings, cx),
            });
        }
        if let Some(file) = &phase.stops_file {
            read_stops_file(file, base_dir, &settings, &mut listing, &mut stops, cx);
        } else if phase.stops.as_ref().is_none_or(Vec::is_empty) {
            let d = Diagnostic::at(
                cx.place(phase.span),
                format!("phase `{}` has no stops", name.value),
            )
            .hint("give `stops`, a `stops_file`, or both");
            cx.report(d);
        }
        phases.push(Phase {
            name: name.value.clone(),
            concurrency: concurrency.unwrap_or(1),
            stops,
        });
    }
    Some(phases)
}

fn read_stops_file(
    file: &Spanned<String>,
    base_dir: &Path,
    settings: &Arc<Settings>,
    listing: &mut Listing,
    stops: &mut Vec<Stop>,
    cx: &mut Cx,
) {
    let path = base_dir.join(&file.value);
    let shown = path.display().to_string();
    let source = match stops_file::read(&path, &shown) {
        Ok(source) => source,
        Err(message) => {
            cx.error::<()>(file.span, message);
            return;
        }
    };
    let jobs = stops_file::parse(&source, &mut cx.diagnostics);
    if jobs.is_empty() && cx.diagnostics.is_empty() {
        cx.error::<()>(file.span, format!("stops_file `{shown}` lists no job IDs"));
    }
    stops.reserve(jobs.len());
    for (job, span) in jobs {
        listing.check(job, Place::new(&source, span), cx);
        stops.push(Stop {
            job,
            label: None,
            settings: Arc::clone(settings),
        });
    }
}

/// Applies override layers, checking each combination the first time a layer creates it.
#[derive(Default)]
struct Layers {
    /// Problems already reported, so 10,000 stops inheriting one bad setting give one message.
    reported: HashSet<(Span, &'static str)>,
}

impl Layers {
    fn apply(&mut self, base: &Arc<Settings>, layer: &RawSettings, cx: &mut Cx) -> Arc<Settings> {
        if layer.is_empty() {
            return Arc::clone(base);
        }
        let mut s = (**base).clone();
        if let Some(force) = &layer.force {
            s.force = force.value;
        }
        if let Some(expect) = &layer.expect {
            s.expect = self.expectation(&expect.value, cx);
        }
        if let Some(t) = &layer.request_timeout {
            if t.value.as_millis() == 0 {
                self.once(
                    cx,
                    t.span,
                    "timeout",
                    "`request_timeout` must be longer than 0s",
                );
            }
            s.request_timeout = t.value;
        }
        if let Some(retry) = &layer.retry {
            s.retry = self.retry(s.retry, retry, cx);
        }
        if let Some(wait) = &layer.wait {
            s.wait = self.wait(s.wait, wait, cx);
        }
        if let Some(escalate) = &layer.escalate {
            s.escalate = match &escalate.value {
                RawEscalate::Toggle(_) => None,
                RawEscalate::After(a) => Some(Escalate {
                    after: a.after.value,
                }),
            };
        }
        let touched_wait = layer.wait.as_ref().map(|w| w.span);
        let touched_escalate = layer.escalate.as_ref().map(|e| e.span);
        if let (Some(_), None, Some(span)) = (s.escalate, s.wait, touched_escalate.or(touched_wait))
        {
            self.once(
                cx,
                span,
                "escalate",
                "`escalate` needs waiting, but `wait` is false here: nothing would notice that the job has not ended",
            );
        }
        Arc::new(s)
    }

    fn expectation(&mut self, raw: &RawExpect, cx: &mut Cx) -> Expectation {
        match raw {
            RawExpect::Keyword(ExpectKeyword::Stopped) => Expectation::Stopped,
            RawExpect::Keyword(ExpectKeyword::Accepted) => Expectation::Accepted,
            RawExpect::Answer(a) => {
                if !(100..=599).contains(&a.http.value) {
                    self.once(
                        cx,
                        a.http.span,
                        "http",
                        "`http` must be an HTTP status code from 100 to 599",
                    );
                }
                if let Some(result) = &a.result
                    && a.http.value != 200
                {
                    self.once(
                        cx,
                        result.span,
                        "result",
                        "`result` describes a 200 answer: use it with `http: 200`",
                    );
                }
                for text in [&a.error_code, &a.error_msg_contains].into_iter().flatten() {
                    if text.value.is_empty() {
                        self.once(
                            cx,
                            text.span,
                            "empty",
                            "this text is empty: leave the key out instead",
                        );
                    }
                }
                Expectation::Answer {
                    http: a.http.value,
                    error_code: a.error_code.as_ref().map(|c| c.value.clone()),
                    error_msg_contains: a.error_msg_contains.as_ref().map(|c| c.value.clone()),
                    result: a.result.as_ref().map(|r| r.value).or(match a.http.value {
                        200 if a.error_code.is_none() => Some(ResultWord::Success),
                        _ => None,
                    }),
                }
            }
        }
    }

    fn retry(&mut self, mut retry: Retry, raw: &super::raw::RawRetry, cx: &mut Cx) -> Retry {
        if let Some(a) = &raw.attempts {
            if !(1..=100).contains(&a.value) {
                self.once(
                    cx,
                    a.span,
                    "attempts",
                    "`attempts` counts the first try too: from 1 to 100",
                );
            }
            retry.attempts = a.value;
        }
        if let Some(b) = &raw.backoff {
            retry.backoff = b.value;
        }
        if let Some(m) = &raw.max_backoff {
            retry.max_backoff = m.value;
        }
        if retry.backoff > retry.max_backoff
            && let Some(span) = raw
                .backoff
                .as_ref()
                .or(raw.max_backoff.as_ref())
                .map(|s| s.span)
        {
            let message = format!(
                "`backoff` ({}) is longer than `max_backoff` ({})",
                retry.backoff, retry.max_backoff
            );
            self.once(cx, span, "backoff", message);
        }
        retry
    }

    fn wait(&mut self, base: Option<Wait>, raw: &Spanned<RawWait>, cx: &mut Cx) -> Option<Wait> {
        let until = match &raw.value {
            RawWait::Toggle(false) => return None,
            RawWait::Toggle(true) => return Some(base.unwrap_or_default()),
            RawWait::Until(until) => until,
        };
        let mut wait = base.unwrap_or_default();
        if let Some(t) = &until.timeout {
            wait.timeout = t.value;
        }
        if let Some(p) = &until.poll {
            if p.value.as_millis() == 0 {
                self.once(cx, p.span, "poll", "`poll` must be longer than 0s");
            }
            wait.poll = p.value;
        }
        if wait.poll > wait.timeout {
            let message = format!(
                "`poll` ({}) is longer than `timeout` ({}): the job would be looked at once at most",
                wait.poll, wait.timeout
            );
            self.once(cx, raw.span, "wait", message);
        }
        Some(wait)
    }

    fn once(&mut self, cx: &mut Cx, span: Span, what: &'static str, message: impl Into<String>) {
        if self.reported.insert((span, what)) {
            cx.error::<()>(span, message);
        }
    }
}
