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
    let spans = view.spans();
    let starts: Vec<(f64, usize)> = spans
        .iter()
        .map(|s| (plot.x(s.from_ms) + 2.0, s.name.chars().count()))
        .collect();
    let rows = label_rows(&starts, plot.width - plot.pad - LEGEND_WIDTH);
    html! {
        @for (i, span) in spans.iter().enumerate() {
            @let (name, from, to) = (span.name, span.from_ms, span.to_ms);
            @let (a, b) = (plot.x(from), plot.x(to).max(plot.x(from) + 1.0));
            rect x=(format!("{a:.1}")) y=(plot.pad) width=(format!("{:.1}", b - a))
                height=(format!("{:.1}", plot.height - 2.0 * plot.pad)) fill=(fills[i % 4]) {
                title { "phase " (name) }
            }
            @if let Some(row) = rows[i] {
                text x=(format!("{:.1}", a + 2.0)) y=(plot.pad - 4.0 - LABEL_ROW * row as f64)
                    font-size="11" { (name) }
            }
        }
    }
}

/// Room a character of an 11 px label takes (generously), a row of labels, and the legend's
/// width at the top right.
const CHAR_WIDTH: f64 = 7.0;
const LABEL_ROW: f64 = 12.0;
const LEGEND_WIDTH: f64 = 260.0;

/// The row of each phase label (0: just above the plot, 1: above that), so that no two overlap
/// and none on the top row runs into the legend (which starts at `legend_at`); `None` where no
/// row has room (the band keeps its tooltip, and the tables name every phase).
fn label_rows(labels: &[(f64, usize)], legend_at: f64) -> Vec<Option<usize>> {
    let mut ends = [f64::NEG_INFINITY; 2];
    labels
        .iter()
        .map(|&(x, chars)| {
            let end = x + CHAR_WIDTH * chars as f64;
            let row = (0..2).find(|&r| x > ends[r] + 4.0 && (r == 0 || end < legend_at))?;
            ends[row] = end;
            Some(row)
        })
        .collect()
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
    let top = buckets.iter().copied().max().unwrap_or(1).max(1);
    let peak = top as f64;
    // The y-axis: stops per bucket, ticked at 0, half the tallest and the tallest.
    let ticks = [0, top / 2, top];
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width="470" height="140" role="img"
            aria-label="distribution of stop times" {
            line class="y-axis" x1="48" x2="48" y1="10" y2="110" stroke="#444" {}
            @for n in ticks {
                @let y = format!("{:.1}", 110.0 - 100.0 * n as f64 / peak);
                line x1="44" x2="48" y1=(y) y2=(y) stroke="#444" {}
                text x="41" y=(y) dy="4" font-size="11" text-anchor="end" { (n) }
            }
            text x="12" y="60" font-size="11" text-anchor="middle" transform="rotate(-90 12 60)" { "stops" }
            @for (i, n) in buckets.iter().enumerate() {
                @let h = 100.0 * *n as f64 / peak;
                rect x=(52 + i * 41) y=(format!("{:.1}", 110.0 - h)) width="37"
                    height=(format!("{h:.1}")) fill="#5c6bc0" {
                    title {
                        (longest * i as u64 / 10) "-" (longest * (i as u64 + 1) / 10) " ms: " (n)
                    }
                }
            }
            text x="52" y="128" font-size="11" { "0 ms" }
            text x="462" y="128" font-size="11" text-anchor="end" { (longest) " ms" }
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

    /// Phases a few pixels apart no longer write their names over each other (issue 24): each
    /// label clears the one before it on its row, the top row clears the legend, and a label
    /// with no room is left out.
    #[test]
    fn phase_labels_never_overlap() {
        let labels = [(30.0, 6), (35.0, 4), (40.0, 9), (200.0, 4), (500.0, 30)];
        let rows = super::label_rows(&labels, 510.0);
        assert_eq!(rows, [Some(0), Some(1), None, Some(0), Some(0)]);
        let mut placed: Vec<(usize, f64, f64)> = Vec::new();
        for (&(x, chars), row) in labels.iter().zip(&rows) {
            let Some(row) = *row else { continue };
            let end = x + super::CHAR_WIDTH * chars as f64;
            for &(r, a, b) in &placed {
                assert!(r != row || end < a || x > b, "{x}..{end} overlaps {a}..{b}");
            }
            placed.push((row, x, end));
        }
    }

    /// The answer-time chart has a y-axis with its counts (issue 24: it had none).
    #[test]
    fn the_answer_time_chart_has_a_y_axis() {
        let timing = |seq, duration_ms| crate::exec::Timing {
            seq,
            started_ms: 0,
            duration_ms,
            accepted_ms: None,
            request_id: None,
        };
        let svg = super::histogram(&[timing(1, 10), timing(2, 10), timing(3, 900)]).into_string();
        assert!(svg.contains("class=\"y-axis\""), "{svg}");
        for tick in [">0</text>", ">1</text>", ">2</text>", ">stops</text>"] {
            assert!(svg.contains(tick), "{tick} in {svg}");
        }
    }

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
