//! The invariants, judged for every schedule from the mock's own record (`/__mock/requests`,
//! `/__mock/jobs` with every stop that reached its model) and the last run's report:
//!
//! 1. the run ended, with a final exit code its report's outcome agrees with;
//! 2. no job received a stop it did not need: at most one graceful, and one force only where a
//!    force was planned (then no graceful) or escalation was due (after a graceful was taken;
//!    a force refused while the job was still ending may precede it);
//!    requests a fault turned away before the model (429, a reset, a 5xx burst) reached no job
//!    and are not stops received; stops of a job that does not exist change nothing and are
//!    not counted;
//! 3. every job that could be stopped ended, and every planned stop has exactly one final
//!    result, in plan order, that agrees with what the mock saw;
//! 4. the failure budgets and the phase order held;
//! 5. the credential appears in no output, report or journal;
//! 6. at the boundaries (see [`super::twists`]): a second run on a journal in use and a resume
//!    at another endpoint without `--retarget` are refused, nothing sent; each shard is judged
//!    on its own stops and requests; a stop that had failed may get one more stop from a
//!    `--retry-failed` resume, and no other;
//! 7. the last run's report is the one `stopbook report` renders from the journal afterwards
//!    (results, outcome, window, timings): the journal alone holds the window's record.

use serde_json::Value;

use super::drive::{Leg, Ran, TOKEN, is_stop};
use super::schedule::{Job, Kind, Schedule};
use super::twists;

const COMPLETE: &str = "RELEASE_RESOURCE_COMPLETE";

/// Every violation found, one line each (empty: the schedule held).
pub fn check(s: &Schedule, ran: &Ran, requests: &Value, jobs: &Value) -> Vec<String> {
    let mut v = ran.findings.clone();
    if ran.outputs.contains(TOKEN) {
        v.push("the credential appears in an output, a report or the journal".to_owned());
    }
    for job in &s.jobs {
        let retried = ran.legs.iter().any(|l| l.retried.contains(&job.id));
        v.extend(second_stops(s, job, received(jobs, &job.id), retried));
    }
    for leg in &ran.legs {
        v.extend(check_leg(&leg_schedule(s, leg), leg, requests, jobs));
    }
    v
}

/// The schedule as one leg sees it: the stops of its shard.
fn leg_schedule(s: &Schedule, leg: &Leg) -> Schedule {
    let mut part = s.clone();
    part.jobs = s
        .jobs
        .iter()
        .enumerate()
        .filter(|(i, _)| twists::in_shard(i + 1, leg.shard))
        .map(|(_, j)| j.clone())
        .collect();
    part
}

/// One leg: it ended with a final code its report agrees with, one result per stop of the
/// leg, its budgets, and the phase order of its own requests.
fn check_leg(s: &Schedule, leg: &Leg, requests: &Value, jobs: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let shard = leg
        .shard
        .map_or(String::new(), |k| format!("shard {k}/2: "));
    if let Some(why) = &leg.stuck {
        v.push(format!("{shard}the run did not end: {why}"));
        return v;
    }
    let Some(report) = &leg.report else {
        v.push(format!("{shard}no JSON report after the last run"));
        return v;
    };
    let outcome = report["outcome"].as_str().unwrap_or("");
    let expected = match leg.exits.last().copied().flatten() {
        Some(0) => "passed",
        Some(1) => "failed",
        Some(3) => "aborted",
        other => {
            v.push(format!(
                "{shard}the last exit is {other:?}, not a final code"
            ));
            ""
        }
    };
    if !expected.is_empty() && outcome != expected {
        v.push(format!(
            "{shard}the last exit says {expected}, the report {outcome}"
        ));
    }
    // The window's record is the journal: rendered again offline, it tells the same.
    let offline = leg.offline.as_ref();
    for field in ["results", "outcome", "window", "timings"] {
        if offline.map(|o| &o[field]) != Some(&report[field]) {
            v.push(format!(
                "{shard}`stopbook report` of the journal differs from the last run's report in `{field}`"
            ));
        }
    }
    v.extend(results(s, report, jobs));
    v.extend(budgets(s, report));
    let (from, to) = leg.requests;
    let empty = Vec::new();
    let all = requests["requests"].as_array().unwrap_or(&empty);
    let cuts = [Some(from), leg.retry_from, Some(to)];
    let cuts: Vec<usize> = cuts
        .into_iter()
        .flatten()
        .map(|c| c.min(all.len()))
        .collect();
    for span in cuts.windows(2) {
        let own = serde_json::json!({ "requests": all[span[0]..span[1]].to_vec() });
        v.extend(phase_order(s, &own));
    }
    v
}

