//! Writing artifacts (plans, schema, later reports and journals) so that a crash never leaves a
//! half-written file: output goes to a temporary file beside the target, which is renamed over
//! it only once complete.

use std::io::{self, BufWriter, Write};
use std::path::Path;

/// A file being written by [`write_atomic`].
pub type AtomicFile = BufWriter<tempfile::NamedTempFile>;

/// Whether `c` is shown escaped wherever text from a server is shown: a control character (an
/// escape sequence, a carriage return) could move the cursor or erase a line, and a
/// bidirectional-text control (U+202A-U+202E, U+2066-U+2069, the marks U+200E, U+200F and
/// U+061C) could make a name read as something else (`pay\u{202e}gnp.exe` shows as
/// `payexe.png`).
pub fn is_unsafe_to_show(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
}

/// `text` with every character [`is_unsafe_to_show`] written as `\u{1b}`: text from a server
/// (a task name) shown on a terminal cannot move the cursor, erase a line or reorder itself.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().any(is_unsafe_to_show) {
        false => std::borrow::Cow::Borrowed(text),
        true => std::borrow::Cow::Owned(
            text.chars()
                .flat_map(|c| match is_unsafe_to_show(c) {
                    true => c.escape_unicode().collect::<Vec<_>>(),
                    false => vec![c],
                })
                .collect(),
        ),
    }
}

/// `text` of several lines with each line [`printable`]: the line breaks stay.
pub fn printable_lines(text: &str) -> String {
    text.split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
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
