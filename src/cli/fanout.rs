//! A run's events, handed on as they come: to the progress display, the `--events` stream,
//! the webhooks, the live status `ctl status` reads, and the prompt at a gate on a terminal.
//! Nothing here holds the run back: a stream that cannot be written is given up (said once),
//! and webhooks are queued to workers of their own.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::exec::census::Census;
use crate::exec::{Counts, Event, Failure, Outcome, Report, RunOutcome};
use crate::notify::Notifier;
use crate::report::events;
use crate::runbook::model::NotifyOn;

/// The most failures a notification lists.
const MAX_LISTED: usize = 50;

/// What `ctl status` reads: where the run is, as its events say.
#[derive(Default)]
pub struct Live {
    /// The counts and the phase.
    pub state: Mutex<LiveState>,
    /// The jobs waited on, once the run started.
    pub census: Mutex<Option<Arc<Census>>>,
}

/// Where the run is.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    /// The phase running (or last run).
    pub phase: String,
    /// Stops finished, of all selected.
    pub done: usize,
    /// Stops selected.
    pub total: usize,
    /// Of those finished, failed.
    pub failed: usize,
    /// Not started.
    pub skipped: usize,
    /// Answers 429 so far.
    pub answers_429: u64,
    /// The request rate adapted to, if a 429 made the run adapt.
    pub rate: Option<f64>,
    /// The phase waiting at its gate.
    pub gate: Option<String>,
}

/// Where events go besides the progress display.
pub struct Fanout {
    /// The plan's ID and the runbook's name, on every line and notification.
    pub plan_id: String,
    pub runbook: String,
    /// The `--events` stream, while it can be written.
    pub stream: Option<Box<dyn Write + Send>>,
    /// The webhooks.
    pub notifier: Option<Notifier>,
    /// What `ctl status` reads.
    pub live: Arc<Live>,
    /// Failures so far (at most [`MAX_LISTED`] kept), for notifications.
    failures: Vec<Arc<Failure>>,
    /// Where the gate's prompt is asked, on a terminal.
    pub prompt: Option<super::gate_prompt::Prompt>,
}

impl Fanout {
    /// A fan-out to what the caller sets.
    pub fn new(plan_id: &str, runbook: &str, live: Arc<Live>) -> Self {
        Fanout {
            plan_id: plan_id.to_owned(),
            runbook: runbook.to_owned(),
            stream: None,
            notifier: None,
            live,
            failures: Vec::new(),
            prompt: None,
        }
    }

    /// Hands each event on until the run ends (`ended` fires once the run returned and its
    /// journal is on disk: every line mirrored is then queued), and gives itself back for the
    /// run's last events. The progress display gets every event but the journal's lines.
    pub async fn run(
        mut self,
        mut events: mpsc::UnboundedReceiver<Event>,
        progress: mpsc::UnboundedSender<Event>,
        mut ended: tokio::sync::oneshot::Receiver<()>,
    ) -> Self {
        let hand_on = |me: &mut Self, event: Event| {
            me.take(&event);
            if !matches!(event, Event::Journaled(_)) {
                let _ = progress.send(event);
            }
        };
        loop {
            tokio::select! {
                biased;
                event = events.recv() => match event {
                    Some(event) => hand_on(&mut self, event),
                    None => break,
                },
                _ = &mut ended => {
                    while let Ok(event) = events.try_recv() {
                        hand_on(&mut self, event);
                    }
                    break;
                }
            }
        }
        self
    }

    fn take(&mut self, event: &Event) {
        self.track(event);
        if let Some(line) = events::line(event, &self.plan_id) {
            self.paused_by_ctl(&line);
            self.write(&line);
        }
        match event {
            Event::Finished {
                failure: Some(failure),
                ..
            } => {
                if self.failures.len() < MAX_LISTED {
                    self.failures.push(Arc::clone(failure));
                }
                let doc = self.doc("stop_failed", Some(&failure.phase), &[Arc::clone(failure)]);
                self.tell(NotifyOn::StopFailed, doc);
            }
            Event::PhaseDone { name, counts } => {
                let failures: Vec<_> = (self.failures.iter())
                    .filter(|f| &*f.phase == name.as_str())
                    .cloned()
                    .collect();
                let mut doc = self.doc("phase_done", Some(name), &failures);
                doc["counts"] = json!(counts);
                self.tell(NotifyOn::PhaseDone, doc);
            }
            Event::GateWaiting { phase } => {
                let doc = self.doc("gate_waiting", Some(phase), &[]);
                self.tell(NotifyOn::GateWaiting, doc);
                if let Some(prompt) = &self.prompt {
                    prompt.ask(phase);
                }
            }
            _ => {}
        }
    }

