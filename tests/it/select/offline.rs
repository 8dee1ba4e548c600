//! A `select` is checked offline, with the diagnostics of everything else: an unknown status
//! or job type gets a "did you mean", a missing `max` or `job_type` is named, a bad glob says
//! why, `target.mock` stands alone; all at once, exit 2, nothing read or sent.

use crate::support::stopbook;

#[test]
fn a_bad_select_is_refused_offline_with_every_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("bad.yaml");
    std::fs::write(
        &rb,
        "version: 1\nname: bad selects\ntarget: { mock: { jobs: fleet.yaml }, project_id: 054ba152d480d55b2f5dc0069e7ddef0 }\nphases:\n\
         \x20 - name: a\n    select: { job_type: snyc, status: [INCRE_TRANSFER_STRATED], max: 5 }\n\
         \x20 - name: b\n    select: { job_type: sync, name_glob: \"orders-[\", tags: { team: [] } }\n\
         \x20 - name: c\n    selet: { job_type: sync, max: 1 }\n",
    )
    .unwrap();
    let out = stopbook(["validate", rb.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "bad.yaml:3:9: `target.mock` is the embedded mock: it takes no `project_id`",
        "bad.yaml:6:25: unknown job_type `snyc`",
        "did you mean `sync`?",
        "bad.yaml:6:40: unknown job status `INCRE_TRANSFER_STRATED`",
        "did you mean `INCRE_TRANSFER_STARTED`?",
        "missing required key `max` in `select`",
        "`name_glob` is not a glob",
        "tag `team` needs at least one non-empty value",
        "unknown key `selet` in phase `c`",
        "did you mean `select`?",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
}

#[test]
fn a_select_without_a_target_to_read_resolves_against_the_embedded_mock() {
    // No target: the embedded mock serves the runbook's own jobs, all listed, so the select
    // finds nothing: with `min: 0` the phase plans empty rather than failing.
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("rb.yaml");
    std::fs::write(
        &rb,
        "version: 1\nname: n\nphases:\n  - name: a\n    stops: [ { job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r } ]\n\
         \x20 - name: b\n    select: { job_type: sync, max: 5, min: 0 }\n",
    )
    .unwrap();
    let out = stopbook(["plan", rb.to_str().unwrap()]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("Found 0 jobs"), "{md}");
    let out = stopbook(["run", rb.to_str().unwrap(), "--no-progress"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_empty_tags_map_or_glob_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("empty.yaml");
    std::fs::write(
        &rb,
        "version: 1\nname: empty filters\nphases:\n\
         \x20 - name: a\n    select: { job_type: sync, tags: {}, max: 5 }\n\
         \x20 - name: b\n    select: { job_type: sync, name_glob: \"\", max: 5 }\n",
    )
    .unwrap();
    let out = stopbook(["validate", rb.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("empty.yaml:5:"), "{err}");
    assert!(err.contains("`tags` is empty"), "{err}");
    assert!(err.contains("empty.yaml:7:"), "{err}");
    assert!(err.contains("`name_glob` is empty"), "{err}");
}

#[test]
fn a_broken_fleet_file_is_reported_by_validate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.yaml"),
        "- { id: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r, name: a, status: INCRE_TRANSFER_STRATED }\n",
    )
    .unwrap();
    let rb = dir.path().join("rb.yaml");
    std::fs::write(
        &rb,
        "version: 1\nname: n\ntarget: { mock: { jobs: fleet.yaml } }\nphases:\n  - name: b\n    select: { job_type: sync, max: 5 }\n",
    )
    .unwrap();
    let out = stopbook(["validate", rb.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("rb.yaml:3:"), "{err}");
    assert!(err.contains("INCRE_TRANSFER_STRATED"), "{err}");
}

#[test]
fn a_select_without_a_target_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let rb = dir.path().join("rb.yaml");
    std::fs::write(
        &rb,
        "version: 1\nname: n\nphases:\n  - name: b\n    select: { job_type: sync, max: 5 }\n",
    )
    .unwrap();
    let out = stopbook(["plan", rb.to_str().unwrap()]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "it finds none, fewer than `min: 1`"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("note: the runbook has no target"), "{err}");
    assert!(err.contains("fewer than its `min: 1`"), "{err}");
    assert!(err.contains("target: { mock: { jobs: FILE } }"), "{err}");
}
