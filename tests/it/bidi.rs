//! Bidirectional-text controls in server-supplied task names (U+202A–U+202E, U+2066–U+2069,
//! U+200E, U+200F, U+061C) are shown escaped like other control characters: a name cannot
//! reorder what a reviewer reads on the terminal, in a Markdown or HTML plan or report.

use std::path::Path;
use std::time::Duration;

use crate::support::stopbook;

const BIDI: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
];

fn task(i: usize, name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("5e1ec7{i:02}-14aa-4b0b-8c0c-00000000{i:02}jb"),
        "name": name,
        "status": "INCRE_TRANSFER_STARTED",
    })
}

/// A fleet with one task per bidi control, each in the middle of its name.
fn fleet() -> Vec<serde_json::Value> {
    BIDI.iter()
        .enumerate()
        .map(|(i, c)| task(i + 1, &format!("orders-{i}{c}cdc.exe")))
        .collect()
}

fn write_fleet(dir: &Path, fleet: &[serde_json::Value]) {
    std::fs::write(
        dir.join("fleet.json"),
        serde_json::to_string(fleet).unwrap(),
    )
    .unwrap();
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_fleet(dir.path(), &fleet());
    std::fs::write(
        dir.path().join("rb.yaml"),
        "version: 1\nname: bidi\ntarget:\n  mock: { jobs: fleet.json }\ndefaults:\n  wait: { timeout: 30s, poll: 100ms }\nphases:\n  - name: p\n    select: { job_type: sync, status: [INCRE_TRANSFER_STARTED], max: 50 }\n",
    )
    .unwrap();
    dir
}

/// stdout and stderr of `stopbook ARGS` in `dir`, with its exit code.
fn output(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = stopbook(args)
        .current_dir(dir)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), all)
}

/// The bidi controls `text` holds, by code point.
fn bidi_in(text: &str) -> Vec<String> {
    text.chars()
        .filter(|c| BIDI.contains(c))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect()
}

#[test]
fn bidi_controls_in_task_names_are_escaped_in_plans() {
    let dir = setup();
    let (code, md) = output(dir.path(), &["plan", "rb.yaml"]);
    assert_eq!(code, Some(0), "{md}");
    assert!(bidi_in(&md).is_empty(), "plan: {:?}\n{md}", bidi_in(&md));
    assert!(md.contains("orders-4\\u{202e}cdc"), "{md}");
    let (code, live) = output(dir.path(), &["plan", "rb.yaml", "--live"]);
    assert_eq!(code, Some(0), "{live}");
    assert!(bidi_in(&live).is_empty(), "plan --live: {live}");
    let (code, all) = output(dir.path(), &["plan", "rb.yaml", "--out", "approved.json"]);
    assert_eq!(code, Some(0), "{all}");
    let (code, shown) = output(dir.path(), &["show", "approved.json"]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(bidi_in(&shown).is_empty(), "show of the plan: {shown}");
}

#[test]
fn bidi_controls_in_task_names_are_escaped_in_the_drift_listing() {
    let dir = setup();
    let (code, all) = output(dir.path(), &["plan", "rb.yaml", "--out", "approved.json"]);
    assert_eq!(code, Some(0), "{all}");
    let mut grown = fleet();
    grown.push(task(40, "newcomer\u{202E}gnp.exe"));
    write_fleet(dir.path(), &grown);
    let (code, err) = output(
        dir.path(),
        &["run", "rb.yaml", "--plan", "approved.json", "--no-progress"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(bidi_in(&err).is_empty(), "drift: {err}");
    assert!(err.contains("newcomer\\u{202e}gnp"), "{err}");
}

#[test]
fn bidi_controls_in_task_names_are_escaped_in_run_reports() {
    let dir = setup();
    let (code, all) = output(
        dir.path(),
        &[
            "run",
            "rb.yaml",
            "--report-md",
            "r.md",
            "--report-html",
            "r.html",
            "--report-json",
            "r.json",
        ],
    );
    assert_eq!(code, Some(0), "{all}");
    assert!(bidi_in(&all).is_empty(), "run: {all}");
    for file in ["r.md", "r.html"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(bidi_in(&text).is_empty(), "{file}: {text}");
    }
    let (code, shown) = output(dir.path(), &["show", "r.json"]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(bidi_in(&shown).is_empty(), "show of the report: {shown}");
}
