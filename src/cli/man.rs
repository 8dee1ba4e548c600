//! `stopbook man`: the manual pages, generated from the same clap definitions as `--help`, with
//! what clap_mangen leaves out: a synopsis that names each option's value (`--plan FILE`), an
//! EXIT STATUS section (the contract's exit codes) and EXAMPLES that run as written.

use std::io::Write;
use std::path::Path;

use clap::{Arg, Command};
use clap_mangen::Man;

/// The exit codes, as the README and the spec give them.
const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "every stop met its expectation (validate, plan: the input is valid)",
    ),
    (
        "1",
        "the run finished and at least one stop failed its expectation",
    ),
    (
        "2",
        "usage error, invalid runbook, plan or fixtures, or plan drift: nothing was sent",
    ),
    (
        "3",
        "aborted: a failure budget was exceeded, or a fatal error (authentication refused, TLS failure) made going on pointless",
    ),
    ("70", "internal error (a bug): journal and reports written"),
    (
        "130",
        "interrupted (SIGINT/SIGTERM): in-flight requests finished, journal and reports written",
    ),
];

/// Command lines that work from a clone, by command (`stopbook` for the main page).
fn examples(command: &str) -> &'static [(&'static str, &'static str)] {
    match command {
        "stopbook" | "stopbook-run" => &[
            (
                "stopbook run runbooks/quickstart.yaml",
                "run the quickstart against the embedded mock",
            ),
            (
                "stopbook plan runbooks/select-payments.yaml --format json --out approved.json",
                "the plan to approve",
            ),
            (
                "stopbook run runbooks/select-payments.yaml --plan approved.json --rehearse gateway",
                "rehearse the approved plan under gateway faults",
            ),
            (
                "stopbook run runbooks/quickstart.yaml --journal j.jsonl --until canary",
                "the canary only; --resume goes on",
            ),
        ],
        "stopbook-plan" => &[
            (
                "stopbook plan runbooks/maintenance-window.yaml",
                "the plan as Markdown",
            ),
            (
                "stopbook plan runbooks/select-payments.yaml --live",
                "with a pre-flight of every job's status",
            ),
        ],
        "stopbook-validate" => &[(
            "stopbook validate runbooks/*.yaml --format github",
            "CI annotations",
        )],
        "stopbook-mock" => &[(
            "stopbook mock --listen 127.0.0.1:0 --profile gateway --seed 7",
            "a mock that fails as gateways do",
        )],
        "stopbook-conform" => &[(
            "stopbook conform",
            "every documented rule against the embedded mock",
        )],
        "stopbook-report" => &[(
            "stopbook report j.jsonl --report-html window.html",
            "the window's report from its journal",
        )],
        "stopbook-verify" => &[(
            "stopbook verify --plan approved.json --report report.json --journal j.jsonl",
            "do they belong together",
        )],
        "stopbook-show" => &[(
            "stopbook show approved.json",
            "a JSON plan or report as Markdown",
        )],
        _ => &[],
    }
}

/// The page of `command`, named `name` (`stopbook-run`).
pub fn page(command: Command, name: &str) -> std::io::Result<Vec<u8>> {
    let man = Man::new(command.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    write!(out, ".SH SYNOPSIS\n{}\n", synopsis(&command, name))?;
    man.render_description_section(&mut out)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if command.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut out)?;
    }
    out.extend_from_slice(b".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_STATUS {
        write!(out, ".TP\n\\fB{code}\\fR\n{}\n", roff(meaning))?;
    }
    let examples = examples(name);
    if !examples.is_empty() {
        out.extend_from_slice(b".SH EXAMPLES\n");
        for (line, what) in examples {
            write!(out, ".TP\n\\fB{}\\fR\n{}\n", roff(line), roff(what))?;
        }
    }
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// `stopbook run` and every option with its value named: `[--plan FILE]`.
fn synopsis(command: &Command, name: &str) -> String {
    let mut words = vec![format!("\\fB{}\\fR", roff(&name.replace('-', " ")))];
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        words.push(arg_words(arg));
    }
    if command.get_subcommands().any(|s| !s.is_hide_set()) {
        words.push("\\fICOMMAND\\fR".to_owned());
    }
    words.join(" ")
}

fn arg_words(arg: &Arg) -> String {
    let value = arg
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    let takes = arg.get_action().takes_values();
    match (arg.get_long(), arg.get_short()) {
        (Some(long), _) if takes => {
            format!("[\\fB\\-\\-{}\\fR \\fI{}\\fR]", roff(long), roff(&value))
        }
        (Some(long), _) => format!("[\\fB\\-\\-{}\\fR]", roff(long)),
        (None, Some(short)) => format!("[\\fB\\-{short}\\fR]"),
        (None, None) if arg.is_required_set() => format!("\\fI{}\\fR", roff(&value)),
        (None, None) => format!("[\\fI{}\\fR]", roff(&value)),
    }
}

/// Text made safe for roff: backslashes and hyphens escaped, no line starting with a dot.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('-', "\\-");
    match escaped.starts_with(['.', '\'']) {
        true => format!("\\&{escaped}"),
        false => escaped,
    }
}

/// Writes `stopbook.1` and a page per command (and per subcommand below it) into `dir`.
pub fn write_dir(command: Command, dir: &Path) -> std::io::Result<()> {
    let mut command = command.disable_help_subcommand(true);
    command.build();
    std::fs::create_dir_all(dir)?;
    write_tree(&command, "stopbook", dir)
}

fn write_tree(command: &Command, name: &str, dir: &Path) -> std::io::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    let bytes = page(command.clone(), name)?;
    crate::output::write_atomic(&dir.join(format!("{name}.1")), |out| out.write_all(&bytes))
}
