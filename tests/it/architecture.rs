//! The shape of the code, held by a test: layers import only those below them, sibling files
//! import each other in one direction only, `exec` never prints, `report` never calls the
//! network, `api` knows neither the mock nor the runbook format, and files and functions stay
//! small. The rules read the sources as text; each is shown to catch a deliberate violation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::root;

/// The layers, lowest first: a module may import only modules of lower layers.
const LAYERS: &[&[&str]] = &[
    &[
        "secret",
        "output",
        "markdown",
        "input",
        "timestamp",
        "profile",
    ],
    &["diag"],
    &["drs"],
    &["runbook"],
    &["api", "retry"],
    &["plan", "check", "mock", "live", "notify"],
    &["exec"],
    &["report"],
    &["cli"],
];

/// Imports the layers allow but the design forbids.
const FORBIDDEN: &[(&str, &str, &str)] = &[
    (
        "api",
        "runbook",
        "the client speaks the API, not the runbook format",
    ),
    ("report", "api", "reports render results; they call nothing"),
    (
        "report",
        "mock",
        "reports render results; they call nothing",
    ),
    (
        "mock",
        "runbook",
        "the mock serves the API; it knows no runbook",
    ),
];

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 80;

/// A source file: its path under `src/` (or the tree's root) and its text.
struct Source {
    path: String,
    text: String,
}

impl Source {
    /// The text before the file's unit tests.
    fn code(&self) -> &str {
        match self.text.find("#[cfg(test)]") {
            Some(at) => &self.text[..at],
            None => &self.text,
        }
    }

