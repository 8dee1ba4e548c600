//! The command-line surface, declared with clap; doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Plan, run and verify stops of Huawei Cloud DRS tasks from declarative YAML runbooks.
#[derive(Debug, Parser)]
#[command(name = "stopbook", version, propagate_version = true)]
pub struct Cli {
    /// Print only errors and the closing line (no progress, no notes, no `ok:` lines).
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,
    /// Print more: the plan_id of each valid runbook; before a run, the effective limits and
    /// the journal.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub verbose: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check runbooks: every problem, with file:line:column. Exit 0 if all are valid, else 2.
    Validate(ValidateArgs),
    /// Print the resolved, ordered plan of a runbook, identified by its plan_id.
    Plan(PlanArgs),
    /// Print the runbook JSON Schema (draft-07), for editors.
    Schema,
    /// Run a runbook: stop its jobs in order, under its limits, and check every answer.
    Run(Box<RunArgs>),
    /// Serve the mock DRS API on a TCP port until SIGINT or SIGTERM.
    ///
    /// Serves the stop call, batch stop, job detail and list, and IAM tokens. Admin endpoints,
    /// without auth or faults: `GET /__mock/requests` (every request in order, with its answer
    /// and any injected fault, credentials masked; `DELETE` clears it), `GET /__mock/jobs` (the
    /// true statuses, and every stop that reached the model, by job), `PUT /__mock/faults`
    /// (change faults while it runs, e.g. `{"error_rate": 0}` or `{"stops_only": true}`) and `POST /__mock/revoke` (refuse every credential from then on).
    Mock(Box<MockArgs>),
    /// Check that a plan, a JSON run report and (optionally) its journal belong together.
    ///
    /// The same plan_id, exactly one result for every planned stop and none other, and results
    /// the journal agrees with. Exit 0, or 1 listing every difference.
    Verify(VerifyArgs),
    /// Render a plan JSON or a JSON run report as Markdown, on standard output.
    Show(ShowArgs),
    /// Render a window's reports from its journal(s) alone, offline.
    ///
    /// Every process of the window (canary, resumes, shards) in one report; shards of one plan
    /// merge into one window, journals of different plans are refused. Exit 0 once the reports
    /// are written, whatever the window's outcome; 2 for a journal that cannot be read.
    Report(ReportArgs),
    /// Check an endpoint against every documented rule (the embedded mock without FIXTURES).
    Conform(ConformArgs),
    /// List the rule catalogue: ID, citation tag, meaning.
    Rules(RulesArgs),
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a folder.
    Man(ManArgs),
    /// Steer the run holding a journal, from another shell: drain, pause, go, abort, status.
    ///
    /// Talks to the run through the socket beside its journal (`JOURNAL.ctl`; no network).
    /// `drain` starts no new stop, lets those sent finish and ends the run paused; `pause` holds
    /// new stops until `go`; `go` also lets a waiting gate pass; `abort` is an interrupt;
    /// `status` prints the live census. Every action is journaled. Exit 0 when done, 1 when
    /// refused (nothing to let go on), 2 when no run holds the journal.
    Ctl(CtlArgs),
}

/// `stopbook ctl`.
#[derive(Debug, clap::Args)]
pub struct CtlArgs {
    /// What to do.
    #[arg(value_enum)]
    pub action: CtlAction,
    /// The journal of the run to steer.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
}

/// What `ctl` asks of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CtlAction {
    /// Start no new stop; let those sent finish; end paused (`--resume` goes on).
    Drain,
    /// Hold new stops until `go`.
    Pause,
    /// Let a waiting gate pass, and held stops start again.
    Go,
    /// Interrupt the run, as SIGINT does.
    Abort,
    /// Print the live census: phase, done/total, waiting by status, in doubt, 429s, rate.
    Status,
}

impl CtlAction {
    /// The action's name, as the request and the journal write it.
    pub fn as_str(self) -> &'static str {
        match self {
            CtlAction::Drain => "drain",
            CtlAction::Pause => "pause",
            CtlAction::Go => "go",
            CtlAction::Abort => "abort",
            CtlAction::Status => "status",
        }
    }
}

/// How much a command prints besides its output and its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Errors and the closing line only (`--quiet`).
    Quiet,
    /// The default.
    Normal,
    /// Details too (`--verbose`).
    Verbose,
}

