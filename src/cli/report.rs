//! `stopbook report`: a window's reports rendered from its journal(s) alone, offline; and the
//! writing of a window's report files and attestation, which `run` shares at its end.

use std::path::{Path, PathBuf};

use super::Exit;
use super::args::{ReportArgs, ReportFiles};
use crate::exec::{Report, journal};
use crate::output;
use crate::plan::pin::selection_file;
use crate::report::context::RunContext;
use crate::report::format::Format;
use crate::report::view::View;
use crate::report::window;

/// Runs `stopbook report` and returns its exit code: 0 once the reports are written (the
/// Markdown report on standard output when no file is asked for), whatever the window came to; 2 when a journal cannot be read or the journals are not one window.
pub fn run(args: &ReportArgs) -> Exit {
    if let Err(refusal) = check_paths(args) {
        say!("{refusal}");
        return Exit::Invalid;
    }
    let to_stdout = asked(&args.files).is_empty();
    // Held while the window is rendered: a run still writing a journal is refused, and no run
    // starts on one half read.
    let _locks = match held(&args.journals) {
        Ok(locks) => locks,
        Err(e) => {
            say!("error: {e}; no report was written (render it when that run has ended)");
            return Exit::Invalid;
        }
    };
    let rendered = match window::render(&args.journals) {
        Ok(rendered) => rendered,
        Err(e) => {
            say!("error: {e}; no report was written");
            return Exit::Invalid;
        }
    };
    if to_stdout {
        // Nothing asked for: the Markdown report, for a person at a terminal.
        let view = View::new(&rendered.ctx, &rendered.report);
        return match output::write_stdout(|out| crate::report::markdown::write(out, &view)) {
            Ok(()) => Exit::Success,
            Err(_) => Exit::Failed,
        };
    }
    if !write(&args.files, &rendered.ctx, &rendered.report) {
        return Exit::Failed;
    }
    let s = crate::report::summary(&rendered.report.results);
    say!(
        "{}: {} stops, {} passed, {} failed, {} skipped, over {} process{}",
        rendered.report.outcome.as_str(),
        s.total,
        s.passed,
        s.failed,
        s.skipped,
        rendered
            .report
            .window
            .as_ref()
            .map_or(0, |w| w.processes.len()),
        match rendered.report.window.as_ref().map(|w| w.processes.len()) {
            Some(1) => "",
            _ => "es",
        }
    );
    Exit::Success
}

/// The journals' locks, taken; an error naming the run that holds one. A journal whose lock
/// cannot even be opened (a read-only archive) is rendered unlocked: no run can write it either.
fn held(journals: &[PathBuf]) -> Result<Vec<journal::Lock>, journal::JournalError> {
    let mut locks = Vec::new();
    for path in journals {
        match journal::Lock::take(path) {
            Ok(lock) => locks.push(lock),
            Err(e @ journal::JournalError::InUse { .. }) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(locks)
}

/// No report may replace a journal it is rendered from (or its lock, or the jobs a select
/// pinned beside it), nor another report of the same command.
fn check_paths(args: &ReportArgs) -> Result<(), String> {
    let files = asked(&args.files);
    for (n, (flag, path)) in files.iter().enumerate() {
        for journal in &args.journals {
            let kept = [
                ("the journal", journal.clone()),
                ("the journal's lock", journal::lock_file(journal)),
                ("the journal's pinned jobs", selection_file(journal)),
            ];
            if let Some((what, _)) = kept.iter().find(|(_, kept)| same_file(path, kept)) {
                return Err(format!(
                    "error: {flag} `{}` is {what} of `{}`: the report would overwrite it; no report was written",
                    path.display(),
                    journal.display()
                ));
            }
        }
        if let Some((other, _)) = files[..n].iter().find(|(_, p)| same_file(path, p)) {
            return Err(format!(
                "error: {flag} `{}` is also {other}: one report would overwrite the other; no report was written",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Whether `a` and `b` name one file (the same path, or links to one file).
fn same_file(a: &Path, b: &Path) -> bool {
    super::report_paths::identity(a) == super::report_paths::identity(b)
}

/// Whether `files` asks for any file.
pub fn any_asked(files: &ReportFiles) -> bool {
    !asked(files).is_empty()
}

/// The files `files` asks for, each with its flag.
fn asked(files: &ReportFiles) -> Vec<(&'static str, &PathBuf)> {
    [
        ("--report-json", &files.report_json),
        ("--report-junit", &files.report_junit),
        ("--report-md", &files.report_md),
        ("--report-html", &files.report_html),
        ("--attest", &files.attest),
    ]
    .into_iter()
    .filter_map(|(flag, path)| path.as_ref().map(|p| (flag, p)))
    .collect()
}

/// Writes every report `files` asks for, of `report` run in `ctx`, then the attestation; each
/// failure is said. Returns whether every file was written.
pub fn write(files: &ReportFiles, ctx: &RunContext, report: &Report) -> bool {
    let mut written = Vec::new();
    let mut all = true;
    // Built once, for the first report asked for; every format renders it.
    let view = std::cell::OnceCell::new();
    for format in Format::ALL {
        let Some(path) = report_path(files, format) else {
            continue;
        };
        let view = view.get_or_init(|| View::new(ctx, report));
        match output::write_atomic(path, |out| format.write(out, view)) {
            Ok(()) => written.push(path),
            Err(e) => {
                let (kind, path) = (format.name(), path.display());
                say!("error: cannot write the {kind} report `{path}`: {e}");
                all = false;
            }
        }
    }
    if let Some(path) = &files.attest
        && let Err(e) = attest(path, &written, ctx, report)
    {
        say!(
            "error: cannot write the attestation `{}`: {e}",
            path.display()
        );
        all = false;
    }
    all
}

/// Where `files` asks for the report in `format`, if it does.
fn report_path(files: &ReportFiles, format: Format) -> Option<&PathBuf> {
    match format {
        Format::Json => files.report_json.as_ref(),
        Format::Junit => files.report_junit.as_ref(),
        Format::Markdown => files.report_md.as_ref(),
        Format::Html => files.report_html.as_ref(),
    }
}

/// The run's attestation: the plan (its `plan_id` is the sha256 of its canonical JSON) and every
/// report written, one test per stop (a skipped stop is a warned test).
fn attest(
    path: &std::path::Path,
    written: &[&PathBuf],
    ctx: &RunContext,
    report: &Report,
) -> std::io::Result<()> {
    use crate::exec::Outcome;
    use crate::report::attest::{Tests, sha256_hex, write_statement};
    let plan = (
        "plan".to_owned(),
        ctx.plan_id.trim_start_matches("sha256:").to_owned(),
    );
    let mut subjects = vec![plan];
    for file in written {
        let bytes = crate::input::read_bytes(file, crate::input::REPORT)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        subjects.push((file.display().to_string(), sha256_hex(&bytes)));
    }
    let mut tests = Tests::default();
    for r in &report.results {
        let name = format!("#{} {}", r.seq, r.job);
        match r.outcome {
            Outcome::Passed => tests.passed.push(name),
            Outcome::Failed => tests.failed.push(name),
            Outcome::Skipped => tests.warned.push(name),
        }
    }
    let configuration = serde_json::json!({
        "name": "stopbook run",
        "uri": ctx.target.endpoint,
        "annotations": {
            "stopbook_version": env!("CARGO_PKG_VERSION"),
            "runbook": ctx.runbook,
            "runbook_sha256": ctx.runbook_sha256,
            "plan_id": ctx.plan_id,
        },
    });
    output::write_atomic(path, |out| {
        write_statement(out, &subjects, configuration, &tests)
    })
}
