//! A source file held in memory with a line index, so diagnostics can show any line cheaply.

/// A position in a file: 1-based line and column (in characters), and a width in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub width: u32,
}

impl Span {
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
#[derive(Debug)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

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
