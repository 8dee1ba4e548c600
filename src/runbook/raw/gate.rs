//! The `gate` key of a phase: where the run waits for a person before the phase starts.

use schemars::JsonSchema;

use crate::runbook::decode::{Cx, Decode};
use crate::runbook::yaml::{Node, Value};

/// `manual`: before the phase starts, the run waits until told to go on (`stopbook ctl go
/// --journal J`, or `y` at the terminal's prompt); `--yes` does not pass it.
// No variant docs: schemars would turn them into schema descriptions.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(rename = "Gate", rename_all = "lowercase")]
pub enum Gate {
    Manual,
}

impl Decode for Gate {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        match &node.value {
            Value::Str(s) if s == "manual" => Some(Gate::Manual),
            Value::Str(s) => cx.error(
                node.span,
                format!("unknown gate `{s}`: the one kind of gate is `manual`"),
            ),
            _ => cx.expected(node, "`manual`"),
        }
    }
}
