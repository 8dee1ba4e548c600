//! Reading journals back: torn tails, damaged lines, escalations, unsent stops, other plans.

use super::*;

const JOB: &str = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

fn journal(lines: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, lines.concat()).unwrap();
    (dir, path)
}

fn header_of(plan_id: &str) -> Header {
    Header::of_plan(plan_id, "t")
}

fn header() -> &'static str {
    "{\"kind\":\"run\",\"plan_id\":\"sha256:x\",\"runbook\":\"t\"}\n"
}

#[test]
fn a_torn_last_line_is_tolerated() {
    let intent = format!("{{\"kind\":\"intent\",\"seq\":1,\"job\":\"{JOB}\",\"force\":false}}\n");
    let (_dir, path) = journal(&[header(), &intent, "{\"kind\":\"acc"]);
    let earlier = read(&path, "sha256:x").unwrap().earlier;
    assert_eq!(earlier.get(&1), Some(&Earlier::MaybeSent));
}

#[tokio::test]
async fn a_torn_last_line_is_cut_off_before_anything_is_appended() {
    let intent = format!("{{\"kind\":\"intent\",\"seq\":1,\"job\":\"{JOB}\",\"force\":false}}\n");
    let (_dir, path) = journal(&[header(), &intent, "{\"kind\":\"acc"]);
    let journal = Journal::open(&path, header_of("sha256:x")).await.unwrap();
    journal.sync().await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("{\"kind\":\"acc"), "{text}");
    assert_eq!(
        read(&path, "sha256:x").unwrap().earlier.get(&1),
        Some(&Earlier::MaybeSent)
    );
}

/// A whole last line without its newline (a journal rewritten by a script or an editor) is read
/// as a line, so opening must keep it: cutting it off made the next resume forget an intent
/// and send the stop again unread.
#[tokio::test]
async fn a_whole_last_line_without_its_newline_is_kept_when_opened() {
    let intent = format!("{{\"kind\":\"intent\",\"seq\":1,\"job\":\"{JOB}\",\"force\":false}}");
    let (_dir, path) = journal(&[header(), &intent]);
    assert_eq!(
        read(&path, "sha256:x").unwrap().earlier.get(&1),
        Some(&Earlier::MaybeSent)
    );
    let journal = Journal::open(&path, header_of("sha256:x")).await.unwrap();
    journal.sync().await.unwrap();
    assert_eq!(
        read(&path, "sha256:x").unwrap().earlier.get(&1),
        Some(&Earlier::MaybeSent),
        "{}",
        std::fs::read_to_string(&path).unwrap()
    );
}

#[test]
fn any_other_unreadable_line_is_an_error_that_names_it() {
    let intent = format!("{{\"kind\":\"intent\",\"seq\":1,\"job\":\"{JOB}\",\"force\":false}}\n");
    let (_dir, path) = journal(&[header(), "garbage\n", &intent]);
    let error = read(&path, "sha256:x").unwrap_err();
    assert!(
        matches!(error, JournalError::Unreadable { line: 2, .. }),
        "{error}"
    );
}

#[test]
fn escalations_and_unsent_results_are_read_back() {
    let lines = [
        header().to_owned(),
        format!("{{\"kind\":\"intent\",\"seq\":1,\"job\":\"{JOB}\",\"force\":false}}\n"),
        format!("{{\"kind\":\"accepted\",\"seq\":1,\"job\":\"{JOB}\"}}\n"),
        format!("{{\"kind\":\"escalating\",\"seq\":1,\"job\":\"{JOB}\"}}\n"),
        format!("{{\"kind\":\"intent\",\"seq\":2,\"job\":\"{JOB}\",\"force\":false}}\n"),
        format!(
            "{{\"kind\":\"result\",\"seq\":2,\"job\":\"{JOB}\",\"result\":{{\"outcome\":\"failed\",\"attempts\":2,\"unsent\":true}}}}\n"
        ),
        format!("{{\"kind\":\"intent\",\"seq\":3,\"job\":\"{JOB}\",\"force\":false}}\n"),
        format!(
            "{{\"kind\":\"result\",\"seq\":3,\"job\":\"{JOB}\",\"result\":{{\"outcome\":\"failed\",\"attempts\":1}}}}\n"
        ),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (_dir, path) = journal(&refs);
    let mut earlier = read(&path, "sha256:x").unwrap().earlier;
    assert_eq!(
        earlier.get(&1),
        Some(&Earlier::Accepted(Escalation::MaybeSent))
    );
    assert_eq!(earlier.get(&2), None, "never sent: tried again as new");
    assert!(matches!(earlier.get(&3), Some(Earlier::Done(_))));
    assert_eq!(retry_failed(&mut earlier), 1);
    assert_eq!(earlier.get(&3), Some(&Earlier::Retry));
}

#[tokio::test]
async fn a_journal_of_another_plan_is_refused() {
    let (_dir, path) = journal(&[header()]);
    assert!(
        read(&path, "sha256:y")
            .unwrap_err()
            .to_string()
            .contains("belongs to plan")
    );
    let fresh = path.with_file_name("new/j.jsonl");
    Journal::open(&fresh, header_of("sha256:y")).await.unwrap();
    assert!(read(&fresh, "sha256:y").unwrap().earlier.is_empty());
}

#[tokio::test]
async fn one_run_a_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let first = Journal::open(&path, header_of("sha256:x")).await.unwrap();
    let second = Journal::open(&path, header_of("sha256:x")).await;
    assert!(
        matches!(second, Err(JournalError::InUse { .. })),
        "{:?}",
        second.err()
    );
    drop(first);
}

