//! The run's event stream (`run --events FILE|-`): one JSON object a line, in the journal's
//! vocabulary (each journal line as written, its `kind` named `event`) plus the run's own
//! events (`run_started`, `phase_started`, `phase_done`, `gate_waiting`, `gate_passed`,
//! `throttled`, `paused`, `run_done`). Every line carries `event`, `at` (RFC 3339) and
//! `plan_id`. Built from what the run already records, so it never holds a credential.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::exec::{Event, Report};

/// The stream's line for a run event, or for a journal line; `None` for what the stream leaves
/// out (a stop's `finished`, which the journal's `result` line says; the plan's own lines).
pub fn line(event: &Event, plan_id: &str) -> Option<Value> {
    let (name, fields) = match event {
        Event::Started { total, .. } => ("run_started", json!({ "stops": total })),
        Event::PhaseStarted { name, stops } => {
            ("phase_started", json!({ "phase": name, "stops": stops }))
        }
        Event::PhaseDone { name, counts } => {
            ("phase_done", json!({ "phase": name, "counts": counts }))
        }
        Event::GateWaiting { phase } => ("gate_waiting", json!({ "phase": phase })),
        Event::GatePassed { phase, by } => ("gate_passed", json!({ "phase": phase, "by": by })),
        Event::Throttled { count, rate } => {
            ("throttled", json!({ "answers_429": count, "rate": rate }))
        }
        Event::Journaled(text) => return journaled(text, plan_id),
        Event::Finished { .. } | Event::Halted => return None,
    };
    Some(stamped(name, fields, SystemTime::now(), plan_id))
}

/// A journal line as a stream line: `kind` becomes `event`, `at` RFC 3339.
fn journaled(text: &str, plan_id: &str) -> Option<Value> {
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    let kind = match fields.remove("kind") {
        Some(Value::String(kind)) => kind,
        _ => return None,
    };
    // The gates' lines are the run's own `gate_waiting` and `gate_passed`, said once.
    if matches!(
        kind.as_str(),
        "run" | "planned" | "ended" | "gate_waiting" | "gate_passed"
    ) {
        return None;
    }
    let at = match fields.remove("at") {
        Some(Value::Number(ms)) => ms.as_u64().map(crate::exec::history::At),
        _ => None,
    }
    .map_or_else(SystemTime::now, |at| at.time());
    Some(stamped(&kind, Value::Object(fields), at, plan_id))
}

/// `paused`, for a run held or ended paused: why, and by whom when someone did it.
pub fn paused(reason: &str, by: Option<&str>, plan_id: &str) -> Value {
    let fields = json!({ "reason": reason, "by": by });
    stamped("paused", fields, SystemTime::now(), plan_id)
}

/// `run_done`: the outcome, and the stops by outcome.
pub fn run_done(report: &Report, plan_id: &str) -> Value {
    let counts = crate::exec::Counts::of(&report.results);
    let fields = json!({
        "outcome": report.outcome.as_str(),
        "summary": { "total": report.results.len(), "counts": counts },
        "halted": report.halted,
    });
    stamped("run_done", fields, SystemTime::now(), plan_id)
}

/// `event`, `at` and `plan_id` first, then the event's own fields.
fn stamped(event: &str, fields: Value, at: SystemTime, plan_id: &str) -> Value {
    let mut line = Map::new();
    line.insert("event".into(), event.into());
    line.insert("at".into(), crate::timestamp::rfc3339_millis(at).into());
    line.insert("plan_id".into(), plan_id.into());
    if let Value::Object(fields) = fields {
        for (k, v) in fields {
            if !v.is_null() {
                line.entry(k).or_insert(v);
            }
        }
    }
    Value::Object(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_line_is_renamed_and_stamped() {
        let text = r#"{"kind":"intent","seq":3,"job":"j-1","at":1764950400000}"#;
        let event = Event::Journaled(text.into());
        let line = line(&event, "p-1").unwrap();
        assert_eq!(line["event"], "intent");
        assert_eq!(line["at"], "2025-12-05T16:00:00.000Z");
        assert_eq!(line["plan_id"], "p-1");
        assert_eq!(line["seq"], 3);
        assert!(line.get("kind").is_none());
    }

    #[test]
    fn the_plan_and_headers_stay_out() {
        for kind in ["run", "planned", "ended"] {
            let text = format!(r#"{{"kind":"{kind}"}}"#);
            assert!(line(&Event::Journaled(text.into()), "p").is_none());
        }
    }
}
