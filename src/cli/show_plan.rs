//! `stopbook show plan.json`: an approved plan handed over as JSON, back in words a reviewer
//! reads, close to what `stopbook plan` prints as Markdown: the target, the limits and the
//! force cap in words, each phase's query, and a table per phase with the escalate column and
//! each stop's wait and requests in words (never raw JSON). Every value is escaped: a plan file
//! is input, and may be hostile.

use serde_json::Value;

use crate::markdown::escape;

/// The plan in `plan`, as Markdown.
pub fn render(plan: &Value) -> String {
    let mut out = format!("# Plan: {}\n\n", text(&plan["runbook"]));
    out.push_str(&format!("- **plan_id:** `{}`\n", text(&plan["plan_id"])));
    out.push_str(&format!("- **target:** {}\n", target(&plan["target"])));
    out.push_str(&format!("- **limits:** {}\n", limits(&plan["limits"])));
    let totals = &plan["totals"];
    out.push_str(&format!(
        "- **totals:** {} phases, {} stops, {} forced\n",
        text(&totals["phases"]),
        text(&totals["stops"]),
        text(&totals["forced"])
    ));
    for (n, phase) in plan["phases"].as_array().into_iter().flatten().enumerate() {
        out.push_str(&phase_words(n + 1, phase));
    }
    out
}

/// A value as text, escaped; nothing for null.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => escape(s),
        Value::Null => String::new(),
        other => escape(&other.to_string()),
    }
}

fn target(t: &Value) -> String {
    if t["kind"] == "embedded-mock" {
        let fleet = match t["jobs"].as_str() {
            Some(jobs) => format!(" serving the fleet `{}`", escape(jobs)),
            None => "; seeded with this runbook's jobs".to_owned(),
        };
        let profile = match t["profile"].as_str() {
            Some(p) => format!(", under the fault profile `{}`", escape(p)),
            None => String::new(),
        };
        return format!("the embedded mock (in-process, loopback only){fleet}{profile}");
    }
    let host = match (t["endpoint"].as_str(), t["region"].as_str()) {
        (Some(e), _) => format!("`{}`", escape(e)),
        (None, Some(r)) => format!("region `{}`", escape(r)),
        _ => "(no endpoint)".to_owned(),
    };
    format!(
        "{host}, project `{}`, auth {}",
        text(&t["project_id"]),
        text(&t["auth"]["method"])
    )
}

fn limits(l: &Value) -> String {
    let rate = match l["rate"].as_str() {
        Some(r) => format!("at most {}", escape(r)),
        None => "no rate ceiling".to_owned(),
    };
    let budget = match &l["max_failures"] {
        Value::Null => "no failure budget".to_owned(),
        b => format!(
            "failure budget `{}` ({} tolerated)",
            text(&b["budget"]),
            text(&b["allowed"])
        ),
    };
    let mut words = format!(
        "{} requests in flight, {rate}, {budget}",
        text(&l["concurrency"])
    );
    if let Some(batch) = l["batch"].as_u64() {
        words.push_str(&format!(", batch-stop calls of up to {batch}"));
    }
    if let Some(cap) = l["max_force"].as_u64() {
        words.push_str(&format!(", at most {cap} forced (escalations included)"));
    }
    words
}

fn phase_words(number: usize, phase: &Value) -> String {
    let stops = phase["stops"].as_array().map_or(&[][..], Vec::as_slice);
    let forced = stops.iter().filter(|s| s["force"] == true).count();
    let mut out = format!("\n## Phase {number}: {}\n\n", text(&phase["name"]));
    let plural = if stops.len() == 1 { "" } else { "s" };
    out.push_str(&format!(
        "{} stop{plural}, {forced} forced, {} in flight at most.\n",
        stops.len(),
        text(&phase["concurrency"])
    ));
    if phase["max_failures"].is_object() {
        let b = &phase["max_failures"];
        let words = match b["allowed"].as_u64() {
            Some(0) => "the first failure here ends the run".to_owned(),
            _ => format!(
                "{} tolerated here, one more ends the run",
                text(&b["allowed"])
            ),
        };
        out.push_str(&format!(
            "Phase failure budget `{}`: {words}.\n",
            text(&b["budget"])
        ));
    }
    if phase["gate"] == "manual" {
        out.push_str("Gate: waits before this phase until told to go on (`stopbook ctl go`).\n");
    }
    if let Some(cap) = phase["max_force"].as_u64() {
        out.push_str(&format!("Phase force cap: at most {cap} forced.\n"));
    }
    if phase["select"].is_object() {
        out.push_str(&select_words(&phase["select"]));
    }
    if stops.is_empty() {
        return out;
    }
    out.push_str("\n| # | job | label | force | expect | wait | escalate | requests |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for stop in stops {
        out.push_str(&stop_row(stop));
    }
    out
}

fn select_words(q: &Value) -> String {
    let list = |v: &Value| match v {
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(" or "),
        other => text(other),
    };
    let mut parts = vec![format!("job_type {}", list(&q["job_type"]))];
    for (key, words) in [
        ("status", "status"),
        ("name", "name matching"),
        ("name_glob", "whole name matching the glob"),
        ("enterprise_project_id", "enterprise project"),
    ] {
        if !q[key].is_null() {
            parts.push(format!("{words} {}", list(&q[key])));
        }
    }
    for (key, values) in q["tags"].as_object().into_iter().flatten() {
        parts.push(format!("tag {} = {}", escape(key), list(values)));
    }
    if q["exclude"].is_object() {
        parts.push(format!("excluding {}", text(&q["exclude"])));
    }
    let min = q["min"].as_u64().unwrap_or(1);
    format!(
        "Selected from live state: {}; at least {min} and at most {}. Found {}.\n",
        parts.join(", "),
        text(&q["max"]),
        text(&q["matched"])
    )
}

fn stop_row(stop: &Value) -> String {
    let label = match (&stop["label"], &stop["name"]) {
        (Value::Null, Value::String(name)) => format!("{} *(selected)*", escape(name)),
        (label, _) => text(label),
    };
    let expect = match &stop["expect"] {
        Value::String(s) => escape(s),
        Value::Object(answer) => {
            let mut e = format!("answer {}", text(&answer["http"]));
            if let Some(code) = answer.get("error_code").and_then(Value::as_str) {
                e.push_str(&format!(" {}", escape(code)));
            }
            e
        }
        other => text(other),
    };
    let wait = match &stop["wait"] {
        Value::Object(w) => format!("{} (poll {})", text(&w["timeout"]), text(&w["poll"])),
        _ => "no".to_owned(),
    };
    let escalate = match stop["escalate"]["after"].as_str() {
        Some(after) => format!("after {}", escape(after)),
        None => "no".to_owned(),
    };
    let r = &stop["retry"];
    let requests = format!(
        "timeout {}, {} attempts, backoff {} up to {}, settle {}",
        text(&stop["request_timeout"]),
        text(&r["attempts"]),
        text(&r["backoff"]),
        text(&r["max_backoff"]),
        text(&r["settle"])
    );
    format!(
        "| {} | `{}` | {label} | {} | {expect} | {wait} | {escalate} | {requests} |\n",
        text(&stop["seq"]),
        text(&stop["job"]),
        if stop["force"] == true {
            "**force**"
        } else {
            "no"
        },
    )
}
