//! Reads a `stops_file`: one job ID a line, blank lines and `#` comments ignored.
//!
//! Problems are reported at the file's own line and column, and the file is read with a size
//! limit, so a mistaken path to a huge file fails fast instead of exhausting memory.

use std::path::Path;
use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics, Place, SourceFile, Span};

use crate::drs::JobId;
use crate::input;

/// Why a stops file could not be read at all (reported at the `stops_file` key).
pub type ReadError = String;

/// Reads the file at `path`, shown in messages as `shown`.
pub fn read(path: &Path, shown: &str) -> Result<Arc<SourceFile>, ReadError> {
    let text = input::read_text(path, input::STOPS_FILE)
        .map_err(|e| format!("cannot read stops_file `{shown}`: {e}"))?;
    Ok(Arc::new(SourceFile::new(shown, text)))
}

/// The job IDs of `file` with their positions, and a diagnostic for each bad line.
pub fn parse(file: &Arc<SourceFile>, diagnostics: &mut Diagnostics) -> Vec<(JobId, Span)> {
    let mut jobs = Vec::new();
    for (index, line) in file.text().lines().enumerate() {
        let content = match line.find('#') {
            Some(hash) => &line[..hash],
            None => line,
        };
        let id = content.trim();
        if id.is_empty() {
            continue;
        }
        let leading = content.len() - content.trim_start().len();
        let column = line[..leading].chars().count() as u32 + 1;
        let span = Span::new(index as u32 + 1, column, id.chars().count() as u32);
        if id.contains(char::is_whitespace) {
            diagnostics.push(
                Diagnostic::at(Place::new(file, span), "expected one job ID a line")
                    .hint("a stops file holds one job ID per line; `#` starts a comment"),
            );
            continue;
        }
        match id.parse::<JobId>() {
            Ok(job) => jobs.push((job, span)),
            Err(e) => diagnostics.push(Diagnostic::at(Place::new(file, span), e.to_string())),
        }
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_comments_and_blank_lines() {
        let file = Arc::new(SourceFile::new(
            "jobs.txt",
            "# bulk\nc7debc9c-8e09-4a5d-8dd6-cc44f78jb20r\n\n  0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1jb11x  # orders\n",
        ));
        let mut d = Diagnostics::new();
        let jobs = parse(&file, &mut d);
        assert!(d.is_empty());
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[1].1, Span::new(4, 3, 36));
    }

    #[test]
    fn bad_lines_are_reported_at_their_own_line_and_column() {
        let file = Arc::new(SourceFile::new(
            "jobs.txt",
            "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r\n   not-a-job\na b\n",
        ));
        let mut d = Diagnostics::new();
        let jobs = parse(&file, &mut d);
        assert_eq!(jobs.len(), 1);
        let places: Vec<String> = d
            .iter()
            .map(|d| d.place.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(places, ["jobs.txt:2:4", "jobs.txt:3:1"]);
    }
}
