//! One journal folded, line by line, into what its window did: each planned stop's history and
//! latest state, and each process with how it ended. The state follows the journal's one rule
//! (the latest word of a stop wins, [`journal::apply`]), so a report says what a resume would
//! decide.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::exec::RunOutcome;
use crate::exec::history::{At, Happened, Process, Steered, Undelivered, What};
use crate::exec::journal::{self, Binding, Closing, Earlier, Entry, JournalError, PlannedStop};

/// A planned stop and what the journal says of it.
#[derive(Debug)]
pub struct Stop {
    /// The phase it belongs to.
    pub phase: Arc<str>,
    /// The plan's stop.
    pub planned: PlannedStop,
    /// Every event, in order.
    pub history: Vec<Happened>,
    /// Requests sent for it (intents, resends and force stops).
    pub sends: u32,
    /// When it was accepted first.
    pub accepted_at: Option<At>,
    /// When it ended (its result), or when the process working on it stopped.
    pub ended_at: Option<At>,
    /// The latest `X-Request-Id` it was given.
    pub request_id: Option<String>,
    /// The latest answer that did not settle it (for a stop left unfinished).
    pub last_answer: Option<Box<journal::Said>>,
    /// Whether its latest word is that no request of it reached the server.
    pub unsent: bool,
    /// Whether the last process of the journal found it begun by an earlier one.
    pub resumed: bool,
    /// Its latest state, as a resume would read it (filled when the fold ends).
    pub earlier: Option<Earlier>,
    /// Its result, when the latest word of it is one: also a failed stop that never reached
    /// the server, which a resume sends again but a report shows as failed.
    pub finished: Option<Box<journal::Finished>>,
    /// The expectation it is judged by, shared by the stops that have the same.
    pub expected: Arc<str>,
}

/// One process of the window, with what its end said.
#[derive(Debug)]
pub struct Worker {
    /// As reports show it.
    pub process: Process,
    /// How it ended, when it said so.
    pub closing: Option<Closing>,
}

/// A journal folded.
#[derive(Debug, Default)]
pub struct Folded {
    /// The plan's content hash.
    pub plan_id: String,
    /// The runbook's name.
    pub runbook: String,
    /// The sha256 of the runbook bytes, as the latest header says.
    pub runbook_sha256: Option<String>,
    /// The approved plan a drift was accepted from, as the latest header says.
    pub approved_plan_id: Option<String>,
    /// The address the latest process reached its endpoint at.
    pub url: Option<String>,
    /// The fault profile of a rehearsal, as the latest header says.
    pub rehearsal: Option<String>,
    /// The target, as the latest header names it.
    pub binding: Option<Binding>,
    /// The processes, in order.
    pub workers: Vec<Worker>,
    /// The planned stops, by seq.
    pub stops: BTreeMap<usize, Stop>,
    /// The latest time any line carried.
    pub last_at: At,
    /// Control actions and gates let pass, in order.
    pub steering: Vec<Steered>,
    /// Notifications not delivered, in order.
    pub undelivered: Vec<Undelivered>,
    /// The expectations met so far, each kept once.
    expectations: HashSet<Arc<str>>,
}

/// Folds the journal at `path`.
pub fn fold(path: &Path) -> Result<Folded, JournalError> {
    let mut folded = Folded::default();
    let mut open: HashSet<usize> = HashSet::new();
    journal::each(path, |_, entry| {
        folded.take(entry, &mut open);
        Ok(())
    })?;
    folded.close_process(&mut open, None);
    Ok(folded)
}

impl Folded {
    fn take(&mut self, entry: Entry, open: &mut HashSet<usize>) {
        match entry {
            Entry::Run(header) => {
                self.close_process(open, None);
                let at = header.at.unwrap_or(self.last_at);
                self.header(&header, at);
            }
            Entry::Planned { phase, stops } => self.plan(&phase, stops),
            Entry::Ended(closing) => self.close_process(open, Some(*closing)),
            Entry::Control { action, by, at } => self.steered(at, action, None, by),
            Entry::GatePassed { phase, by, at } => self.steered(at, "gate".into(), Some(phase), by),
            Entry::GateWaiting { at, .. } => self.last_at = self.last_at.max(at),
            Entry::Undelivered(u) => {
                self.last_at = self.last_at.max(u.at);
                self.undelivered.push(*u);
            }
            _ => self.event(entry, open),
        }
    }

    fn steered(&mut self, at: At, action: String, phase: Option<String>, by: String) {
        self.last_at = self.last_at.max(at);
        let steered = Steered {
            at,
            action,
            phase,
            by,
        };
        self.steering.push(steered);
    }

