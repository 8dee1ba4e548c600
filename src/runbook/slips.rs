//! The usual YAML slips, in words: the parser says "did not find expected '-' indicator" or
//! "found a tab"; a person wants to hear that a key is one space off, sits under the `- ` of a
//! list item, or that the file indents with a tab. Only the shape of the lines is looked at
//! (indentation, a leading `- `, the key before `:`), never a value, so nothing secret is quoted.

use crate::diag::{SourceFile, Span};

/// A better message, a hint, and where to point, for a syntax error the parser reported at
/// `span` with its own words `raw`; `None` when it is not a slip recognised here.
pub fn explain(file: &SourceFile, span: Span, raw: &str) -> Option<(String, String, Span)> {
    if let Some(found) = tab(file, span, raw) {
        return Some(found);
    }
    let indentation = raw.contains("expected '-' indicator")
        || raw.contains("did not find expected key")
        || raw.contains("mapping values are not allowed");
    if !indentation || span.line < 2 {
        return None;
    }
    let line = file.line(span.line);
    let indent = indent_of(line);
    let trimmed = line[indent..].trim_end();
    let here = Span::new(span.line, indent as u32 + 1, 1);
    let above = (1..span.line).rev().map(|n| file.line(n)).find(|l| {
        let t = l.trim_start();
        !t.is_empty() && !t.starts_with('#')
    })?;
    let (above_indent, above_key) = (indent_of(above), key_column(above));
    let name = key_name(trimmed).map_or_else(|| "this line".to_owned(), |k| format!("`{k}`"));
    let parser = format!("(the parser: {})", raw.trim());
    if trimmed.starts_with("- ") && raw.contains("expected key") {
        return Some((
            format!("invalid YAML: a list item where a key of the map above belongs {parser}"),
            "remove the `- ` to make it a key of that map, or put the list under a key of its own (`stops:` then `- job: …`)".to_owned(),
            here,
        ));
    }
    let message =
        format!("invalid YAML: the indentation of {name} does not fit the lines above {parser}");
    let hint = if indent == above_indent
        && indent < above_key
        && above.trim_start().starts_with('-')
    {
        format!(
            "{name} is at column {}, under the `- ` of the list item above; to make it a key of that item, indent it to column {}, under `{}`",
            indent + 1,
            above_key + 1,
            key_name(above[above_key..].trim_end()).unwrap_or("its first key"),
        )
    } else if indent != above_key && indent > above_indent {
        format!(
            "{name} is at column {}, but the keys of the map above start at column {}: the keys of one map line up exactly, with spaces",
            indent + 1,
            above_key + 1
        )
    } else {
        "the keys of one map line up exactly, with spaces; a list item starts with `- `".to_owned()
    };
    Some((message, hint, here))
}

/// A tab in the indentation, or right after a key, near the error (YAML indents with spaces).
fn tab(file: &SourceFile, span: Span, raw: &str) -> Option<(String, String, Span)> {
    let near = span.line.saturating_sub(1).max(1)..=span.line + 1;
    let found = near.clone().find_map(|n| {
        let line = file.line(n);
        let code = line.split(" #").next().unwrap_or(line);
        code.find('\t')
            .map(|at| (n, line[..at].chars().count() as u32 + 1))
    });
    let (line, column) = match found {
        Some(found) => found,
        None if raw.contains("tab") => (span.line, span.column),
        None => return None,
    };
    Some((
        "invalid YAML: a tab character; YAML indents with spaces only".to_owned(),
        "replace the tab with spaces (most editors have a setting to insert spaces for tabs)"
            .to_owned(),
        Span::new(line, column, 1),
    ))
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The column (from 0) where the first key of `line` starts: after its `- ` markers.
fn key_column(line: &str) -> usize {
    let mut column = indent_of(line);
    while line[column..].starts_with('-') && line[column + 1..].starts_with(' ') {
        column += 1;
        column += indent_of(&line[column..]);
    }
    column
}

/// The key a line starts with, when it looks like one (letters, digits, `_`, `-`).
fn key_name(text: &str) -> Option<&str> {
    let text = text.strip_prefix("- ").unwrap_or(text).trim_start();
    let key = text.split(':').next()?;
    let plausible = !key.is_empty()
        && key.len() < 40
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (plausible && text.len() > key.len()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explained(text: &str, line: u32, raw: &str) -> (String, String, Span) {
        let file = SourceFile::new("rb.yaml", text);
        explain(&file, Span::new(line, 1, 1), raw).expect("a slip")
    }

    #[test]
    fn a_key_one_space_off_names_the_column_it_belongs_in() {
        let (_, hint, at) = explained(
            "stops:\n  - job: x\n   label: y\n",
            3,
            "did not find expected '-' indicator",
        );
        assert_eq!(at, Span::new(3, 4, 1));
        assert!(
            hint.contains("`label` is at column 4") && hint.contains("start at column 5"),
            "{hint}"
        );
    }

    #[test]
    fn a_key_under_the_dash_is_told_to_move_under_the_first_key() {
        let (_, hint, _) = explained(
            "phases:\n  - name: one\n  stops:\n",
            3,
            "did not find expected '-' indicator",
        );
        assert!(
            hint.contains("indent it to column 5, under `name`"),
            "{hint}"
        );
    }

    #[test]
    fn a_tab_is_found_on_its_own_line() {
        let (message, _, at) = explained("a:\n  b: 1\n\tc: 2\n", 2, "found a tab");
        assert!(message.contains("tab"));
        assert_eq!((at.line, at.column), (3, 1));
    }
}
