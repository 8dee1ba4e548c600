//! A `name_glob` matched character by character: `*` (any run of characters), `?` (one
//! character), `[abc]`, `[a-z]`, `[!abc]` (one character of, or not of, a set), `{a,b}` (one of
//! the alternatives, not nested) and `\` (the next character as written). `globset` checks the
//! glob's syntax when the runbook is read; it matches bytes, so `?` would not take `é`.

/// One element of a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// This character.
    Lit(char),
    /// Any one character.
    Any,
    /// Any run of characters, empty included.
    Star,
    /// One character in (or, negated, not in) these ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A glob compiled to its alternatives (one each for every choice its `{…}` allow).
#[derive(Debug, Clone)]
pub struct CharGlob {
    alternatives: Vec<Vec<Tok>>,
}

/// Alternatives past this many are not expanded (the glob is then matched by `globset`).
const MOST_ALTERNATIVES: usize = 1024;

impl CharGlob {
    /// Compiles `pattern`, or `None` when it is beyond this matcher (the caller falls back).
    pub fn new(pattern: &str) -> Option<Self> {
        let mut alternatives = vec![Vec::new()];
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' => {
                    let mut body = String::new();
                    loop {
                        match chars.next()? {
                            '}' => break,
                            '{' => return None,
                            '\\' => {
                                body.push('\\');
                                body.push(chars.next()?);
                            }
                            c => body.push(c),
                        }
                    }
                    let choices: Vec<Vec<Tok>> = split_alternatives(&body)
                        .iter()
                        .map(|a| tokens(a))
                        .collect::<Option<_>>()?;
                    if alternatives.len() * choices.len() > MOST_ALTERNATIVES {
                        return None;
                    }
                    alternatives = alternatives
                        .iter()
                        .flat_map(|a| {
                            choices.iter().map(move |c| {
                                let mut a = a.clone();
                                a.extend(c.iter().cloned());
                                a
                            })
                        })
                        .collect();
                }
                c => {
                    let mut piece = String::from(c);
                    if c == '\\' {
                        piece.push(chars.next()?);
                    } else if c == '[' {
                        for c in chars.by_ref() {
                            piece.push(c);
                            if c == ']' && piece.len() > 2 && !piece.ends_with("[!]") {
                                break;
                            }
                        }
                    }
                    let toks = tokens(&piece)?;
                    alternatives.iter_mut().for_each(|a| a.extend(toks.clone()));
                }
            }
        }
        Some(CharGlob { alternatives })
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        self.alternatives.iter().any(|toks| matches(toks, &name))
    }
}

/// The `,`-separated parts of a `{…}` body (a `\,` stays in its part).
fn split_alternatives(body: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            ',' => parts.push(String::new()),
            '\\' => {
                let last = parts.last_mut().expect("one part at least");
                last.push('\\');
                last.extend(chars.next());
            }
            c => parts.last_mut().expect("one part at least").push(c),
        }
    }
    parts
}

/// The tokens of a glob without `{…}`.
fn tokens(pattern: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let tok = match c {
            '\\' => Tok::Lit(chars.next()?),
            '*' => {
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                Tok::Star
            }
            '?' => Tok::Any,
            '[' => {
                let negated = matches!(chars.peek(), Some('!' | '^'));
                if negated {
                    chars.next();
                }
                let mut ranges = Vec::new();
                let mut first = true;
                loop {
                    let c = chars.next()?;
                    if c == ']' && !first {
                        break;
                    }
                    first = false;
                    let end = match chars.peek() {
                        Some('-') => {
                            chars.next();
                            match chars.peek() {
                                Some(']') | None => {
                                    ranges.push(('-', '-'));
                                    c
                                }
                                Some(_) => chars.next()?,
                            }
                        }
                        _ => c,
                    };
                    ranges.push((c, end));
                }
                Tok::Class { negated, ranges }
            }
            '{' | '}' => return None,
            c => Tok::Lit(c),
        };
        out.push(tok);
    }
    Some(out)
}

/// Whether `toks` match the whole of `name` (a `*` backtracks to the last one seen).
fn matches(toks: &[Tok], name: &[char]) -> bool {
    let (mut t, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let one = |tok: &Tok, c: char| match tok {
            Tok::Lit(l) => *l == c,
            Tok::Any => true,
            Tok::Class { negated, ranges } => {
                ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)) != *negated
            }
            Tok::Star => false,
        };
        match toks.get(t) {
            Some(Tok::Star) => {
                star = Some((t, n));
                t += 1;
            }
            Some(tok) if one(tok, name[n]) => {
                t += 1;
                n += 1;
            }
            _ => match star {
                Some((st, sn)) => {
                    t = st + 1;
                    n = sn + 1;
                    star = Some((st, sn + 1));
                }
                None => return false,
            },
        }
    }
    toks[t..].iter().all(|tok| *tok == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::CharGlob;

    fn m(glob: &str, name: &str) -> bool {
        CharGlob::new(glob).expect("compiles").matches(name)
    }

    #[test]
    fn characters_not_bytes() {
        assert!(m("?clair", "éclair"));
        assert!(m("cr[!e]me", "crème"));
        assert!(m("cr[è]me", "crème"));
        assert!(!m("?clair", "clair"));
    }

    #[test]
    fn the_usual_glob() {
        assert!(m("orders-*-cdc", "orders-01-cdc"));
        assert!(!m("orders-*-cdc", "orders-01-cdc2"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[!a-c]x", "bx"));
        assert!(m("{orders,ledger}-*", "ledger-1"));
        assert!(!m("{orders,ledger}-*", "x-1"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "aXb"));
        assert!(m("[]a]", "]"));
        assert!(m("[a-]", "-"));
    }

    /// A `name_glob` means the same, whatever its number of `{…}` alternatives and however they
    /// nest: `?` takes one character (`é` included) in every one.
    #[test]
    fn a_glob_matches_the_same_names_however_many_alternatives_it_has() {
        use crate::runbook::model::NameGlob;
        // 2^10 = 1,024 alternatives, then 2^11.
        for groups in [10, 11] {
            let glob = format!("{}?clair", "{a,b}".repeat(groups));
            let name = format!("{}éclair", "a".repeat(groups));
            let compiled = NameGlob::new(&glob).expect("a glob");
            assert!(compiled.matches(&name), "{groups} groups: {glob} / {name}");
        }
        let nested = NameGlob::new("{x,{y,z}}?clair").expect("a glob");
        assert!(nested.matches("zéclair"), "nested alternatives");
    }
}
