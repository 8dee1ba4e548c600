//! `stopbook verify --plan P --report R [--journal J]`: do a plan, a run's JSON report and its
//! journal belong together? The same `plan_id`, exactly one result for every planned stop and
//! none other, and results the journal agrees with. Exit 0, or 1 listing every difference.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::Exit;
use super::args::VerifyArgs;
use crate::exec::journal::{self, Earlier, Finished};
use crate::exec::{Outcome, StopResult};
use crate::input;
use crate::plan::document as plan_document;
use crate::report::json::ReadReport;

/// Runs `stopbook verify` and returns its exit code.
pub fn run(args: &VerifyArgs) -> Exit {
    let inputs = read_plan(&args.plan).and_then(|plan| Ok((plan, read_report(&args.report)?)));
    let ((plan_id, mut planned), report) = match inputs {
        Ok(inputs) => inputs,
        Err(message) => {
            say!("{message}");
            return Exit::Invalid;
        }
    };
    // A shard's report holds the stops of its shard only.
    if let Some((k, n)) = report.shard.as_deref().and_then(parse_shard) {
        planned.retain(|seq, _| crate::exec::in_shard(*seq, Some((k, n))));
    }
    // A run of an accepted drift ran the approved plan less the jobs that no longer matched,
    // renumbered: its results are held against the approved stops by job, and its journal is
    // of the plan it ran.
    let accepted =
        report.approved_plan_id.as_deref() == Some(plan_id.as_str()) && report.plan_id != plan_id;
    let mut differences = match accepted {
        true => accepted_drift(&plan_id, &planned, &report),
        false => compare(&plan_id, &planned, &report),
    };
    let journal_plan = match accepted {
        true => &report.plan_id,
        false => &plan_id,
    };
    if let Some(path) = &args.journal {
        match journal::read(path, journal_plan) {
            Ok(window) => differences.extend(against_journal(&report.results, &window.earlier)),
            Err(e) => differences.push(format!("journal `{}`: {e}", path.display())),
        }
    }
    if differences.is_empty() {
        say!(
            "ok: {} to plan {plan_id}: {} results, one for every planned stop",
            if args.journal.is_some() {
                "the report and the journal belong"
            } else {
                "the report belongs"
            },
            report.results.len()
        );
        return Exit::Success;
    }
    out!("{} difference(s):", differences.len());
    for d in &differences {
        out!("  - {d}");
    }
    Exit::Failed
}

/// The plan's `plan_id` and its stops, by seq.
fn read_plan(path: &Path) -> Result<(String, BTreeMap<usize, String>), String> {
    let plan = plan_document::read_json(path).map_err(|e| format!("error: {e}"))?;
    let stops = plan
        .stops()
        .map(|(_, stop)| (stop.seq, stop.job.to_string()))
        .collect();
    Ok((plan.plan_id.to_string(), stops))
}

/// `K/N` as a report writes it.
fn parse_shard(text: &str) -> Option<(usize, usize)> {
    let (k, n) = text.split_once('/')?;
    let (k, n) = (k.parse().ok()?, n.parse().ok()?);
    (k >= 1 && k <= n).then_some((k, n))
}

fn read_report(path: &Path) -> Result<ReadReport, String> {
    let text = input::read_text(path, input::REPORT)
        .map_err(|e| format!("error: cannot read the report `{}`: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "error: `{}` is not a JSON run report (`run --report-json`): {e}",
            path.display()
        )
    })
}

