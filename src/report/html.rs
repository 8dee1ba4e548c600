//! The HTML report (`--report-html`): one self-contained page for a reviewer, with no script and
//! no request to anything outside the file. The context first, then failures, an SVG timeline
//! of the run (stops started and ended per second, phases as bands, failures marked), the
//! distribution of answer times, and a table per phase. Written with maud, whose templates are
//! checked when stopbook is compiled and escape every value they are given.

use std::io::{self, Write};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::context::VERSION;
use super::html_window;
use super::story;
use super::view::{Phase, View};
use crate::exec::{StopResult, Timing};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\
th{background:#f4f4f4}.failed{color:#b00020;font-weight:bold}.passed{color:#1b5e20}.skipped{color:#777}\
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:bold}dd{margin:0}\
code{font-family:ui-monospace,monospace;font-size:.95em;white-space:nowrap}";

/// Writes the HTML report of the run in `view`.
pub fn write<W: Write>(mut out: W, view: &View) -> io::Result<()> {
    let title = format!("Run report: {}", view.ctx.runbook);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) }
                (context(view))
                (html_window::processes(view))
                (failures(view))
                (html_window::stories(view))
                h2 { "Timeline" }
                (timeline(view))
                h2 { "Answer times" }
                (histogram(&view.report.timings))
                @for phase in &view.phases { (phase_table(phase)) }
            }
        }
    };
    // The one place every value reaches the page: maud escaped the markup; control and
    // bidirectional-text characters from a server (an `error_msg`) are shown as `\u{202e}`.
    out.write_all(crate::output::printable(&page.into_string()).as_bytes())?;
    out.write_all(b"\n")
}

fn context(view: &View) -> Markup {
    let (ctx, s, outcome) = (view.ctx, &view.summary, view.outcome);
    html! {
        dl {
            dt { "outcome" } dd { span class=(outcome) { (outcome) } }
            dt { "stops" }
            dd { (s.total) " in all: " (s.passed) " passed, " (s.failed) " failed, " (s.skipped) " skipped" }
            dt { "plan_id" } dd { code { (ctx.plan_id) } }
            @if let Some(profile) = &ctx.rehearsal {
                dt { "rehearsal" } dd { "yes: fault profile " code { (profile) } "; nothing was sent to the runbook's target" }
            }
            dt { "runbook_sha256" } dd { code { (ctx.runbook_sha256) } }
            dt { "target" } dd { (ctx.target.shown_endpoint()) " (project " (ctx.target.project_id) ")" }
            dt { "started_at" } dd { (view.started_at) }
            dt { "finished_at" } dd { (view.finished_at) }
            dt { "duration" } dd { (view.duration_ms) " ms" }
            @if let Some(throttling) = &view.throttling {
                dt { "throttled" } dd { (throttling) }
            }
            dt { "stopbook" } dd { (VERSION) }
            @if let Some(reason) = &view.report.halted {
                dt { "stopped early" } dd { (reason) }
            }
        }
    }
}

fn failures(view: &View) -> Markup {
    html! {
        @if !view.failures.is_empty() {
            h2 { "Failures" }
            table {
                tr { th { "#" } th { "job" } th { "name" } th { "label" } th { "phase" } th { "expected" } th { "reason" } }
                @for r in view.failures.iter().map(|row| row.result) {
                    tr {
                        td { (r.seq) }
                        td { code { (r.job) } }
                        td { (r.name.as_deref().unwrap_or("")) }
                        td { (r.label.as_deref().unwrap_or("")) }
                        td { (r.phase) }
                        td { (r.expected) }
                        td class="failed" { (r.reason.as_deref().unwrap_or("failed")) }
                    }
                }
            }
        }
    }
}

/// The timeline's drawing area: its size, and how milliseconds and counts map onto it.
struct Plot {
    width: f64,
    height: f64,
    pad: f64,
    end_ms: u64,
    peak: f64,
}

impl Plot {
    /// How the window's milliseconds map onto the plot, for the marks drawn elsewhere.
    fn scale(&self) -> html_window::Scale {
        html_window::Scale {
            left: self.pad,
            width: self.width - 2.0 * self.pad,
            top: self.pad,
            bottom: self.height - self.pad,
            end_ms: self.end_ms,
        }
    }

