//! YAML to a tree of spanned nodes, within a hard budget.
//!
//! Deserialising straight into typed structs would stop at the first problem. We want every
//! problem at once, so serde-saphyr builds a generic tree where every key and value keeps its
//! position, and [`super::decode`] walks it collecting diagnostics. Duplicate keys are passed
//! through (and reported by the decoder with both places); the parser's budget refuses alias
//! bombs, deep nesting and node floods before they cost memory, and [`MAX_RUNBOOK_BYTES`] bounds
//! what is read at all.

use std::fmt;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::options::AliasLimits;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Options};

use crate::diag::{Diagnostic, Place, SourceFile, Span};

/// Largest runbook file accepted. Long job lists belong in a `stops_file`.
pub const MAX_RUNBOOK_BYTES: u64 = crate::input::RUNBOOK.limit;
/// Deepest nesting accepted; a runbook needs about six levels.
const MAX_DEPTH: usize = 32;
/// Most nodes (after alias expansion) accepted: room for ~400,000 inline stops.
const MAX_NODES: usize = 2_000_000;

/// A YAML value and where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where the value starts.
    pub span: Span,
    /// The value.
    pub value: Value,
}

/// A mapping key and where it is.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key as written.
    pub name: String,
    /// Where the key is.
    pub span: Span,
}

/// A YAML value, kept generic so the decoder can report every problem in it.
#[derive(Debug, Clone)]
pub enum Value {
    /// `~`, `null`, or nothing written.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A floating-point number.
    Float(f64),
    /// A string, quoted or not.
    Str(String),
    /// A list.
    Seq(Vec<Node>),
    /// A map, its keys in the order written (duplicates kept, for the decoder to report).
    Map(Vec<(Key, Node)>),
}

impl Value {
    /// How the value is called in "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

/// Parses `file` into a node tree, or one diagnostic saying where the YAML is broken.
pub fn parse(file: &Arc<SourceFile>) -> Result<Node, Diagnostic> {
    if file.text().trim().is_empty() {
        return Err(
            Diagnostic::at(Place::new(file, Span::start()), "the file is empty")
                .hint("a runbook needs at least `version`, `name` and `phases`"),
        );
    }
    let mut options = Options::default();
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    options.strict_booleans = true;
    options.with_snippet = false;
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    budget.max_documents = 1;
    budget.max_reader_input_bytes = Some(MAX_RUNBOOK_BYTES as usize);
    options.budget = Some(budget);
    let mut aliases = AliasLimits::default();
    aliases.max_total_replayed_events = 100_000;
    options.alias_limits = aliases;

    serde_saphyr::from_str_with_options::<Spanned>(file.text(), options)
        .map(|s| s.0)
        .map_err(|e| syntax_error(file, &e))
}

fn syntax_error(file: &Arc<SourceFile>, error: &serde_saphyr::Error) -> Diagnostic {
    let span = error
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| Span::new(l.line() as u32, l.column().max(1) as u32, 1))
        .unwrap_or_else(Span::start);
    let raw = error.without_snippet().to_string();
    let raw = raw.lines().next().unwrap_or("invalid YAML");
    let (message, budget) = describe(error.without_snippet(), raw);
    if !budget && let Some((message, hint, at)) = super::slips::explain(file, span, &message) {
        return Diagnostic::at(Place::new(file, at), message).hint(hint);
    }
    let d = Diagnostic::at(Place::new(file, span), format!("invalid YAML: {message}"));
    if budget {
        d.hint("the runbook is refused before it can exhaust memory: avoid alias chains and deep nesting, and put long job lists in a `stops_file`")
    } else {
        d
    }
}

/// The parser's own words, without the position it repeats (we show our own).
fn words(raw: &str) -> &str {
    let mut text = raw.strip_prefix("error: ").unwrap_or(raw);
    if text.starts_with("line ")
        && let Some(idx) = text.find(": ")
    {
        text = &text[idx + 2..];
    }
    if let Some(idx) = text.find(" at line ") {
        text = &text[..idx];
    }
    text.trim()
}

