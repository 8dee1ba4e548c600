//! Literal secrets written into a runbook never reach the output, whichever problem a diagnostic
//! reports on the line that holds them, and a secret where a name or a path belongs is refused.

use std::path::Path;

use crate::support::stopbook;

const TOKEN: &str = "hunter2hunter2XyZ9f00bar";

const HEAD: &str = "version: 1\nname: n\ntarget:\n  endpoint: https://drs.example.com\n  project_id: 054ba152d480d55b2f5dc0069e7ddef0\n";
const PHASES: &str =
    "phases:\n  - name: p\n    stops:\n      - job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r\n";

/// The rendered diagnostics of `runbook`, or its plan's JSON when it is valid.
fn output_of(runbook: &str) -> String {
    match stopbook::runbook::load_str("rb.yaml", runbook.to_owned(), Path::new("/nonexistent")) {
        Ok(rb) => {
            let plan = stopbook::plan::Plan::new(rb);
            let mut out = Vec::new();
            plan.write_json(&mut out).unwrap();
            plan.write_markdown(&mut out).unwrap();
            String::from_utf8(out).unwrap()
        }
        Err(diagnostics) => diagnostics.to_string(),
    }
}

fn assert_masked(runbook: &str, secret: &str) -> String {
    let out = output_of(runbook);
    assert!(!out.contains(secret), "`{secret}` leaked:\n{out}");
    out
}

#[test]
fn a_second_problem_on_the_line_of_a_literal_secret_does_not_show_it() {
    // Every way to paste a secret, with a misspelt key beside it on the same line.
    for auth in [
        format!("  auth: {{ token: {TOKEN}, tokn_env: X }}\n"),
        format!("  auth: {{ password: {TOKEN}, tokn_env: X }}\n"),
        format!("  auth: {{ sk: {TOKEN}, ak: AKAKAKAKAK12, tokn_env: X }}\n"),
        format!(
            "  auth: {{ iam_password: {{ user_env: U, password: {TOKEN}, domain: d, x: 1 }} }}\n"
        ),
        format!("  auth: {{ token: \"{TOKEN}\", token_env: 1 }}\n"),
    ] {
        let out = assert_masked(&format!("{HEAD}{auth}{PHASES}"), TOKEN);
        assert!(out.contains("********"), "{out}");
    }
}

#[test]
fn a_syntax_error_on_the_line_of_a_secret_does_not_show_it() {
    let runbook = format!("{HEAD}  auth: {{ token: {TOKEN}, token_env: [ }}\n{PHASES}");
    assert_masked(&runbook, TOKEN);
}

#[test]
fn a_secret_in_a_block_scalar_is_masked_on_every_line() {
    let runbook = format!("{HEAD}  auth:\n    token: |\n      {TOKEN}\n    tokn_env: X\n{PHASES}");
    assert_masked(&runbook, TOKEN);
}

#[test]
fn a_token_where_a_file_path_belongs_is_refused_and_masked() {
    let token = "MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw";
    let out = assert_masked(
        &format!("{HEAD}  auth: {{ token_file: {token} }}\n{PHASES}"),
        token,
    );
    assert!(out.contains("literal secret"), "{out}");
    // A real path stays valid.
    let ok = output_of(&format!(
        "{HEAD}  auth: {{ token_file: secrets/token }}\n{PHASES}"
    ));
    assert!(ok.contains("\"plan_id\""), "{ok}");
}

#[test]
fn a_password_where_the_domain_belongs_is_refused_and_masked() {
    let secret = "Pa55w0rd-Very$ecret-Indeed1";
    let runbook = format!(
        "{HEAD}  auth: {{ iam_password: {{ endpoint: https://iam.example.com, user_env: U, password_env: P, domain: {secret} }} }}\n{PHASES}"
    );
    let out = assert_masked(&runbook, secret);
    assert!(out.contains("literal secret"), "{out}");
}

#[test]
fn credentials_in_an_endpoint_url_are_masked() {
    for endpoint in [
        "https://admin:s3cretPassw0rd@drs.example.com",
        "https://admin:s3cretPassw0rd@",
        "http://admin:s3cretPassw0rd@drs.example.com/v5",
    ] {
        let runbook = format!(
            "version: 1\nname: n\ntarget:\n  endpoint: {endpoint}\n  project_id: 054ba152d480d55b2f5dc0069e7ddef0\n  auth: {{ token_env: T }}\n{PHASES}"
        );
        assert_masked(&runbook, "s3cretPassw0rd");
        let output = stopbook(["run", "runbooks/quickstart.yaml", "--endpoint", endpoint])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!all.contains("s3cretPassw0rd"), "{all}");
    }
}

#[test]
fn plan_of_a_runbook_with_a_secret_shows_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rb.yaml");
    std::fs::write(
        &path,
        format!("{HEAD}  auth: {{ token: {TOKEN}, tokn_env: X }}\n{PHASES}"),
    )
    .unwrap();
    let output = stopbook(["plan".as_ref(), path.as_os_str()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains(TOKEN), "{all}");
}

#[test]
fn secrets_under_misspelt_or_unknown_keys_are_masked_too() {
    const SK: &str = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
    for (body, secret) in [
        (format!("  auth: {{ tokne: {TOKEN}, token_env: TOK }}\n"), TOKEN),
        (format!("  auth:\n    tokne: {TOKEN}\n    token_env: TOK\n"), TOKEN),
        (format!("  auth: {{ token_env: TOK, skk: {SK} }}\n"), SK),
        (
            "  auth: { iam_password: { endpoint: https://iam.example.com, user_env: U, password_env: P, domain: d, pasword: hunter2hunter2 } }\n"
                .to_owned(),
            "hunter2hunter2",
        ),
        (format!("  auth: {{ token_env: TOK }}\n  endpont: {SK}\n"), SK),
        (format!("  auth: {{ token_env: TOK }}\n  region: {SK}\n"), SK),
        (format!("  auth: {{ token_env: TOK }}\n  language: {SK}\n"), SK),
    ] {
        assert_masked(&format!("{HEAD}{body}{PHASES}"), secret);
    }
}