    /// A `control` line of a `pause`: the run's new stops are held, so it is `paused` too.
    fn paused_by_ctl(&mut self, line: &Value) {
        if line["event"] == "control" && line["action"] == "pause" {
            let by = line["by"].as_str().map(str::to_owned);
            let reason = "new stops held (ctl pause) until `ctl go`";
            let paused = events::paused(reason, by.as_deref(), &self.plan_id);
            self.write(&paused);
            let mut doc = self.doc("paused", None, &[]);
            doc["reason"] = reason.into();
            self.tell(NotifyOn::Paused, doc);
        }
    }

    /// Where the run is, for `ctl status`.
    fn track(&self, event: &Event) {
        let mut s = self.live.state.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::Started { total, census } => {
                s.total = *total;
                *self.live.census.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(Arc::clone(census));
            }
            Event::PhaseStarted { name, .. } => s.phase.clone_from(name),
            Event::Finished { outcome, .. } => match outcome {
                Outcome::Skipped => s.skipped += 1,
                Outcome::Failed => {
                    s.done += 1;
                    s.failed += 1;
                }
                Outcome::Passed => s.done += 1,
            },
            Event::GateWaiting { phase } => s.gate = Some(phase.clone()),
            Event::GatePassed { .. } => s.gate = None,
            Event::Throttled { count, rate } => {
                s.answers_429 = *count;
                s.rate = *rate;
            }
            _ => {}
        }
    }

    /// The run ended: `paused` when it ended so, then `run_done`, to the stream and webhooks.
    pub fn run_done(&mut self, report: &Report) {
        if report.outcome == RunOutcome::Paused {
            let reason = report.halted.clone().unwrap_or_default();
            let line = events::paused(&reason, None, &self.plan_id);
            self.write(&line);
            let mut doc = self.doc("paused", None, &[]);
            doc["reason"] = reason.into();
            self.tell(NotifyOn::Paused, doc);
        }
        self.write(&events::run_done(report, &self.plan_id));
        let failures: Vec<_> = report
            .failures()
            .into_iter()
            .filter_map(Failure::of)
            .take(MAX_LISTED)
            .collect();
        let mut doc = self.doc("run_done", None, &failures);
        doc["counts"] = json!(Counts::of(&report.results));
        doc["outcome"] = report.outcome.as_str().into();
        self.tell(NotifyOn::RunDone, doc);
    }

    /// A notification's body: the event, the run, the phase, the counts so far, failures.
    fn doc(&self, event: &str, phase: Option<&str>, failures: &[Arc<Failure>]) -> Value {
        let s = self.live.state.lock().unwrap_or_else(|p| p.into_inner());
        let counts = Counts {
            passed: s.done - s.failed,
            failed: s.failed,
            skipped: s.skipped,
        };
        json!({
            "event": event,
            "at": crate::timestamp::rfc3339_millis(std::time::SystemTime::now()),
            "runbook": self.runbook,
            "plan_id": self.plan_id,
            "phase": phase,
            "counts": counts,
            "failures": failures,
        })
    }

    fn tell(&mut self, event: NotifyOn, doc: Value) {
        if let Some(notifier) = &mut self.notifier {
            notifier.tell(event, &doc);
        }
    }

    /// One line of the stream, flushed; a stream that fails is given up, said once.
    pub fn write(&mut self, line: &Value) {
        let Some(stream) = &mut self.stream else {
            return;
        };
        let written = serde_json::to_writer(&mut *stream, line)
            .map_err(std::io::Error::other)
            .and_then(|()| stream.write_all(b"\n"))
            .and_then(|()| stream.flush());
        if let Err(e) = written {
            say!(
                "warning: the event stream cannot be written ({e}): it ends here; the run goes on"
            );
            self.stream = None;
        }
    }
}
