//! The HTML report (`--report-html`): one self-contained page for a reviewer, with no script and
//! no request to anything outside the file. The context first, then failures, an SVG timeline
//! of the run (stops started and ended per second, phases as bands, failures marked), the
//! distribution of answer times, and a table per phase. Written with maud, whose templates are
//! checked when stopbook is compiled and escape every value they are given.

use std::io::{self, Write};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::context::{RunContext, VERSION, duration_ms};
use super::summary;
use crate::exec::{Outcome, Report, StopResult, Timing};
use crate::timestamp::rfc3339_millis as rfc3339;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\
th{background:#f4f4f4}.failed{color:#b00020;font-weight:bold}.passed{color:#1b5e20}.skipped{color:#777}\
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:bold}dd{margin:0}\
code{font-family:ui-monospace,monospace;font-size:.95em;white-space:nowrap}";

/// Writes the HTML report of `report`.
pub fn write<W: Write>(mut out: W, ctx: &RunContext, report: &Report) -> io::Result<()> {
    let title = format!("Run report: {}", ctx.runbook);
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
                (context(ctx, report))
                (failures(report))
                h2 { "Timeline" }
                (timeline(report))
                h2 { "Answer times" }
                (histogram(&report.timings))
                (phases(report))
            }
        }
    };
    // The one place every value reaches the page: maud escaped the markup; control and
    // bidirectional-text characters from a server (an `error_msg`) are shown as `\u{202e}`.
    out.write_all(crate::output::printable(&page.into_string()).as_bytes())?;
    out.write_all(b"\n")
}

fn context(ctx: &RunContext, report: &Report) -> Markup {
    let s = summary(&report.results);
    let outcome = report.outcome.as_str();
    html! {
        dl {
            dt { "outcome" } dd { span class=(outcome) { (outcome) } }
            dt { "stops" }
            dd { (s.total) " in all: " (s.passed) " passed, " (s.failed) " failed, " (s.skipped) " skipped" }
            dt { "plan_id" } dd { code { (ctx.plan_id) } }
            dt { "runbook_sha256" } dd { code { (ctx.runbook_sha256) } }
            dt { "target" } dd { (ctx.target.shown_endpoint()) " (project " (ctx.target.project_id) ")" }
            dt { "started_at" } dd { (rfc3339(report.started_at)) }
            dt { "finished_at" } dd { (rfc3339(report.finished_at)) }
            dt { "duration" } dd { (duration_ms(report)) " ms" }
            @if let Some(throttling) = crate::report::context::throttling(report) {
                dt { "throttled" } dd { (throttling) }
            }
            dt { "stopbook" } dd { (VERSION) }
            @if let Some(reason) = &report.halted {
                dt { "stopped early" } dd { (reason) }
            }
        }
    }
}

fn failures(report: &Report) -> Markup {
    let failures = report.failures();
    html! {
        @if !failures.is_empty() {
            h2 { "Failures" }
            table {
                tr { th { "#" } th { "job" } th { "label" } th { "phase" } th { "expected" } th { "reason" } }
                @for r in failures {
                    tr {
                        td { (r.seq) }
                        td { code { (r.job) } }
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
    fn x(&self, ms: u64) -> f64 {
        self.pad + (self.width - 2.0 * self.pad) * ms.min(self.end_ms) as f64 / self.end_ms as f64
    }

    fn y(&self, n: u32) -> f64 {
        self.height - self.pad - (self.height - 2.0 * self.pad) * n as f64 / self.peak
    }
}

/// Stops started (blue) and ended (green) per second, phases as bands, failures as red ticks.
fn timeline(report: &Report) -> Markup {
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
            (bands(&plot, report))
            polyline fill="none" stroke="#1565c0" stroke-width="2" points=(line(&started)) {}
            polyline fill="none" stroke="#2e7d32" stroke-width="2" points=(line(&ended)) {}
            (axis(&plot, report))
        }
    }
}

/// Phases as bands behind the lines.
fn bands(plot: &Plot, report: &Report) -> Markup {
    let fills = ["#e3f2fd", "#fff3e0", "#e8f5e9", "#f3e5f5"];
    html! {
        @for (i, (name, from, to)) in phase_spans(report).iter().enumerate() {
            @let (a, b) = (plot.x(*from), plot.x(*to).max(plot.x(*from) + 1.0));
            rect x=(format!("{a:.1}")) y=(plot.pad) width=(format!("{:.1}", b - a))
                height=(format!("{:.1}", plot.height - 2.0 * plot.pad)) fill=(fills[i % 4]) {
                title { "phase " (name) }
            }
            text x=(format!("{:.1}", a + 2.0)) y=(plot.pad - 4.0) font-size="11" { (name) }
        }
    }
}

/// Failures as red ticks on the time axis, the axis, and the legend.
fn axis(plot: &Plot, report: &Report) -> Markup {
    let (pad, width, height) = (plot.pad, plot.width, plot.height);
    html! {
        @for t in failed_timings(report) {
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

/// Each phase's name and the span of its stops, in milliseconds since the run began.
fn phase_spans(report: &Report) -> Vec<(String, u64, u64)> {
    let mut spans: Vec<(String, u64, u64)> = Vec::new();
    for r in &report.results {
        let Ok(i) = report.timings.binary_search_by_key(&r.seq, |t| t.seq) else {
            continue;
        };
        let t = &report.timings[i];
        let (from, to) = (t.started_ms, t.started_ms + t.duration_ms);
        match spans.last_mut() {
            Some((name, a, b)) if **name == *r.phase => {
                *a = (*a).min(from);
                *b = (*b).max(to);
            }
            _ => spans.push((r.phase.to_string(), from, to)),
        }
    }
    spans
}

fn failed_timings(report: &Report) -> impl Iterator<Item = &Timing> {
    report
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .filter_map(|r| {
            report
                .timings
                .binary_search_by_key(&r.seq, |t| t.seq)
                .ok()
                .map(|i| &report.timings[i])
        })
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

fn phases(report: &Report) -> Markup {
    let mut groups: Vec<(&str, Vec<&StopResult>)> = Vec::new();
    for r in &report.results {
        match groups.last_mut() {
            Some((name, rows)) if *name == &*r.phase => rows.push(r),
            _ => groups.push((&r.phase, vec![r])),
        }
    }
    html! {
        @for (name, rows) in groups {
            @let batched = rows.iter().any(|r| r.batch.is_some());
            h2 { "Phase: " (name) }
            table {
                tr {
                    th { "#" }
                    @if batched { th title="the batch-stop call it went out in" { "call" } }
                    th { "job" } th { "label" } th { "force" } th { "expected" }
                    th { "outcome" } th { "HTTP" } th { "final status" } th { "attempts" }
                    th { "escalated" }
                }
                @for r in rows { (row(r, batched)) }
            }
        }
    }
}

/// One stop's row; `batched` adds the batch-stop call it went out in.
fn row(r: &StopResult, batched: bool) -> Markup {
    let outcome = r.outcome.as_str();
    html! {
        tr {
            td { (r.seq) }
            @if batched { td { (r.batch.map(|b| b.to_string()).unwrap_or_default()) } }
            td { code { (r.job) } }
            td { (r.label.as_deref().unwrap_or("")) }
            td { (if r.force { "yes" } else { "no" }) }
            td { (r.expected) }
            td class=(outcome) { (outcome) }
            td { (r.http_status.map(|h| h.to_string()).unwrap_or_default()) }
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
        };
        let mut page = Vec::new();
        super::write(&mut page, &ctx, &report).unwrap();
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
