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

/// `eprintln!` that never panics: a closed stderr (a pipe into `head`, a `tee` that died, a
/// dropped terminal) must not crash a run that still has a journal and reports to write.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that never panics (see `say!`).
macro_rules! say_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that never panics: `stopbook rules | head -1` ends quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

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
