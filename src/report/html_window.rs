//! The HTML report's window sections: the processes of the window (and their bands on the
//! timeline), the lost answers and how each was settled, and the stories of the stops that
//! took more than one request, escalated, were interrupted or failed.

use maud::{Markup, html};

use super::story;
use super::view::View;
use crate::exec::StopResult;

/// Where the timeline's plot is, and how many milliseconds it spans.
pub struct Scale {
    /// Its left edge.
    pub left: f64,
    /// Its width.
    pub width: f64,
    /// Its top.
    pub top: f64,
    /// Its bottom (the time axis).
    pub bottom: f64,
    /// The milliseconds it spans, from the window's start.
    pub end_ms: u64,
}

/// A dashed line where each process after the first began, numbered as in the processes'
/// table: the canary, the interrupt and each resume are visible on the timeline.
pub fn process_marks(scale: &Scale, view: &View) -> Markup {
    let Some(window) = &view.report.window else {
        return html! {};
    };
    let x = |p: &crate::exec::history::Process| {
        let ms = p.started_at.since(window.started_at).min(scale.end_ms);
        scale.left + scale.width * ms as f64 / scale.end_ms.max(1) as f64
    };
    html! {
        @for (i, p) in window.processes.iter().enumerate().skip(1) {
            @let at = format!("{:.1}", x(p));
            line x1=(at) x2=(at) y1=(scale.top) y2=(scale.bottom) stroke="#555" stroke-dasharray="4 3" {
                title { "process " (i + 1) ": " (p.command) }
            }
            text x=(at) y=(scale.bottom + 14.0) font-size="10" text-anchor="middle" { "#" (i + 1) }
        }
    }
}

/// The processes of the window, in the order they began.
pub fn processes(view: &View) -> Markup {
    html! {
        @if let Some(window) = &view.report.window {
            h2 { "Window: " (story::count(window.processes.len(), "process")) }
            table {
                tr { th { "#" } th { "command" } th { "who" } th { "started" } th { "finished" } th { "exit" } th { "outcome" } }
                @for (i, p) in window.processes.iter().enumerate() {
                    tr {
                        td { (i + 1) }
                        td { code { (p.command) } }
                        td { (p.user) "@" (p.host) }
                        td { (p.started_at) }
                        td { (p.finished_at.map(|t| t.to_string()).unwrap_or_default()) }
                        @match p.exit {
                            Some(exit) => td { (exit) },
                            None => td class="failed" { "none: killed" },
                        }
                        td { (p.outcome.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

/// The lost answers and how each was settled, then the stories worth telling.
pub fn stories(view: &View) -> Markup {
    let (lost, told) = story::told(view);
    html! {
        @if !lost.is_empty() {
            h2 { "Lost answers (" (story::count(lost.len(), "stop")) ")" }
            ul {
                @for r in lost.iter().take(story::MAX_STORIES) {
                    @for line in story::lost_answers(r) {
                        li { "#" (r.seq) " " (who(r)) ": " (line) }
                    }
                }
            }
            (more(lost.len()))
        }
        @if !told.is_empty() {
            h2 { "Stop histories (" (story::count(told.len(), "stop")) ")" }
            @for r in told.iter().take(story::MAX_STORIES) {
                details {
                    summary {
                        "#" (r.seq) " " (who(r)) ": " (r.outcome.as_str()) ", "
                        (r.attempts) (if r.attempts == 1 { " request" } else { " requests" })
                    }
                    ol { @for h in &r.history { li { (story::event_words(h)) } } }
                }
            }
            (more(told.len()))
        }
    }
}

fn more(count: usize) -> Markup {
    html! {
        @if count > story::MAX_STORIES {
            p { "… and " (count - story::MAX_STORIES) " more: see the JSON report's history." }
        }
    }
}

fn who(r: &StopResult) -> String {
    match &r.name {
        Some(name) => format!("{} ({name})", r.job),
        None => r.job.to_string(),
    }
}