impl Cli {
    /// The verbosity the global flags ask for.
    pub fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, true) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        }
    }
}

/// `stopbook completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `stopbook man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `stopbook.1` and a `stopbook-COMMAND.1` per command into this folder instead of
    /// printing `stopbook.1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The forms of `stopbook validate`'s report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// `FILE:LINE:COLUMN: message` with the source line and a caret, on stderr.
    Human,
    /// Every diagnostic as data (file, line, column, message, hint) on stdout.
    Json,
    /// GitHub Actions annotations on stdout (shown on the offending line), the human form on
    /// stderr.
    Github,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Runbook files to check.
    #[arg(required = true, value_name = "RUNBOOK")]
    pub runbooks: Vec<PathBuf>,
    /// How to report: `human`, `json` (for editors and tools) or `github` (CI annotations).
    #[arg(long, value_enum, default_value_t = ValidateFormat::Human)]
    pub format: ValidateFormat,
}

/// The reports of a window, and its attestation: where `run` and `report` write them.
#[derive(Debug, Args)]
pub struct ReportFiles {
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write the JUnit report here.
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<PathBuf>,
    /// Write the Markdown report here.
    #[arg(long, value_name = "FILE")]
    pub report_md: Option<PathBuf>,
    /// Write the HTML report here: one self-contained page (context, failures, a timeline).
    #[arg(long, value_name = "FILE")]
    pub report_html: Option<PathBuf>,
    /// Write an unsigned in-toto test-result attestation here: the plan and every report
    /// written as its subjects, one test per stop.
    #[arg(long, value_name = "FILE")]
    pub attest: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The window's journal, or the journals of its shards (merged into one window).
    #[arg(value_name = "JOURNAL", required = true)]
    pub journals: Vec<PathBuf>,
    #[command(flatten)]
    pub files: ReportFiles,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The approved plan, as JSON (`stopbook plan RUNBOOK --format json`).
    #[arg(long, value_name = "PLAN")]
    pub plan: PathBuf,
    /// The run's JSON report (`run --report-json`).
    #[arg(long, value_name = "REPORT")]
    pub report: PathBuf,
    /// The window's journal, whose results the report must agree with; give it once per shard
    /// for a report of merged shards.
    #[arg(long, value_name = "JOURNAL")]
    pub journal: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan JSON or a JSON run report.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The runbook to plan.
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// Output format [default: json when --out ends in .json, else md].
    #[arg(long, value_enum)]
    pub format: Option<PlanFormat>,
    /// Write the plan to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Pre-flight: read every planned job's status (no stop is sent) and add a verdict per
    /// stop; exit 1 when any stop is predicted to fail its expectation.
    #[arg(long)]
    pub live: bool,
    /// Trust this CA certificate (PEM) as well as the platform's (for `select` and `--live`).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Read live state (selects, `--live`) at this endpoint instead of `target.endpoint` (https,
    /// or http on loopback), as `run --endpoint` sends there; the plan and its plan_id are the
    /// runbook's either way.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Markdown, for change review.
    Md,
    /// JSON, for machines; `plan_id` first.
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The runbook to run.
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// Send to this endpoint instead of `target.endpoint` (https, or http on loopback).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Requests in flight at most, instead of `limits.concurrency` (phases are held to it too).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: Option<u32>,
    /// Request-rate ceiling instead of `limits.rate`, like `5/s` or `300/m`.
    #[arg(long, value_name = "RATE")]
    pub rate: Option<crate::runbook::values::Rate>,
    #[command(flatten)]
    pub files: ReportFiles,
    /// The journal [default, for a real endpoint: .stopbook/journal-PLANID.jsonl; the embedded
    /// mock keeps none unless asked].
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Continue an interrupted run from its journal, never stopping a job twice.
    #[arg(long)]
    pub resume: bool,
    /// With --resume: try the stops that failed again too (each job's status is read first).
    #[arg(long, requires = "resume")]
    pub retry_failed: bool,
    /// With --resume: go on at another endpoint of the journal's project (`--endpoint`); every
    /// stop in doubt is read there before anything is sent. Recorded in the journal.
    #[arg(long, requires = "resume")]
    pub retarget: bool,
    /// Run through this phase, then stop cleanly (outcome `paused`); --resume goes on.
    #[arg(long, value_name = "PHASE")]
    pub until: Option<String>,
    /// Refuse to run (exit 2) unless the runbook still plans to this plan file's plan_id; a
    /// difference is shown (jobs added, removed, changed; for a select, jobs that now match and
    /// approved jobs that no longer match).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// With --plan: when only the jobs a select matches differ, run the approved jobs that
    /// still match, and never one that was not approved.
    #[arg(long)]
    pub accept_drift: bool,
    /// With --plan: rehearse the approved plan (its own plan_id in every report) against the
    /// embedded mock seeded with the plan's jobs, making the faults of PROFILE (`gateway`,
    /// `chaos`, …; none when not given); nothing is sent anywhere else.
    #[arg(
        long,
        value_name = "PROFILE",
        num_args = 0..=1,
        default_missing_value = "faithful",
        requires = "plan",
        conflicts_with_all = ["endpoint", "resume", "accept_drift"]
    )]
    pub rehearse: Option<String>,
    /// Run only shard K of N: the stops whose position in the plan is K modulo N.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Trust this CA certificate (PEM) as well as the platform's.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// No progress bars or lines.
    #[arg(long)]
    pub no_progress: bool,
    /// Write the run's events to FILE (`-`: standard output), one JSON object a line, flushed
    /// as they happen.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Do not ask before a run against a real endpoint (off a terminal nothing is asked).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Not a flag of `run`: the dry run is `stopbook plan` (refused with a pointer to it).
    #[arg(long, hide = true)]
    pub dry_run: bool,
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{text}` is not a shard: write K/N with 1 <= K <= N, like 2/4");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

#[derive(Debug, Args)]
pub struct MockArgs {
    /// Address to listen on; port 0 picks a free one. The first line printed is
    /// `listening on http://HOST:PORT` (`https://` with --tls-cert).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM; at most 1 MiB).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Tasks to serve: a JSON or YAML list of `{id, name, status}` (optionally `job_type`).
    #[arg(long, value_name = "FILE", long_help = jobs_help())]
    pub jobs: Option<PathBuf>,
    /// Also serve this many healthy tasks generated from --seed (at most 1,000,000).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub generate: u32,
    /// Require this X-Auth-Token. Without it (and without --ak/--sk) any token is accepted.
    #[arg(
        long,
        value_name = "T",
        env = "STOPBOOK_MOCK_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<crate::secret::Secret>,
    /// Accept AK/SK-signed requests (SDK-HMAC-SHA256) with this access key.
    #[arg(long, value_name = "AK", requires = "sk")]
    pub ak: Option<String>,
    /// The secret key for --ak.
    #[arg(
        long,
        value_name = "SK",
        env = "STOPBOOK_MOCK_SK",
        hide_env_values = true,
        requires = "ak"
    )]
    pub sk: Option<crate::secret::Secret>,
    /// The user name the IAM token endpoint accepts (any, when absent).
    #[arg(long, value_name = "NAME", requires = "iam_password")]
    pub iam_user: Option<String>,
    /// The password the IAM token endpoint accepts.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "STOPBOOK_MOCK_IAM_PASSWORD",
        hide_env_values = true,
        requires = "iam_user"
    )]
    pub iam_password: Option<crate::secret::Secret>,
    /// A fault profile; the fault flags below change single settings of it.
    #[arg(long, value_name = "NAME", default_value = "faithful", value_parser = profile_names())]
    pub profile: String,
    /// Seed for generated tasks and for every fault decision.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// How long an accepted stop takes to end (a force stop: a quarter of it).
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    pub stop_delay: crate::runbook::values::Duration,
    /// Break exactly this documented rule (for proving the conformance suite catches it).
    #[arg(long, value_name = "RULE_ID", value_parser = defect_ids())]
    pub defect: Option<String>,
    /// Fixed latency added to every API answer.
    #[arg(long, value_name = "DURATION", help_heading = "Faults")]
    pub latency: Option<crate::runbook::values::Duration>,
    /// Up to this much more latency, drawn at random.
    #[arg(long, value_name = "DURATION", help_heading = "Faults")]
    pub latency_jitter: Option<crate::runbook::values::Duration>,
    /// Chance (0 to 1) that a request starts a burst of 5xx answers.
    #[arg(long, value_name = "P", help_heading = "Faults", value_parser = probability)]
    pub error_rate: Option<f64>,
    /// Answers in a 5xx burst (502, 503, 504 in turn).
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub burst: Option<u32>,
    /// At most N API requests a second; more get 429 APIGW.0308 with Retry-After.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub throttle: Option<u32>,
    /// Chance (0 to 1) of a connection reset before the request is applied.
    #[arg(long, value_name = "P", help_heading = "Faults", value_parser = probability)]
    pub reset_before: Option<f64>,
    /// Chance (0 to 1) of a connection reset after the request is applied.
    #[arg(long, value_name = "P", help_heading = "Faults", value_parser = probability)]
    pub reset_after: Option<f64>,
    /// Chance (0 to 1) that the connection is closed after the request is applied, with no
    /// answer (over TLS without close_notify).
    #[arg(long, value_name = "P", help_heading = "Faults", value_parser = probability)]
    pub close_after: Option<f64>,
    /// Chance (0 to 1) that a request is applied and then answered 502/504 by the gateway.
    #[arg(long, value_name = "P", help_heading = "Faults", value_parser = probability)]
    pub error_after: Option<f64>,
    /// For up to this long after a stop is applied, reads show the job's old status.
    #[arg(long, value_name = "DURATION", help_heading = "Faults")]
    pub status_lag: Option<crate::runbook::values::Duration>,
    /// Chance (0 to 1) that a JSON answer is cut short.
    #[arg(long, value_name = "P", help_heading = "Faults", value_parser = probability)]
    pub truncate: Option<f64>,
    /// Chance (0 to 1) that a JSON answer is malformed.
    #[arg(long, value_name = "P", help_heading = "Faults", value_parser = probability)]
    pub malformed: Option<f64>,
    /// Pause between 16-byte pieces of every answer body.
    #[arg(long, value_name = "DURATION", help_heading = "Faults")]
    pub slow_body: Option<crate::runbook::values::Duration>,
}

