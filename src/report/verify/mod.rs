//! Do a plan, a run's JSON report and its journal belong together? The same `plan_id`, exactly
//! one result for every planned stop and none other, a report that does not contradict itself
//! ([`itself`]), and results the journal, rendered anew, agrees with ([`journal`]). Each
//! difference is a typed finding, said in words; `stopbook verify` lists them.

mod itself;
mod journal;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use super::json::ReadReport;
use crate::input;
use crate::plan::document::PlanDocument;
use crate::plan::in_shard;

/// Why a report file cannot be verified.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    /// It cannot be read, or is too large to be a report.
    #[error("cannot read the report `{}`: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// It is not a JSON run report.
    #[error("`{}` is not a JSON run report (`run --report-json`): {reason}", path.display())]
    NotAReport {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads a JSON run report, within the bound for reports.
pub fn read_report(path: &Path) -> Result<ReadReport, ReportFileError> {
    let text = input::read_text(path, input::REPORT).map_err(|e| ReportFileError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| ReportFileError::NotAReport {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// One way the plan, the report and the journal disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The report is of another plan.
    OtherPlan {
        /// The report's plan.
        report: String,
        /// The plan given.
        plan: String,
    },
    /// A result of no planned (or approved) stop.
    Extra {
        /// The result's place.
        seq: usize,
        /// Its job.
        job: String,
        /// Held against an approved plan (an accepted drift).
        approved: bool,
    },
    /// A result of another job than the plan's stop at that place.
    OtherJob {
        /// The place.
        seq: usize,
        /// The plan's job.
        planned: String,
        /// The report's.
        reported: String,
    },
    /// More than one result for a stop (`#seq`, or a job in an accepted drift).
    Repeated {
        /// `#seq` or `job ID`.
        stop: String,
        /// How many.
        count: usize,
    },
    /// No result for a planned stop.
    Missing {
        /// The place.
        seq: usize,
        /// Its job.
        job: String,
    },
    /// A field on which the journal, rendered anew, and the report differ.
    Field {
        /// The stop (seq, job), or `None` for the report as a whole.
        stop: Option<(usize, String)>,
        /// The field.
        field: String,
        /// What the report says, in words.
        report: String,
        /// What the journal says, in words.
        journal: String,
    },
    /// The report contradicts itself.
    Itself(String),
    /// The journal cannot be read.
    Journal {
        /// The journal.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::OtherPlan { report, plan } => {
                write!(
                    f,
                    "another plan: the report is of {report}, the plan is {plan}"
                )
            }
            Difference::Extra { seq, job, approved } => {
                let what = if *approved {
                    "the approved plan"
                } else {
                    "the plan"
                };
                write!(
                    f,
                    "extra: result #{seq} (job {job}) is not a stop of {what}"
                )
            }
            Difference::OtherJob {
                seq,
                planned,
                reported,
            } => write!(
                f,
                "#{seq}: the plan stops job {planned}, the report's result is of job {reported}"
            ),
            Difference::Repeated { stop, count } => write!(f, "{stop}: {count} results, not one"),
            Difference::Missing { seq, job } => {
                write!(f, "missing: no result for planned stop #{seq} (job {job})")
            }
            Difference::Field {
                stop,
                field,
                report,
                journal,
            } => {
                if let Some((seq, job)) = stop {
                    write!(f, "stop #{seq} (job {job}): ")?;
                }
                write!(
                    f,
                    "{field}: the report says {report}, the journal says {journal}"
                )
            }
            Difference::Itself(what) => write!(f, "the report contradicts itself: {what}"),
            Difference::Journal { path, reason } => {
                write!(f, "journal `{}`: {reason}", path.display())
            }
        }
    }
}

/// What verifying found: every difference, and notes on an accepted drift.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Every difference; none means they belong together.
    pub differences: Vec<Difference>,
    /// What to tell besides (an accepted drift, approved stops left out).
    pub notes: Vec<String>,
}

