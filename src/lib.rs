//! stopbook: plan, run and verify stops of Huawei Cloud DRS tasks from declarative runbooks.
//!
//! Data flows one way through layers, each depending only on those above it in this list:
//!
//! ```text
//! diag                  positions, rendered diagnostics
//! runbook               YAML ─▶ spanned nodes ─▶ raw mirror ─▶ validated model (all errors at once)
//! plan                  model ─▶ ordered, resolved plan with a content hash (plan_id)
//! cli                   clap commands; the only place that wires the rest together
//! ```

pub mod api;
pub mod check;
pub mod cli;
pub mod diag;
pub mod drs;
pub mod exec;
pub mod markdown;
pub mod mock;
pub mod output;
pub mod plan;
pub mod report;
pub mod runbook;
pub mod secret;
