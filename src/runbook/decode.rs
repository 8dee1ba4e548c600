//! The toolkit that turns a [`Node`] tree into typed values while collecting every problem.
//!
//! Each typed value implements [`Decode`]; structs read their keys through a [`MapReader`], which
//! reports duplicate keys (naming both places), missing required keys, and unknown keys with a
//! "did you mean" hint. A decoder that finds a problem records it and returns `None`, so its
//! siblings are still checked: one run of the decoder finds every problem in the file.

use std::collections::HashMap;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::yaml::{Key, Node, Value};
use crate::diag::mask::is_secret_key;
use crate::diag::{Diagnostic, Diagnostics, Place, SourceFile, Span, did_you_mean};

/// Where decoding records what it finds wrong.
pub struct Cx {
    /// The file being decoded, for the places of diagnostics.
    pub file: Arc<SourceFile>,
    /// Every problem found so far.
    pub diagnostics: Diagnostics,
    /// The key whose value is being decoded, to name it in "expected X" messages.
    key: Option<&'static str>,
}

impl Cx {
    /// A context for decoding `file`, nothing found yet.
    pub fn new(file: Arc<SourceFile>) -> Self {
        Cx {
            file,
            diagnostics: Diagnostics::new(),
            key: None,
        }
    }

    /// The place of `span` in the file.
    pub fn place(&self, span: Span) -> Place {
        Place::new(&self.file, span)
    }

    /// Records a problem made by hand (with a label, a hint or a related place).
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Records a problem at `span` and returns `None`, for `return cx.error(..)` in decoders.
    pub fn error<T>(&mut self, span: Span, message: impl Into<String>) -> Option<T> {
        let d = Diagnostic::at(self.place(span), message);
        self.report(d);
        None
    }

    /// Records "expected X for `key`, found Y" for `node`.
    pub fn expected<T>(&mut self, node: &Node, expected: &str) -> Option<T> {
        let key = match self.key {
            Some(key) if !expected.contains(&format!("`{key}`")) => format!(" for `{key}`"),
            _ => String::new(),
        };
        let message = format!("expected {expected}{key}, found {}", node.value.kind());
        let hint = match &node.value {
            Value::Seq(_) if expected.starts_with("a map") => Some(
                "a map holds `key: value` lines; remove the `- ` in front of its keys, which makes a list",
            ),
            Value::Map(_) if expected.starts_with("a list") => Some(
                "each item of a list starts with `- ` (like `- name: one`); keys without it make a map",
            ),
            Value::Str(s) if expected.starts_with("a map") && s.contains(' ') => {
                Some("a key and its value are written `key: value`, with a colon and a space")
            }
            _ => None,
        };
        match hint {
            Some(hint) => {
                self.report(Diagnostic::at(self.place(node.span), message).hint(hint));
                None
            }
            None => self.error(node.span, message),
        }
    }

    /// Records every scalar of `node` as a secret of this file, so no diagnostic shows it.
    pub fn hide(&self, node: &Node) {
        match &node.value {
            Value::Str(s) => self.file.hide(s),
            Value::Int(i) => self.file.hide(&i.to_string()),
            Value::Float(x) => self.file.hide(&x.to_string()),
            Value::Seq(items) => items.iter().for_each(|n| self.hide(n)),
            Value::Map(entries) => entries.iter().for_each(|(_, n)| self.hide(n)),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Decodes the value of `key`, naming the key in type errors.
    fn decode_key<T: Decode>(&mut self, key: &'static str, node: &Node) -> Option<T> {
        let outer = self.key.replace(key);
        let value = T::decode(node, self);
        self.key = outer;
        value
    }
}

/// A value with the position it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A typed value that can be read from a node.
pub trait Decode: Sized {
    /// Reads `node`, or records why it cannot and returns `None`.
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self>;
}

impl<T: Decode> Decode for Spanned<T> {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        T::decode(node, cx).map(|value| Spanned {
            value,
            span: node.span,
        })
    }
}

impl Decode for String {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => cx.expected(node, "a string"),
        }
    }
}

impl Decode for bool {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            _ => cx.expected(node, "`true` or `false`"),
        }
    }
}

macro_rules! decode_integer {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
                match &node.value {
                    Value::Int(i) => <$t>::try_from(*i).ok().or_else(|| {
                        cx.error(node.span, format!(
                            "expected a whole number from {} to {}, found {i}",
                            <$t>::MIN, <$t>::MAX
                        ))
                    }),
                    _ => cx.expected(node, "a whole number"),
                }
            }
        }
    )*};
}
decode_integer!(u16, u32, u64);

/// A list keeps the items that decoded, so the checks that follow still see them; the ones that
/// did not are reported, and a runbook with any report is never used.
impl<T: Decode> Decode for Vec<T> {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let Value::Seq(items) = &node.value else {
            return cx.expected(node, "a list");
        };
        Some(
            items
                .iter()
                .filter_map(|item| T::decode(item, cx))
                .collect(),
        )
    }
}

