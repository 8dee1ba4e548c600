//! `name_glob`: the one place a glob is read and matched against task names.
//!
//! `*` (any run of characters), `?` (one character), `[abc]`, `[a-z]`, `[!abc]`, `[[:alpha:]]`
//! (one character of, or not of, a set), `{a,b}` (one of the alternatives, nested or not, any
//! number) and `\` (the next character as written). `globset` decides what is a glob (its
//! errors are the ones a runbook shows); the match is by characters, not bytes, so `?` takes
//! `é`, which `globset`'s byte matching would not. One matcher for every glob: the glob is
//! compiled once to a small automaton (alternatives are never multiplied out), and a name is run
//! through it in time proportional to the name's length times the glob's.
//!
//! Where `globset` reads a glob otherwise, this reads it the way it always has: an empty
//! alternative matches the empty string (`x{a,}` takes `x`, as a shell's braces do), and `**`
//! is `*` (task names have no folders).

use std::iter::Peekable;
use std::str::Chars;

/// A compiled `name_glob`.
#[derive(Debug, Clone)]
pub struct NameGlob {
    /// As written.
    pub pattern: String,
    automaton: Automaton,
}

/// Why a `name_glob` is not a glob, as `globset` says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAGlob(String);

impl NameGlob {
    /// Compiles `pattern`; the error says why it is not a glob.
    pub fn new(pattern: &str) -> Result<Self, NotAGlob> {
        globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .build()
            .map_err(|e| NotAGlob(e.kind().to_string()))?;
        // Every glob globset reads, this reads too (the tests below check it).
        let tokens =
            parse(pattern).ok_or_else(|| NotAGlob("a glob this matcher cannot read".to_owned()))?;
        Ok(NameGlob {
            pattern: pattern.to_owned(),
            automaton: Automaton::new(&tokens),
        })
    }

    /// Whether the whole of `name` matches, character by character (`?` takes `é`).
    pub fn matches(&self, name: &str) -> bool {
        self.automaton.matches(name)
    }
}

/// A test on one character.
#[derive(Debug, Clone, PartialEq, Eq)]
enum One {
    /// This character.
    Lit(char),
    /// Any character.
    Any,
    /// A character in (or, negated, not in) these ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl One {
    fn takes(&self, c: char) -> bool {
        match self {
            One::Lit(l) => *l == c,
            One::Any => true,
            One::Class { negated, ranges } => {
                ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)) != *negated
            }
        }
    }
}

/// One element of a parsed glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    One(One),
    /// Any run of characters, empty included.
    Star,
    /// One of these sequences.
    Alt(Vec<Vec<Tok>>),
}

/// The glob's elements, read the way `globset` reads them; `None` when it is not a glob.
fn parse(pattern: &str) -> Option<Vec<Tok>> {
    let mut chars = pattern.chars().peekable();
    // The open `{…}`: the sequence each interrupts, and its alternatives so far.
    let mut open: Vec<(Vec<Tok>, Vec<Vec<Tok>>)> = Vec::new();
    let mut seq: Vec<Tok> = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '?' => seq.push(Tok::One(One::Any)),
            '*' if seq.last() == Some(&Tok::Star) => {}
            '*' => seq.push(Tok::Star),
            '[' => seq.push(Tok::One(class(&mut chars)?)),
            '{' => open.push((std::mem::take(&mut seq), Vec::new())),
            ',' if !open.is_empty() => {
                let (_, alternatives) = open.last_mut()?;
                alternatives.push(std::mem::take(&mut seq));
            }
            '}' => {
                let (outer, mut alternatives) = open.pop()?;
                alternatives.push(std::mem::replace(&mut seq, outer));
                seq.push(Tok::Alt(alternatives));
            }
            '\\' => seq.push(Tok::One(One::Lit(chars.next()?))),
            c => seq.push(Tok::One(One::Lit(c))),
        }
    }
    open.is_empty().then_some(seq)
}

/// A `[…]` after its `[`: a `]` or `-` first is itself, a `-` last too, `a-z` a range.
fn class(chars: &mut Peekable<Chars<'_>>) -> Option<One> {
    let negated = matches!(chars.peek(), Some('!' | '^'));
    if negated {
        chars.next();
    }
    let mut ranges: Vec<(char, char)> = Vec::new();
    let (mut first, mut in_range) = (true, false);
    loop {
        let c = chars.next()?;
        match c {
            ']' if !first => break,
            '-' if !first && !in_range => in_range = true,
            '[' if !in_range && chars.peek() == Some(&':') => ranges.extend(posix(chars)),
            c if in_range => {
                let last = ranges.last_mut()?;
                last.1 = c;
                if last.1 < last.0 {
                    return None;
                }
                in_range = false;
            }
            c => ranges.push((c, c)),
        }
        first = false;
    }
    if in_range {
        ranges.push(('-', '-'));
    }
    Some(One::Class { negated, ranges })
}