/// Issue 22, hole 4: `--retry-failed` sent a stop again and was killed while its answer
/// arrived; the journal's latest word on that stop is the resend, not the old failure.
#[test]
fn a_newer_intent_or_resend_supersedes_an_older_result() {
    let failed = format!(
        "{{\"kind\":\"result\",\"seq\":1,\"job\":\"{JOB}\",\"result\":{{\"outcome\":\"failed\",\"http_status\":400,\"attempts\":1}}}}\n"
    );
    let intent = format!("{{\"kind\":\"intent\",\"seq\":1,\"job\":\"{JOB}\",\"force\":false}}\n");
    let resend = format!("{{\"kind\":\"resending\",\"seq\":1,\"job\":\"{JOB}\"}}\n");
    for again in [&intent, &resend] {
        let (_dir, path) = journal(&[header(), &intent, &failed, header(), again]);
        let mut earlier = read(&path, "sha256:x").unwrap().earlier;
        assert_eq!(
            earlier.get(&1),
            Some(&Earlier::MaybeSent),
            "after {again}the stop may have been sent again: its status must be read"
        );
        retry_failed(&mut earlier);
        assert_eq!(earlier.get(&1), Some(&Earlier::MaybeSent));
    }
}

/// A resend after an escalation's intent is the escalation's force stop sent again: the stop
/// stays accepted with its force stop maybe sent (never a graceful stop, never a second force).
#[test]
fn a_resend_during_an_escalation_keeps_the_escalation() {
    let lines = [
        header().to_owned(),
        format!("{{\"kind\":\"intent\",\"seq\":1,\"job\":\"{JOB}\",\"force\":false}}\n"),
        format!("{{\"kind\":\"accepted\",\"seq\":1,\"job\":\"{JOB}\"}}\n"),
        format!("{{\"kind\":\"escalating\",\"seq\":1,\"job\":\"{JOB}\"}}\n"),
        format!("{{\"kind\":\"resending\",\"seq\":1,\"job\":\"{JOB}\"}}\n"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (_dir, path) = journal(&refs);
    assert_eq!(
        read(&path, "sha256:x").unwrap().earlier.get(&1),
        Some(&Earlier::Accepted(Escalation::MaybeSent))
    );
}

/// A refused force stop took no effect: the journal says so, and a resume may escalate again
/// (the issue: refused and maybe-applied read alike, and the resume failed the stop as unknown).
/// A force stop only declared stays maybe sent, and is never sent again.
#[test]
fn a_refused_escalation_lets_a_resume_escalate_again() {
    let lines = |last: &str| {
        [
            header().to_owned(),
            format!("{{\"kind\":\"intent\",\"seq\":1,\"job\":\"{JOB}\",\"force\":false}}\n"),
            format!("{{\"kind\":\"accepted\",\"seq\":1,\"job\":\"{JOB}\"}}\n"),
            format!("{{\"kind\":\"escalating\",\"seq\":1,\"job\":\"{JOB}\"}}\n"),
            last.to_owned(),
        ]
    };
    let refused = format!(
        "{{\"kind\":\"escalation_refused\",\"seq\":1,\"job\":\"{JOB}\",\"http\":400,\"error_code\":\"DRS.10020013\",\"at\":\"2026-12-04T02:00:00.000Z\"}}\n"
    );
    let read_state = |lines: [String; 5]| {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (_dir, path) = journal(&refs);
        read(&path, "sha256:x").unwrap().earlier.remove(&1)
    };
    assert_eq!(
        read_state(lines(&refused)),
        Some(Earlier::Accepted(Escalation::None))
    );
    assert_eq!(
        read_state(lines("")),
        Some(Earlier::Accepted(Escalation::MaybeSent))
    );
}
