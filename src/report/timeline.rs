//! The Mermaid `gantt` a Markdown report opens with: one bar per phase (from its first stop sent
//! to its last stop ended; failed phases marked), and one per escalated stop, which
//! merge-request pages render as a picture.

use std::time::{Duration, SystemTime};

use super::view::View;

/// At most this many escalated stops get a bar of their own.
const MAX_ESCALATIONS: usize = 20;

/// The gantt of the run in `view`, as a fenced `mermaid` block; empty when no stop ran.
pub fn gantt(view: &View) -> String {
    let ms = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    };
    let at = |offset: u64| ms(view.report.started_at + Duration::from_millis(offset));
    let spans = view.spans();
    if spans.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "```mermaid\ngantt\n    title Run timeline (UTC)\n    dateFormat x\n    axisFormat %H:%M:%S\n",
    );
    write_processes(&mut out, view, &ms);
    out.push_str("    section phases\n");
    for (i, span) in spans.iter().enumerate() {
        let tag = if span.failed { "crit, " } else { "" };
        // A bar at least a millisecond wide, so a phase that took no time still shows.
        let end = span.to_ms.max(span.from_ms + 1);
        out.push_str(&format!(
            "    {} :{tag}p{}, {}, {}\n",
            task_name(span.name),
            i + 1,
            at(span.from_ms),
            at(end)
        ));
    }
    if view.summary.escalated > 0 {
        out.push_str("    section escalations\n");
        let escalated = view.rows().filter(|row| row.result.escalated);
        for row in escalated.take(MAX_ESCALATIONS) {
            let Some((start, end)) = row.span_ms() else {
                continue;
            };
            let r = row.result;
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

/// A bar per process of the window, when there was more than one (a gap between two is the
/// time no process ran); one that left no word is marked.
fn write_processes(out: &mut String, view: &View, ms: &impl Fn(SystemTime) -> u128) {
    let Some(window) = view
        .report
        .window
        .as_ref()
        .filter(|w| w.processes.len() > 1)
    else {
        return;
    };
    out.push_str("    section processes\n");
    for (i, p) in window.processes.iter().enumerate() {
        let start = ms(p.started_at.time());
        let end = p.finished_at.map_or(start, |f| ms(f.time())).max(start + 1);
        let tag = if p.exit.is_none() { "crit, " } else { "" };
        out.push_str(&format!(
            "    {} :{tag}w{}, {start}, {end}\n",
            task_name(&p.command),
            i + 1
        ));
    }
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