/// The stops the mock's model received for `job`: (force, taken) in arrival order.
fn received(jobs: &Value, job: &str) -> Vec<(bool, bool)> {
    jobs["stops"][job].as_array().map_or_else(Vec::new, |list| {
        list.iter()
            .map(|r| (r["force"] == true, r["taken"] == true))
            .collect()
    })
}

/// Whether `job` received only the stops it needed: `retried` (its stop had failed when a
/// `--retry-failed` resume started) allows one stop more, as the operator asked.
fn second_stops(s: &Schedule, job: &Job, got: Vec<(bool, bool)>, retried: bool) -> Vec<String> {
    if job.kind == Kind::Missing {
        return Vec::new();
    }
    let extra = usize::from(retried);
    let graceful = got
        .iter()
        .filter(|(force, _)| !force)
        .count()
        .saturating_sub(extra);
    let forces: Vec<bool> = got.iter().filter(|(f, _)| *f).map(|(_, t)| *t).collect();
    let first_taken = got.first().is_some_and(|(f, taken)| !f && *taken);
    let escalation = s.escalate.is_some() && s.wait.is_some();
    // An escalation sent while the graceful stop was still ending is refused and changes
    // nothing; the one that follows once the job failed is still the only force it needed.
    let one_force = match forces[..] {
        [] | [_] => true,
        [first, second] => !first && second,
        _ => false,
    };
    let allowed_force = if job.force {
        graceful == 0 && forces.len() <= 1 + extra
    } else {
        forces.len() <= extra
            || (one_force && escalation && first_taken)
            || (retried && forces.len() <= 2)
    };
    if graceful <= 1 && allowed_force {
        return Vec::new();
    }
    vec![format!(
        "job {} ({:?}, force {}) received stops it did not need: {got:?} (force, taken)",
        job.id, job.kind, job.force
    )]
}

fn truth<'a>(jobs: &'a Value, id: &str) -> &'a str {
    jobs["jobs"]
        .as_array()
        .and_then(|all| all.iter().find(|j| j["id"] == id))
        .and_then(|j| j["status"].as_str())
        .unwrap_or("")
}

/// One final result per planned stop, in plan order, agreeing with the mock.
fn results(s: &Schedule, report: &Value, jobs: &Value) -> Vec<String> {
    let empty = Vec::new();
    let results = report["results"].as_array().unwrap_or(&empty);
    let planned: Vec<&str> = s.jobs.iter().map(|j| j.id.as_str()).collect();
    let got: Vec<&str> = results.iter().filter_map(|r| r["job"].as_str()).collect();
    if got != planned {
        return vec![format!(
            "the report's results are not one per planned stop in plan order: {got:?}"
        )];
    }
    let aborted = report["outcome"] == "aborted";
    s.jobs
        .iter()
        .zip(results)
        .filter_map(|(job, r)| agree(s, job, r, jobs, aborted).err())
        .collect()
}