/// `[:name:]` inside a class, after its `[`: the ranges of a POSIX class (ASCII, as `globset`
/// has them); a `[` alone when it is not one.
fn posix(chars: &mut Peekable<Chars<'_>>) -> Vec<(char, char)> {
    let mut ahead = chars.clone();
    ahead.next();
    let mut name = String::new();
    loop {
        match ahead.next() {
            Some(':') if ahead.peek() == Some(&']') => {
                ahead.next();
                *chars = ahead;
                return posix_ranges(&name).unwrap_or(&[('[', '[')]).to_vec();
            }
            Some(c) if c.is_ascii_lowercase() && name.len() < 8 => name.push(c),
            _ => return vec![('[', '[')],
        }
    }
}

fn posix_ranges(name: &str) -> Option<&'static [(char, char)]> {
    Some(match name {
        "alnum" => &[('0', '9'), ('A', 'Z'), ('a', 'z')],
        "alpha" => &[('A', 'Z'), ('a', 'z')],
        "blank" => &[('\t', '\t'), (' ', ' ')],
        "cntrl" => &[('\x00', '\x1f'), ('\x7f', '\x7f')],
        "digit" => &[('0', '9')],
        "graph" => &[('!', '~')],
        "lower" => &[('a', 'z')],
        "print" => &[(' ', '~')],
        "punct" => &[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        "space" => &[('\t', '\r'), (' ', ' ')],
        "upper" => &[('A', 'Z')],
        "xdigit" => &[('0', '9'), ('A', 'F'), ('a', 'f')],
        _ => return None,
    })
}

/// A state of the automaton.
#[derive(Debug, Clone)]
enum State {
    /// A character that passes the test, then the state at this index.
    Step(One, usize),
    /// Any of these states, taking no character.
    Split(Vec<usize>),
    /// The whole name matched.
    Match,
}

/// A glob as a nondeterministic automaton over characters (Thompson's construction): as many
/// states as the glob has elements, however many alternatives it allows.
#[derive(Debug, Clone)]
struct Automaton {
    states: Vec<State>,
    start: usize,
}

impl Automaton {
    fn new(tokens: &[Tok]) -> Self {
        let mut states = vec![State::Match];
        let start = compile(tokens, 0, &mut states);
        Automaton { states, start }
    }

    /// Runs `name` through every state the glob could be in at once.
    fn matches(&self, name: &str) -> bool {
        let mut seen = vec![false; self.states.len()];
        let mut now = Vec::new();
        self.enter(self.start, &mut now, &mut seen);
        let mut next = Vec::new();
        for c in name.chars() {
            if now.is_empty() {
                return false;
            }
            seen.fill(false);
            for &s in &now {
                if let State::Step(one, to) = &self.states[s]
                    && one.takes(c)
                {
                    self.enter(*to, &mut next, &mut seen);
                }
            }
            std::mem::swap(&mut now, &mut next);
            next.clear();
        }
        now.iter().any(|&s| matches!(self.states[s], State::Match))
    }

    /// Adds `state` and what it leads to without taking a character to `into`, once each.
    fn enter(&self, state: usize, into: &mut Vec<usize>, seen: &mut [bool]) {
        let mut stack = vec![state];
        while let Some(s) = stack.pop() {
            if std::mem::replace(&mut seen[s], true) {
                continue;
            }
            match &self.states[s] {
                State::Split(to) => stack.extend(to.iter().rev()),
                _ => into.push(s),
            }
        }
    }
}

/// Adds the states of `tokens`, leading to state `next`, to `states`; returns the first one.
fn compile(tokens: &[Tok], mut next: usize, states: &mut Vec<State>) -> usize {
    for tok in tokens.iter().rev() {
        next = match tok {
            Tok::One(one) => add(states, State::Step(one.clone(), next)),
            Tok::Star => {
                let split = add(states, State::Split(Vec::new()));
                let any = add(states, State::Step(One::Any, split));
                states[split] = State::Split(vec![any, next]);
                split
            }
            Tok::Alt(alternatives) => {
                let starts = alternatives
                    .iter()
                    .map(|a| compile(a, next, states))
                    .collect();
                add(states, State::Split(starts))
            }
        };
    }
    next
}

/// Adds `state` to `states`; returns its index.
fn add(states: &mut Vec<State>, state: State) -> usize {
    states.push(state);
    states.len() - 1
}

#[cfg(test)]
mod tests;
