//! The HTML report (`--report-html`): one self-contained page for a reviewer, with no script and
//! no request to anything outside the file. The context first, then failures, an SVG timeline
//! of the run (stops started and ended per second, phases as bands, failures marked), the
//! distribution of answer times, and a table per phase.

use std::io::{self, Write};

use super::context::{RunContext, VERSION, duration_ms, rfc3339};
use super::summary;
use crate::exec::{Outcome, Report, StopResult, Timing};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\
th{background:#f4f4f4}.failed{color:#b00020;font-weight:bold}.passed{color:#1b5e20}.skipped{color:#777}\
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:bold}dd{margin:0}\
code{font-family:ui-monospace,monospace;font-size:.95em;white-space:nowrap}";

/// Writes the HTML report of `report`.
pub fn write<W: Write>(mut out: W, ctx: &RunContext, report: &Report) -> io::Result<()> {
    let title = format!("Run report: {}", esc(&ctx.runbook));
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<title>{title}</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(out, "<h1>{title}</h1>")?;
    write_context(&mut out, ctx, report)?;
    write_failures(&mut out, report)?;
    writeln!(out, "<h2>Timeline</h2>")?;
    write_timeline(&mut out, report)?;
    writeln!(out, "<h2>Answer times</h2>")?;
    write_histogram(&mut out, &report.timings)?;
    write_phases(&mut out, report)?;
    writeln!(out, "</body></html>")
}

fn write_context(out: &mut impl Write, ctx: &RunContext, report: &Report) -> io::Result<()> {
    let s = summary(&report.results);
    let outcome = report.outcome.as_str();
    let rows = [
        (
            "outcome",
            format!("<span class=\"{outcome}\">{outcome}</span>"),
        ),
        (
            "stops",
            format!(
                "{} in all: {} passed, {} failed, {} skipped",
                s.total, s.passed, s.failed, s.skipped
            ),
        ),
        ("plan_id", format!("<code>{}</code>", esc(&ctx.plan_id))),
        (
            "runbook_sha256",
            format!("<code>{}</code>", esc(&ctx.runbook_sha256)),
        ),
        (
            "target",
            format!(
                "{} (project {})",
                esc(&ctx.target.endpoint),
                esc(&ctx.target.project_id)
            ),
        ),
        ("started_at", rfc3339(report.started_at)),
        ("finished_at", rfc3339(report.finished_at)),
        ("duration", format!("{} ms", duration_ms(report))),
        ("stopbook", VERSION.to_owned()),
    ];
    writeln!(out, "<dl>")?;
    for (name, value) in rows {
        writeln!(out, "<dt>{name}</dt><dd>{value}</dd>")?;
    }
    if let Some(reason) = &report.halted {
        writeln!(out, "<dt>stopped early</dt><dd>{}</dd>", esc(reason))?;
    }
    writeln!(out, "</dl>")
}

fn write_failures(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let failures = report.failures();
    if failures.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<h2>Failures</h2><table><tr><th>#</th><th>job</th><th>label</th><th>phase</th><th>expected</th><th>reason</th></tr>"
    )?;
    for r in failures {
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"failed\">{}</td></tr>",
            r.seq,
            r.job,
            esc(r.label.as_deref().unwrap_or("")),
            esc(&r.phase),
            esc(&r.expected),
            esc(r.reason.as_deref().unwrap_or("failed"))
        )?;
    }
    writeln!(out, "</table>")
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
fn write_timeline(out: &mut impl Write, report: &Report) -> io::Result<()> {
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
    writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"stops started and ended per second\">",
        plot.width, plot.height
    )?;
    write_bands(out, &plot, report)?;
    for (series, color) in [(&started, "#1565c0"), (&ended, "#2e7d32")] {
        let points: Vec<String> = series
            .iter()
            .enumerate()
            .map(|(s, n)| format!("{:.1},{:.1}", plot.x(s as u64 * 1000 + 500), plot.y(*n)))
            .collect();
        writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        )?;
    }
    write_axis(out, &plot, report)?;
    writeln!(out, "</svg>")
}

