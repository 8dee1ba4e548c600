#![warn(missing_docs)]

//! stopbook: plan, run and verify stops of Huawei Cloud DRS tasks from declarative runbooks.
//!
//! # Layers
//!
//! A module imports only modules of lower layers; `tests/it/architecture.rs` holds that, and
//! more: `exec` never prints, `report` calls neither `api` nor `mock`, `api` knows neither the
//! mock nor the runbook format, and the mock knows no runbook. Lowest first:
//!
//! ```text
//! L0 secret output markdown  credentials that never print; atomic file writes; Markdown escaping
//!    input                   every file input read within a bound
//!    timestamp               the clock's text forms (RFC 3339, X-Sdk-Date, IAM), on humantime
//! L1 diag                    FILE:LINE:COLUMN diagnostics with a caret; every problem at once;
//!                            secrets masked in every line shown
//! L2 drs                     the API's vocabulary: job and project IDs, endpoint and region,
//!                            language, job statuses, error codes, the rule catalogue's IDs
//! L3 runbook                 YAML ─▶ spanned nodes ─▶ raw mirror (also the JSON Schema)
//!                            ─▶ validated model (defaults applied, stops files read, selects)
//! L4 api                     client, transport (connection pool, proxies, TLS, bounded
//!                            answers), SDK-HMAC-SHA256 signing, typed errors and where a
//!                            call failed (sent or not)
//!    retry                   the retry policy: every loop's waits (jitter, Retry-After) and
//!                            sleeps that end at the run's interrupt
//! L5 plan                    model ─▶ ordered plan with a content hash (plan_id); JSON,
//!                            Markdown; the plan file read back (document), drift between
//!                            plans, approval of the plan now (approve), selects pinned (pin)
//!    check                   body rules, expectations, the conformance suite (conform)
//!    mock                    a stateful DRS server with seeded faults, TLS, deliberate defects
//!    live                    live state read before a run: `select` resolved (ListJobs pages,
//!                            the tag filter), pre-flight status reads and verdicts
//! L6 exec                    scheduler, limits, retries, settle window, escalation, budgets,
//!                            the journal (its lock, header binding and reader) ─▶ events, results
//! L7 report                  progress and closing summary; JSON / JUnit / Markdown / HTML
//!                            reports and the timeline chart; the run context; in-toto
//!                            attestations (attest); conformance reports; verify (a report
//!                            against its plan and journal)
//! L8 cli                     clap commands (run, plan, validate, show, verify, conform, mock,
//!                            self-test); the only place that wires the rest together
//! ```
//!
//! # How the commands flow
//!
//! ```text
//! run       runbook.yaml ─runbook::load─▶ Runbook ─Plan::new─▶ Plan (plan_id)
//!           (selects: live::select reads ListJobs; --plan: plan::approve; resume: the journal,
//!           locked first, bound to its target by exec::journal::bind)
//!           target ─▶ api::Client          (no target: mock::MockServer on a loopback port)
//!           exec::run(Plan, Setup { client, concurrency, rate, journal, events, … })
//!             │  each stop: intent journaled ─▶ send ─▶ check judges the answer
//!             │  (an unknown outcome settled by status reads) ─▶ wait ─▶ result journaled
//!             ├─ Event ──▶ report::progress (stderr)
//!             └─ Report ─▶ report::{json, junit, markdown, html, attest} (atomic writes)
//! plan      runbook ─▶ Plan ─▶ JSON or Markdown, to a file via output or to stdout
//! validate  runbook::load for each file ─▶ every diag problem, or a one-line summary
//! conform   fixtures (or the embedded mock) ─▶ api::Client ─▶ check::conform::run
//!             ─▶ one Verdict per rule ─▶ report::conformance (JSON, JUnit)
//! mock      mock::MockServer on its port until a signal; no runbook involved
//! verify    plan file + JSON report (+ journal) ─report::verify─▶ typed differences, exit 0/1
//! show      a plan JSON or JSON report ─▶ the same Markdown `plan`/`run --report-md` write
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
pub(crate) mod exec;
pub(crate) mod input;
pub(crate) mod live;
pub(crate) mod markdown;
pub mod mock;
pub mod notify;
pub(crate) mod output;
pub mod plan;
pub mod profile;
pub(crate) mod report;
pub(crate) mod retry;
pub mod runbook;
pub mod secret;
pub mod timestamp;
