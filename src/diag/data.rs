//! Diagnostics as data, for `validate --format json|github`: the same facts as the rendered
//! form (file, line, column, message, label, hint, a related place), masked the same way, with
//! no source line (an editor has the file; a CI page shows the line itself).

use serde::Serialize;

use super::mask::mask_text;
use super::{Diagnostic, Place};

/// One diagnostic, ready to serialize. Texts are masked as in the rendered form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// The file the problem is in; `None` when it has no position (an unreadable file).
    pub file: Option<String>,
    /// The line, from 1.
    pub line: Option<u32>,
    /// The column, from 1, in characters.
    pub column: Option<u32>,
    /// The column just after the marked text.
    pub end_column: Option<u32>,
    /// What is wrong, in one line.
    pub message: String,
    /// The short text shown under the caret.
    pub label: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
    /// Another place worth seeing.
    pub related: Option<Related>,
}

/// A second place a diagnostic points at (the first listing of a duplicate job, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    /// The file.
    pub file: String,
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
    /// Why it is worth seeing.
    pub note: String,
}

impl Diagnostic {
    /// This diagnostic as data, masked as its rendering is.
    pub fn record(&self) -> Record {
        let known = self
            .place
            .as_ref()
            .map(|p| p.file.hidden())
            .unwrap_or_default();
        let text = |s: &str| mask_text(s, &known);
        let place = self.place.as_ref();
        Record {
            file: place.map(|p| p.file.name().to_owned()),
            line: place.map(|p| p.span.line),
            column: place.map(|p| p.span.column),
            end_column: place.map(|p| p.span.column + p.span.width.max(1)),
            message: text(&self.message),
            label: self.label.as_deref().map(text),
            hint: self.hint.as_deref().map(text),
            related: self
                .related
                .as_deref()
                .map(|(p, note): &(Place, String)| Related {
                    file: p.file.name().to_owned(),
                    line: p.span.line,
                    column: p.span.column,
                    note: mask_text(note, &p.file.hidden()),
                }),
        }
    }
}

impl Record {
    /// A GitHub Actions workflow command (`::error file=…,line=…::message`) that a CI page shows
    /// on the offending line; `fallback` names the file when the problem has no position.
    pub fn github_annotation(&self, fallback: &str) -> String {
        let mut properties = vec![format!(
            "file={}",
            escape_property(self.file.as_deref().unwrap_or(fallback))
        )];
        if let (Some(line), Some(column)) = (self.line, self.column) {
            properties.push(format!("line={line}"));
            properties.push(format!("col={column}"));
        }
        if let Some(end) = self.end_column {
            properties.push(format!("endColumn={end}"));
        }
        properties.push("title=stopbook validate".to_owned());
        let mut message = self.message.clone();
        for extra in [&self.label, &self.hint].into_iter().flatten() {
            message.push('\n');
            message.push_str(extra);
        }
        if let Some(r) = &self.related {
            let note = &r.note;
            message.push_str(&format!("\n{}:{}:{}: {note}", r.file, r.line, r.column));
        }
        format!(
            "::error {}::{}",
            properties.join(","),
            escape_data(&message)
        )
    }
}

/// The escaping GitHub's runner undoes in a command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The escaping GitHub's runner undoes in a command's properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{Diagnostic, Place, SourceFile, Span};

    #[test]
    fn annotations_escape_what_the_runner_would_read_as_syntax() {
        let file = Arc::new(SourceFile::new("a,b:c.yaml", "x: 1\n"));
        let d = Diagnostic::at(Place::new(&file, Span::new(1, 1, 1)), "100% bad")
            .hint("line one\nline two");
        assert_eq!(
            d.record().github_annotation("unused"),
            "::error file=a%2Cb%3Ac.yaml,line=1,col=1,endColumn=2,title=stopbook validate::100%25 bad%0Aline one%0Aline two"
        );
    }
}