/// The plan against the report: plan_id, then stops missing, extra, repeated or changed.
fn compare(plan_id: &str, planned: &BTreeMap<usize, String>, report: &ReadReport) -> Vec<String> {
    let mut differences = Vec::new();
    if report.plan_id != plan_id {
        differences.push(format!(
            "another plan: the report is of {}, the plan is {plan_id}",
            report.plan_id
        ));
    }
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for r in &report.results {
        *seen.entry(r.seq).or_default() += 1;
        match planned.get(&r.seq) {
            None => differences.push(format!(
                "extra: result #{} (job {}) is not a stop of the plan",
                r.seq, r.job
            )),
            Some(job) if *job != r.job.to_string() => differences.push(format!(
                "#{}: the plan stops job {job}, the report's result is of job {}",
                r.seq, r.job
            )),
            Some(_) => {}
        }
    }
    for (seq, n) in &seen {
        if *n > 1 {
            differences.push(format!("#{seq}: {n} results, not one"));
        }
    }
    for (seq, job) in planned {
        if !seen.contains_key(seq) {
            differences.push(format!(
                "missing: no result for planned stop #{seq} (job {job})"
            ));
        }
    }
    differences
}

/// The approved plan against the report of an accepted drift of it: every result must be of an
/// approved stop, once; the approved stops left out (they no longer matched) are told, not
/// counted as differences.
fn accepted_drift(
    plan_id: &str,
    planned: &BTreeMap<usize, String>,
    report: &ReadReport,
) -> Vec<String> {
    say!(
        "note: an accepted drift: the report ran {}, the approved plan {plan_id} less the jobs that no longer matched",
        report.plan_id
    );
    let approved: HashMap<&str, usize> = planned.iter().map(|(s, j)| (j.as_str(), *s)).collect();
    let mut differences = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in &report.results {
        let job = r.job.to_string();
        if !approved.contains_key(job.as_str()) {
            differences.push(format!(
                "extra: result #{} (job {job}) is not a stop of the approved plan",
                r.seq
            ));
        }
        *seen.entry(job).or_default() += 1;
    }
    for (job, n) in &seen {
        if *n > 1 {
            differences.push(format!("job {job}: {n} results, not one"));
        }
    }
    for (seq, job) in planned {
        if !seen.contains_key(job) {
            say!("note: approved stop #{seq} (job {job}) was left out: it no longer matched");
        }
    }
    differences
}

/// Each result against what the journal recorded for its stop.
fn against_journal(results: &[StopResult], earlier: &HashMap<usize, Earlier>) -> Vec<String> {
    let mut differences = Vec::new();
    for r in results {
        let recorded = match earlier.get(&r.seq) {
            Some(Earlier::Done(finished)) => Some(finished.as_ref()),
            _ => None,
        };
        match (r.outcome, recorded) {
            (Outcome::Skipped, None) => {}
            (_, None) => differences.push(format!(
                "#{}: the report says {}, the journal holds no result for it",
                r.seq,
                outcome(r.outcome)
            )),
            (_, Some(f)) => {
                let mine = Finished::of(r);
                let fields = disagreements(&mine, f);
                if !fields.is_empty() {
                    differences.push(format!(
                        "#{}: the journal contradicts the report on {}",
                        r.seq,
                        fields.join(", ")
                    ));
                }
            }
        }
    }
    differences
}

fn disagreements(report: &Finished, journal: &Finished) -> Vec<String> {
    let mut fields = Vec::new();
    let mut check = |name: &str, a: String, b: String| {
        if a != b {
            fields.push(format!("{name} (report {a}, journal {b})"));
        }
    };
    check(
        "outcome",
        outcome(report.outcome).into(),
        outcome(journal.outcome).into(),
    );
    check(
        "http_status",
        format!("{:?}", report.http_status),
        format!("{:?}", journal.http_status),
    );
    check(
        "error_code",
        format!("{:?}", report.error_code),
        format!("{:?}", journal.error_code),
    );
    check(
        "final_status",
        format!("{:?}", report.final_status),
        format!("{:?}", journal.final_status),
    );
    check(
        "attempts",
        report.attempts.to_string(),
        journal.attempts.to_string(),
    );
    check(
        "escalated",
        report.escalated.to_string(),
        journal.escalated.to_string(),
    );
    fields
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
    }
}