/// Reads the keys of one YAML map, remembering which it has read.
pub struct MapReader<'n> {
    /// What the map is called in messages (`limits`, `phase "canary"`).
    what: String,
    span: Span,
    entries: &'n [(Key, Node)],
    known: Vec<&'static str>,
}

impl<'n> MapReader<'n> {
    /// Opens `node` as a map, reporting duplicate keys; records an error if it is not a map.
    pub fn open(node: &'n Node, what: impl Into<String>, cx: &mut Cx) -> Option<Self> {
        let what = what.into();
        let Value::Map(entries) = &node.value else {
            return cx.expected(node, &format!("a map for {what}"));
        };
        let mut first_seen: HashMap<&str, Span> = HashMap::new();
        for (key, _) in entries {
            if let Some(first) = first_seen.get(key.name.as_str()) {
                let d = Diagnostic::at(
                    cx.place(key.span),
                    format!("duplicate key `{}` in {what}", key.name),
                )
                .label("a key may appear only once")
                .related(cx.place(*first), "first defined here");
                cx.report(d);
            } else {
                first_seen.insert(&key.name, key.span);
            }
        }
        Some(MapReader {
            what,
            span: node.span,
            entries,
            known: Vec::new(),
        })
    }

    /// Where the map starts: the place for problems of the map as a whole.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The node under `key`, if present (the first occurrence when duplicated).
    pub fn node(&mut self, key: &'static str) -> Option<&'n Node> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// Whether `key` is written in the map, valid or not. Checks for a missing key ask this, so
    /// an invalid value is reported once, not again as missing.
    pub fn wrote(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.name == key)
    }

    /// The keys written in the map, for checks made after decoding (see [`Written`]).
    pub fn written(&self) -> Written {
        Written(self.entries.iter().map(|(k, _)| k.name.clone()).collect())
    }

    /// Reads an optional key. A present but invalid value is reported and read as absent.
    pub fn optional<T: Decode>(&mut self, key: &'static str, cx: &mut Cx) -> Option<T> {
        self.node(key).and_then(|node| cx.decode_key(key, node))
    }

    /// Reads a required key, reporting it when missing.
    pub fn required<T: Decode>(&mut self, key: &'static str, cx: &mut Cx) -> Option<T> {
        match self.node(key) {
            Some(node) => cx.decode_key(key, node),
            None => {
                let d = Diagnostic::at(
                    cx.place(self.span),
                    format!("missing required key `{key}` in {}", self.what),
                );
                cx.report(d);
                None
            }
        }
    }

    /// Reports every key that no reader asked for; returns the keys suggested for misspellings.
    pub fn finish(self, cx: &mut Cx) -> Vec<&'static str> {
        let mut suggested = Vec::new();
        for (key, value) in self.entries {
            if self.known.contains(&key.name.as_str()) {
                continue;
            }
            if is_secret_key(&key.name) {
                cx.hide(value);
                let d = Diagnostic::at(
                    cx.place(value.span),
                    format!("literal secret under `{}` in {}", key.name, self.what),
                )
                .label("never write a secret into a runbook")
                .hint("name an environment variable (`token_env`, `ak_env`, `sk_env`) or a file (`token_file`) instead")
                .redacted();
                cx.report(d);
                continue;
            }
            let mut d = Diagnostic::at(
                cx.place(key.span),
                format!("unknown key `{}` in {}", key.name, self.what),
            );
            if let Some(suggestion) = did_you_mean(&key.name, &self.known) {
                d = d.label(format!("did you mean `{suggestion}`?"));
                suggested.push(suggestion);
            }
            d = d.hint(format!("expected one of: {}", self.known.join(", ")));
            cx.report(d);
        }
        suggested
    }
}

/// The keys a map was written with, whatever their values.
#[derive(Debug, Clone, Default)]
pub struct Written(Vec<String>);

impl Written {
    /// Whether `key` was written (whatever its value, even one that failed to decode).
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|k| k == key)
    }
}

/// Keeps `value`, written where a name or a path belongs, unless `check` finds it looks like
/// the credential itself; then it is reported as a literal secret, masked wherever shown.
pub fn not_a_secret(
    value: Spanned<String>,
    cx: &mut Cx,
    check: fn(&str) -> bool,
    (belongs, hint): (&str, &str),
) -> Option<Spanned<String>> {
    if !check(&value.value) {
        return Some(value);
    }
    cx.file.hide(&value.value);
    let d = Diagnostic::at(
        cx.place(value.span),
        format!("this looks like a literal secret, not {belongs}"),
    )
    .label("never write a secret into a runbook")
    .hint(hint)
    .redacted();
    cx.report(d);
    None
}

/// Reads a scalar string and parses it with `parse`, reporting the parser's message.
pub fn parse_str<T, E: std::fmt::Display>(
    node: &Node,
    cx: &mut Cx,
    expected: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    match &node.value {
        Value::Str(s) => match parse(s) {
            Ok(v) => Some(v),
            Err(e) => cx.error(node.span, e.to_string()),
        },
        _ => cx.expected(node, expected),
    }
}