    fn x(&self, ms: u64) -> f64 {
        self.pad + (self.width - 2.0 * self.pad) * ms.min(self.end_ms) as f64 / self.end_ms as f64
    }

    fn y(&self, n: u32) -> f64 {
        self.height - self.pad - (self.height - 2.0 * self.pad) * n as f64 / self.peak
    }
}

/// Stops started (blue) and ended (green) per second, phases as bands, failures as red ticks.
fn timeline(view: &View) -> Markup {
    let report = view.report;
    let end_ms = report
        .timings
        .iter()
        .map(|t| t.started_ms + t.duration_ms)
        .max()
        .unwrap_or(0)
        .max(1000);
    let seconds = end_ms.div_ceil(1000) as usize;
    let (mut started, mut ended) = (vec![0u32; seconds + 1], vec![0u32; seconds + 1]);
    for t in &report.timings {
        started[(t.started_ms / 1000) as usize] += 1;
        ended[((t.started_ms + t.duration_ms) / 1000) as usize] += 1;
    }
    let peak = started
        .iter()
        .chain(&ended)
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let plot = Plot {
        width: 800.0,
        height: 180.0,
        pad: 30.0,
        end_ms,
        peak,
    };
    let line = |series: &[u32]| -> String {
        let points: Vec<String> = series
            .iter()
            .enumerate()
            .map(|(s, n)| format!("{:.1},{:.1}", plot.x(s as u64 * 1000 + 500), plot.y(*n)))
            .collect();
        points.join(" ")
    };
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(plot.width) height=(plot.height)
            role="img" aria-label="stops started and ended per second" {
            (bands(&plot, view))
            (html_window::process_marks(&plot.scale(), view))
            polyline fill="none" stroke="#1565c0" stroke-width="2" points=(line(&started)) {}
            polyline fill="none" stroke="#2e7d32" stroke-width="2" points=(line(&ended)) {}
            (axis(&plot, view))
        }
    }
}

/// Phases as bands behind the lines.
fn bands(plot: &Plot, view: &View) -> Markup {
    let fills = ["#e3f2fd", "#fff3e0", "#e8f5e9", "#f3e5f5"];
    html! {
        @for (i, span) in view.spans().iter().enumerate() {
            @let (name, from, to) = (span.name, span.from_ms, span.to_ms);
            @let (a, b) = (plot.x(from), plot.x(to).max(plot.x(from) + 1.0));
            rect x=(format!("{a:.1}")) y=(plot.pad) width=(format!("{:.1}", b - a))
                height=(format!("{:.1}", plot.height - 2.0 * plot.pad)) fill=(fills[i % 4]) {
                title { "phase " (name) }
            }
            text x=(format!("{:.1}", a + 2.0)) y=(plot.pad - 4.0) font-size="11" { (name) }
        }
    }
}

/// Failures as red ticks on the time axis, the axis, and the legend.
fn axis(plot: &Plot, view: &View) -> Markup {
    let (pad, width, height) = (plot.pad, plot.width, plot.height);
    html! {
        @for t in view.failures.iter().filter_map(|row| row.timing) {
            @let at = format!("{:.1}", plot.x(t.started_ms + t.duration_ms));
            line x1=(at) x2=(at) y1=(height - pad) y2=(height - pad + 8.0) stroke="#b00020" stroke-width="2" {
                title { "#" (t.seq) " failed" }
            }
        }
        line x1=(pad) x2=(width - pad) y1=(height - pad) y2=(height - pad) stroke="#444" {}
        text x=(pad) y=(height - 8.0) font-size="11" { "0 s" }
        text x=(width - pad) y=(height - 8.0) font-size="11" text-anchor="end" {
            (format!("{:.1} s", plot.end_ms as f64 / 1000.0))
        }
        text x=(width - pad) y="14" font-size="11" text-anchor="end" {
            tspan fill="#1565c0" { "started" } " / " tspan fill="#2e7d32" { "ended" }
            " per second (peak " (plot.peak) ")"
        }
    }
}

