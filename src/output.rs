//! Writing artifacts (plans, schema, later reports and journals) so that a crash never leaves a
//! half-written file: output goes to a temporary file beside the target, which is renamed over
//! it only once complete.

use std::io::{self, BufWriter, Write};
use std::path::Path;

/// A file being written by [`write_atomic`].
pub type AtomicFile = BufWriter<tempfile::NamedTempFile>;

/// `text` with every control character (an escape sequence, a carriage return) written as
/// `\u{1b}`: text from a server (a task name) shown on a terminal cannot move the cursor or
/// erase a line.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().any(char::is_control) {
        false => std::borrow::Cow::Borrowed(text),
        true => std::borrow::Cow::Owned(
            text.chars()
                .flat_map(|c| match c.is_control() {
                    true => c.escape_unicode().collect::<Vec<_>>(),
                    false => vec![c],
                })
                .collect(),
        ),
    }
}

/// Writes through `write` into `path`, atomically.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut AtomicFile) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".stopbook-").suffix(".tmp");
    // An artifact is an ordinary file (mode 0666 less the umask), not a private temporary one.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let file = builder.tempfile_in(dir)?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes through `write` to standard output, buffered.
pub fn write_stdout(
    write: impl FnOnce(&mut BufWriter<io::StdoutLock<'static>>) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    write(&mut out)?;
    out.flush()
}
