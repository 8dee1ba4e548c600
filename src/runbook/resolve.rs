//! From the runbook as written ([`super::raw`]) to the validated [`Runbook`]: the cross-checks no
//! single value can make (version, one way to authenticate, unique phase names, each job once,
//! phase concurrency within the run's), stops files read, and settings layered
//! built-in → `defaults` → phase → stop.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::decode::{Cx, Spanned};
use super::model::{
    DEFAULT_CONCURRENCY, Escalate, Expectation, Limits, Phase, Retry, Runbook, Settings, Stop,
    Target, Wait,
};
use super::raw::{
    ExpectKeyword, RawEscalate, RawExpect, RawLimits, RawPhase, RawRunbook, RawSettings, RawWait,
    ResultWord,
};
use super::stops_file;
use super::target::resolve_target;
use crate::diag::{Diagnostic, Place, Span};
use crate::drs::JobId;

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
        Some(t) if t.written.has("mock") => mock_target(t, base_dir, cx),
        Some(t) => resolve_target(t, base_dir, cx).map(|r| Target::Remote(Box::new(r))),
    };
    let limits = resolve_limits(raw.limits.as_ref(), cx);
    let mut layers = Layers::default();
    let defaults = match &raw.defaults {
        Some(d) => layers.apply(&Arc::new(Settings::default()), d, cx),
        None => Arc::new(Settings::default()),
    };
    let phases = resolve_phases(&raw.phases, &limits, &defaults, &mut layers, base_dir, cx);
    if let Some(phases) = &phases {
        super::force_cap::check_listed(&raw, phases, cx);
    }
    if !cx.diagnostics.is_empty() {
        return None;
    }
    Some(Runbook {
        name: raw.name.value,
        target: target?,
        limits,
        phases: phases?,
        notify: raw
            .notify
            .iter()
            .flatten()
            .filter_map(super::raw::RawNotify::resolve)
            .collect(),
    })
}

/// `target: { mock: { jobs: FILE } }`, alone in its map.
fn mock_target(t: &super::raw::RawTarget, base_dir: &Path, cx: &mut Cx) -> Option<Target> {
    let others = ["endpoint", "region", "project_id", "auth", "language"];
    if let Some(key) = others.iter().find(|k| t.written.has(k)) {
        return cx.error(
            t.span,
            format!("`target.mock` is the embedded mock: it takes no `{key}`"),
        );
    }
    let fleet = super::select::resolve_fleet(t.mock.as_ref()?, base_dir, cx)?;
    Some(Target::MockFleet(fleet))
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
        batch: batch_size(raw.and_then(|l| l.batch.as_ref()), 1, cx),
        max_force: raw.and_then(|l| l.max_force.as_ref()).map(|m| m.value),
    }
}

/// The most stops one batch-stop call takes (the mock's maximum; the vendor states none).
pub const MAX_BATCH: u32 = 100;

/// A `batch` value checked, or `default` when absent.
fn batch_size(raw: Option<&Spanned<u32>>, default: u32, cx: &mut Cx) -> u32 {
    match raw {
        Some(b) if !(1..=MAX_BATCH).contains(&b.value) => {
            let message = format!("`batch` must be from 1 to {MAX_BATCH}, found {}", b.value);
            cx.error::<()>(b.span, message);
            default
        }
        Some(b) => b.value,
        None => default,
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
        let concurrency = phase_concurrency(phase, limits, cx);
        let settings = layers.apply(defaults, &phase.settings, cx);
        let mut stops = Vec::new();
        for stop in phase.stops.iter().flatten() {
            listing.check(stop.job.value, cx.place(stop.job.span), cx);
            stops.push(Stop {
                job: stop.job.value,
                label: stop.label.as_ref().map(|l| l.value.clone()),
                name: None,
                settings: layers.apply(&settings, &stop.settings, cx),
            });
        }
        let select = phase
            .select
            .as_ref()
            .and_then(|s| super::select::resolve_select(s, cx));
        if let Some(file) = &phase.stops_file {
            read_stops_file(file, base_dir, &settings, &mut listing, &mut stops, cx);
        } else if !phase.misspelt_stops
            && !phase.written.has("stops_file")
            && !phase.written.has("select")
            && (!phase.written.has("stops") || phase.stops.as_ref().is_some_and(Vec::is_empty))
        {
            let d = Diagnostic::at(
                cx.place(phase.span),
                format!("phase `{}` has no stops", name.value),
            )
            .hint("give `stops`, a `stops_file`, a `select`, or several");
            cx.report(d);
        }
        phases.push(Phase {
            name: name.value.clone(),
            concurrency: concurrency.unwrap_or(1),
            max_failures: phase.max_failures.as_ref().map(|m| m.value),
            batch: batch_size(phase.batch.as_ref(), limits.batch, cx),
            max_force: phase.max_force.as_ref().map(|m| m.value),
            gate: phase.gate.is_some(),
            stops,
            select,
            settings,
        });
    }
    Some(phases)
}

/// A phase's `concurrency`: its own (at least 1, at most the run's), or the run's.
fn phase_concurrency(phase: &RawPhase, limits: &Limits, cx: &mut Cx) -> Option<u32> {
    match &phase.concurrency {
        Some(c) if c.value == 0 => cx.error(c.span, "a phase's `concurrency` must be at least 1"),
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
    }
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
    listing.seen.reserve(jobs.len());
    if jobs.is_empty() && cx.diagnostics.is_empty() {
        cx.error::<()>(file.span, format!("stops_file `{shown}` lists no job IDs"));
    }
    stops.reserve(jobs.len());
    for (job, span) in jobs {
        listing.check(job, Place::new(&source, span), cx);
        stops.push(Stop {
            job,
            label: None,
            name: None,
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
                RawEscalate::Off(_) => None,
                RawEscalate::After(a) => Some(Escalate {
                    after: a.after.value,
                }),
            };
        }
        // An inherited `escalate` is moot where this layer turns waiting off (as it is for
        // `expect: accepted`); only both written here contradict each other.
        let written_together = layer.wait.is_some() && layer.escalate.is_some();
        let touched_escalate = layer.escalate.as_ref().map(|e| e.span);
        if let (Some(_), None, Some(span), true) =
            (s.escalate, s.wait, touched_escalate, written_together)
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
        if let Some(s) = &raw.settle {
            if s.value.as_millis() == 0 {
                self.once(
                    cx,
                    s.span,
                    "settle",
                    "`settle` must be longer than 0s: it is how long a lost answer's stop is looked for in the job's status before it is sent again (statuses show late)",
                );
            }
            retry.settle = s.value;
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

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
