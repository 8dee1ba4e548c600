//! A source file held in memory with a line index, so diagnostics can show any line cheaply,
//! and the secrets found in it, so no shown line ever holds one.

use std::fmt;
use std::sync::Mutex;

use crate::secret::Secret;

/// A position in a file: 1-based line and column (in characters), and a width in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1, in characters.
    pub column: u32,
    /// How many characters the caret marks.
    pub width: u32,
}

impl Span {
    /// A position at `line` and `column`, `width` characters wide.
    pub fn new(line: u32, column: u32, width: u32) -> Self {
        Span {
            line,
            column,
            width,
        }
    }

    /// The start of a file, for problems that belong to the whole document.
    pub fn start() -> Self {
        Span::new(1, 1, 1)
    }
}

/// The text of one input and the name it is shown under (the path as the user gave it).
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
    /// Secrets the decoder recognised in the text: masked wherever a line of it is shown.
    hidden: Mutex<Vec<Secret>>,
}

/// The text may hold secrets: never shown by `{:?}` (a panic message, a test's `unwrap_err`).
impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.name)
            .field("lines", &self.line_starts.len())
            .finish_non_exhaustive()
    }
}

impl SourceFile {
    /// A file named `name` (as the user gave its path) holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            hidden: Mutex::new(Vec::new()),
        }
    }

    /// Records `secret` as a secret of this file: every line of it is masked when shown.
    pub fn hide(&self, secret: &str) {
        if !secret.trim().is_empty() {
            self.hidden_lock().push(Secret::new(secret));
        }
    }

    /// The secrets recorded with [`SourceFile::hide`].
    pub fn hidden(&self) -> Vec<Secret> {
        self.hidden_lock().clone()
    }

    fn hidden_lock(&self) -> std::sync::MutexGuard<'_, Vec<Secret>> {
        self.hidden.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The name the file is shown under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text of 1-based line `line`, without its line break; empty past the end.
    pub fn line(&self, line: u32) -> &str {
        let line = line.max(1);
        let Some(&start) = self.line_starts.get(line as usize - 1) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line as usize)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_by_number() {
        let f = SourceFile::new("x", "a: 1\r\nbb: 2\n\nlast");
        assert_eq!(f.line(1), "a: 1");
        assert_eq!(f.line(2), "bb: 2");
        assert_eq!(f.line(3), "");
        assert_eq!(f.line(4), "last");
        assert_eq!(f.line(5), "");
        assert_eq!(f.line(0), "a: 1");
    }
}
