//! A report held against itself, with no journal: the counts of its summary against its
//! results, its outcome against them, its results in plan order once each, its timings of its
//! own stops. Each contradiction is a [`Difference::Itself`] in words.

use std::collections::HashSet;

use super::Difference;
use crate::exec::RunOutcome;
use crate::report::json::ReadReport;
use crate::report::summary;

/// Every way `report` contradicts itself.
pub fn contradictions(report: &ReadReport) -> Vec<Difference> {
    let mut found = Vec::new();
    let counted = summary(&report.results);
    if report.summary.is_none() {
        found.push(Difference::Itself("it has no summary".to_owned()));
    }
    if let Some(said) = &report.summary {
        let pairs = [
            ("total", said.total, counted.total),
            ("passed", said.passed, counted.passed),
            ("failed", said.failed, counted.failed),
            ("skipped", said.skipped, counted.skipped),
            ("forced", said.forced, counted.forced),
            ("escalated", said.escalated, counted.escalated),
            ("retried", said.retried, counted.retried),
        ];
        for (name, said, counted) in pairs {
            if said != counted {
                found.push(Difference::Itself(format!(
                    "summary.{name} says {said}, the results count {counted}"
                )));
            }
        }
    }
    if let Some(why) = outcome_contradiction(report.outcome, &counted, report.halted.is_some()) {
        found.push(Difference::Itself(format!(
            "outcome \"{}\": {why}",
            report.outcome.as_str()
        )));
    }
    order(report, &mut found);
    for r in &report.results {
        if let Some(why) = result_contradiction(r) {
            found.push(Difference::Itself(format!(
                "stop #{} (job {}): {why}",
                r.seq, r.job
            )));
        }
    }
    found
}

/// Why a result contradicts itself, if it does: a pass its own fields deny, or fewer attempts
/// than its history's requests.
fn result_contradiction(r: &crate::exec::StopResult) -> Option<String> {
    use crate::exec::history::What;
    let sent = r
        .history
        .iter()
        .filter(|h| matches!(h.event, What::Sent | What::Escalating))
        .count();
    if (r.attempts as usize) < sent {
        return Some(format!(
            "attempts says {}, its history shows {sent} requests",
            r.attempts
        ));
    }
    if r.outcome != crate::exec::Outcome::Passed {
        return None;
    }
    let wanted_stop = matches!(&*r.expected, "stopped" | "accepted");
    if wanted_stop && r.http_status.is_some_and(|h| h != 200) {
        return Some(format!(
            "passed, expecting {}, on an HTTP {} answer",
            r.expected,
            r.http_status.unwrap_or_default()
        ));
    }
    let complete = crate::drs::status::COMPLETE;
    if &*r.expected == "stopped" && r.final_status.as_deref() != Some(complete) {
        return Some(format!(
            "passed, expecting the job stopped, with final_status {}",
            r.final_status.as_deref().unwrap_or("nothing")
        ));
    }
    None
}

/// Why `outcome` cannot be the verdict of results counted as `s`, if it cannot.
fn outcome_contradiction(
    outcome: RunOutcome,
    s: &crate::report::Summary,
    halted: bool,
) -> Option<String> {
    let unfinished = s.failed + s.skipped;
    match outcome {
        RunOutcome::Passed if unfinished > 0 => Some(format!(
            "but the results count {} failed and {} skipped",
            s.failed, s.skipped
        )),
        RunOutcome::Failed if unfinished == 0 => Some("but every result passed".to_owned()),
        RunOutcome::Aborted | RunOutcome::Interrupted | RunOutcome::Paused if !halted => {
            Some("but the report does not say why the run stopped (`halted`)".to_owned())
        }
        _ => None,
    }
}

/// Results in plan order, once each; timings only of stops with a result.
fn order(report: &ReadReport, found: &mut Vec<Difference>) {
    if report.results.windows(2).any(|w| w[0].seq >= w[1].seq) {
        found.push(Difference::Itself(
            "the results are not in plan order, each stop once".to_owned(),
        ));
    }
    let seqs: HashSet<usize> = report.results.iter().map(|r| r.seq).collect();
    let strays: Vec<String> = report
        .timings
        .iter()
        .filter(|t| !seqs.contains(&t.seq))
        .map(|t| format!("#{}", t.seq))
        .collect();
    if !strays.is_empty() {
        found.push(Difference::Itself(format!(
            "timings of stops with no result: {}",
            strays.join(", ")
        )));
    }
}
