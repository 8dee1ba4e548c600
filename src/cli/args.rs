//! The command-line surface, declared with clap; doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Plan, run and verify stops of Huawei Cloud DRS tasks from declarative YAML runbooks.
#[derive(Debug, Parser)]
#[command(name = "stopbook", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check runbooks: every problem, with file:line:column. Exit 0 if all are valid, else 2.
    Validate(ValidateArgs),
    /// Print the resolved, ordered plan of a runbook, identified by its plan_id.
    Plan(PlanArgs),
    /// Print the runbook JSON Schema (draft-07), for editors.
    Schema,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Runbook files to check.
    #[arg(required = true, value_name = "RUNBOOK")]
    pub runbooks: Vec<PathBuf>,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Markdown, for change review.
    Md,
    /// JSON, for machines; `plan_id` first.
    Json,
}
