//! What differs between an approved plan and the plan a runbook gives now, for `run --plan`:
//! jobs a select now matches that were not approved, approved jobs it no longer matches, and
//! for everything else (listed stops, phases, limits, target) what was added, removed or
//! changed, field by field, old → new. Both plans are read as typed plan documents (see
//! [`super::document`]) whose fields beyond the structure are kept as written, so an approved
//! plan file is compared as it was written.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::document::{PlanDocument, StopDocument};
use crate::output::printable;

/// A stop found in one plan: its phase, job, and the task name when a select found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The phase it is in.
    pub phase: String,
    /// The job ID.
    pub job: String,
    /// The task name (selected stops only).
    pub name: Option<String>,
}

/// A value that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changed: `limits.rate`, or `JOB force` for a stop's field.
    pub what: String,
    /// The approved value (`-` when absent).
    pub old: String,
    /// The value now (`-` when absent).
    pub new: String,
}

/// Every difference, in plan order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drift {
    /// Jobs a select matches now that the approved plan does not hold.
    pub now_match: Vec<Job>,
    /// Approved selected jobs that no select matches now.
    pub no_longer_match: Vec<Job>,
    /// Listed stops the approved plan does not hold.
    pub added: Vec<Job>,
    /// Approved listed stops the runbook no longer lists.
    pub removed: Vec<Job>,
    /// Fields that changed, of stops in both plans and of the plan itself.
    pub changed: Vec<Change>,
    /// Selected jobs that still match under another task name (live state, like the above).
    pub renamed: Vec<Change>,
}

impl Drift {
    /// Whether the plans differ only in which jobs the selects match: what `--accept-drift`
    /// may accept (it runs the approved jobs that still match).
    pub fn only_live_set(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Stop fields that follow from a stop's place, not from what was approved for it.
const PLACE_FIELDS: [&str; 2] = ["seq", "batch"];

/// Compares an approved plan with the plan now.
pub fn compare(approved: &PlanDocument, now: &PlanDocument) -> Drift {
    let mut drift = Drift::default();
    let (old_stops, new_stops) = (stops(approved), stops(now));
    for (job, (phase, stop)) in &new_stops {
        match old_stops.get(job) {
            None => {
                let found = found(phase, job, stop);
                match found.name.is_some() {
                    true => drift.now_match.push(found),
                    false => drift.added.push(found),
                }
            }
            Some((old_phase, old)) => {
                if old_phase != phase {
                    drift.changed.push(Change {
                        what: format!("{job} phase"),
                        old: old_phase.clone(),
                        new: phase.clone(),
                    });
                }
                let (was, is) = (old.get("name"), stop.get("name"));
                if let (Some(Value::String(was)), Some(Value::String(is))) = (was, is)
                    && was != is
                {
                    drift.renamed.push(Change {
                        what: job.clone(),
                        old: was.clone(),
                        new: is.clone(),
                    });
                }
                let skip: &[&str] = match (was, is) {
                    (Some(_), Some(_)) => &["seq", "batch", "name"],
                    _ => &PLACE_FIELDS,
                };
                fields(&format!("{job} "), old, stop, skip, &mut drift.changed);
            }
        }
    }
    for (job, (phase, stop)) in &old_stops {
        if !new_stops.contains_key(job) {
            let found = found(phase, job, stop);
            match found.name.is_some() {
                true => drift.no_longer_match.push(found),
                false => drift.removed.push(found),
            }
        }
    }
    let (old_rest, new_rest) = (without_stops(approved), without_stops(now));
    order_changes(approved, now, &mut drift.changed);
    fields("", &old_rest, &new_rest, &[], &mut drift.changed);
    let order = |j: &Job| (j.phase.clone(), j.name.clone(), j.job.clone());
    for list in [
        &mut drift.now_match,
        &mut drift.no_longer_match,
        &mut drift.added,
        &mut drift.removed,
    ] {
        list.sort_by_key(order);
    }
    drift
}

fn found(phase: &str, job: &str, stop: &Value) -> Job {
    Job {
        phase: phase.to_owned(),
        job: job.to_owned(),
        name: stop.get("name").and_then(Value::as_str).map(str::to_owned),
    }
}

/// Every stop by job: its phase and its fields.
fn stops(plan: &PlanDocument) -> BTreeMap<String, (String, Value)> {
    plan.stops()
        .map(|(phase, stop)| {
            let fields = serde_json::to_value(stop).unwrap_or(Value::Null);
            (stop.job.to_string(), (phase.to_owned(), fields))
        })
        .collect()
}

/// The phases' order and, in each phase both plans hold, the order of the listed stops both
/// hold: a plan runs in that order, so a canary moved last is a change, not a position.
fn order_changes(approved: &PlanDocument, now: &PlanDocument, out: &mut Vec<Change>) {
    let names = |plan: &PlanDocument| -> Vec<String> {
        plan.phases.iter().map(|p| p.name.clone()).collect()
    };
    let (old, new) = (names(approved), names(now));
    let common = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|x| b.contains(x)).cloned().collect()
    };
    let (old_common, new_common) = (common(&old, &new), common(&new, &old));
    if old_common != new_common {
        out.push(Change {
            what: "phase order".to_owned(),
            old: old_common.join(", "),
            new: new_common.join(", "),
        });
    }
    for phase in &old_common {
        let (a, b) = (listed(approved, phase), listed(now, phase));
        let (a, b) = (common(&a, &b), common(&b, &a));
        if a != b {
            out.push(Change {
                what: format!("phase {phase} stop order"),
                old: a.join(", "),
                new: b.join(", "),
            });
        }
    }
}

