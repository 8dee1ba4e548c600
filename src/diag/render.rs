//! Renders one diagnostic in the compiler style users already read every day:
//!
//! ```text
//! runbook.yaml:4:3: unknown key `concurency` in `limits`
//!   |
//! 4 |   concurency: 8
//!   |   ^^^^^^^^^^ did you mean `concurrency`?
//!   = expected one of: concurrency, rate, max_failures
//! ```

use std::fmt::{self, Write};

use super::mask::{mask, mask_text};
use super::{Diagnostic, Place};

/// Lines longer than this are shown as a window around the caret.
const MAX_SHOWN: usize = 100;

pub(super) fn render(d: &Diagnostic, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let known = d
        .place
        .as_ref()
        .map(|p| p.file.hidden())
        .unwrap_or_default();
    let message = mask_text(&d.message, &known);
    let gutter = match &d.place {
        None => {
            writeln!(f, "error: {message}")?;
            1
        }
        Some(place) => {
            writeln!(f, "{place}: {message}")?;
            let label = d.label.as_deref().map(|l| mask_text(l, &known));
            snippet(f, place, label.as_deref(), d.redact)?;
            place.span.line.to_string().len()
        }
    };
    if let Some(hint) = &d.hint {
        writeln!(f, "{} = {}", " ".repeat(gutter), mask_text(hint, &known))?;
    }
    if let Some((place, note)) = d.related.as_deref() {
        let note = mask_text(note, &place.file.hidden());
        writeln!(f, "{place}: note: {note}")?;
        snippet(f, place, None, false)?;
    }
    Ok(())
}

fn snippet(
    f: &mut fmt::Formatter<'_>,
    place: &Place,
    label: Option<&str>,
    redact: bool,
) -> fmt::Result {
    let span = place.span;
    let line: Vec<char> = place.file.line(span.line).chars().collect();
    let start = (span.column.max(1) as usize - 1).min(line.len());
    let width = (span.width.max(1) as usize).min(line.len().saturating_sub(start).max(1));

    // Every shown line is masked, whichever problem it is shown for; `redact` also masks the
    // value under the caret, which the diagnostic itself found to be a secret.
    let text: String = line.iter().collect();
    let redacted = redact.then_some((start, start + width));
    let (shown, caret_start, caret_width) =
        mask(&text, &place.file.hidden(), redacted, (start, width));
    // Tabs would make the caret drift: show them as single spaces.
    let shown: Vec<char> = shown.replace('\t', " ").chars().collect();
    let (shown, caret_start) = crop(&shown, caret_start, caret_width);

    let number = span.line.to_string();
    let gutter = " ".repeat(number.len());
    writeln!(f, "{gutter} |")?;
    writeln!(f, "{number} | {shown}")?;
    let mut marker = String::new();
    marker.extend(std::iter::repeat_n(' ', caret_start));
    marker.extend(std::iter::repeat_n('^', caret_width));
    if let Some(label) = label {
        write!(marker, " {label}")?;
    }
    writeln!(f, "{gutter} | {}", marker.trim_end())
}

/// A window of a long line around the caret, with `…` where text was cut.
fn crop(line: &[char], caret: usize, width: usize) -> (String, usize) {
    if line.len() <= MAX_SHOWN {
        return (line.iter().collect(), caret);
    }
    let start = caret
        .saturating_sub(MAX_SHOWN / 2)
        .min(line.len().saturating_sub(MAX_SHOWN));
    let end = (start + MAX_SHOWN).max(caret + width).min(line.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&line[start..end]);
    if end < line.len() {
        out.push('…');
    }
    (out, caret - start + usize::from(start > 0))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{Diagnostic, Place, SourceFile, Span};

    fn place(text: &str, span: Span) -> Place {
        Place::new(&Arc::new(SourceFile::new("rb.yaml", text)), span)
    }

    #[test]
    fn shows_position_line_caret_label_and_hint() {
        let d = Diagnostic::at(
            place("a: 1\nlimits:\n  concurency: 8\n", Span::new(3, 3, 10)),
            "unknown key",
        )
        .label("did you mean `concurrency`?")
        .hint("expected one of: concurrency, rate");
        assert_eq!(
            d.to_string(),
            "rb.yaml:3:3: unknown key\n  |\n3 |   concurency: 8\n  |   ^^^^^^^^^^ did you mean `concurrency`?\n  = expected one of: concurrency, rate\n"
        );
    }

    #[test]
    fn redaction_masks_the_value_and_keeps_the_rest() {
        let d = Diagnostic::at(
            place("  token: s3cr3t-value # x\n", Span::new(1, 10, 12)),
            "literal secret",
        )
        .redacted();
        let out = d.to_string();
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(out.contains("  token: ******** # x"), "{out}");
    }

    #[test]
    fn long_lines_are_cropped_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(300), "b".repeat(300));
        let d = Diagnostic::at(place(&line, Span::new(1, 301, 1)), "m");
        let out = d.to_string();
        let shown = out.lines().nth(2).unwrap();
        let caret = out.lines().nth(3).unwrap();
        assert!(shown.chars().count() < 120, "{shown}");
        let x = shown.chars().position(|c| c == 'X').unwrap();
        assert_eq!(caret.chars().position(|c| c == '^').unwrap(), x, "{out}");
    }

    #[test]
    fn caret_is_clamped_to_the_line() {
        let d = Diagnostic::at(place("ab\n", Span::new(1, 9, 40)), "m");
        assert!(d.to_string().ends_with("1 | ab\n  |   ^\n"), "{d}");
    }
}