    fn header(&mut self, header: &journal::Header, at: At) {
        self.plan_id.clone_from(&header.plan_id);
        self.runbook.clone_from(&header.runbook);
        if header.runbook_sha256.is_some() {
            self.runbook_sha256.clone_from(&header.runbook_sha256);
        }
        if header.target.is_some() {
            self.binding.clone_from(&header.target);
        }
        self.approved_plan_id.clone_from(&header.approved_plan_id);
        self.rehearsal.clone_from(&header.rehearsal);
        if header.url.is_some() {
            self.url.clone_from(&header.url);
        }
        self.last_at = self.last_at.max(at);
        let holder = header.process.as_ref();
        self.workers.push(Worker {
            process: Process {
                command: header.command.clone().unwrap_or_else(|| "run".to_owned()),
                started_at: at,
                finished_at: None,
                exit: None,
                user: holder.map_or_else(String::new, |h| h.user.clone()),
                host: holder.map_or_else(String::new, |h| h.host.clone()),
                pid: holder.map(|h| h.pid),
                outcome: None,
                shard: header.target.as_ref().and_then(|t| t.shard.clone()),
            },
            closing: None,
        });
        // What this process found begun: its stops are resumed ones.
        for stop in self.stops.values_mut() {
            stop.resumed = stop.earlier.is_some() || stop.finished.is_some();
        }
    }

    fn plan(&mut self, phase: &str, stops: Vec<PlannedStop>) {
        let phase: Arc<str> = Arc::from(phase);
        for mut planned in stops {
            let expected = match self.expectations.get(planned.expected.as_str()) {
                Some(known) => Arc::clone(known),
                None => {
                    let new: Arc<str> = Arc::from(planned.expected.as_str());
                    self.expectations.insert(Arc::clone(&new));
                    new
                }
            };
            planned.expected = String::new();
            self.stops.entry(planned.seq).or_insert_with(|| Stop {
                expected,
                phase: Arc::clone(&phase),
                planned,
                history: Vec::new(),
                sends: 0,
                accepted_at: None,
                ended_at: None,
                request_id: None,
                last_answer: None,
                unsent: false,
                resumed: false,
                earlier: None,
                finished: None,
            });
        }
    }

    /// Ends the current process: a stop it left unfinished was interrupted when it ended.
    fn close_process(&mut self, open: &mut HashSet<usize>, closing: Option<Closing>) {
        let Some(worker) = self.workers.last_mut() else {
            return;
        };
        if worker.process.finished_at.is_some() {
            return;
        }
        let at = closing.as_ref().map_or(self.last_at, |c| c.at);
        self.last_at = self.last_at.max(at);
        worker.process.finished_at = Some(at);
        let reason = match &closing {
            Some(c) => {
                worker.process.exit = Some(c.exit);
                worker.process.outcome = Some(c.outcome.as_str().to_owned());
                match c.outcome {
                    RunOutcome::Interrupted => "the run was interrupted".to_owned(),
                    _ => c
                        .halted
                        .clone()
                        .unwrap_or_else(|| "the run ended".to_owned()),
                }
            }
            None => "the process ended without a word (killed, or the machine stopped)".to_owned(),
        };
        worker.closing = closing;
        let mut seqs: Vec<usize> = open.drain().collect();
        seqs.sort_unstable();
        for seq in seqs {
            if let Some(stop) = self.stops.get_mut(&seq) {
                let mut event = Happened::bare(at, What::Interrupted);
                event.detail_mut().reason = Some(reason.clone());
                stop.history.push(event);
                stop.ended_at = Some(at);
            }
        }
    }

    /// A stop's line: an event of its history, and a step of its state.
    fn event(&mut self, entry: Entry, open: &mut HashSet<usize>) {
        let Some((seq, at)) = seq_and_time(&entry) else {
            return;
        };
        let at = at.unwrap_or(self.last_at);
        self.last_at = self.last_at.max(at);
        let Some(stop) = self.stops.get_mut(&seq) else {
            return;
        };
        match &entry {
            Entry::Name { name, .. } => {
                stop.planned.name.get_or_insert_with(|| name.clone());
                return;
            }
            Entry::Result { .. } | Entry::Unsent { .. } => {
                open.remove(&seq);
            }
            _ => {
                open.insert(seq);
            }
        }
        if let Some(event) = happened(stop, &entry, at) {
            stop.history.push(event);
        }
        // A result is kept once, as the stop's `finished`; what a resume would do matters only
        // when a later line takes the stop up again, and that line sets its state anew.
        stop.earlier = match entry {
            Entry::Result { .. } => None,
            entry => journal::step(stop.earlier.take(), entry),
        };
    }
}