fn agree(s: &Schedule, job: &Job, r: &Value, jobs: &Value, aborted: bool) -> Result<(), String> {
    let got = received(jobs, &job.id);
    let taken = got.iter().any(|(_, t)| *t);
    let status = truth(jobs, &job.id);
    let outcome = r["outcome"].as_str().unwrap_or("");
    let fail = |what: &str| {
        Err(format!(
            "job {} {what}; result {r}; mock saw {got:?} (force, taken), truth {status}",
            job.id
        ))
    };
    match outcome {
        "skipped" if !aborted => return fail("is skipped in a run that was not aborted"),
        "passed" if matches!(job.kind, Kind::Missing | Kind::Ended) && taken => {
            return fail("passed as refused, but the mock took a stop");
        }
        "passed" if matches!(job.kind, Kind::Healthy | Kind::Abnormal) && !taken => {
            return fail("passed, but the mock took no stop");
        }
        "skipped" | "passed" | "failed" => {}
        other => return fail(&format!("has the outcome `{other}`")),
    }
    if r["escalated"] == true && !got.iter().any(|(f, t)| *f && *t) {
        return fail("is reported escalated, but the mock took no force stop");
    }
    let lone = job.force || s.escalate.is_none() || s.wait.is_none();
    let reason = r["reason"].as_str().unwrap_or("");
    if lone && taken && reason.contains("showed no stop within the settle window") {
        return fail("says no stop was taken, but the mock took one");
    }
    // Every job that could be stopped ended: a healthy job, or a forced or escalated one,
    // whose stop was not given up on (a fault can exhaust the attempts) nor skipped.
    let could = matches!(job.kind, Kind::Healthy)
        || (job.kind == Kind::Abnormal && (job.force || s.escalate.is_some()));
    if could && s.wait.is_some() && outcome == "passed" && status != COMPLETE {
        return fail("could be stopped and did not end");
    }
    Ok(())
}

/// A budget exceeded aborts the run; a run aborted had a budget exceeded.
fn budgets(s: &Schedule, report: &Value) -> Vec<String> {
    let empty = Vec::new();
    let results = report["results"].as_array().unwrap_or(&empty);
    let failed = |phase: Option<usize>| {
        results
            .iter()
            .zip(&s.jobs)
            .filter(|(r, j)| r["outcome"] == "failed" && phase.is_none_or(|p| j.phase == p))
            .count() as u32
    };
    let mut exceeded = s.max_failures.is_some_and(|m| failed(None) > m);
    for (p, phase) in s.phases.iter().enumerate() {
        exceeded |= phase.max_failures.is_some_and(|m| failed(Some(p)) > m);
    }
    let aborted = report["outcome"] == "aborted";
    match (exceeded, aborted) {
        (true, false) => vec![format!(
            "a failure budget was exceeded ({} failed) and the run was not aborted",
            failed(None)
        )],
        (false, true) => vec![format!(
            "the run was aborted with no budget exceeded ({} failed)",
            failed(None)
        )],
        _ => Vec::new(),
    }
}

/// Every stop call of a phase arrived before any stop call of a later phase.
fn phase_order(s: &Schedule, requests: &Value) -> Vec<String> {
    let phase_of = |id: &str| s.jobs.iter().find(|j| j.id == id).map(|j| j.phase);
    let empty = Vec::new();
    let mut last_phase = 0;
    let mut out = Vec::new();
    for r in requests["requests"].as_array().unwrap_or(&empty) {
        let path = r["path"].as_str().unwrap_or("");
        if r["method"] != "POST" || !is_stop(path) {
            continue;
        }
        for id in stopped_ids(path, r) {
            let Some(p) = phase_of(&id) else { continue };
            if p < last_phase {
                out.push(format!(
                    "a stop of {id} (phase p{p}) arrived after a stop of phase p{last_phase} (request {})",
                    r["seq"]
                ));
            }
            last_phase = last_phase.max(p);
        }
    }
    out
}

/// The jobs a stop call names: the path's, or each item of a batch.
fn stopped_ids(path: &str, r: &Value) -> Vec<String> {
    if path.ends_with("/batch-stop") {
        let body: Value = r["body"]
            .as_str()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        let empty = Vec::new();
        body["jobs"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter_map(|j| j["job_id"].as_str().map(str::to_owned))
            .collect()
    } else {
        let id = path.trim_end_matches("/stop").rsplit('/').next();
        id.map(str::to_owned).into_iter().collect()
    }
}
