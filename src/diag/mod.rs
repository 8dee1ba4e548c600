//! Diagnostics a person can act on: `FILE:LINE:COLUMN: message`, the offending source line with a
//! caret under the problem, and an optional hint.
//!
//! Every input stopbook reads (runbooks, stops files, plan files) reports its problems through this
//! one type, so they all look alike and can be collected and shown together. The rendering is our
//! own rather than miette's graphical handler: the contract fixes the first line's shape
//! (`FILE:LINE:COLUMN: message`), and the output must not vary with terminal width or colour
//! support, because it is snapshot-tested and read in CI logs.

mod data;
pub(crate) mod mask;
mod render;
mod source;
mod suggest;

pub use data::{Record, Related};
pub use source::{SourceFile, Span};
pub use suggest::did_you_mean;

use std::fmt;
use std::sync::Arc;

/// A place in a source file.
#[derive(Clone, Debug)]
pub struct Place {
    /// The file, whose name and text the diagnostic shows.
    pub file: Arc<SourceFile>,
    /// Where in it.
    pub span: Span,
}

impl Place {
    /// A place in `file`.
    pub fn new(file: &Arc<SourceFile>, span: Span) -> Self {
        Place {
            file: Arc::clone(file),
            span,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.file.name(),
            self.span.line,
            self.span.column
        )
    }
}

/// One problem found in an input, with where it is and what was expected.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Where the problem is; `None` for problems with no position (an unreadable file).
    pub place: Option<Place>,
    /// What is wrong, in one line.
    pub message: String,
    /// A short text shown under the caret ("did you mean `rate`?").
    pub label: Option<String>,
    /// What to do about it, shown after the snippet.
    pub hint: Option<String>,
    /// Another place worth seeing (the first listing of a duplicate job, say).
    pub related: Option<Box<(Place, String)>>,
    /// The text under the caret is a secret: mask it in the shown source line.
    pub redact: bool,
}

impl Diagnostic {
    /// A problem at `place`.
    pub fn at(place: Place, message: impl Into<String>) -> Self {
        Diagnostic {
            place: Some(place),
            message: message.into(),
            label: None,
            hint: None,
            related: None,
            redact: false,
        }
    }

    /// A problem with no position, such as a file that cannot be read.
    pub fn without_place(message: impl Into<String>) -> Self {
        Diagnostic {
            place: None,
            message: message.into(),
            label: None,
            hint: None,
            related: None,
            redact: false,
        }
    }

    /// Adds a short text shown under the caret.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds what to do about it, shown after the snippet.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds another place worth seeing, with a note saying why.
    pub fn related(mut self, place: Place, note: impl Into<String>) -> Self {
        self.related = Some(Box::new((place, note.into())));
        self
    }

    /// Marks the text under the caret as a secret, masked when the line is shown.
    pub fn redacted(mut self) -> Self {
        self.redact = true;
        self
    }

    fn sort_key(&self) -> (u8, String, u32, u32) {
        match &self.place {
            None => (0, String::new(), 0, 0),
            Some(p) => (1, p.file.name().to_owned(), p.span.line, p.span.column),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render::render(self, f)
    }
}

/// All the problems found in one input, in source order.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// No problems yet.
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }

    /// Adds one problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Adds every problem of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems were reported.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in the order reported; the error of [`Diagnostics::into_result`] has them
    /// sorted by file and position.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// `Ok(value)` when nothing was reported, else every problem sorted by file and position.
    pub fn into_result<T>(mut self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            self.0.sort_by_key(Diagnostic::sort_key);
            Err(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "\n{n} problem{} found; nothing was sent.",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}
