//! The runbook keys of a live window (issue 26), checked offline like every other key: a
//! webhook's URL (https, or http on loopback, no credentials), its events, its secret's name,
//! and `gate`; and a gate is in the plan and its plan_id.

use crate::support::stopbook;

fn validate(body: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "version: 1\nname: live keys\n{body}phases:\n  - name: all\n    stops:\n      - job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r\n"
    );
    std::fs::write(dir.path().join("rb.yaml"), text).unwrap();
    let out = stopbook(["validate", "rb.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (out.status.code(), said)
}

fn hook(url: &str, on: &str) -> String {
    format!("notify:\n  - url: {url}\n    secret_env: HOOK_SECRET\n{on}")
}

#[test]
fn a_webhook_in_clear_over_a_network_is_refused_at_its_line_and_column() {
    let (code, said) = validate(&hook("http://chat.example.com/hooks/x", ""));
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("rb.yaml:4:10"), "{said}");
    assert!(
        said.contains("http to a host that is not loopback"),
        "{said}"
    );
}

#[test]
fn a_webhook_on_loopback_or_https_is_valid() {
    for url in [
        "http://127.0.0.1:8080/h",
        "http://[::1]:9/h",
        "http://localhost/h",
        "https://chat.example.com/h",
    ] {
        let (code, said) = validate(&hook(url, "    on: [run_done, stop_failed]\n"));
        assert_eq!(code, Some(0), "{url}: {said}");
    }
}

#[test]
fn credentials_in_a_webhooks_url_an_unknown_scheme_and_an_unknown_event_are_refused() {
    let cases = [
        (hook("https://user:pw@chat.example.com/h", ""), "carries credentials"),
        (hook("ftp://127.0.0.1/h", ""), "the scheme `ftp`"),
        (hook("https://chat.example.com/h", "    on: [phase_don]\n"), "did you mean `phase_done`?"),
        (hook("https://chat.example.com/h", "    on: [run_done, run_done]\n"), "listed twice"),
        ("notify:\n  - url: https://chat.example.com/h\n    secret_env: not a name\n".to_owned(), "secret_env"),
        ("notify:\n  - url: https://chat.example.com/h\n    secret: hunter2\n    secret_env: X\n".to_owned(), "literal secret"),
    ];
    for (body, expected) in cases {
        let (code, said) = validate(&body);
        assert_eq!(code, Some(2), "{body}: {said}");
        assert!(said.contains(expected), "{body}: {said}");
        assert!(!said.contains("hunter2"), "{said}");
    }
}

#[test]
fn a_gate_is_manual_or_refused_and_is_in_the_plan_id() {
    let dir = tempfile::tempdir().unwrap();
    let rb = |gate: &str| {
        format!(
            "version: 1\nname: gates\nphases:\n  - name: canary\n    stops:\n      - job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r\n  - name: bulk\n{gate}    stops:\n      - job: 2219ec06-05e6-36d3-2b32-732b8999rp01\n"
        )
    };
    std::fs::write(dir.path().join("bad.yaml"), rb("    gate: auto\n")).unwrap();
    let bad = stopbook(["validate", "bad.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(
        said.contains("bad.yaml:8:11") && said.contains("`manual`"),
        "{said}"
    );
    let plan = |name: &str, body: String| {
        std::fs::write(dir.path().join(name), body).unwrap();
        let out = stopbook(["plan", name, "--format", "json"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let gated = plan("gated.yaml", rb("    gate: manual\n"));
    let open = plan("open.yaml", rb(""));
    assert_eq!(gated["phases"][1]["gate"], "manual", "{gated:#}");
    assert!(open["phases"][1].get("gate").is_none());
    assert_ne!(
        gated["plan_id"], open["plan_id"],
        "a gate is covered by the plan_id"
    );
    let md = stopbook(["plan", "gated.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&md.stdout).contains("Gate: the run waits before this phase"));
}