/// Holds the `report` against the approved `plan` and, when given, the `journal`.
pub fn verify(plan: &PlanDocument, report: &ReadReport, journals: &[PathBuf]) -> Verdict {
    let plan_id = plan.plan_id.to_string();
    let mut planned: BTreeMap<usize, String> = plan
        .stops()
        .map(|(_, stop)| (stop.seq, stop.job.to_string()))
        .collect();
    // A shard's report holds the stops of its shard only.
    if let Some(shard) = report
        .shard
        .as_deref()
        .and_then(super::context::parse_shard)
    {
        planned.retain(|seq, _| in_shard(*seq, Some(shard)));
    }
    // A run of an accepted drift ran the approved plan less the jobs that no longer matched,
    // renumbered: its results are held against the approved stops by job, and its journal is
    // of the plan it ran.
    let accepted =
        report.approved_plan_id.as_deref() == Some(plan_id.as_str()) && report.plan_id != plan_id;
    let mut verdict = match accepted {
        true => accepted_drift(&plan_id, &planned, report),
        false => Verdict {
            differences: compare(&plan_id, &planned, report),
            notes: Vec::new(),
        },
    };
    verdict.differences.extend(itself::contradictions(report));
    if !journals.is_empty() {
        let (differences, notes) = journal::differences(report, journals);
        verdict.differences.extend(differences);
        verdict.notes.extend(notes);
    }
    verdict
}

/// The plan against the report: plan_id, then stops missing, extra, repeated or changed.
fn compare(
    plan_id: &str,
    planned: &BTreeMap<usize, String>,
    report: &ReadReport,
) -> Vec<Difference> {
    let mut differences = Vec::new();
    if report.plan_id != plan_id {
        differences.push(Difference::OtherPlan {
            report: report.plan_id.clone(),
            plan: plan_id.to_owned(),
        });
    }
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for r in &report.results {
        *seen.entry(r.seq).or_default() += 1;
        match planned.get(&r.seq) {
            None => differences.push(Difference::Extra {
                seq: r.seq,
                job: r.job.to_string(),
                approved: false,
            }),
            Some(job) if *job != r.job.to_string() => differences.push(Difference::OtherJob {
                seq: r.seq,
                planned: job.clone(),
                reported: r.job.to_string(),
            }),
            Some(_) => {}
        }
    }
    for (seq, count) in &seen {
        if *count > 1 {
            let (stop, count) = (format!("#{seq}"), *count);
            differences.push(Difference::Repeated { stop, count });
        }
    }
    for (seq, job) in planned {
        if !seen.contains_key(seq) {
            let (seq, job) = (*seq, job.clone());
            differences.push(Difference::Missing { seq, job });
        }
    }
    differences
}

/// The approved plan against the report of an accepted drift of it: every result must be of an
/// approved stop, once; the approved stops left out (they no longer matched) are told, not
/// counted as differences.
fn accepted_drift(
    plan_id: &str,
    planned: &BTreeMap<usize, String>,
    report: &ReadReport,
) -> Verdict {
    let mut verdict = Verdict::default();
    verdict.notes.push(format!(
        "note: an accepted drift: the report ran {}, the approved plan {plan_id} less the jobs that no longer matched",
        report.plan_id
    ));
    let approved: HashMap<&str, usize> = planned.iter().map(|(s, j)| (j.as_str(), *s)).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in &report.results {
        let job = r.job.to_string();
        if !approved.contains_key(job.as_str()) {
            verdict.differences.push(Difference::Extra {
                seq: r.seq,
                job: job.clone(),
                approved: true,
            });
        }
        *seen.entry(job).or_default() += 1;
    }
    for (job, count) in &seen {
        if *count > 1 {
            let (stop, count) = (format!("job {job}"), *count);
            verdict
                .differences
                .push(Difference::Repeated { stop, count });
        }
    }
    for (seq, job) in planned {
        if !seen.contains_key(job) {
            verdict.notes.push(format!(
                "note: approved stop #{seq} (job {job}) was left out: it no longer matched"
            ));
        }
    }
    verdict
}
