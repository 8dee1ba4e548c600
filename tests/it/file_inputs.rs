//! Every file a user names is read within a bound: an endless file (`/dev/zero`, a FIFO that
//! never ends) or a huge one (a sparse 10 GiB file) is refused with a message naming the file
//! and the limit, and never read into memory. The child runs under an address-space limit far
//! below the huge file, so reading it whole fails there instead of on the machine, and under a
//! timeout, so an endless read fails the test instead of hanging it.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::root;

/// Address space the child may map: enough for the binary and its threads, far below 10 GiB.
const ADDRESS_SPACE: u64 = 3 << 30;

/// The kinds of endless or huge file every input is tried with.
struct Hostile {
    _dir: tempfile::TempDir,
    sparse: PathBuf,
    fifo: PathBuf,
}

impl Hostile {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sparse = dir.path().join("huge.yaml");
        std::fs::File::create(&sparse)
            .unwrap()
            .set_len(10 << 30)
            .unwrap();
        let fifo = dir.path().join("endless.yaml");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        Hostile {
            _dir: dir,
            sparse,
            fifo,
        }
    }

    /// The endless and the huge files, as the arguments a test puts where a file belongs.
    fn files(&self) -> [&Path; 2] {
        [Path::new("/dev/zero"), &self.sparse]
    }
}

/// A writer that fills `fifo` for as long as it lives (`yes` on a read-write handle, so
/// neither side waits for the other to open it).
struct Endless(std::process::Child);

impl Endless {
    fn feed(fifo: &Path) -> Self {
        let handle = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(fifo)
            .unwrap();
        let child = std::process::Command::new("yes")
            .arg("0123456789abcdef0123456789abcdef0123456789abcdef")
            .stdout(handle)
            .spawn()
            .unwrap();
        Endless(child)
    }
}

