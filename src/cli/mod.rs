//! The command line: parses arguments with clap, runs a command, and maps the result to the
//! contract's exit codes. The only module that wires the others together.

mod args;
mod confirm;
mod conform;
mod connect;
mod control;
mod ctl;
mod fanout;
mod gate_prompt;
mod live;
mod man;
mod mock;
mod plan;
mod rehearse;
mod report;
mod report_paths;
mod run;
mod run_config;
mod run_live;
mod self_test;
mod show;
mod show_plan;
mod target;
mod validate;
mod verify;
mod window;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

pub use args::{Cli, Command, Verbosity};

/// The exit codes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every stop met its expectation (or: the input is valid).
    Success = 0,
    /// The run finished and at least one stop failed its expectation.
    Failed = 1,
    /// Usage error, invalid input, or plan drift: nothing was sent.
    Invalid = 2,
    /// Aborted: the failure budget was exceeded, or a fatal error made going on pointless.
    Aborted = 3,
    /// An internal error (a panic): what was recorded is in the journal and the reports.
    Internal = 70,
    /// Interrupted by SIGINT or SIGTERM; in-flight requests finished, journal and reports written.
    Interrupted = 130,
}

/// A command's refusal, before anything is sent or written: the exit code and what to say.
#[derive(Debug)]
pub struct Refusal {
    /// The exit code.
    pub exit: Exit,
    /// What to say.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Bad input or a check that failed: exit 2 with the message.
impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Refusal {
            exit: Exit::Invalid,
            message,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// The async runtime the network commands run on; a failure to start it is reported here.
fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            say!("error: cannot start the async runtime: {e}");
            Exit::Invalid
        })
}

/// Parses the process's arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    std::panic::set_hook(Box::new(|info| {
        // The location and the message only: no backtrace of values, and a plea to report it.
        let at = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        say!("internal error{at}: {message}\n  = this is a bug in stopbook; please report it");
    }));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(exit) => exit.into(),
        Err(_) => Exit::Internal.into(),
    }
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Exit {
    let verbosity = cli.verbosity();
    match cli.command {
        Command::Validate(args) => validate::run(&args, verbosity),
        Command::Plan(args) => plan::run(&args),
        Command::Mock(args) => mock::run(&args),
        Command::Run(args) => run::run(&args, verbosity),
        Command::Verify(args) => verify::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Conform(args) if args.self_test => self_test::run(),
        Command::Conform(args) => conform::run(&args),
        Command::Rules(args) => conform::list_rules(&args),
        Command::Completions(args) => {
            let mut command = Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(args.shell, &mut command, "stopbook", &mut out);
            write_out(&out, "the completions")
        }
        Command::Man(args) => man(args.dir.as_deref()),
        Command::Ctl(args) => ctl::run(&args),
        Command::Schema => match crate::output::write_stdout(|out| {
            std::io::Write::write_all(
                out,
                crate::runbook::schema::runbook_schema_json().as_bytes(),
            )
        }) {
            Ok(()) => Exit::Success,
            Err(e) => {
                say!("error: cannot write the schema: {e}");
                Exit::Invalid
            }
        },
    }
}

/// Writes `bytes` to standard output; a failure is reported as not writing `what`.
fn write_out(bytes: &[u8], what: &str) -> Exit {
    match crate::output::write_stdout(|out| std::io::Write::write_all(out, bytes)) {
        Ok(()) => Exit::Success,
        Err(e) => {
            say!("error: cannot write {what}: {e}");
            Exit::Invalid
        }
    }
}

/// `stopbook man`: the page of the whole command on stdout, or one page per command in `dir`.
fn man(dir: Option<&std::path::Path>) -> Exit {
    let command = Cli::command();
    let written = match dir {
        None => man::page(command, "stopbook").map(|page| write_out(&page, "the man page")),
        Some(dir) => man::write_dir(command, dir).map(|()| Exit::Success),
    };
    written.unwrap_or_else(|e| {
        say!("error: cannot write the man pages: {e}");
        Exit::Invalid
    })
}