/// What went wrong, in words, by the error's kind; the flag says whether a safety limit was
/// hit. Only a message with no kind of its own is the parser's words.
fn describe(error: &serde_saphyr::Error, raw: &str) -> (String, bool) {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach;
    let docs = "a runbook is a single YAML document, but this file has another after `---`";
    let limit = match error {
        // An error met while expanding an alias: what it is, is the error inside.
        Error::AliasError { error, .. } => return describe(error, raw),
        Error::MultipleDocuments { .. }
        | Error::Budget {
            breach: BudgetBreach::Documents { .. },
            ..
        } => return (docs.to_owned(), false),
        Error::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => format!("nested deeper than {MAX_DEPTH} levels"),
        Error::Budget {
            breach: BudgetBreach::Nodes { .. },
            ..
        } => format!("more than {MAX_NODES} values (after expanding aliases)"),
        Error::Budget {
            breach: BudgetBreach::Aliases { .. } | BudgetBreach::Anchors { .. },
            ..
        }
        | Error::AliasReplayCounterOverflow { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. } => {
            "aliases expand to more than the safety limit allows".to_owned()
        }
        Error::Budget { .. } => format!("over a safety limit ({})", words(raw)),
        _ => return (words(raw).to_owned(), false),
    };
    (limit, true)
}

/// Deserialisation helper: a node with its position, read through serde-saphyr's span support.
struct Spanned(Node);

impl<'de> Deserialize<'de> for Spanned {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<ValueDe>::deserialize(deserializer)?;
        Ok(Spanned(Node {
            span: span_of(&s.referenced),
            value: s.value.0,
        }))
    }
}

fn span_of(location: &serde_saphyr::Location) -> Span {
    Span::new(
        location.line().max(1) as u32,
        location.column().max(1) as u32,
        location.span().len().max(1) as u32,
    )
}

struct ValueDe(Value);

impl<'de> Deserialize<'de> for ValueDe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor).map(ValueDe)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        i128::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Spanned(node)) = seq.next_element()? {
            items.push(node);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<serde_saphyr::Spanned<String>>()? {
            let Spanned(value) = map.next_value()?;
            entries.push((
                Key {
                    span: span_of(&key.referenced),
                    name: key.value,
                },
                value,
            ));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Node, Diagnostic> {
        parse(&Arc::new(SourceFile::new("t.yaml", text)))
    }

    #[test]
    fn keys_and_values_keep_their_positions() {
        let node = parse_str("a: 1\nb:\n  c: [x, true]\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!()
        };
        assert_eq!(entries[1].0.name, "b");
        assert_eq!(entries[1].0.span, Span::new(2, 1, 1));
        let Value::Map(inner) = &entries[1].1.value else {
            panic!()
        };
        assert_eq!(inner[0].1.span.line, 3);
        assert_eq!(inner[0].1.span.column, 6);
    }

    #[test]
    fn duplicate_keys_reach_the_decoder() {
        let node = parse_str("a: 1\na: 2\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!()
        };
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn yes_is_a_string_not_a_boolean() {
        let node = parse_str("a: yes\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!()
        };
        assert!(matches!(entries[0].1.value, Value::Str(_)));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let d = parse_str("a: [1, 2\nb: 3\n").unwrap_err();
        let place = d.place.unwrap();
        assert_eq!(place.span.line, 2);
        assert!(d.message.starts_with("invalid YAML: "), "{}", d.message);
    }

    #[test]
    fn a_second_document_is_refused_plainly() {
        let d = parse_str("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(d.place.unwrap().span.line, 2);
        assert!(d.message.contains("single YAML document"), "{}", d.message);
        assert!(d.hint.is_none());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let d = parse_str(&text).unwrap_err();
        assert!(d.message.starts_with("invalid YAML"), "{}", d.message);
    }
}
