//! Text made safe for a Markdown table cell or heading, for every Markdown stopbook writes
//! (plans and reports): one set of characters, escaped one way.

/// `text` with Markdown's special characters escaped and line breaks turned into spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '|' | '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' | '#' => {
                out.push('\\');
                out.push(c);
            }
            // Other control characters (an escape sequence in a task name) and bidirectional-text
            // controls are shown as `\u{1b}`, never passed to whatever renders or prints the
            // Markdown.
            c if crate::output::is_unsafe_to_show(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn special_characters_are_escaped_and_lines_joined() {
        assert_eq!(
            super::escape("a|b_c\n`d` *e* <f> [g] #h \\"),
            "a\\|b\\_c \\`d\\` \\*e\\* \\<f\\> \\[g\\] \\#h \\\\"
        );
    }

    #[test]
    fn control_and_bidi_characters_are_shown_escaped() {
        assert_eq!(
            super::escape("pay\u{202e}gnp.exe\u{1b}[2K\u{2066}x\u{61c}"),
            "pay\\u{202e}gnp.exe\\u{1b}\\[2K\\u{2066}x\\u{61c}"
        );
    }
}
