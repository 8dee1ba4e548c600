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
    cmd.current_dir(root()).args(args).env_remove("RUST_LOG");
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
