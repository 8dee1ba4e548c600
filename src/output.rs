//! Writing artifacts (plans, schema, later reports and journals) so that a crash never leaves a
//! half-written file: output goes to a temporary file beside the target, which is renamed over
//! it only once complete.

use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes through `write` into `path`, atomically.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file = tempfile::Builder::new()
        .prefix(".stopbook-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes through `write` to standard output, buffered.
pub fn write_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    write(&mut out)?;
    out.flush()
}