/// The stop a line is about, and its time.
fn seq_and_time(entry: &Entry) -> Option<(usize, Option<At>)> {
    Some(match entry {
        Entry::Intent { seq, at, .. }
        | Entry::Accepted { seq, at, .. }
        | Entry::Escalating { seq, at, .. }
        | Entry::Resending { seq, at, .. }
        | Entry::Escalated { seq, at, .. }
        | Entry::EscalationUnsent { seq, at, .. }
        | Entry::Unsent { seq, at, .. }
        | Entry::Result { seq, at, .. } => (*seq, *at),
        Entry::Answer { seq, at, .. }
        | Entry::Lost { seq, at, .. }
        | Entry::Status { seq, at, .. }
        | Entry::EscalationRefused { seq, at, .. } => (*seq, Some(*at)),
        Entry::Name { seq, .. } => (*seq, None),
        Entry::Run(_)
        | Entry::Planned { .. }
        | Entry::Ended(_)
        | Entry::Control { .. }
        | Entry::GateWaiting { .. }
        | Entry::GatePassed { .. }
        | Entry::Undelivered(_) => return None,
    })
}

/// The history event of a stop's line, updating what the stop's result takes from it.
fn happened(stop: &mut Stop, entry: &Entry, at: At) -> Option<Happened> {
    let mut event = Happened::bare(at, What::Sent);
    match entry {
        Entry::Intent { batch, .. } => {
            stop.finished = None;
            stop.sends += 1;
            stop.unsent = false;
            event.attempt = Some(stop.sends);
            event.batch = batch.map(|b| b as u32);
        }
        Entry::Resending { .. } | Entry::Escalating { .. } => {
            stop.finished = None;
            stop.sends += 1;
            stop.unsent = false;
            event.attempt = Some(stop.sends);
            if let Entry::Resending {
                reason: Some(why), ..
            } = entry
            {
                event.detail_mut().reason = Some(format!("sent again after: {why}"));
            }
            if matches!(entry, Entry::Escalating { .. }) {
                event.event = What::Escalating;
            }
        }
        Entry::Answer { answer, .. } | Entry::EscalationRefused { answer, .. } => {
            event.event = match entry {
                Entry::Answer { .. } => What::Answer,
                _ => What::Refused,
            };
            said(&mut event, answer);
            if answer.request_id.is_some() {
                stop.request_id.clone_from(&answer.request_id);
            }
            stop.last_answer = Some(Box::new(answer.clone()));
        }
        Entry::Lost { reason, http, .. } => {
            event.event = What::Lost;
            event.detail_mut().reason = Some(reason.clone());
            event.http = *http;
        }
        Entry::Status { status, reason, .. } => {
            event.event = What::Status;
            let detail = event.detail_mut();
            detail.status.clone_from(status);
            detail.reason = Some(reason.clone());
        }
        Entry::Accepted { request_id, .. } => {
            event.event = What::Accepted;
            // Accepted on its own answer (not on a status read after a lost one): a 200.
            if stop.history.last().is_some_and(|h| h.event == What::Sent) {
                event.http = Some(200);
            }
            if request_id.is_some() {
                event.detail_mut().request_id.clone_from(request_id);
                stop.request_id.clone_from(request_id);
            }
            stop.accepted_at.get_or_insert(at);
        }
        Entry::Escalated { .. } => event.event = What::Escalated,
        Entry::EscalationUnsent { .. } | Entry::Unsent { .. } => {
            event.event = What::Unsent;
            let what = match entry {
                Entry::Unsent { .. } => "the stop",
                _ => "the escalation's force stop",
            };
            event.detail_mut().reason = Some(format!("{what} surely never reached the server"));
            stop.unsent = matches!(entry, Entry::Unsent { .. });
        }
        Entry::Result { result, .. } => return Some(ended(stop, result, at)),
        _ => return None,
    }
    Some(event)
}

/// The `ended` event of a result; a stop that passed on an acceptance the journal did not
/// record apart (it did not wait) is accepted at its end.
fn ended(stop: &mut Stop, result: &journal::Finished, at: At) -> Happened {
    if result.http_status == Some(200) && stop.accepted_at.is_none() && !result.unsent {
        let mut accepted = Happened::bare(at, What::Accepted);
        if result.request_id.is_some() {
            accepted
                .detail_mut()
                .request_id
                .clone_from(&result.request_id);
        }
        stop.history.push(accepted);
        stop.accepted_at = Some(at);
    }
    if result.request_id.is_some() {
        stop.request_id.clone_from(&result.request_id);
    }
    stop.ended_at = Some(at);
    stop.unsent = result.unsent;
    stop.finished = Some(Box::new(result.clone()));
    let mut event = Happened::bare(at, What::Ended);
    if result.final_status.is_some() {
        event.detail_mut().status.clone_from(&result.final_status);
    }
    if result.outcome != crate::exec::Outcome::Passed && result.reason.is_some() {
        event.detail_mut().reason.clone_from(&result.reason);
    }
    event
}

fn said(event: &mut Happened, answer: &journal::Said) {
    event.http = Some(answer.http);
    let detail = event.detail_mut();
    detail.error_code.clone_from(&answer.error_code);
    detail.error_msg.clone_from(&answer.error_msg);
    detail.request_id.clone_from(&answer.request_id);
}