/// Phases as bands behind the lines.
fn write_bands(out: &mut impl Write, plot: &Plot, report: &Report) -> io::Result<()> {
    let pad = plot.pad;
    for (i, (name, from, to)) in phase_spans(report).iter().enumerate() {
        let fill = ["#e3f2fd", "#fff3e0", "#e8f5e9", "#f3e5f5"][i % 4];
        let (a, b) = (plot.x(*from), plot.x(*to).max(plot.x(*from) + 1.0));
        writeln!(
            out,
            "<rect x=\"{a:.1}\" y=\"{pad}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"><title>phase {}</title></rect>",
            b - a,
            plot.height - 2.0 * pad,
            esc(name)
        )?;
        writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            a + 2.0,
            pad - 4.0,
            esc(name)
        )?;
    }
    Ok(())
}

/// Failures as red ticks on the time axis, the axis, and the legend.
fn write_axis(out: &mut impl Write, plot: &Plot, report: &Report) -> io::Result<()> {
    let (pad, width, height) = (plot.pad, plot.width, plot.height);
    for t in failed_timings(report) {
        let at = plot.x(t.started_ms + t.duration_ms);
        writeln!(
            out,
            "<line x1=\"{at:.1}\" x2=\"{at:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#b00020\" stroke-width=\"2\"><title>#{} failed</title></line>",
            height - pad,
            height - pad + 8.0,
            t.seq
        )?;
    }
    writeln!(
        out,
        "<line x1=\"{pad}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#444\"/>",
        width - pad,
        height - pad,
        height - pad
    )?;
    writeln!(
        out,
        "<text x=\"{pad}\" y=\"{:.1}\" font-size=\"11\">0 s</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{:.1} s</text>",
        height - 8.0,
        width - pad,
        height - 8.0,
        plot.end_ms as f64 / 1000.0
    )?;
    writeln!(
        out,
        "<text x=\"{:.1}\" y=\"14\" font-size=\"11\" text-anchor=\"end\"><tspan fill=\"#1565c0\">started</tspan> / <tspan fill=\"#2e7d32\">ended</tspan> per second (peak {})</text>",
        width - pad,
        plot.peak
    )
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
fn write_histogram(out: &mut impl Write, timings: &[Timing]) -> io::Result<()> {
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
    let (width, height) = (420.0, 140.0);
    writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"distribution of stop times\">"
    )?;
    for (i, n) in buckets.iter().enumerate() {
        let h = 100.0 * *n as f64 / peak;
        let (from, to) = (longest * i as u64 / 10, longest * (i as u64 + 1) / 10);
        writeln!(
            out,
            "<rect x=\"{}\" y=\"{:.1}\" width=\"36\" height=\"{h:.1}\" fill=\"#5c6bc0\"><title>{from}-{to} ms: {n}</title></rect>",
            10 + i * 40,
            110.0 - h
        )?;
    }
    writeln!(
        out,
        "<text x=\"10\" y=\"128\" font-size=\"11\">0 ms</text><text x=\"410\" y=\"128\" font-size=\"11\" text-anchor=\"end\">{longest} ms</text>"
    )?;
    writeln!(out, "</svg>")
}

fn write_phases(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let mut phase: Option<&str> = None;
    for r in &report.results {
        if phase != Some(&*r.phase) {
            if phase.is_some() {
                writeln!(out, "</table>")?;
            }
            phase = Some(&r.phase);
            writeln!(out, "<h2>Phase: {}</h2>", esc(&r.phase))?;
            writeln!(
                out,
                "<table><tr><th>#</th><th>job</th><th>label</th><th>force</th><th>expected</th><th>outcome</th><th>HTTP</th><th>final status</th><th>attempts</th><th>escalated</th></tr>"
            )?;
        }
        write_row(out, r)?;
    }
    if phase.is_some() {
        writeln!(out, "</table>")?;
    }
    Ok(())
}

fn write_row(out: &mut impl Write, r: &StopResult) -> io::Result<()> {
    let outcome = match r.outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
    };
    writeln!(
        out,
        "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{outcome}\">{outcome}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        r.seq,
        r.job,
        esc(r.label.as_deref().unwrap_or("")),
        if r.force { "yes" } else { "no" },
        esc(&r.expected),
        r.http_status.map(|h| h.to_string()).unwrap_or_default(),
        esc(r.final_status.as_deref().unwrap_or("")),
        r.attempts,
        if r.escalated { "yes" } else { "no" },
    )
}

/// Text made safe inside HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