    /// The code without its comment lines (a doc link is not an import).
    fn uncommented(&self) -> String {
        self.code()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `a::b` for `a/b.rs` or `a/b/mod.rs`; `` for `lib.rs`.
    fn module(&self) -> String {
        let p = self.path.trim_end_matches(".rs");
        let p = p.trim_end_matches("/mod");
        if p == "lib" || p == "main" {
            return String::new();
        }
        p.replace('/', "::")
    }

    fn is_mod_file(&self) -> bool {
        self.path.ends_with("/mod.rs") || self.path == "lib.rs"
    }

    fn top(&self) -> String {
        self.module().split("::").next().unwrap_or("").to_owned()
    }
}

fn read_tree(dir: &Path) -> Vec<Source> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(Source {
                    path: rel,
                    text: std::fs::read_to_string(&path).unwrap(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The crate paths a file names: `crate::a::b` in code, and `super::x` resolved.
fn references(source: &Source) -> BTreeSet<String> {
    let code = source.uncommented();
    let code = code.as_str();
    let mut found = BTreeSet::new();
    let module = source.module();
    let parent: Vec<&str> = match source.is_mod_file() {
        true => module.split("::").filter(|s| !s.is_empty()).collect(),
        false => {
            let mut parts: Vec<&str> = module.split("::").collect();
            parts.pop();
            parts
        }
    };
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent.clone())] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut base_parts: Vec<String> = base.iter().map(|s| s.to_string()).collect();
            if prefix == "super::" && source.is_mod_file() {
                base_parts.pop();
            }
            let head: Vec<String> = path
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let after = &rest[path.len()..];
            // `use super::{a, b::C}`: each item of the group is a reference of its own.
            let items: Vec<String> = match after.strip_prefix('{') {
                Some(group) => group[..group.find('}').unwrap_or(0)]
                    .split(',')
                    .map(|i| {
                        i.trim()
                            .split(" as ")
                            .next()
                            .unwrap_or("")
                            .replace(['{', ' ', '\n'], "")
                    })
                    .filter(|i| !i.is_empty() && i != "self")
                    .collect(),
                None => vec![String::new()],
            };
            for item in items {
                let mut parts = base_parts.clone();
                parts.extend(head.iter().cloned());
                parts.extend(
                    item.split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
                found.insert(parts.join("::"));
            }
        }
    }
    found
}

/// The file a referenced path lands in: the longest module prefix that is a file.
fn target(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// Every broken rule in a tree of sources.
fn violations(sources: &[Source]) -> Vec<String> {
    let mut found = Vec::new();
    let modules: BTreeSet<String> = sources.iter().map(Source::module).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources {
        let from = source.top();
        for reference in references(source) {
            let to_top = reference.split("::").next().unwrap_or("").to_owned();
            if let (Some(a), Some(b)) = (layer(&from), layer(&to_top))
                && b > a
            {
                found.push(format!(
                    "{}: `{from}` imports `{to_top}`, a higher layer",
                    source.path
                ));
            }
            for (a, b, why) in FORBIDDEN {
                if from == *a && to_top == *b {
                    found.push(format!("{}: `{a}` imports `{b}`: {why}", source.path));
                }
            }
            if let Some(file) = target(&reference, &modules)
                && file != source.module()
            {
                edges.entry(source.module()).or_default().insert(file);
            }
        }
        found.extend(size_violations(source));
        if from == "exec"
            && [
                "println!",
                "eprintln!",
                "print!(",
                "eprint!(",
                "stdout()",
                "stderr()",
                "say!(",
                "say_part!(",
                "out!(",
            ]
            .iter()
            .any(|p| source.code().contains(p))
        {
            found.push(format!(
                "{}: `exec` prints; it must only send events",
                source.path
            ));
        }
    }
    found.extend(sibling_cycles(&edges));
    found
}

/// Files over the limit, and functions over theirs (tests apart).
fn size_violations(source: &Source) -> Vec<String> {
    let mut found = Vec::new();
    let lines = source.text.lines().count();
    if lines > MAX_FILE_LINES {
        found.push(format!(
            "{}: {lines} lines, more than {MAX_FILE_LINES}",
            source.path
        ));
    }
    let code: Vec<&str> = source.code().lines().collect();
    for (i, line) in code.iter().enumerate() {
        let trimmed = line.trim_start();
        let is_fn = [
            "fn ",
            "pub fn ",
            "async fn ",
            "pub async fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "pub(crate) async fn ",
            "const fn ",
            "pub const fn ",
        ]
        .iter()
        .any(|p| trimmed.starts_with(p));
        if !is_fn || trimmed.ends_with(';') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let close = format!("{}}}", " ".repeat(indent));
        if let Some(end) = code[i..].iter().position(|l| *l == close)
            && end + 1 > MAX_FN_LINES
        {
            let name: String = trimmed
                .split("fn ")
                .nth(1)
                .unwrap_or("")
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(format!(
                "{}:{}: fn {name} is {} lines, more than {MAX_FN_LINES}",
                source.path,
                i + 1,
                end + 1
            ));
        }
    }
    found
}

/// Import circles between files of one folder (a folder's `mod.rs` and its children are one
/// module's own organisation, and are left out).
fn sibling_cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let parent = |m: &str| {
        m.rsplit_once("::")
            .map_or(String::new(), |(p, _)| p.to_owned())
    };
    let mut found = Vec::new();
    for (a, targets) in edges {
        for b in targets {
            if a < b && parent(a) == parent(b) && edges.get(b).is_some_and(|t| t.contains(a)) {
                found.push(format!("`{a}` and `{b}` import each other"));
            }
        }
    }
    found
}

#[test]
fn the_architecture_holds() {
    let sources = read_tree(&root().join("src"));
    assert!(sources.len() > 20, "read the sources");
    let found = violations(&sources);
    assert!(
        found.is_empty(),
        "{} violations:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn test_and_bench_files_stay_small_too() {
    let mut found = Vec::new();
    for dir in ["tests", "benches"] {
        for source in read_tree(&root().join(dir)) {
            let lines = source.text.lines().count();
            if lines > MAX_FILE_LINES {
                found.push(format!("{dir}/{}: {lines} lines", source.path));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

fn tree(files: &[(&str, &str)]) -> Vec<Source> {
    files
        .iter()
        .map(|(path, text)| Source {
            path: (*path).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}

#[test]
fn each_rule_catches_a_deliberate_violation() {
    let upward = tree(&[
        ("runbook/mod.rs", "use crate::exec::Report;\n"),
        ("exec/mod.rs", ""),
    ]);
    assert!(
        violations(&upward)
            .iter()
            .any(|v| v.contains("a higher layer"))
    );
    let forbidden = tree(&[("api/client.rs", "use crate::runbook::model::Stop;\n")]);
    assert!(
        violations(&forbidden)
            .iter()
            .any(|v| v.contains("`api` imports `runbook`"))
    );
    let report = tree(&[(
        "report/json.rs",
        "fn f() { crate::api::client::Client::new(); }\n",
    )]);
    assert!(
        violations(&report)
            .iter()
            .any(|v| v.contains("`report` imports `api`"))
    );
    let printing = tree(&[("exec/stop.rs", "fn f() {\n    eprintln!(\"x\");\n}\n")]);
    assert!(violations(&printing).iter().any(|v| v.contains("prints")));
    let circle = tree(&[
        ("api/mod.rs", "mod client;\nmod transport;\n"),
        ("api/client.rs", "use super::transport::Transport;\n"),
        ("api/transport.rs", "use super::client::CallError;\n"),
    ]);
    assert!(
        violations(&circle)
            .iter()
            .any(|v| v.contains("import each other")),
        "{:?}",
        violations(&circle)
    );
    let long_fn = format!("fn long() {{\n{}}}\n", "    let x = 1;\n".repeat(90));
    assert!(
        violations(&tree(&[("plan/mod.rs", &long_fn)]))
            .iter()
            .any(|v| v.contains("fn long is"))
    );
    let long_file = "// x\n".repeat(700);
    assert!(
        violations(&tree(&[("plan/mod.rs", &long_file)]))
            .iter()
            .any(|v| v.contains("700 lines"))
    );
    let clean = tree(&[
        (
            "exec/mod.rs",
            "use crate::api::client::Client;\nmod stop;\n",
        ),
        ("exec/stop.rs", "use super::Context;\n"),
        ("api/client.rs", "use crate::drs::JobId;\n"),
    ]);
    assert_eq!(violations(&clean), Vec::<String>::new());
}
