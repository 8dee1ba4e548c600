//! Where `run` writes its reports, checked before anything is sent: each folder takes a file
//! (a typo in a path is found now, not after the whole run), and no report would overwrite the
//! run's own inputs (the runbook, the journal and the files beside it, the approved plan, a
//! CA certificate) or another report of the same run.

use super::Refusal;
use std::path::{Path, PathBuf};

use super::args::RunArgs;
use crate::exec::journal::lock_file;
use crate::plan::pin::selection_file;

/// The reports `args` asks for, each with the flag that names it.
fn reports(args: &RunArgs) -> Vec<(&'static str, &Path)> {
    [
        ("--report-json", &args.files.report_json),
        ("--report-junit", &args.files.report_junit),
        ("--report-md", &args.files.report_md),
        ("--report-html", &args.files.report_html),
        ("--attest", &args.files.attest),
    ]
    .into_iter()
    .filter_map(|(flag, path)| path.as_deref().map(|p| (flag, p)))
    .collect()
}

/// The files the run reads or keeps, which no report may replace.
fn inputs<'a>(args: &'a RunArgs, journal: Option<&'a Path>) -> Vec<(String, PathBuf)> {
    let mut inputs = vec![("the runbook".to_owned(), args.runbook.clone())];
    if let Some(journal) = journal {
        inputs.push(("the journal".to_owned(), journal.to_owned()));
        inputs.push(("the journal's lock".to_owned(), lock_file(journal)));
        inputs.push((
            "the journal's pinned jobs".to_owned(),
            selection_file(journal),
        ));
    }
    if let Some(plan) = &args.plan {
        inputs.push(("the approved plan (--plan)".to_owned(), plan.clone()));
    }
    if let Some(ca) = &args.ca_cert {
        inputs.push(("the CA certificate (--ca-cert)".to_owned(), ca.clone()));
    }
    inputs
}

/// Refuses report paths that cannot be written or that name a file of the run's own.
pub fn check(args: &RunArgs, journal: Option<&Path>) -> Result<(), Refusal> {
    let reports = reports(args);
    let refuse = |flag: &str, path: &Path, what: &str| {
        Err(Refusal::from(format!(
            "error: {flag} `{}` is {what}: the report would overwrite it; nothing was sent",
            path.display()
        )))
    };
    for (n, (flag, path)) in reports.iter().enumerate() {
        let here = identity(path);
        for (what, input) in inputs(args, journal) {
            if identity(&input) == here {
                return refuse(flag, path, &what);
            }
        }
        if let Some((other, _)) = reports[..n].iter().find(|(_, p)| identity(p) == here) {
            return refuse(flag, path, &format!("the file {other} names too"));
        }
        writable(path)?;
    }
    events_path(args, journal, &reports)
}

/// The event stream (appended to: it may be a pipe) writes into none of the run's own files.
fn events_path(
    args: &RunArgs,
    journal: Option<&Path>,
    reports: &[(&'static str, &Path)],
) -> Result<(), Refusal> {
    let Some(events) = args.events.as_deref().filter(|p| *p != Path::new("-")) else {
        return Ok(());
    };
    let here = identity(events);
    let clash = (inputs(args, journal).into_iter())
        .find(|(_, input)| identity(input) == here)
        .map(|(what, _)| what)
        .or_else(|| {
            (reports.iter())
                .find(|(_, p)| identity(p) == here)
                .map(|(flag, _)| format!("the file {flag} names"))
        });
    match clash {
        Some(what) => Err(Refusal::from(format!(
            "error: --events `{}` is {what}: the event stream would write into it; nothing was sent",
            events.display()
        ))),
        None => Ok(()),
    }
}

/// The report's folder takes a file, and the path is no link, device or pipe: a report is
/// written beside it and renamed over it, which would replace any of those.
fn writable(path: &Path) -> Result<(), Refusal> {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(Refusal::from(format!(
            "error: the report `{}` is not a regular file (a link, a device, a pipe or a folder): a report replaces the file at its path; give the path of a regular file; nothing was sent",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::NamedTempFile::new_in(dir).map(drop).map_err(|e| {
        Refusal::from(format!(
            "error: cannot write the report `{}`: {e}; nothing was sent",
            path.display()
        ))
    })
}

/// One name for every way of writing a path: its folder resolved (symbolic links, `..`), and
/// the file itself resolved when it is a link to another.
pub(super) fn identity(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map_or_else(|_| absolute.clone(), |d| d.join(name)),
        _ => absolute,
    }
}

#[cfg(test)]
mod tests {
    use super::identity;

    #[test]
    fn one_file_written_three_ways_is_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("r.json");
        let b = dir.path().join("sub/../r.json");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let c = dir.path().join("./r.json");
        assert_eq!(identity(&a), identity(&b));
        assert_eq!(identity(&a), identity(&c));
        std::fs::write(&a, "x").unwrap();
        assert_eq!(identity(&a), identity(&b));
        assert_ne!(identity(&a), identity(&dir.path().join("s.json")));
    }
}
