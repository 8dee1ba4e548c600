//! The run as the report formats show it, computed once: the counts, the times as text, the
//! outcome words, the failures, and the results grouped by phase with each stop's timing and
//! each phase's span. JSON, JUnit, Markdown (with its timeline) and HTML render this one view,
//! so a phase, a span or an outcome word cannot read differently from one format to the next.

use std::collections::HashMap;

use super::context::{self, AuthKind, RunContext};
use super::{Summary, summary};
use crate::exec::{Outcome, Report, StopResult, Timing};

/// A run, ready to be written in any format.
pub struct View<'a> {
    /// Who, what and where.
    pub ctx: &'a RunContext,
    /// The run itself.
    pub report: &'a Report,
    /// Its counts.
    pub summary: Summary,
    /// Its verdict as reports write it.
    pub outcome: &'static str,
    /// When it began, RFC 3339 in UTC to the millisecond.
    pub started_at: String,
    /// When it ended, likewise.
    pub finished_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The kind of credential it used, as reports write it.
    pub auth: &'static str,
    /// What the gateway's throttling did to it, if it throttled.
    pub throttling: Option<String>,
    /// Whether any stop went out in a batch-stop call.
    pub batched: bool,
    /// The failed stops, in plan order.
    pub failures: Vec<Row<'a>>,
    /// The results, grouped by phase in plan order.
    pub phases: Vec<Phase<'a>>,
}

/// One stop: its result and, when it ran, its timing.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// What it did.
    pub result: &'a StopResult,
    /// When, if it ran.
    pub timing: Option<&'a Timing>,
}

impl Row<'_> {
    /// When it started and ended, in milliseconds since the run began, if it ran.
    pub fn span_ms(&self) -> Option<(u64, u64)> {
        self.timing
            .map(|t| (t.started_ms, t.started_ms + t.duration_ms))
    }
}

/// One phase: a run of consecutive results with the same phase name.
#[derive(Debug)]
pub struct Phase<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its stops, in plan order.
    pub rows: Vec<Row<'a>>,
    /// Whether any of its stops went out in a batch-stop call.
    pub batched: bool,
}

/// The stretch of a run a phase took: from its first stop sent to its last stop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span<'a> {
    /// The phase.
    pub name: &'a str,
    /// Its first stop sent, in milliseconds since the run began.
    pub from_ms: u64,
    /// Its last stop ended.
    pub to_ms: u64,
    /// Whether a stop in it that ran failed.
    pub failed: bool,
}

impl<'a> View<'a> {
    /// The view of `report`, run in `ctx`.
    pub fn new(ctx: &'a RunContext, report: &'a Report) -> View<'a> {
        let timings: HashMap<usize, &Timing> = report.timings.iter().map(|t| (t.seq, t)).collect();
        let row = |result| Row {
            result,
            timing: timings.get(&result.seq).copied(),
        };
        let mut phases: Vec<Phase> = Vec::new();
        for r in &report.results {
            match phases.last_mut() {
                Some(p) if p.name == &*r.phase => p.rows.push(row(r)),
                _ => phases.push(Phase {
                    name: &r.phase,
                    rows: vec![row(r)],
                    batched: false,
                }),
            }
        }
        for p in &mut phases {
            p.batched = p.rows.iter().any(|r| r.result.batch.is_some());
        }
        let failures = phases
            .iter()
            .flat_map(|p| &p.rows)
            .filter(|r| r.result.outcome == Outcome::Failed)
            .copied()
            .collect();
        View {
            ctx,
            report,
            summary: summary(&report.results),
            outcome: report.outcome.as_str(),
            started_at: crate::timestamp::rfc3339_millis(report.started_at),
            finished_at: crate::timestamp::rfc3339_millis(report.finished_at),
            duration_ms: context::duration_ms(report),
            auth: auth_word(ctx.target.auth),
            throttling: context::throttling(report),
            batched: phases.iter().any(|p| p.batched),
            failures,
            phases,
        }
    }

    /// Every stop, in plan order.
    pub fn rows(&self) -> impl Iterator<Item = &Row<'a>> {
        self.phases.iter().flat_map(|p| &p.rows)
    }

    /// The span of each phase that has a stop that ran, in order. Consecutive phases of one
    /// name (a hand-edited report read back by `show`) make one span.
    pub fn spans(&self) -> Vec<Span<'a>> {
        let mut spans: Vec<Span> = Vec::new();
        for p in &self.phases {
            for row in &p.rows {
                let Some((from, to)) = row.span_ms() else {
                    continue;
                };
                let failed = row.result.outcome == Outcome::Failed;
                match spans.last_mut() {
                    Some(s) if s.name == p.name => {
                        s.from_ms = s.from_ms.min(from);
                        s.to_ms = s.to_ms.max(to);
                        s.failed |= failed;
                    }
                    _ => spans.push(Span {
                        name: p.name,
                        from_ms: from,
                        to_ms: to,
                        failed,
                    }),
                }
            }
        }
        spans
    }
}

