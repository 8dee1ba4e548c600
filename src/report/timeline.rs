//! The Mermaid `gantt` a Markdown report opens with: one bar per phase (from its first stop sent
//! to its last stop ended; failed phases marked), and one per escalated stop, which
//! merge-request pages render as a picture.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::exec::{Outcome, Report};

/// At most this many escalated stops get a bar of their own.
const MAX_ESCALATIONS: usize = 20;

/// The gantt of `report`, as a fenced `mermaid` block; empty when no stop ran.
pub fn gantt(report: &Report) -> String {
    let ms = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    };
    let at = |offset: u64| ms(report.started_at + Duration::from_millis(offset));
    let times: HashMap<usize, (u64, u64)> = report
        .timings
        .iter()
        .map(|t| (t.seq, (t.started_ms, t.started_ms + t.duration_ms)))
        .collect();
    // Phases in order: (name, first sent, last ended, any failed).
    let mut phases: Vec<(&str, u64, u64, bool)> = Vec::new();
    for r in &report.results {
        let Some(&(start, end)) = times.get(&r.seq) else {
            continue;
        };
        let failed = r.outcome == Outcome::Failed;
        match phases.last_mut() {
            Some(p) if p.0 == &*r.phase => {
                p.1 = p.1.min(start);
                p.2 = p.2.max(end);
                p.3 |= failed;
            }
            _ => phases.push((&r.phase, start, end, failed)),
        }
    }
    if phases.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "```mermaid\ngantt\n    title Run timeline (UTC)\n    dateFormat x\n    axisFormat %H:%M:%S\n    section phases\n",
    );
    for (i, (name, start, end, failed)) in phases.iter().enumerate() {
        let tag = if *failed { "crit, " } else { "" };
        // A bar at least a millisecond wide, so a phase that took no time still shows.
        let end = (*end).max(start + 1);
        out.push_str(&format!(
            "    {} :{tag}p{}, {}, {}\n",
            task_name(name),
            i + 1,
            at(*start),
            at(end)
        ));
    }
    let escalated: Vec<_> = report.results.iter().filter(|r| r.escalated).collect();
    if !escalated.is_empty() {
        out.push_str("    section escalations\n");
        for r in escalated.iter().take(MAX_ESCALATIONS) {
            let Some(&(start, end)) = times.get(&r.seq) else {
                continue;
            };
            let name = format!("stop {} {}", r.seq, r.label.as_deref().unwrap_or(""));
            let end = end.max(start + 1);
            out.push_str(&format!(
                "    {} :crit, e{}, {}, {}\n",
                task_name(&name),
                r.seq,
                at(start),
                at(end)
            ));
        }
    }
    out.push_str("```\n");
    out
}

/// A task name Mermaid reads as one: no `:`, `;` or `#` (its separators and comments), one line.
fn task_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            ':' | ';' | '#' | '\n' | '\r' | '`' => ' ',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "phase".to_owned()
    } else {
        cleaned.to_owned()
    }
}
