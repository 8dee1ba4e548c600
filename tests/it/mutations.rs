//! Structured fuzzing of the runbook decoder and the stops-file reader: valid inputs with one
//! line mutated. Each mutant either validates or gets diagnostics whose positions are inside
//! the file they name, and a secret planted where credentials get pasted never shows unmasked,
//! in diagnostics or in a plan.

use proptest::prelude::*;
use stopbook::diag::Diagnostics;
use stopbook::plan::Plan;
use stopbook::runbook::load_str;

/// A valid runbook touching every section, with a stops file (`bulk.txt`).
const BASE: &str = "\
version: 1
name: mutation base
target:
  endpoint: https://drs.cn-north-4.myhuaweicloud.com
  project_id: 054ba152d480d55b2f5dc0069e7ddef0
  auth:
    token_env: DRS_AUTH_TOKEN
  language: en-us
defaults:
  force: false
  expect: stopped
  request_timeout: 30s
  retry: { attempts: 5, backoff: 500ms, max_backoff: 30s }
  wait: { timeout: 30m, poll: 10s }
  escalate: { after: 20m }
limits:
  concurrency: 20
  rate: 5/s
  max_failures: 2%
phases:
  - name: canary
    concurrency: 1
    stops:
      - job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r
        label: orders-cdc
  - name: bulk
    stops_file: bulk.txt
    stops:
      - job: 0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1jb11x
        expect: { http: 400, error_code: DRS.10000010 }
      - job: 5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7ab99
        force: true
        retry: { attempts: 3 }
";

const STOPS: &str = "\
# bulk
2219ec06-05e6-36d3-2b32-732b8999rp01
4fa60221-36ce-d620-104d-159e8489rp02   # trailing comment
b0ac35e5-fa87-0d0a-7ba0-7a2531adrp03
";

/// Secrets as people paste them; none may appear in any output.
const SECRETS: [&str; 3] = [
    "MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw",
    "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
    "Hunter2-Pa55w0rd!Secr3t",
];

/// Values that are wrong in every way but secret.
const ODD_VALUES: [&str; 16] = [
    "",
    "~",
    "0",
    "-1",
    "18446744073709551616",
    "2000000000/s",
    "99999h",
    "101%",
    "true",
    "[1, 2]",
    "{ a: 1 }",
    "'unterminated",
    "\"x\\y\"",
    "&a *a",
    "é\u{feff}\t",
    "|",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// The value after `key: ` becomes another.
    Value(usize, &'static str),
    /// A secret pasted as the value of a credential-holding key, or under a new key beside.
    Secret(usize, usize, &'static str),
    /// The line is removed, doubled, or indented one more.
    Delete(usize),
    Double(usize),
    Indent(usize),
    /// The line is cut at a character.
    Cut(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let line = 0usize..64;
    prop_oneof![
        (line.clone(), prop::sample::select(ODD_VALUES.to_vec()))
            .prop_map(|(l, v)| Mutation::Value(l, v)),
        (
            line.clone(),
            0usize..SECRETS.len(),
            prop::sample::select(vec![
                "token_env",
                "ak_env",
                "sk_env",
                "token_file",
                "token",
                "password",
                "sk",
                "endpoint",
            ])
        )
            .prop_map(|(l, s, k)| Mutation::Secret(l, s, k)),
        line.clone().prop_map(Mutation::Delete),
        line.clone().prop_map(Mutation::Double),
        line.clone().prop_map(Mutation::Indent),
        (line, 0usize..60).prop_map(|(l, c)| Mutation::Cut(l, c)),
    ]
}

/// `text` with `m` applied to one of its lines (indices wrap around).
fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let at = |i: usize| i % lines.len();
    match *m {
        Mutation::Value(i, value) => {
            let i = at(i);
            if let Some((key, _)) = lines[i].split_once(": ") {
                lines[i] = format!("{key}: {value}");
            } else {
                lines[i].push_str(value);
            }
        }
        Mutation::Secret(i, s, key) => {
            let i = at(i);
            let indent: String = lines[i].chars().take_while(|c| *c == ' ').collect();
            let value = match key {
                "endpoint" => format!("https://admin:{}@drs.example.com", SECRETS[s]),
                _ => SECRETS[s].to_owned(),
            };
            lines.insert(i + 1, format!("{indent}{key}: {value}"));
        }
        Mutation::Delete(i) => {
            lines.remove(at(i));
        }
        Mutation::Double(i) => {
            let i = at(i);
            lines.insert(i, lines[i].clone());
        }
        Mutation::Indent(i) => {
            let i = at(i);
            lines[i].insert(0, ' ');
        }
        Mutation::Cut(i, c) => {
            let i = at(i);
            lines[i] = lines[i].chars().take(c).collect();
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Every diagnostic's place is inside the file it names.
fn assert_in_range(diagnostics: &Diagnostics) -> Result<(), TestCaseError> {
    for d in diagnostics.iter() {
        let Some(place) = &d.place else { continue };
        let text = place.file.text();
        let lines = text.lines().count().max(1) as u32;
        prop_assert!(
            place.span.line >= 1 && place.span.line <= lines + 1,
            "{}: line out of range",
            d.message
        );
        let shown = place.file.line(place.span.line).chars().count() as u32;
        prop_assert!(
            place.span.column >= 1 && place.span.column <= shown + 1,
            "{}: column {} of a line of {shown}",
            d.message,
            place.span.column
        );
    }
    Ok(())
}

/// Loads `runbook` with `stops` as `bulk.txt`; everything it would show (diagnostics or plans).
fn outcome(runbook: &str, stops: &str) -> Result<String, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bulk.txt"), stops).unwrap();
    match load_str("rb.yaml", runbook.to_owned(), dir.path()) {
        Ok(rb) => {
            let plan = Plan::new(rb);
            let mut out = Vec::new();
            plan.write_json(&mut out).unwrap();
            plan.write_markdown(&mut out).unwrap();
            Ok(String::from_utf8(out).unwrap())
        }
        Err(diagnostics) => {
            prop_assert!(!diagnostics.is_empty());
            assert_in_range(&diagnostics)?;
            Ok(format!("{diagnostics}{diagnostics:?}"))
        }
    }
}

#[test]
fn the_bases_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bulk.txt"), STOPS).unwrap();
    load_str("rb.yaml", BASE.to_owned(), dir.path()).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_runbook_validates_or_is_located_and_never_shows_a_secret(m in mutation()) {
        let runbook = apply(BASE, &m);
        let shown = outcome(&runbook, STOPS)?;
        for secret in SECRETS {
            prop_assert!(!shown.contains(secret), "{:?} showed a secret:\n{}", m, shown);
        }
    }

    #[test]
    fn a_mutated_stops_file_validates_or_is_located(m in mutation()) {
        let stops = apply(STOPS, &m);
        let _ = outcome(BASE, &stops)?;
    }
}
