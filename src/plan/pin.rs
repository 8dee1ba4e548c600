//! The jobs a run's selects found, pinned beside its journal: a resumed run stops those jobs,
//! not the ones that match now (the jobs it stopped no longer match).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Plan;
use super::document::{self, PlanFileError};
use crate::runbook::Runbook;
use crate::runbook::model::Stop;

/// Why the pinned jobs cannot be written or read; nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// The file beside the journal cannot be written.
    #[error(
        "cannot write `{}` (the jobs the selects found, for a resume): {source}; nothing was sent",
        file.display()
    )]
    Write {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file beside the journal cannot be read as a plan.
    #[error("{0} (the jobs the selects found); nothing was sent")]
    Read(#[from] PlanFileError),
}

/// Where a run of a runbook with selects keeps the plan it resolved, beside its journal.
pub fn selection_file(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".plan.json");
    PathBuf::from(name)
}

/// Writes `plan` beside the journal, so a resumed run stops the jobs this run found.
pub fn pin_selection(journal: &Path, plan: &Plan) -> Result<(), PinError> {
    let file = selection_file(journal);
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    crate::output::write_atomic(&file, |out| plan.write_json(out))
        .map_err(|source| PinError::Write { file, source })
}

/// The runbook with the jobs its first run's selects found (from `file`), planned.
pub fn pinned_plan(mut runbook: Runbook, file: &Path) -> Result<Plan, PinError> {
    let pinned = document::read_json(file)?;
    for phase in &mut runbook.phases {
        let Some(stored) = pinned.phases.iter().find(|p| p.name == phase.name) else {
            continue;
        };
        for stop in &stored.stops {
            let Some(name) = &stop.name else {
                continue;
            };
            phase.stops.push(Stop {
                job: stop.job,
                label: None,
                name: Some(name.clone()),
                settings: Arc::clone(&phase.settings),
            });
        }
    }
    Ok(Plan::new(runbook))
}