/// The jobs of a phase's listed stops (those without a task name), in plan order.
fn listed(plan: &PlanDocument, phase: &str) -> Vec<String> {
    plan.stops()
        .filter(|(p, s)| *p == phase && s.name.is_none())
        .map(|(_, s): (_, &StopDocument)| s.job.to_string())
        .collect()
}

/// The plan without what follows from its stops: the stops themselves (compared by job),
/// counts, `plan_id` and the live part of `plan --live`.
fn without_stops(plan: &PlanDocument) -> Value {
    let mut rest = plan.rest.clone();
    for key in ["totals", "live"] {
        rest.remove(key);
    }
    if let Some(Value::Object(m)) = rest
        .get_mut("limits")
        .and_then(|l| l.get_mut("max_failures"))
    {
        m.remove("allowed");
    }
    let mut phases = serde_json::Map::new();
    for phase in &plan.phases {
        let mut fields = phase.rest.clone();
        if let Some(Value::Object(m)) = fields.get_mut("max_failures") {
            m.remove("allowed");
        }
        if let Some(Value::Object(s)) = fields.get_mut("select") {
            s.remove("matched");
        }
        fields.insert("name".to_owned(), Value::String(phase.name.clone()));
        phases.insert(phase.name.clone(), Value::Object(fields));
    }
    rest.insert("phases".to_owned(), Value::Object(phases));
    Value::Object(rest)
}

