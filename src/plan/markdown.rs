//! The plan as a reviewer reads it in a change request: target, limits, totals and `plan_id`
//! first, then one table per phase. Settings shared by a whole phase are said once above its
//! table; the table shows only what a reviewer checks stop by stop.

use std::io::{self, Write};

use super::Plan;
use crate::markdown::escape;
use crate::runbook::model::{Auth, Expectation, Host, Phase, Select, Settings, Target};

pub(super) fn write(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let rb = &plan.runbook;
    let totals = plan.totals();
    writeln!(out, "# Plan: {}", escape(&rb.name))?;
    writeln!(out)?;
    let line = super::document::MARKDOWN_PLAN_ID;
    writeln!(out, "{line}{}`", plan.plan_id)?;
    writeln!(out, "- **target:** {}", target(&rb.target))?;
    let rate = rb
        .limits
        .rate
        .map_or("no ceiling".to_owned(), |r| format!("at most {r}"));
    writeln!(
        out,
        "- **limits:** {} requests in flight, {rate} (stops and status polls together)",
        rb.limits.concurrency
    )?;
    let budget = match rb.limits.max_failures {
        None => "none: every stop is tried; the run exits 1 if any failed".to_owned(),
        Some(b) => match b.allowed(totals.stops) {
            0 => format!("`{b}`: the first failure aborts the run"),
            n => format!(
                "`{b}`: {n} failure{} tolerated, one more aborts the run",
                plural(n as usize)
            ),
        },
    };
    writeln!(out, "- **failure budget:** {budget}")?;
    writeln!(
        out,
        "- **totals:** {} phase{}, {} stop{}, {} forced{}",
        totals.phases,
        plural(totals.phases),
        totals.stops,
        plural(totals.stops),
        totals.forced,
        selected_totals(rb)
    )?;
    if let Some(cap) = rb.limits.max_force {
        writeln!(
            out,
            "- **force cap:** at most {cap} stop{} forced, escalations that could fire included",
            plural(cap as usize)
        )?;
    }
    let mut seq = 0;
    for (index, phase) in rb.phases.iter().enumerate() {
        write_phase(out, index + 1, phase, &mut seq)?;
    }
    Ok(())
}

fn write_phase(
    out: &mut dyn Write,
    number: usize,
    phase: &Phase,
    seq: &mut usize,
) -> io::Result<()> {
    let forced = phase.stops.iter().filter(|s| s.settings.force).count();
    writeln!(out)?;
    writeln!(out, "## Phase {number}: {}", escape(&phase.name))?;
    writeln!(out)?;
    writeln!(
        out,
        "{} stop{}, {forced} forced, {} in flight at most.",
        phase.stops.len(),
        plural(phase.stops.len()),
        phase.concurrency
    )?;
    if phase.batch > 1 {
        let calls = phase.batches().len();
        writeln!(
            out,
            "Stops go out in batch-stop calls of up to {} (consecutive stops sharing a force flag): {calls} call{}.",
            phase.batch,
            plural(calls)
        )?;
    }
    write_phase_budget(out, phase)?;
    if phase.gate {
        writeln!(
            out,
            "Gate: the run waits before this phase until told to go on (`stopbook ctl go --journal J`, or `y` at the prompt)."
        )?;
    }
    if let Some(cap) = phase.max_force {
        writeln!(
            out,
            "Phase force cap: at most {cap} stop{} forced here, escalations that could fire included.",
            plural(cap as usize)
        )?;
    }
    if let Some(select) = &phase.select {
        write_select(out, phase, select)?;
    }
    if phase.stops.is_empty() {
        return Ok(());
    }
    let common = most_common_requests(phase);
    let notes = !common_everywhere(phase, common);
    writeln!(
        out,
        "Every request: {}{}.",
        requests(common),
        if notes { " (unless noted)" } else { "" }
    )?;
    writeln!(out)?;
    write_stops(out, phase, common, notes, seq)
}

/// `; selected from live state: 13 in `bulk`, 0 in `late``, when any phase selects.
fn selected_totals(rb: &crate::runbook::Runbook) -> String {
    let each: Vec<String> = rb
        .phases
        .iter()
        .filter(|p| p.select.is_some())
        .map(|p| {
            let found = p.stops.iter().filter(|s| s.name.is_some()).count();
            format!("{found} in `{}`", escape(&p.name))
        })
        .collect();
    match each.is_empty() {
        true => String::new(),
        false => format!("; selected from live state: {}", each.join(", ")),
    }
}

/// The phase's query in words, and what it found.
fn write_select(out: &mut dyn Write, phase: &Phase, q: &Select) -> io::Result<()> {
    let parts = crate::runbook::select::describe(q, &|s| format!("`{}`", escape(s)));
    let found = phase.stops.iter().filter(|s| s.name.is_some()).count();
    writeln!(
        out,
        "Selected from live state: {}; at least {} and at most {}. Found {found} job{} (jobs listed anywhere in the runbook, and those an earlier select found, left out), by name then ID.",
        parts.join(", "),
        q.min,
        q.max,
        plural(found)
    )
}

/// The phase's own failure budget, when it has one.
fn write_phase_budget(out: &mut dyn Write, phase: &Phase) -> io::Result<()> {
    let Some(budget) = phase.max_failures else {
        return Ok(());
    };
    match budget.allowed(phase.stops.len()) {
        0 => writeln!(
            out,
            "Phase failure budget `{budget}`: the first failure here ends the run."
        ),
        n => writeln!(
            out,
            "Phase failure budget `{budget}`: {n} failure{} tolerated here, one more ends the run.",
            plural(n as usize)
        ),
    }
}

