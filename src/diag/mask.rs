//! What a secret looks like, and the masking of every source line a diagnostic shows.
//!
//! A line can hold a secret whichever problem a diagnostic reports on it: a pasted token beside
//! a misspelt key, a YAML syntax error on the line of a password. So masking is not a property of
//! one diagnostic but of rendering: every shown line passes through [`ranges`], which finds
//! (a) the secrets the decoder recognised in this file (exact texts, so a block scalar's lines
//! and a second mention are caught too) and (b) what the line itself says is a secret, read
//! lexically because a line with a syntax error was never decoded: the value of a key named like
//! a credential (`token:`, `password:`, `sk:`), a credential-looking value of a key that names
//! where a credential is (`*_env`, `token_file`, `domain`), and what a URL carries besides its
//! scheme, host and port: user information, a query's values, a fragment, a path segment that
//! looks like a key. Messages ([`mask_text`]) are masked the same way for URLs, and a quoted
//! value (`` `…` ``) that looks like a key is masked wherever it stands, so a token pasted where
//! a path belongs (`stops_file`, a fleet file) is never echoed by the message about that path.

use crate::secret::Secret;

/// What a masked value is shown as.
pub const MASK: &str = "********";

/// Key names under which people paste credentials.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "token",
        "password",
        "passwd",
        "pwd",
        "secret",
        "sk",
        "ak",
        "security_token",
        "access_key",
        "secret_key",
        "auth_token",
        "api_key",
        "apikey",
        "private_key",
    ]
    .contains(&key.as_str())
        || key.ends_with("_password")
        || key.ends_with("_secret")
        || key.ends_with("_token")
}

/// Whether `key` is a credential key misspelt (`tokne`, `skk`, `pasword`): a value pasted under
/// it is as secret as under the right key.
fn is_misspelt_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["token", "password", "secret", "sk", "ak", "passwd"]
        .iter()
        .any(|k| {
            let distance = strsim::damerau_levenshtein(&key, k);
            distance > 0 && (distance == 1 || (k.len() >= 5 && distance == 2))
        })
}

/// A value that is not shown in a message: one that looks like a key, a token or a password.
/// For messages that quote what was written (`invalid region `…``).
pub fn shown_value(s: &str) -> &str {
    match unnamed_secret(s) {
        true => MASK,
        false => s,
    }
}

/// Whether a value written under a key that names no secret still looks like one: a key or a
/// token, not an ID (hex digits alone, as project IDs are), a URL (see [`userinfo_ranges`]) or
/// a map.
fn unnamed_secret(value: &str) -> bool {
    !value.starts_with(['{', '[', '|', '>', '&', '*', '!'])
        && !value.contains("://")
        && !value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && looks_random(value)
}

/// Whether a string written where a variable name belongs looks like a pasted credential:
/// long, with digits, and without the underscores variable names almost always have
/// (AKs are 20 upper-case letters and digits, SKs 40 mixed-case characters, tokens far longer).
pub fn looks_like_credential(s: &str) -> bool {
    let has_digit = s.bytes().any(|b| b.is_ascii_digit());
    let has_lower = s.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let unusual = s.bytes().any(|b| !(b.is_ascii_alphanumeric() || b == b'_'));
    (s.len() >= 16 && has_digit && !s.contains('_'))
        || (s.len() >= 32 && (unusual || (has_lower && has_upper)))
}

/// Whether a string written where a file path or an account name belongs looks like a key or a
/// token: a long run of mixed letters and digits that no file or account is named with (path
/// segments and names are words joined by `/ . - _`), or something far longer than a name.
pub fn looks_random(s: &str) -> bool {
    if s.chars().count() > 1024 {
        return true;
    }
    s.split(['/', '\\', '.', '-', '_', ' ']).any(|segment| {
        let len = segment.chars().count();
        let upper = segment.bytes().any(|b| b.is_ascii_uppercase());
        let lower = segment.bytes().any(|b| b.is_ascii_lowercase());
        let digit = segment.bytes().any(|b| b.is_ascii_digit());
        let symbol = segment
            .bytes()
            .any(|b| matches!(b, b'+' | b'=' | b'$' | b'!' | b'%'));
        let classes = [upper, lower, digit, symbol].iter().filter(|c| **c).count();
        (len >= 16 && classes >= 3)
            || (len >= 8 && classes == 4)
            || (len >= 20 && upper && digit)
            || (len >= 40 && classes >= 2)
    })
}

