//! The `expect` key as written: a keyword, or the exact answer a stop must get. Its own file so
//! `raw` stays within the size the architecture test holds every file to.

use schemars::JsonSchema;

use crate::diag::Diagnostic;
use crate::runbook::decode::{Cx, Decode, MapReader, Spanned};
use crate::runbook::yaml::{Node, Value};

/// The outcome a stop must have: `stopped`, `accepted`, or the answer expected.
// No variant docs: schemars would turn them into schema descriptions and change the committed
// schema; the doc above says what each variant is.
#[allow(missing_docs)]
#[derive(Debug, JsonSchema)]
#[schemars(rename = "Expect", untagged)]
pub enum RawExpect {
    Keyword(ExpectKeyword),
    Answer(RawExpectAnswer),
}

/// `stopped`: accepted, then the job ends (`RELEASE_RESOURCE_COMPLETE`) within `wait.timeout`.
/// `accepted`: 200 with `status: success`, no waiting.
// No variant docs: schemars would turn them into schema descriptions and change the committed
// schema; the doc above says what each variant is.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(rename_all = "lowercase")]
pub enum ExpectKeyword {
    Stopped,
    Accepted,
}

/// An exact answer, e.g. `{ http: 400, error_code: DRS.10000010 }` or `{ http: 200, result: failed }`.
#[derive(Debug, JsonSchema)]
#[schemars(rename = "ExpectAnswer", deny_unknown_fields)]
pub struct RawExpectAnswer {
    /// The HTTP status expected.
    #[schemars(range(min = 100, max = 599))]
    pub http: Spanned<u16>,
    /// The `error_code` expected in the body.
    pub error_code: Option<Spanned<String>>,
    /// Text the `error_msg` must contain.
    pub error_msg_contains: Option<Spanned<String>>,
    /// With `http: 200`: the `status` expected in the body.
    pub result: Option<Spanned<ResultWord>>,
}

/// The `status` of a 200 answer.
// No variant docs: schemars would turn them into schema descriptions and change the committed
// schema; the variants are the API's two words, `success` and `failed`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema, serde::Serialize)]
#[schemars(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ResultWord {
    Success,
    Failed,
}

impl ResultWord {
    /// The word as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultWord::Success => "success",
            ResultWord::Failed => "failed",
        }
    }
}

impl Decode for ResultWord {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Str(s) if s == "success" => Some(ResultWord::Success),
            Value::Str(s) if s == "failed" => Some(ResultWord::Failed),
            _ => cx.error(node.span, "expected `success` or `failed`"),
        }
    }
}

impl Decode for RawExpect {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Str(s) => match s.as_str() {
                "stopped" => Some(RawExpect::Keyword(ExpectKeyword::Stopped)),
                "accepted" => Some(RawExpect::Keyword(ExpectKeyword::Accepted)),
                other => {
                    let mut d = Diagnostic::at(
                        cx.place(node.span),
                        format!(
                            "unknown expectation `{other}`: expected `stopped`, `accepted`, or a map such as `{{ http: 400, error_code: DRS.10000010 }}`"
                        ),
                    );
                    if let Some(s) = crate::diag::did_you_mean(other, &["stopped", "accepted"]) {
                        d = d.label(format!("did you mean `{s}`?"));
                    }
                    cx.report(d);
                    None
                }
            },
            Value::Map(_) => {
                let mut map = MapReader::open(node, "`expect`", cx)?;
                let http = map.required("http", cx);
                let error_code = map.optional("error_code", cx);
                let error_msg_contains = map.optional("error_msg_contains", cx);
                let result = map.optional("result", cx);
                map.finish(cx);
                Some(RawExpect::Answer(RawExpectAnswer {
                    http: http?,
                    error_code,
                    error_msg_contains,
                    result,
                }))
            }
            _ => cx.expected(node, "`stopped`, `accepted` or a map for `expect`"),
        }
    }
}