/// The table of the phase's stops; `notes` adds a column for request settings that differ
/// from the phase's `common` ones.
fn write_stops(
    out: &mut dyn Write,
    phase: &Phase,
    common: &Settings,
    notes: bool,
    seq: &mut usize,
) -> io::Result<()> {
    // In batch mode, the call each stop goes out in, named by its first stop's seq.
    let first = *seq + 1;
    let call_of: Vec<Option<usize>> = (phase.call_starts().into_iter())
        .map(|start| start.map(|i| first + i))
        .collect();
    let call = if phase.batch > 1 { " call |" } else { "" };
    let note = if notes { " notes |" } else { "" };
    writeln!(
        out,
        "| # |{call} job | label | force | expect | wait | escalate |{note}"
    )?;
    let columns = 7 + usize::from(phase.batch > 1) + usize::from(notes);
    writeln!(out, "|{}", "---|".repeat(columns))?;
    for (i, stop) in phase.stops.iter().enumerate() {
        *seq += 1;
        write!(out, "| {seq} |")?;
        if let Some(n) = call_of[i] {
            write!(out, " {n} |")?;
        }
        let s = &stop.settings;
        write!(
            out,
            " `{}` | {} | {} | {} | {} | {} |",
            stop.job,
            label(stop),
            if s.force { "**force**" } else { "no" },
            expectation(&s.effective_expect()),
            s.effective_wait().map_or("no".to_owned(), |w| format!(
                "{} (poll {})",
                w.timeout, w.poll
            )),
            s.effective_escalate()
                .map_or("no".to_owned(), |e| format!("after {}", e.after)),
        )?;
        if notes {
            let note = if same_requests(s, common) {
                String::new()
            } else {
                requests(s)
            };
            write!(out, " {note} |")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The request settings most stops of the phase share (the first such, on a tie).
fn most_common_requests(phase: &Phase) -> &Settings {
    let mut best: (&Settings, usize) = (&phase.stops[0].settings, 0);
    let mut seen: Vec<(&Settings, usize)> = Vec::new();
    for stop in &phase.stops {
        let s: &Settings = &stop.settings;
        match seen.iter_mut().find(|(t, _)| same_requests(t, s)) {
            Some((_, n)) => *n += 1,
            None => seen.push((s, 1)),
        }
    }
    for (s, n) in seen {
        if n > best.1 {
            best = (s, n);
        }
    }
    best.0
}

fn common_everywhere(phase: &Phase, common: &Settings) -> bool {
    phase
        .stops
        .iter()
        .all(|s| same_requests(&s.settings, common))
}

fn same_requests(a: &Settings, b: &Settings) -> bool {
    a.request_timeout == b.request_timeout && a.retry == b.retry
}

fn requests(s: &Settings) -> String {
    format!(
        "timeout {}, {} attempt{}, backoff {} up to {}, settle {}",
        s.request_timeout,
        s.retry.attempts,
        plural(s.retry.attempts as usize),
        s.retry.backoff,
        s.retry.max_backoff,
        s.retry.settle
    )
}

fn target(t: &Target) -> String {
    let r = match t {
        Target::Remote(r) => r,
        Target::EmbeddedMock => {
            return "the embedded mock (in-process, loopback only; seeded with this runbook's jobs)"
                .to_owned();
        }
        Target::MockFleet(fleet) => {
            let faults = match &fleet.profile {
                Some(p) => format!(", under the fault profile `{}`", escape(p)),
                None => String::new(),
            };
            return format!(
                "the embedded mock (in-process, loopback only) serving the fleet `{}`{faults}",
                escape(&fleet.written)
            );
        }
    };
    let host = match &r.host {
        Host::Endpoint(e) => format!("`{e}`"),
        Host::Region(region) => format!("region `{region}`"),
    };
    let auth = match &r.auth {
        Auth::TokenEnv(env) => format!("IAM token from environment variable `{env}`"),
        Auth::TokenFile { written, .. } => format!("IAM token from file `{}`", escape(written)),
        Auth::AkSk {
            ak_env,
            sk_env,
            security_token_env,
        } => {
            let temporary = security_token_env
                .as_ref()
                .map(|s| format!(", security token `{s}`"))
                .unwrap_or_default();
            format!("AK/SK signing from `{ak_env}` and `{sk_env}`{temporary}")
        }
        Auth::IamPassword {
            endpoint,
            user_env,
            password_env,
            domain,
        } => format!(
            "IAM password exchange at `{endpoint}` for user `{user_env}` / password `{password_env}` in domain `{}`",
            escape(domain)
        ),
    };
    let language = r
        .language
        .map(|l| format!(", language `{l}`"))
        .unwrap_or_default();
    format!("{host}, project `{}`, {auth}{language}", r.project_id)
}

/// The label written, or the task name a select found (marked so).
fn label(stop: &crate::runbook::model::Stop) -> String {
    match (&stop.label, &stop.name) {
        (Some(label), _) => escape(label),
        (None, Some(name)) => format!("{} *(selected)*", escape(name)),
        (None, None) => String::new(),
    }
}

fn expectation(e: &Expectation) -> String {
    escape(&e.to_string())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn table_breaking_characters_are_escaped() {
        assert_eq!(escape("a|b\nc `x` <y>"), "a\\|b c \\`x\\` \\<y\\>");
    }
}