fn jobs_help() -> String {
    format!(
        "Tasks to serve: a JSON or YAML list of `{{id, name, status}}` (optionally `job_type`, \
         default `sync`). `status` is one of the documented statuses: {}.",
        crate::mock::jobs::known_statuses().join(", ")
    )
}

fn profile_names() -> clap::builder::PossibleValuesParser {
    let values = crate::mock::faults::PROFILES
        .iter()
        .map(|(name, help)| clap::builder::PossibleValue::new(*name).help(*help));
    clap::builder::PossibleValuesParser::new(values)
}

fn defect_ids() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::mock::defects::ALL
            .iter()
            .map(|(_, id)| clap::builder::PossibleValue::new(*id)),
    )
}

fn probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a probability from 0 to 1")),
    }
}

#[derive(Debug, Args)]
pub struct ConformArgs {
    /// The endpoint and the disposable tasks to check with (YAML); absent: the embedded mock.
    #[arg(value_name = "FIXTURES")]
    pub fixtures: Option<PathBuf>,
    /// Check only these rules (IDs from `stopbook rules`, comma-separated).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub rules: Vec<String>,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write the JUnit report here.
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<PathBuf>,
    /// Trust this CA certificate (PEM) as well as the platform's.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Check this endpoint instead of the fixtures' one.
    #[arg(long, value_name = "URL", requires = "fixtures")]
    pub endpoint: Option<String>,
    /// Write an in-toto test-result attestation (one test per rule) here.
    #[arg(long, value_name = "FILE")]
    pub attest: Option<PathBuf>,
    /// Run every rule against the embedded mock with that rule's defect: proof the checks catch
    /// what they claim to, and nothing else.
    #[arg(long, conflicts_with_all = ["fixtures", "endpoint", "rules", "report_json", "report_junit", "attest", "ca_cert"])]
    pub self_test: bool,
}

/// `stopbook rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// `human`: one line a rule; `json`: the catalogue as data, for tools.
    #[arg(long, value_enum, default_value = "human")]
    pub format: RulesFormat,
}

/// The forms of `stopbook rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// One line a rule: ID, citation tag, meaning.
    Human,
    /// A JSON list of `{id, tag, meaning, reading, breaks_also}`.
    Json,
}
