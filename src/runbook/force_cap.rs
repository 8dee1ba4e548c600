//! `max_force`, run-wide and per phase: the most stops a plan may force, counting the stops
//! written `force: true` and those whose escalation could fire (a stop that escalates sends a
//! force stop when it has not ended in time). Listed stops are counted offline, where the
//! runbook is checked; the stops selects find are counted again before anything is sent.

use super::decode::Cx;
use super::model::{Phase, Runbook, Stop};
use super::raw::RawRunbook;

/// Stops that could be forced: written forced, and those that may escalate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forced {
    /// Stops written `force: true`.
    pub force: usize,
    /// Stops whose escalation could fire.
    pub escalate: usize,
}

impl Forced {
    /// Counts `stops`.
    pub fn of<'a>(stops: impl IntoIterator<Item = &'a Stop>) -> Forced {
        let mut out = Forced::default();
        for stop in stops {
            if stop.settings.force {
                out.force += 1;
            } else if stop.settings.effective_escalate().is_some() {
                out.escalate += 1;
            }
        }
        out
    }

    /// Every stop that could be forced.
    pub fn total(self) -> usize {
        self.force + self.escalate
    }

    /// The count in words: `2 force stops`, or `3 stops could be forced (escalations included)`.
    fn words(self) -> String {
        match self.escalate {
            0 => format!("{} force stop{}", self.force, plural(self.force)),
            _ => format!(
                "{} stop{} could be forced (escalations included)",
                self.total(),
                plural(self.total())
            ),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The first cap `runbook` goes over, in words, or `None`: run with every stop it now holds
/// (the selects' included), before anything is sent.
pub fn over(runbook: &Runbook) -> Option<String> {
    for phase in &runbook.phases {
        if let Some(words) = phase_over(phase) {
            return Some(words);
        }
    }
    let all = Forced::of(runbook.phases.iter().flat_map(|p| &p.stops));
    let cap = runbook.limits.max_force?;
    (all.total() > cap as usize).then(|| {
        format!(
            "the runbook has {}, more than its `limits.max_force: {cap}`",
            all.words()
        )
    })
}

fn phase_over(phase: &Phase) -> Option<String> {
    let cap = phase.max_force?;
    let forced = Forced::of(&phase.stops);
    (forced.total() > cap as usize).then(|| {
        format!(
            "phase `{}`: {}, more than its `max_force: {cap}`",
            phase.name,
            forced.words()
        )
    })
}

/// The listed stops checked against each cap, reported where the cap is written.
pub(crate) fn check_listed(raw: &RawRunbook, phases: &[Phase], cx: &mut Cx) {
    for (phase, written) in phases.iter().zip(&raw.phases.value) {
        if let (Some(words), Some(cap)) = (phase_over(phase), &written.max_force) {
            cx.error::<()>(cap.span, words);
        }
    }
    let Some(cap) = raw.limits.as_ref().and_then(|l| l.max_force.as_ref()) else {
        return;
    };
    let all = Forced::of(phases.iter().flat_map(|p| &p.stops));
    if all.total() > cap.value as usize {
        let message = format!(
            "the runbook lists {}, more than `max_force: {}`",
            all.words(),
            cap.value
        );
        cx.error::<()>(cap.span, message);
    }
}
