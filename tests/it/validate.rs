//! `stopbook validate`: every bad runbook in `tests/bad-runbooks/` is refused with exit 2 and the
//! diagnostics in its snapshot; every example runbook is accepted.

use std::io::Write;

use crate::support::{example_runbooks, relative, snapshot_settings, stopbook};

#[test]
fn bad_runbooks_are_refused_with_every_problem_located() {
    snapshot_settings().bind(|| {
        insta::glob!(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad-runbooks"),
            "*.yaml",
            |path| {
                let file = relative(path);
                let output = stopbook(["validate", &file])
                    .timeout(std::time::Duration::from_secs(20))
                    .output()
                    .unwrap();
                let stderr = String::from_utf8(output.stderr).unwrap();
                assert_eq!(output.status.code(), Some(2), "{file}:\n{stderr}");
                assert!(
                    output.stdout.is_empty(),
                    "{file}: nothing on stdout for an invalid runbook"
                );
                // Every problem names its place as FILE:LINE:COLUMN.
                let located = stderr
                    .lines()
                    .filter(|l| l.starts_with("tests/bad-runbooks/"))
                    .count();
                assert!(located >= 1, "{file}: no located diagnostic in\n{stderr}");
                insta::assert_snapshot!("validate", stderr);
            }
        );
    });
}

#[test]
fn literal_secrets_never_reach_the_output() {
    let output = stopbook(["validate", "tests/bad-runbooks/literal-secret.yaml"])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for secret in [
        "QTWAOYTTINDUT2QVKYUC",
        "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
        "MIIDkgYJKoZIhvcNAQcC",
    ] {
        assert!(!all.contains(secret), "secret {secret} leaked:\n{all}");
    }
    assert_eq!(all.matches("literal secret").count(), 3, "{all}");
}

#[test]
fn every_example_runbook_validates() {
    let examples = example_runbooks();
    let output = stopbook(std::iter::once("validate".to_owned()).chain(examples.clone()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for example in examples {
        assert!(stdout.contains(&format!("ok: {example}:")), "{stdout}");
    }
}

#[test]
fn one_bad_file_among_good_ones_fails_the_whole_check() {
    let output = stopbook([
        "validate",
        "runbooks/quickstart.yaml",
        "tests/bad-runbooks/version.yaml",
    ])
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok: runbooks/quickstart.yaml"));
}

#[test]
fn a_missing_runbook_is_a_usage_error() {
    let output = stopbook(["validate", "no/such/runbook.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).lines().next(),
        Some("error: cannot read `no/such/runbook.yaml`: no such file")
    );
}

#[test]
fn an_oversized_runbook_is_refused_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let mut file = std::fs::File::create(&path).unwrap();
    let line = format!("# {}\n", "x".repeat(1021));
    for _ in 0..(33 * 1024) {
        file.write_all(line.as_bytes()).unwrap();
    }
    drop(file);
    let output = stopbook(["validate".as_ref(), path.as_os_str()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("more than the 32 MiB limit"), "{stderr}");
}

#[test]
fn a_runbook_that_is_not_yaml_text_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binary.yaml");
    std::fs::write(&path, [0x76, 0x65, 0xff, 0xfe, 0x00]).unwrap();
    let output = stopbook(["validate".as_ref(), path.as_os_str()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not UTF-8 text"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        stopbook(["validate"]).output().unwrap().status.code(),
        Some(2)
    );
    assert_eq!(
        stopbook(["frobnicate"]).output().unwrap().status.code(),
        Some(2)
    );
    assert_eq!(
        stopbook(["plan", "runbooks/quickstart.yaml", "--format", "xml"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}