/// The fields of `old` and `new` that differ, flattened to dotted paths under `prefix`.
fn fields(prefix: &str, old: &Value, new: &Value, skip: &[&str], out: &mut Vec<Change>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys.into_iter().filter(|k| !skip.contains(&k.as_str())) {
                let path = match prefix.is_empty() || prefix.ends_with(' ') {
                    true => format!("{prefix}{key}"),
                    false => format!("{prefix}.{key}"),
                };
                let none = Value::Null;
                let (x, y) = (a.get(key).unwrap_or(&none), b.get(key).unwrap_or(&none));
                if x != y {
                    fields(&path, x, y, &[], out);
                }
            }
        }
        _ if old != new => out.push(Change {
            what: prefix.trim_end().to_owned(),
            old: shown(old),
            new: shown(new),
        }),
        _ => {}
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl fmt::Display for Drift {
    /// The difference as lines for the terminal, each list with its count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lists = [
            (
                "jobs that now match and were not approved",
                "+",
                &self.now_match,
            ),
            (
                "approved jobs that no longer match",
                "-",
                &self.no_longer_match,
            ),
            ("stops added", "+", &self.added),
            ("stops removed", "-", &self.removed),
        ];
        for (title, mark, jobs) in lists {
            if jobs.is_empty() {
                continue;
            }
            writeln!(f, "  {title} ({}):", jobs.len())?;
            for j in jobs {
                let name = j
                    .name
                    .as_deref()
                    .map(|n| format!(" {}", printable(n)))
                    .unwrap_or_default();
                let (job, phase) = (printable(&j.job), printable(&j.phase));
                writeln!(f, "    {mark} {job}{name} (phase {phase})")?;
            }
        }
        if !self.renamed.is_empty() {
            writeln!(f, "  selected jobs renamed ({}):", self.renamed.len())?;
            for c in &self.renamed {
                let (what, old, new) = (printable(&c.what), printable(&c.old), printable(&c.new));
                writeln!(f, "    ~ {what}: {old} → {new}")?;
            }
        }
        if !self.changed.is_empty() {
            writeln!(f, "  changed ({}):", self.changed.len())?;
            for c in &self.changed {
                let (what, old, new) = (printable(&c.what), printable(&c.old), printable(&c.new));
                writeln!(f, "    ~ {what}: {old} → {new}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A well-formed job ID for the letter `c`.
    fn id(c: char) -> String {
        format!("0000000{c}-0000-4000-8000-00000000000{c}")
    }

    fn doc(value: Value) -> PlanDocument {
        serde_json::from_value(value).unwrap()
    }

    fn plan(stops: Value, rate: &str) -> Value {
        let hash = format!("sha256:{}", "0".repeat(64));
        json!({"plan_id": hash, "limits": {"rate": rate}, "totals": {"stops": 1},
               "phases": [{"name": "p", "select": {"matched": 1}, "stops": stops}]})
    }

    #[test]
    fn selected_listed_and_changed_are_told_apart() {
        let old = plan(
            json!([{"job": id('a'), "name": "orders-a", "seq": 1},
                   {"job": id('b'), "force": false, "seq": 2},
                   {"job": id('c'), "seq": 3}]),
            "5/s",
        );
        let new = plan(
            json!([{"job": id('b'), "force": true, "seq": 1},
                   {"job": id('d'), "seq": 2},
                   {"job": id('e'), "name": "orders-e", "seq": 3}]),
            "10/s",
        );
        let d = compare(&doc(old), &doc(new));
        assert_eq!(d.now_match[0].job, id('e'));
        assert_eq!(d.no_longer_match[0].name.as_deref(), Some("orders-a"));
        assert_eq!(
            (d.added[0].job.clone(), d.removed[0].job.clone()),
            (id('d'), id('c'))
        );
        let changed: Vec<String> = d
            .changed
            .iter()
            .map(|c| format!("{}: {} → {}", c.what, c.old, c.new))
            .collect();
        assert_eq!(
            changed,
            [
                format!("{} force: false → true", id('b')),
                "limits.rate: 5/s → 10/s".to_owned()
            ]
        );
        assert!(!d.only_live_set());
    }

    /// Whether nothing differs (the plans may still differ in counts and sequence numbers).
    fn no_difference(d: &Drift) -> bool {
        d.only_live_set()
            && d.now_match.is_empty()
            && d.no_longer_match.is_empty()
            && d.renamed.is_empty()
    }

    #[test]
    fn counts_and_places_are_not_drift() {
        let old = plan(json!([{"job": id('a'), "name": "n", "seq": 1}]), "5/s");
        let mut new = plan(json!([{"job": id('a'), "name": "n", "seq": 7}]), "5/s");
        new["totals"] = json!({"stops": 9});
        new["phases"][0]["select"]["matched"] = json!(4);
        assert!(no_difference(&compare(
            &doc(old.clone()),
            &doc(new.clone())
        )));
        new["phases"][0]["stops"][0]["name"] = json!("renamed");
        let d = compare(&doc(old), &doc(new));
        assert!(
            d.only_live_set() && !no_difference(&d),
            "a rename is live state: {d:?}"
        );
        assert_eq!(d.renamed[0].new, "renamed");
    }
}
