//! The README and the pages of `docs/` stay true where a machine can tell: every runbook they
//! show is one `stopbook validate` accepts, and every relative link leads to a file that exists
//! (and, for a `#fragment` into a Markdown page, to a heading of it). A runbook block is a
//! fenced `yaml` block whose first line that is not a comment is `version: 1`; each is written
//! into a copy of `runbooks/`, so `stops_file` and fleet paths resolve against the examples' own
//! files. A block that is deliberately incomplete is marked with `<!-- docs-test: skip -->` on
//! the line above its fence. The last test shows each check catching a deliberate fault.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::support::{root, stopbook};

/// The line above a runbook block that this test must leave alone.
const SKIP: &str = "<!-- docs-test: skip -->";

/// A fenced YAML block of a page: the line its fence is on, and its text.
struct Block {
    line: usize,
    text: String,
    skipped: bool,
}

/// `README.md` and every `docs/*.md`, relative to the repository root.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("a docs/ folder")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .map(|path| path.strip_prefix(root()).unwrap().to_path_buf())
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn read(page: &Path) -> String {
    std::fs::read_to_string(root().join(page)).unwrap()
}

/// The fence a line opens or closes (```` ``` ```` or `~~~`, however indented), and its info.
fn fence(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    ["```", "~~~"]
        .iter()
        .find_map(|f| trimmed.strip_prefix(f))
        .map(|info| (indent, info.trim()))
}

/// Every fenced `yaml` block of `text`, its lines taken out of the fence's indentation.
fn yaml_blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((indent, info)) = fence(lines[i]) else {
            i += 1;
            continue;
        };
        let end = (i + 1..lines.len())
            .find(|j| fence(lines[*j]).is_some())
            .unwrap_or(lines.len());
        if info == "yaml" {
            let body: Vec<&str> = lines[i + 1..end]
                .iter()
                .map(|l| l.get(indent..).unwrap_or("").trim_end())
                .collect();
            let above = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
            blocks.push(Block {
                line: i + 1,
                text: body.join("\n") + "\n",
                skipped: above.is_some_and(|l| l.trim() == SKIP),
            });
        }
        i = end + 1;
    }
    blocks
}

/// Whether a YAML block is a runbook: its first line that is not blank or a comment is
/// `version: 1`.
fn is_runbook(block: &str) -> bool {
    block
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.split('#').next().unwrap().trim() == "version: 1")
}

/// Every inline link `[text](target)` of `text` outside code blocks and code spans, with its
/// line.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_code = false;
    for (n, line) in text.lines().enumerate() {
        if fence(line).is_some() {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Drop code spans, whose brackets are not links; a link's text may hold one.
        let plain: String = line.split('`').step_by(2).collect::<Vec<_>>().join("");
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(close) = after.find(')') else { break };
            let target = after[..close].split_whitespace().next().unwrap_or("");
            found.push((n + 1, target.to_owned()));
            rest = &after[close..];
        }
    }
    found
}

/// A heading's anchor as GitHub makes it: lowercase, spaces to `-`, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown page's headings (outside code blocks).
fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if fence(line).is_some() {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// What is wrong with a relative link of `page` (`None` when it leads somewhere real).
fn broken(page: &Path, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
    let file = if path.is_empty() {
        root().join(page)
    } else {
        root().join(page.parent().unwrap()).join(path)
    };
    if !file.exists() {
        return Some(format!("no file {}", file.display()));
    }
    let markdown = file.extension().is_some_and(|e| e == "md");
    if fragment.is_empty() || !markdown {
        return None;
    }
    let headings = anchors(&std::fs::read_to_string(&file).unwrap());
    (!headings.iter().any(|a| a == fragment))
        .then(|| format!("no heading `#{fragment}` in {}", file.display()))
}

/// `from` copied into `to`, folders included.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn every_runbook_the_docs_show_validates() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("runbooks"), dir.path());
    let mut files = Vec::new();
    for page in pages() {
        for block in yaml_blocks(&read(&page)) {
            if block.skipped || !is_runbook(&block.text) {
                continue;
            }
            let name = page.to_string_lossy().replace('/', "_");
            let file = dir.path().join(format!("{name}-line-{}.yaml", block.line));
            std::fs::write(&file, &block.text).unwrap();
            files.push(file);
        }
    }
    // README.md's first window and the runbook, selection and Huawei Cloud pages show one each.
    assert!(files.len() >= 4, "only {} runbooks found", files.len());
    let mut args = vec![OsString::from("validate")];
    args.extend(files.iter().map(|f| f.clone().into_os_string()));
    let output = stopbook(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "a runbook in the docs does not validate (file names are PAGE-line-N):\n{stderr}"
    );
}

#[test]
fn every_relative_link_in_the_docs_leads_somewhere() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for page in pages() {
        for (line, target) in links(&read(&page)) {
            checked += 1;
            if let Some(problem) = broken(&page, &target) {
                problems.push(format!("{}:{line}: ({target}): {problem}", page.display()));
            }
        }
    }
    assert!(checked > 40, "only {checked} links found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn each_check_catches_a_deliberate_fault() {
    let page = "# Page\n\n## A heading, with `code`\n\n[ok](#a-heading-with-code) [`gone`](no/such/file.md)\n\
                [anchor](README.md#no-such-heading) `[not](a-link.md)` [web](https://example.com/x)\n\n\
                ```yaml\nversion: 1\nname: x\n```\n\n<!-- docs-test: skip -->\n\
                ```yaml\n# a comment\nversion: 1   # only 1\n```\n\n\
                - list:\n\n  ```yaml\n  version: 1\n  nested: true\n  ```\n\n\
                ```yaml\ntarget: { region: cn-north-4 }\n```\n";
    let found = links(page);
    let targets: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        targets,
        [
            "#a-heading-with-code",
            "no/such/file.md",
            "README.md#no-such-heading",
            "https://example.com/x"
        ]
    );
    let here = Path::new("README.md");
    assert!(broken(here, "docs/running.md").is_none());
    assert!(broken(here, "no/such/file.md").is_some());
    assert!(broken(here, "README.md#no-such-heading").is_some());
    assert!(broken(here, "https://example.com/x").is_none());
    assert_eq!(anchors(page), ["page", "a-heading-with-code"]);

    let blocks = yaml_blocks(page);
    let seen: Vec<(bool, bool)> = blocks
        .iter()
        .map(|b| (is_runbook(&b.text), b.skipped))
        .collect();
    assert_eq!(
        seen,
        [(true, false), (true, true), (true, false), (false, false)]
    );
    assert_eq!(blocks[2].text, "version: 1\nnested: true\n");
    // A block that is not a runbook would fail `validate`: the check runs it for real.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "version: 1\nname: x\nphases: []\nlimits: { concurency: 8 }\n",
    )
    .unwrap();
    let code = stopbook([OsString::from("validate"), bad.into_os_string()])
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(2));
}
