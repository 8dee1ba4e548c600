//! The runbook format v1: reading, validating and resolving a YAML runbook.
//!
//! ```text
//! file ──yaml──▶ Node tree ──decode──▶ raw::RawRunbook ──resolve──▶ model::Runbook
//!        (spans, budget)    (typed, every problem)   (defaults, cross-checks, stops files)
//! ```
//!
//! Every stage adds to one list of diagnostics; [`load`] returns either a runbook that is valid
//! in every respect or all of its problems.

pub(crate) mod decode;
pub mod force_cap;
pub(crate) mod glob;
pub(crate) mod model;
pub(crate) mod raw;
pub(crate) mod resolve;
pub(crate) mod schema;
pub(crate) mod select;
mod slips;
pub(crate) mod stops_file;
pub(crate) mod target;
pub(crate) mod values;
pub(crate) mod yaml;

use std::path::Path;
use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics, SourceFile};
use crate::input::{self, InputError};

pub use model::Runbook;

/// Reads and validates the runbook at `path` (shown in messages as given).
pub fn load(path: &Path) -> Result<Runbook, Diagnostics> {
    load_with_source(path).map(|(runbook, _)| runbook)
}

/// Reads and validates a runbook file, and gives back the bytes it was parsed from: what a
/// run's journal and reports bind by their sha256, whatever happens to the file after.
pub fn load_with_source(path: &Path) -> Result<(Runbook, Vec<u8>), Diagnostics> {
    let shown = path.display().to_string();
    let text = read_limited(path, &shown)?;
    let source = text.clone().into_bytes();
    let base_dir = path.parent().unwrap_or(Path::new(""));
    load_str(&shown, text, base_dir).map(|runbook| (runbook, source))
}

/// Validates runbook text as if read from a file named `name` in `base_dir`.
pub fn load_str(name: &str, text: String, base_dir: &Path) -> Result<Runbook, Diagnostics> {
    let file = Arc::new(SourceFile::new(name, text));
    let node = yaml::parse(&file)?;
    let mut cx = decode::Cx::new(Arc::clone(&file));
    let raw = <raw::RawRunbook as decode::Decode>::decode(&node, &mut cx);
    drop(node);
    let runbook = raw.and_then(|raw| resolve::resolve(raw, base_dir, &mut cx));
    match runbook {
        Some(runbook) => cx.diagnostics.into_result(runbook),
        None if cx.diagnostics.is_empty() => {
            Err(Diagnostic::without_place(format!("{name}: invalid runbook")).into())
        }
        None => Err(cx.diagnostics.into_result(()).unwrap_err()),
    }
}

/// Reads a YAML input file of at most the runbook size limit, as UTF-8.
pub(crate) fn read_limited(path: &Path, shown: &str) -> Result<String, Diagnostic> {
    input::read_text(path, input::RUNBOOK).map_err(|e| {
        let too_large = matches!(e, InputError::TooLarge { .. });
        let d = Diagnostic::without_place(format!("cannot read `{shown}`: {e}"));
        match too_large {
            true => d.hint("put long job lists in a `stops_file`"),
            false => d,
        }
    })
}
