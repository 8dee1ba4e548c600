//! Running the real binary from the repository root, so paths in its output are stable.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `stopbook ARGS...`, run from the repository root.
pub fn stopbook<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stopbook"));
    // No test switch (`--features failpoints`) unless a test sets one.
    cmd.current_dir(root())
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("STOPBOOK_FAILPOINT");
    // All traffic in the tests is loopback: a proxy in the environment must not reroute it.
    for proxy in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(proxy);
    }
    cmd
}

/// Snapshot settings: snapshots live in the top-level `snapshots/` folder.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Snapshot settings for run reports: times, durations, the version, loopback ports, the
/// runbook's hash and the Mermaid timeline's instants masked.
pub fn report_snapshot_settings() -> insta::Settings {
    let mut settings = snapshot_settings();
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "[time]");
    settings.add_filter(r"\(\d+ ms\)", "([duration] ms)");
    settings.add_filter(r#"(name="duration_ms" value=")\d+"#, "$1[duration]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    settings.add_filter(r#"("request_id": ")[0-9a-f]{32}"#, "$1[request_id]");
    // Who ran a process and where, and times of day, differ from machine to machine.
    settings.add_filter(r"\| [^|@ ]+@[^| ]+ \|", "| [user]@[host] |");
    settings.add_filter(r"by [^@ ]+@[^, ]+,", "by [user]@[host],");
    settings.add_filter(r"\d\d:\d\d:\d\d\.\d{3}", "[clock]");
    settings.add_filter(r"\d{13}, \d{13}", "[start], [end]");
    settings.add_filter(r"`[0-9a-f]{64}`", "`[sha256]`");
    settings.add_filter(
        r#"(name="runbook_sha256" value=")[0-9a-f]{64}"#,
        "$1[sha256]",
    );
    settings.add_filter(r"(stopbook_version[^0-9]*)\d+\.\d+\.\d+", "$1[version]");
    settings
}

/// The path of `file` relative to the repository root, with `/` separators.
pub fn relative(file: &Path) -> String {
    file.strip_prefix(root())
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every example runbook shipped in `runbooks/`.
pub fn example_runbooks() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("runbooks"))
        .expect("runbooks/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| relative(&p))
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "expected the example runbooks, found {files:?}"
    );
    files
}
