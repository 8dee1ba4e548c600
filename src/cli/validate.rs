//! `stopbook validate`: checks each runbook and reports every problem of every file, so an
//! editor or a CI job catches mistakes before a plan is made or a stop is sent.
//!
//! Three forms of one report: `human` (the rendered diagnostics on stderr, an `ok:` line per
//! valid file on stdout), `json` (one document on stdout, for editors and tools) and `github`
//! (workflow commands on stdout, which a CI page shows on the offending line, and the human
//! form on stderr for the log).

use super::Exit;
use super::args::{ValidateArgs, ValidateFormat, Verbosity};
use crate::diag::Record;
use crate::runbook;

/// One file's verdict, in the JSON form.
#[derive(serde::Serialize)]
struct FileVerdict {
    file: String,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    phases: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stops: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forced: Option<usize>,
    problems: usize,
}

pub fn run(args: &ValidateArgs, verbosity: Verbosity) -> Exit {
    let mut exit = Exit::Success;
    let mut files = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    for path in &args.runbooks {
        let shown = path.display().to_string();
        match runbook::load(path).map(|rb| (fleet_problem(&rb, &shown), rb)) {
            Ok((Some(record), _)) => {
                exit = Exit::Invalid;
                files.push(tell_fleet_problem(args.format, shown, &record));
                records.push(record);
            }
            Ok((None, rb)) => {
                let forced = rb.stops().filter(|(_, s)| s.settings.force).count();
                let (phases, stops) = (rb.phases.len(), rb.stop_count());
                if args.format != ValidateFormat::Json && verbosity != Verbosity::Quiet {
                    let selects = rb.phases.iter().filter(|p| p.select.is_some()).count();
                    let selects = match selects {
                        0 => String::new(),
                        n => format!(", and {} (resolved by plan and run)", counted(n, "select")),
                    };
                    out!(
                        "ok: {shown}: {}, {} ({forced} forced){selects}",
                        counted(phases, "phase"),
                        counted(stops, "stop"),
                    );
                    if verbosity == Verbosity::Verbose && selects.is_empty() {
                        out!("  plan_id: {}", crate::plan::Plan::new(rb).plan_id);
                    } else if verbosity == Verbosity::Verbose {
                        out!("  plan_id: known once the selects are resolved (`stopbook plan`)");
                    }
                }
                files.push(FileVerdict {
                    file: shown,
                    valid: true,
                    phases: Some(phases),
                    stops: Some(stops),
                    forced: Some(forced),
                    problems: 0,
                });
            }
            Err(diagnostics) => {
                exit = Exit::Invalid;
                if args.format != ValidateFormat::Json {
                    say!("{diagnostics}");
                }
                for d in diagnostics.iter() {
                    let mut record = d.record();
                    if args.format == ValidateFormat::Github {
                        out!("{}", record.github_annotation(&shown));
                    }
                    record.file.get_or_insert_with(|| shown.clone());
                    records.push(record);
                }
                files.push(FileVerdict {
                    file: shown,
                    valid: false,
                    phases: None,
                    stops: None,
                    forced: None,
                    problems: diagnostics.len(),
                });
            }
        }
    }
    if args.format == ValidateFormat::Json {
        let document = serde_json::json!({
            "valid": exit == Exit::Success,
            "files": files,
            "diagnostics": records,
        });
        out!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    }
    exit
}

/// Tells a fleet file's problem in `format`; the file's verdict.
fn tell_fleet_problem(format: ValidateFormat, shown: String, record: &Record) -> FileVerdict {
    if format != ValidateFormat::Json {
        say!(
            "{shown}:{}:{}: error: {}",
            record.line.unwrap_or(1),
            record.column.unwrap_or(1),
            record.message
        );
    }
    if format == ValidateFormat::Github {
        out!("{}", record.github_annotation(&shown));
    }
    FileVerdict {
        file: shown,
        valid: false,
        phases: None,
        stops: None,
        forced: None,
        problems: 1,
    }
}

/// The fleet file of `target: { mock: { jobs: FILE } }` read as the mock would read it: its
/// problem, placed where the runbook names the file.
fn fleet_problem(rb: &runbook::Runbook, shown: &str) -> Option<Record> {
    let runbook::model::Target::MockFleet(fleet) = &rb.target else {
        return None;
    };
    let why = crate::mock::jobs::load(&fleet.path).err()?;
    Some(Record {
        file: Some(shown.to_owned()),
        line: Some(fleet.at.line),
        column: Some(fleet.at.column),
        end_column: Some(fleet.at.column + fleet.at.width.max(1)),
        message: format!("the fleet file `{}`: {why}", fleet.written),
        label: None,
        hint: Some("the mock reads this file to serve the selects; fix it there".to_owned()),
        related: None,
    })
}

/// `1 stop`, `2 stops`.
pub fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