/// How long stops took, in ten buckets.
fn histogram(timings: &[Timing]) -> Markup {
    let longest = timings
        .iter()
        .map(|t| t.duration_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut buckets = [0u32; 10];
    for t in timings {
        buckets[((t.duration_ms * 10 / (longest + 1)) as usize).min(9)] += 1;
    }
    let peak = buckets.iter().copied().max().unwrap_or(1).max(1) as f64;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width="420" height="140" role="img"
            aria-label="distribution of stop times" {
            @for (i, n) in buckets.iter().enumerate() {
                @let h = 100.0 * *n as f64 / peak;
                rect x=(10 + i * 40) y=(format!("{:.1}", 110.0 - h)) width="36"
                    height=(format!("{h:.1}")) fill="#5c6bc0" {
                    title {
                        (longest * i as u64 / 10) "-" (longest * (i as u64 + 1) / 10) " ms: " (n)
                    }
                }
            }
            text x="10" y="128" font-size="11" { "0 ms" }
            text x="410" y="128" font-size="11" text-anchor="end" { (longest) " ms" }
        }
    }
}

/// A phase's table; a phase with a stop sent in a batch-stop call has the call column.
fn phase_table(phase: &Phase) -> Markup {
    let batched = phase.batched;
    html! {
        h2 { "Phase: " (phase.name) }
        table {
            tr {
                th { "#" }
                @if batched { th title="the batch-stop call it went out in" { "call" } }
                th { "job" } th { "name" } th { "label" } th { "force" } th { "expected" }
                th { "outcome" } th { "HTTP" } th { "final status" } th { "attempts" }
                th { "escalated" }
            }
            @for row in &phase.rows { (row_markup(row.result, batched)) }
        }
    }
}

/// One stop's row; `batched` adds the batch-stop call it went out in.
fn row_markup(r: &StopResult, batched: bool) -> Markup {
    let outcome = r.outcome.as_str();
    html! {
        tr {
            td { (r.seq) }
            @if batched { td { (r.batch.map(|b| b.to_string()).unwrap_or_default()) } }
            td { code { (r.job) } }
            td { (r.name.as_deref().unwrap_or("")) }
            td { (r.label.as_deref().unwrap_or("")) }
            td { (if r.force { "yes" } else { "no" }) }
            td { (r.expected) }
            td class=(outcome) { (outcome) }
            td { (story::http_cell(r)) }
            td { (r.final_status.as_deref().unwrap_or("")) }
            td { (r.attempts) }
            td { (if r.escalated { "yes" } else { "no" }) }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use crate::exec::{Report, RunOutcome};
    use crate::report::context::{AuthKind, RunContext, TargetInfo};

    #[test]
    fn control_and_bidi_characters_reach_the_page_escaped() {
        let ctx = RunContext {
            runbook: "pay\u{202e}gnp.exe".to_owned(),
            plan_id: "sha256:00".to_owned(),
            runbook_sha256: String::new(),
            target: TargetInfo {
                endpoint: "https://drs.example.com".to_owned(),
                project_id: "p".to_owned(),
                auth: AuthKind::Token,
            },
            shard: None,
            approved_plan_id: None,
            rehearsal: None,
        };
        let report = Report {
            outcome: RunOutcome::Aborted,
            crashed: false,
            throttled: 0,
            adapted_rate: None,
            results: Vec::new(),
            timings: Vec::new(),
            halted: Some("the server said \u{1b}[2K\u{2067}no\u{2069}".to_owned()),
            started_at: SystemTime::UNIX_EPOCH,
            finished_at: SystemTime::UNIX_EPOCH,
            window: None,
        };
        let mut page = Vec::new();
        super::write(&mut page, &crate::report::view::View::new(&ctx, &report)).unwrap();
        let page = String::from_utf8(page).unwrap();
        let unsafe_chars: Vec<char> = page
            .trim_end_matches('\n')
            .chars()
            .filter(|c| crate::output::is_unsafe_to_show(*c))
            .collect();
        assert!(unsafe_chars.is_empty(), "{unsafe_chars:?}");
        assert!(page.contains("pay\\u{202e}gnp.exe"), "{page}");
        assert!(
            page.contains("said \\u{1b}[2K\\u{2067}no\\u{2069}"),
            "{page}"
        );
        let closing = crate::report::closing(&report);
        assert!(closing.contains("\\u{1b}[2K\\u{2067}"), "{closing}");
    }
}