impl Drop for Endless {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `stopbook ARGS` in `dir` under the address-space limit and a timeout; the exit code
/// and stderr.
fn bounded_run(dir: &Path, args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"));
    cmd.current_dir(dir).args(args).env_remove("RUST_LOG");
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = assert_cmd::Command::from_std(cmd)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `stopbook ARGS` with `file` in it is refused (exit 2) with a message naming `file` and a
/// limit (a size in KiB or MiB).
fn assert_refused(dir: &Path, args: &[&std::ffi::OsStr], file: &Path) {
    let (code, stderr) = bounded_run(dir, args);
    let shown = file.file_name().unwrap().to_str().unwrap();
    assert_eq!(code, Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(shown),
        "{args:?} does not name {shown}: {stderr}"
    );
    assert!(
        stderr.contains(" MiB") || stderr.contains(" KiB"),
        "{args:?} names no limit: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

fn os(text: &str) -> &std::ffi::OsStr {
    text.as_ref()
}

/// Each file of `hostile` (and its FIFO, fed endlessly) put where `args_for` puts it.
fn each_hostile_file(hostile: &Hostile, dir: &Path, args_for: impl Fn(&Path) -> Vec<String>) {
    for file in hostile.files() {
        let args = args_for(file);
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| os(a)).collect();
        assert_refused(dir, &args, file);
    }
    let _writer = Endless::feed(&hostile.fifo);
    let args = args_for(&hostile.fifo);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| os(a)).collect();
    assert_refused(dir, &args, &hostile.fifo);
}

fn quickstart() -> String {
    root()
        .join("runbooks/quickstart.yaml")
        .to_string_lossy()
        .into_owned()
}

fn path(file: &Path) -> String {
    file.to_string_lossy().into_owned()
}

#[test]
fn the_mock_jobs_file_is_read_within_a_bound() {
    let hostile = Hostile::new();
    each_hostile_file(&hostile, &root(), |file| {
        vec!["mock".into(), "--jobs".into(), path(file)]
    });
}

#[test]
fn a_ca_cert_is_read_within_a_bound_by_run_and_conform() {
    let hostile = Hostile::new();
    each_hostile_file(&hostile, &root(), |file| {
        let rb = quickstart();
        vec![
            "run".into(),
            rb,
            "--no-progress".into(),
            "--ca-cert".into(),
            path(file),
        ]
    });
    each_hostile_file(&hostile, &root(), |file| {
        vec!["conform".into(), "--ca-cert".into(), path(file)]
    });
}

/// A runbook in `dir` with `target: { mock: { jobs: FILE } }` and a select.
fn fleet_runbook(dir: &Path, fleet: &Path) -> PathBuf {
    let rb = dir.join(format!(
        "fleet-{}.yaml",
        fleet.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(
        &rb,
        format!(
            "version: 1\nname: n\ntarget:\n  mock: {{ jobs: {} }}\nphases:\n  - name: p\n    select: {{ job_type: sync, status: [INCRE_TRANSFER_STARTED], max: 10 }}\n",
            fleet.display()
        ),
    )
    .unwrap();
    rb
}

#[test]
fn a_runbook_fleet_file_is_read_within_a_bound_by_validate_plan_and_run() {
    let hostile = Hostile::new();
    let dir = tempfile::tempdir().unwrap();
    for command in ["validate", "plan", "run"] {
        each_hostile_file(&hostile, dir.path(), |file| {
            let rb = fleet_runbook(dir.path(), file);
            let mut args = vec![command.to_owned(), path(&rb)];
            if command == "run" {
                args.push("--no-progress".into());
            }
            args
        });
    }
}

#[test]
fn a_stops_file_and_the_runbook_itself_are_read_within_a_bound() {
    let hostile = Hostile::new();
    let dir = tempfile::tempdir().unwrap();
    each_hostile_file(&hostile, dir.path(), |file| {
        let rb = dir.path().join("stops.yaml");
        std::fs::write(
            &rb,
            format!(
                "version: 1\nname: n\nphases:\n  - name: p\n    stops_file: {}\n",
                file.display()
            ),
        )
        .unwrap();
        vec!["validate".into(), path(&rb)]
    });
    each_hostile_file(&hostile, dir.path(), |file| {
        vec!["validate".into(), path(file)]
    });
}

#[test]
fn plans_reports_and_fixtures_are_read_within_a_bound() {
    let hostile = Hostile::new();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let written = crate::support::stopbook(["plan", &quickstart(), "--out"])
        .arg(&plan)
        .output()
        .unwrap();
    assert!(written.status.success());
    each_hostile_file(&hostile, dir.path(), |file| vec!["show".into(), path(file)]);
    each_hostile_file(&hostile, dir.path(), |file| {
        vec![
            "verify".into(),
            "--plan".into(),
            path(file),
            "--report".into(),
            path(&plan),
        ]
    });
    each_hostile_file(&hostile, dir.path(), |file| {
        vec![
            "verify".into(),
            "--plan".into(),
            path(&plan),
            "--report".into(),
            path(file),
        ]
    });
    each_hostile_file(&hostile, dir.path(), |file| {
        vec!["conform".into(), path(file)]
    });
}

#[test]
fn a_token_file_is_read_within_a_bound() {
    let hostile = Hostile::new();
    let dir = tempfile::tempdir().unwrap();
    each_hostile_file(&hostile, dir.path(), |file| {
        let rb = dir.path().join("token.yaml");
        std::fs::write(
            &rb,
            format!(
                "version: 1\nname: n\ntarget:\n  endpoint: http://127.0.0.1:9\n  project_id: 054ba152d480d55b2f5dc0069e7ddef0\n  auth: {{ token_file: {} }}\nphases:\n  - name: p\n    stops:\n      - job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r\n",
                file.display()
            ),
        )
        .unwrap();
        vec![
            "run".into(),
            path(&rb),
            "--no-progress".into(),
            "--yes".into(),
        ]
    });
}

/// `run --plan` reads the approved plan as a typed plan document, within the plan's bound.
#[test]
fn an_approved_plan_is_read_within_a_bound() {
    let hostile = Hostile::new();
    let dir = tempfile::tempdir().unwrap();
    each_hostile_file(&hostile, dir.path(), |file| {
        vec![
            "run".into(),
            quickstart(),
            "--no-progress".into(),
            "--plan".into(),
            path(file),
        ]
    });
}
