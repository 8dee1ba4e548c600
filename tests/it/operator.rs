//! The conventions operators reach for: `--help` of every command, shell completions and a man
//! page from the clap definitions, machine forms of `validate` and `rules`, `--quiet` and
//! `--verbose`, and a pointer from `run --dry-run` to `plan`.

use serde_json::Value;

use crate::support::{snapshot_settings, stopbook};

const COMMANDS: &[&str] = &[
    "validate",
    "plan",
    "schema",
    "run",
    "mock",
    "conform",
    "rules",
    "completions",
    "man",
];

fn stdout_of(args: &[&str]) -> (Option<i32>, String, String) {
    let output = stopbook(args)
        .env("COLUMNS", "100")
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn every_command_has_help_and_it_is_kept() {
    snapshot_settings().bind(|| {
        let (code, top, _) = stdout_of(&["--help"]);
        assert_eq!(code, Some(0));
        insta::assert_snapshot!("help", top);
        for command in COMMANDS {
            assert!(top.contains(command), "`{command}` missing from --help");
            let (code, help, _) = stdout_of(&[command, "--help"]);
            assert_eq!(code, Some(0), "{command} --help");
            insta::assert_snapshot!(format!("help-{command}"), help);
        }
    });
}

#[test]
fn completions_come_from_the_clap_definitions() {
    snapshot_settings().bind(|| {
        for shell in ["bash", "zsh", "fish"] {
            let (code, script, _) = stdout_of(&["completions", shell]);
            assert_eq!(code, Some(0), "{shell}");
            for word in ["validate", "format", "yes", "quiet"] {
                assert!(script.contains(word), "{shell}: {word}");
            }
            insta::assert_snapshot!(format!("completions-{shell}"), script);
        }
        let (code, _, err) = stdout_of(&["completions", "tcsh"]);
        assert_eq!(code, Some(2));
        assert!(err.contains("powershell"), "{err}");
    });
}

#[test]
fn the_man_page_covers_every_command() {
    let (code, page, _) = stdout_of(&["man"]);
    assert_eq!(code, Some(0));
    assert!(
        page.starts_with(".ie") || page.contains(".TH stopbook 1"),
        "{page}"
    );
    for command in COMMANDS {
        assert!(
            page.contains(command),
            "`{command}` missing from the man page"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let (code, _, err) = stdout_of(&["man", "--dir", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    for page in ["stopbook.1", "stopbook-run.1", "stopbook-validate.1"] {
        assert!(out.join(page).is_file(), "{page} not written");
    }
}

/// Each page says how the command exits and shows it in use, and the synopsis names every
/// option's value (issue 24: no EXIT STATUS, no EXAMPLES, `[--plan]` without `FILE`).
#[test]
fn man_pages_have_exit_status_examples_and_value_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let (code, _, err) = stdout_of(&["man", "--dir", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    for page in [
        "stopbook.1",
        "stopbook-run.1",
        "stopbook-plan.1",
        "stopbook-report.1",
    ] {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(text.contains(".SH \"EXIT STATUS\""), "{page}");
        assert!(text.contains("\\fB130\\fR"), "{page}");
        assert!(text.contains(".SH EXAMPLES"), "{page}");
        // Every runbook an example names is one the clone has.
        for word in text
            .split_whitespace()
            .filter(|w| w.starts_with("runbooks/"))
        {
            let file = word.replace("\\-", "-").replace("\\fR", "");
            assert!(
                crate::support::root().join(&file).is_file(),
                "{page}: {file}"
            );
        }
    }
    let run = std::fs::read_to_string(out.join("stopbook-run.1")).unwrap();
    let synopsis = run.split(".SH SYNOPSIS").nth(1).unwrap();
    let synopsis = synopsis.split(".SH").next().unwrap();
    for named in [
        "\\-\\-report\\-json\\fR \\fIFILE",
        "\\-\\-plan\\fR \\fIFILE",
        "\\-\\-shard\\fR \\fIK/N",
        "\\-\\-until\\fR \\fIPHASE",
    ] {
        assert!(synopsis.contains(named), "{named} in {synopsis}");
    }
}

/// The corpus, in a stable order, as arguments.
fn corpus() -> Vec<String> {
    let mut files: Vec<String> =
        std::fs::read_dir(crate::support::root().join("tests/bad-runbooks"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .map(|p| crate::support::relative(&p))
            .collect();
    files.sort();
    files
}

#[test]
fn validate_as_json_gives_every_diagnostic_as_data() {
    let files = corpus();
    let mut args = vec!["validate", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    args.push("runbooks/quickstart.yaml");
    let (code, out, err) = stdout_of(&args);
    assert_eq!(code, Some(2));
    assert!(err.is_empty(), "json goes to stdout alone: {err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["files"].as_array().unwrap().len(), files.len() + 1);
    let quickstart = doc["files"].as_array().unwrap().last().unwrap();
    assert_eq!(quickstart["valid"], true);
    assert_eq!(quickstart["stops"], 20);
    for d in doc["diagnostics"].as_array().unwrap() {
        assert!(d["file"].is_string() && d["message"].is_string(), "{d}");
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("validate-json", out));
}

#[test]
fn validate_for_github_annotates_the_offending_lines() {
    let files = corpus();
    let mut args = vec!["validate", "--format", "github"];
    args.extend(files.iter().map(String::as_str));
    let (code, out, err) = stdout_of(&args);
    assert_eq!(code, Some(2));
    assert!(out.lines().all(|l| l.starts_with("::error file=")), "{out}");
    assert!(
        out.contains("::error file=tests/bad-runbooks/unknown-keys.yaml,line=4,col=3,"),
        "{out}"
    );
    // The log keeps the human form.
    assert!(err.contains("problems found; nothing was sent."), "{err}");
    for secret in [
        "QTWAOYTTINDUT2QVKYUC",
        "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
    ] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} leaked"
        );
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("validate-github", out));
}

#[test]
fn rules_have_a_machine_form() {
    let (code, text, _) = stdout_of(&["rules"]);
    assert_eq!(code, Some(0));
    let (code, json, _) = stdout_of(&["rules", "--format", "json"]);
    assert_eq!(code, Some(0));
    let rules: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(rules.len(), text.lines().count());
    assert_eq!(rules[0]["id"], "stop.path");
    assert!(
        rules
            .iter()
            .all(|r| r["tag"].is_string() && r["reading"].is_boolean())
    );
}

#[test]
fn quiet_and_verbose_mean_what_users_expect() {
    let (code, out, _) = stdout_of(&["validate", "-q", "runbooks/quickstart.yaml"]);
    assert_eq!((code, out.as_str()), (Some(0), ""));
    let (code, out, _) = stdout_of(&["validate", "--verbose", "runbooks/quickstart.yaml"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("ok: runbooks/quickstart.yaml: 2 phases, 20 stops")
            && out.contains("plan_id: sha256:"),
        "{out}"
    );
    let (code, _, err) = stdout_of(&["validate", "-q", "tests/bad-runbooks/unknown-keys.yaml"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("6 problems found"),
        "errors are never quiet: {err}"
    );
    let (code, _, err) = stdout_of(&["-q", "-v", "validate", "runbooks/quickstart.yaml"]);
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn the_dry_run_is_plan() {
    let (code, out, err) = stdout_of(&["run", "runbooks/quickstart.yaml", "--dry-run"]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(
        err.contains("the dry run is `stopbook plan runbooks/quickstart.yaml`")
            && !err.contains("-- --dry-run"),
        "{err}"
    );
}

#[test]
fn the_mock_names_the_valid_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = dir.path().join("jobs.yaml");
    std::fs::write(
        &jobs,
        "- { id: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r, name: a, status: RUNNING }\n",
    )
    .unwrap();
    let (code, _, err) = stdout_of(&["mock", "--jobs", jobs.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("unknown status `RUNNING`; the documented statuses are: CREATING,")
            && err.contains("RELEASE_RESOURCE_COMPLETE"),
        "{err}"
    );
    let (_, help, _) = stdout_of(&["mock", "--help"]);
    assert!(help.contains("/__mock/requests"), "{help}");
}