/// Whether an account name (`iam_password.domain`) looks like a password instead: account names
/// are letters, digits, `-`, `_` and `.`.
pub fn looks_like_password(s: &str) -> bool {
    looks_random(s)
        || s.chars()
            .any(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ')))
}

/// A value of a `*_env` key that is not shown: anything but a plain variable name (a masked
/// line costs nothing; a shown credential cannot be taken back).
fn not_a_variable_name(s: &str) -> bool {
    looks_like_credential(s)
        || s.starts_with(|c: char| c.is_ascii_digit())
        || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// How a key that names where a credential is tells a credential written in its place.
fn reference_check(key: &str) -> Option<fn(&str) -> bool> {
    match key {
        "token_file" | "file" | "path" => Some(looks_random),
        "domain" => Some(looks_like_password),
        k if k.ends_with("_env") => Some(not_a_variable_name),
        _ => None,
    }
}

/// `line` with every secret in it masked, and where a caret at `caret` (start, width, in
/// characters of `line`) lands in the masked text. `extra` is one more range to mask (the value a
/// diagnostic reports as a secret).
pub fn mask(
    line: &str,
    known: &[Secret],
    extra: Option<(usize, usize)>,
    caret: (usize, usize),
) -> (String, usize, usize) {
    let chars: Vec<char> = line.chars().collect();
    let mut found = ranges(&chars, known);
    if let Some((start, end)) = extra {
        found.push((start.min(chars.len()), end.min(chars.len())));
    }
    let found = merge(found);
    let n = chars.len();
    // Where each character of `line` lands in the masked text (a masked one: its mask's start).
    let (mut out, mut pos, mut at, mut len) = (String::new(), vec![0; n + 1], 0, 0);
    for &(start, end) in &found {
        for i in at..start {
            pos[i] = len;
            out.push(chars[i]);
            len += 1;
        }
        pos[start..end].fill(len);
        out.push_str(MASK);
        len += MASK.len();
        at = end;
    }
    for i in at..n {
        pos[i] = len;
        out.push(chars[i]);
        len += 1;
    }
    pos[n] = len;
    let from = caret.0.min(n);
    let to = (caret.0 + caret.1).min(n);
    let start = pos[from];
    let end = match found.iter().find(|(s, e)| *s < to && to <= *e) {
        Some(&(s, _)) => pos[s] + MASK.len(),
        None => pos[to],
    };
    (out, start, end.max(start + 1) - start)
}

/// `text` (a message, a label) with the known secrets, what any URL carries besides its host,
/// and any quoted value that looks like a key masked.
pub fn mask_text(text: &str, known: &[Secret]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut found: Vec<(usize, usize)> = known_ranges(&chars, known);
    found.extend(url_ranges(&chars));
    found.extend(quoted_ranges(&chars));
    replace(&chars, &merge(found))
}

/// Every range of `line` (in characters) that holds a secret.
fn ranges(line: &[char], known: &[Secret]) -> Vec<(usize, usize)> {
    let mut found = known_ranges(line, known);
    found.extend(url_ranges(line));
    found.extend(key_value_ranges(line));
    found
}

fn replace(chars: &[char], ranges: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for &(start, end) in ranges {
        out.extend(&chars[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.extend(&chars[at..]);
    out
}

/// Sorted, non-overlapping, non-empty ranges.
fn merge(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.retain(|(s, e)| s < e);
    ranges.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Where the secrets the decoder recognised appear, each line of a multi-line one on its own.
fn known_ranges(line: &[char], known: &[Secret]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for secret in known {
        for part in secret
            .expose()
            .lines()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let part: Vec<char> = part.chars().collect();
            let mut from = 0;
            while from + part.len() <= line.len() {
                if line[from..from + part.len()] == part[..] && bounded(line, from, part.len()) {
                    found.push((from, from + part.len()));
                    from += part.len();
                } else {
                    from += 1;
                }
            }
        }
    }
    found
}

/// Whether the text at `from..from + len` stands on its own (a short secret such as `ab` is not
/// masked inside a longer word).
fn bounded(line: &[char], from: usize, len: usize) -> bool {
    if len >= 8 {
        return true;
    }
    let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
    !word(from.checked_sub(1).and_then(|i| line.get(i))) && !word(line.get(from + len))
}

/// Where a URL ends in a line or a message.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '`' | '"' | '\'' | ',' | '}' | ']' | '<' | '>')
}

/// What a URL carries besides scheme, host and port: `user:password` in
/// `scheme://user:password@host`, each value of its query, its fragment, and any path segment
/// that looks like a key.
fn url_ranges(line: &[char]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + 3 <= line.len() {
        if line[i..i + 3] != [':', '/', '/'] {
            i += 1;
            continue;
        }
        let start = i + 3;
        let end = line[start..]
            .iter()
            .position(|c| ends_url(*c))
            .map_or(line.len(), |n| start + n);
        let host_end = line[start..end]
            .iter()
            .position(|c| matches!(c, '/' | '?' | '#'))
            .map_or(end, |n| start + n);
        if let Some(at) = line[start..host_end].iter().rposition(|c| *c == '@') {
            found.push((start, start + at));
        }
        found.extend(after_host_ranges(line, host_end, end));
        i = end.max(i + 3);
    }
    found
}

/// In `line[from..end]`, a URL's path, query and fragment: the secret parts of each.
fn after_host_ranges(line: &[char], from: usize, end: usize) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let fragment = line[from..end]
        .iter()
        .position(|c| *c == '#')
        .map_or(end, |n| from + n);
    if fragment + 1 < end {
        found.push((fragment + 1, end));
    }
    let query = line[from..fragment]
        .iter()
        .position(|c| *c == '?')
        .map_or(fragment, |n| from + n);
    let mut at = from;
    for segment in line[from..query].split(|c| *c == '/') {
        let text: String = segment.iter().collect();
        if looks_random(&text) {
            found.push((at, at + segment.len()));
        }
        at += segment.len() + 1;
    }
    let mut at = query + 1;
    while at < fragment {
        let len = line[at..fragment]
            .iter()
            .position(|c| matches!(c, '&' | ';'))
            .unwrap_or(fragment - at);
        let value = line[at..at + len]
            .iter()
            .position(|c| *c == '=')
            .map_or(at, |n| at + n + 1);
        found.push((value, at + len));
        at += len + 1;
    }
    found
}

/// Values quoted in a message (`` `…` ``) that look like a key or a token: a credential pasted
/// where a path or a name belongs is echoed by the message about that path.
fn quoted_ranges(text: &[char]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(open) = text[i..].iter().position(|c| *c == '`').map(|n| i + n) {
        let Some(close) = text[open + 1..]
            .iter()
            .position(|c| *c == '`')
            .map(|n| open + 1 + n)
        else {
            break;
        };
        let value: String = text[open + 1..close].iter().collect();
        if unnamed_secret(&value) && !is_digest(&value) {
            found.push((open + 1, close));
        }
        i = close + 1;
    }
    found
}

/// A content hash as stopbook writes one (`sha256:` and 64 hex digits): long, never a secret.
fn is_digest(value: &str) -> bool {
    value
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Values of `key: value` pairs that are secrets by their key, or credentials by their look.
fn key_value_ranges(line: &[char]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            '#' if i == 0 || line[i - 1] == ' ' => break,
            _ => {}
        }
        let Some((key, colon)) = key_at(line, i) else {
            i += 1;
            continue;
        };
        let (start, end) = value_at(line, colon + 1, depth > 0);
        let value: String = line[start..end].iter().collect();
        let value = value.trim_matches(['"', '\'']);
        let secret = if is_secret_key(&key) || is_misspelt_secret_key(&key) {
            !value.is_empty() && !value.starts_with(['{', '[', '|', '>', '&', '*', '!'])
        } else {
            let check = reference_check(&key.to_ascii_lowercase());
            // Whatever the key, a value that looks like a key or a token is not shown.
            check.is_some_and(|check| check(value)) || unnamed_secret(value)
        };
        if secret {
            found.push((start, end));
        }
        i = colon + 1;
    }
    found
}

/// A key starting at `i` (plain or quoted, at the start of a word) and the index of its `:`.
fn key_at(line: &[char], i: usize) -> Option<(String, usize)> {
    if i > 0 && !matches!(line[i - 1], ' ' | '{' | ',' | '\t' | '-' | '[') {
        return None;
    }
    let quote = matches!(line[i], '"' | '\'').then_some(line[i]);
    let from = i + usize::from(quote.is_some());
    let mut end = from;
    while end < line.len() && (line[end].is_alphanumeric() || matches!(line[end], '_' | '-')) {
        end += 1;
    }
    if end == from {
        return None;
    }
    let mut colon = end;
    if let Some(q) = quote {
        if line.get(end) != Some(&q) {
            return None;
        }
        colon += 1;
    }
    let after = line.get(colon + 1);
    (line.get(colon) == Some(&':') && after.is_none_or(|c| c.is_whitespace()))
        .then(|| (line[from..end].iter().collect(), colon))
}

/// The value after a `:` at `from`: quoted, or up to a comment (and in a flow map, a `,` or a
/// closing bracket); trailing spaces are left out.
fn value_at(line: &[char], from: usize, flow: bool) -> (usize, usize) {
    let mut start = from;
    while start < line.len() && line[start].is_whitespace() {
        start += 1;
    }
    if let Some(&q) = line.get(start).filter(|c| matches!(c, '"' | '\'')) {
        let end = line[start + 1..]
            .iter()
            .position(|c| *c == q)
            .map_or(line.len(), |n| start + n + 2);
        return (start, end);
    }
    let mut end = start;
    while end < line.len() {
        let c = line[end];
        if (flow && matches!(c, ',' | '}' | ']')) || (c == '#' && line[end - 1] == ' ') {
            break;
        }
        end += 1;
    }
    while end > start && line[end - 1].is_whitespace() {
        end -= 1;
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(line: &str) -> String {
        mask(line, &[], None, (0, 1)).0
    }

    #[test]
    fn values_of_secret_keys_are_masked_in_block_and_flow_maps() {
        assert_eq!(shown("    token: abc123 # x"), "    token: ******** # x");
        assert_eq!(
            shown("  auth: { token: hunter2, tokn_env: X }"),
            "  auth: { token: ********, tokn_env: X }"
        );
        assert_eq!(
            shown("  auth: { \"password\": 'a b, c', sk: x }"),
            "  auth: { \"password\": ********, sk: ******** }"
        );
        assert_eq!(shown("  token: |"), "  token: |");
        assert_eq!(shown("  name: token"), "  name: token");
    }

    #[test]
    fn credentials_in_reference_fields_and_urls_are_masked() {
        assert_eq!(
            shown("    sk_env: MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"),
            "    sk_env: ********"
        );
        assert_eq!(
            shown("    sk_env: HUAWEICLOUD_SDK_SK"),
            "    sk_env: HUAWEICLOUD_SDK_SK"
        );
        assert_eq!(
            shown("  endpoint: https://u:pw@h.example:8443"),
            "  endpoint: https://********@h.example:8443"
        );
        assert_eq!(
            shown("      - job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r"),
            "      - job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r"
        );
    }

    #[test]
    fn a_url_shows_only_its_scheme_host_and_port() {
        let text = |t: &str| mask_text(t, &[]);
        assert_eq!(
            text("at `https://h.example/?token=abc&x=1#frag`: no"),
            "at `https://h.example/?token=********&x=********#********`: no"
        );
        assert_eq!(
            text("https://h.example?access_token=abc"),
            "https://h.example?access_token=********"
        );
        assert_eq!(
            text("https://h.example/MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw/v5"),
            "https://h.example/********/v5"
        );
        assert_eq!(
            text("https://drs.example.com/v5/054ba152d480d55b2f5dc0069e7ddef0/jobs"),
            "https://drs.example.com/v5/054ba152d480d55b2f5dc0069e7ddef0/jobs"
        );
        assert_eq!(
            text("https://u:p@h.example:8443/"),
            "https://********@h.example:8443/"
        );
    }

    #[test]
    fn a_quoted_key_in_a_message_is_masked_and_names_and_hashes_are_not() {
        let text = |t: &str| mask_text(t, &[]);
        assert_eq!(
            text(
                "cannot read stops_file `secrets/MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw.txt`: no such file"
            ),
            "cannot read stops_file `********`: no such file"
        );
        for kept in [
            "cannot read stops_file `jobs/window-bulk.txt`: no such file",
            "plan `sha256:d820133a9bd3e28f19e5281ebd085f4601c903a75dc312da180bd2393ec82822`",
            "job `c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r` is listed twice",
        ] {
            assert_eq!(text(kept), kept);
        }
    }

    #[test]
    fn known_secrets_are_masked_anywhere_and_the_caret_follows() {
        let known = [Secret::new("s3cr3t-value-long")];
        let line = "x: s3cr3t-value-long, bad_key: 1";
        let (out, start, width) = mask(line, &known, None, (22, 7));
        assert_eq!(out, "x: ********, bad_key: 1");
        assert_eq!(&out[start..start + width], "bad_key");
        let (_, start, width) = mask(line, &known, None, (3, 17));
        assert_eq!((start, width), (3, MASK.len()));
    }

    #[test]
    fn short_known_secrets_are_masked_only_as_whole_words() {
        let known = [Secret::new("ab")];
        assert_eq!(mask("tab: ab", &known, None, (0, 1)).0, "tab: ********");
    }

    #[test]
    fn paths_and_names_are_told_apart_from_keys() {
        for path in [
            "secrets/token",
            "/run/secrets/drs-token-2026",
            "C:\\keys\\drs.txt",
        ] {
            assert!(!looks_random(path), "{path}");
        }
        for key in [
            "MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw",
            "QTWAOYTTINDUT2QVKYUC",
            "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
        ] {
            assert!(looks_random(key), "{key}");
        }
        assert!(!looks_like_password("my-account_01"));
        assert!(looks_like_password("Pa55w0rd-Very$ecret-Indeed1"));
        assert!(looks_random("Hunter2-Pa55w0rd!Secr3t"));
    }
}