/// The kind of credential as reports write it: the word of the JSON report.
pub fn auth_word(auth: AuthKind) -> &'static str {
    match auth {
        AuthKind::Token => "token",
        AuthKind::AkSk => "ak_sk",
        AuthKind::IamPassword => "iam_password",
        AuthKind::Embedded => "embedded",
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::exec::RunOutcome;
    use crate::report::context::TargetInfo;

    fn result(seq: usize, phase: &str, outcome: &str, batch: Option<usize>) -> StopResult {
        serde_json::from_value(serde_json::json!({
            "seq": seq, "phase": phase, "job": format!("{seq:08}-0000-0000-0000-000000000000"),
            "force": false, "expected": "success", "outcome": outcome, "http_status": null,
            "error_code": null, "final_status": null, "attempts": 1, "escalated": false,
            "batch": batch,
        }))
        .unwrap()
    }

    fn timing(seq: usize, started_ms: u64, duration_ms: u64) -> Timing {
        Timing {
            seq,
            started_ms,
            duration_ms,
            accepted_ms: None,
            request_id: None,
        }
    }

    fn run(results: Vec<StopResult>, timings: Vec<Timing>) -> Report {
        Report {
            outcome: RunOutcome::Failed,
            crashed: false,
            throttled: 0,
            adapted_rate: None,
            results,
            timings,
            halted: None,
            started_at: SystemTime::UNIX_EPOCH,
            finished_at: SystemTime::UNIX_EPOCH,
            window: None,
        }
    }

    fn ctx() -> RunContext {
        RunContext {
            runbook: "r".to_owned(),
            plan_id: "sha256:00".to_owned(),
            runbook_sha256: String::new(),
            target: TargetInfo {
                endpoint: "https://drs.example.com".to_owned(),
                project_id: "p".to_owned(),
                auth: AuthKind::AkSk,
            },
            shard: None,
            approved_plan_id: None,
            rehearsal: None,
        }
    }

    #[test]
    fn results_group_by_phase_with_their_timings_and_batches() {
        let results = vec![
            result(1, "canary", "passed", None),
            result(2, "rest", "failed", Some(2)),
            result(3, "rest", "skipped", None),
        ];
        let report = run(results, vec![timing(1, 0, 5), timing(2, 5, 10)]);
        let ctx = ctx();
        let view = View::new(&ctx, &report);
        let names: Vec<_> = view.phases.iter().map(|p| (p.name, p.rows.len())).collect();
        assert_eq!(names, [("canary", 1), ("rest", 2)]);
        assert_eq!(
            (view.batched, view.phases[0].batched, view.phases[1].batched),
            (true, false, true)
        );
        let seqs: Vec<_> = view.failures.iter().map(|r| r.result.seq).collect();
        assert_eq!(seqs, [2]);
        let spans: Vec<_> = view.rows().map(Row::span_ms).collect();
        assert_eq!(spans, [Some((0, 5)), Some((5, 15)), None]);
        assert_eq!((view.auth, view.outcome), ("ak_sk", "failed"));
    }

    #[test]
    fn spans_cover_the_stops_that_ran_and_mark_a_failure_among_them() {
        let results = vec![
            result(1, "a", "passed", None),
            result(2, "a", "failed", None),
            result(3, "b", "failed", None),
            result(4, "c", "passed", None),
            result(5, "a", "passed", None),
        ];
        // b's failure never ran; a appears again after b, which has no timed stop.
        let timings = vec![timing(1, 10, 5), timing(2, 0, 3), timing(4, 20, 1)];
        let report = run(results, timings);
        let ctx = ctx();
        let view = View::new(&ctx, &report);
        let span = |name, from_ms, to_ms, failed| Span {
            name,
            from_ms,
            to_ms,
            failed,
        };
        assert_eq!(
            view.spans(),
            [span("a", 0, 15, true), span("c", 20, 21, false)]
        );
        let report = run(
            vec![
                result(1, "a", "passed", None),
                result(2, "b", "passed", None),
                result(3, "a", "passed", None),
            ],
            vec![timing(1, 0, 1), timing(3, 5, 1)],
        );
        let view = View::new(&ctx, &report);
        assert_eq!(view.spans(), [span("a", 0, 6, false)]);
    }

    #[test]
    fn words_are_the_json_reports_words() {
        for o in [Outcome::Passed, Outcome::Failed, Outcome::Skipped] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        for a in [
            AuthKind::Token,
            AuthKind::AkSk,
            AuthKind::IamPassword,
            AuthKind::Embedded,
        ] {
            assert_eq!(serde_json::to_value(a).unwrap(), auth_word(a));
        }
    }
}
