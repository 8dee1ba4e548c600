//! One run a journal, from before it reads the journal to its end.
//!
//! The lock is a file beside the journal (`JOURNAL.lock`) that the run holds an exclusive lock
//! on and writes its name into (pid, host, user, since), so a second run is refused naming the
//! holder. A separate file, not the journal itself, so a run can hold it while it is configured
//! and asks its question, before the journal exists, and leave nothing behind that looks like
//! a journal when it is not confirmed. [`Seen`] is what the run read, so a journal written
//! meanwhile by something that ignores the lock is refused rather than appended to.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::{JournalError, shown};

/// Who holds a journal: the process, where it runs, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The process ID.
    pub pid: u32,
    /// The machine's host name.
    pub host: String,
    /// The user the process runs as.
    pub user: String,
    /// When it took the journal (RFC 3339, UTC).
    pub since: String,
}

impl Holder {
    /// This process, now.
    pub fn this_process() -> Self {
        Holder {
            pid: std::process::id(),
            host: host_name(),
            user: user_name(),
            since: crate::timestamp::rfc3339_seconds(SystemTime::now()),
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {}, user {}, since {}",
            self.pid, self.host, self.user, self.since
        )
    }
}

/// The user as the environment names it, or as the system knows this process's uid.
fn user_name() -> String {
    let named = ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()));
    named
        .or_else(|| {
            let status = small_file("/proc/self/status")?;
            let uid = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))?
                .split_whitespace()
                .next()?
                .to_owned();
            let passwd = small_file("/etc/passwd").unwrap_or_default();
            let name = passwd.lines().find_map(|l| {
                let mut fields = l.split(':');
                let name = fields.next()?;
                (fields.nth(1)? == uid).then(|| name.to_owned())
            });
            Some(name.unwrap_or_else(|| format!("uid {uid}")))
        })
        .unwrap_or_else(|| "an unknown user".to_owned())
}

/// A small system file's text (at most 64 KiB of it).
fn small_file(path: &str) -> Option<String> {
    let mut text = String::new();
    File::open(path)
        .ok()?
        .take(64 * 1024)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|f| Some(small_file(f)?.trim().to_owned()).filter(|h| !h.is_empty()))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "an unknown host".to_owned())
}

/// A journal held by this process until the value is dropped (or the process ends).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// The file a journal's lock lives in.
pub fn lock_file(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl Lock {
    /// Takes the journal at `journal` for this process (creating its folder), or says who
    /// holds it.
    pub fn take(journal: &Path) -> Result<Lock, JournalError> {
        let open_error = |reason: String| JournalError::Open {
            path: shown(journal),
            reason,
        };
        if let Some(dir) = journal.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                open_error(format!("cannot create its folder `{}`: {e}", dir.display()))
            })?;
        }
        let path = lock_file(journal);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| open_error(format!("cannot open its lock `{}`: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::InUse {
                    path: shown(journal),
                    holder: holder_of(&mut file),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(open_error(format!("cannot lock `{}`: {e}", path.display())));
            }
        }
        let holder = serde_json::to_vec(&Holder::this_process()).unwrap_or_default();
        file.set_len(0)
            .and_then(|()| file.write_all(&holder))
            .and_then(|()| file.flush())
            .map_err(|e| open_error(format!("cannot write its lock `{}`: {e}", path.display())))?;
        Ok(Lock { _file: file })
    }
}

/// Who holds the journal at `journal`, when a process does (read without taking or creating
/// anything).
pub fn holder(journal: &Path) -> Option<String> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(lock_file(journal))
        .ok()?;
    match file.try_lock() {
        Err(std::fs::TryLockError::WouldBlock) => Some(holder_of(&mut file)),
        // Taken by this probe, so nobody held it: let it go at once (dropping the file does).
        _ => None,
    }
}

/// The holder named in a lock file someone else holds.
fn holder_of(file: &mut File) -> String {
    let mut text = Vec::new();
    let read = file.take(4096).read_to_end(&mut text);
    match read
        .ok()
        .and_then(|_| serde_json::from_slice::<Holder>(&text).ok())
    {
        Some(holder) => holder.to_string(),
        None => "a process that has not yet written its name".to_owned(),
    }
}

/// What a run saw of its journal when it read it: whether it existed, its size and its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    len: Option<u64>,
    modified: Option<SystemTime>,
}

impl Seen {
    /// The journal at `path` as it is now.
    pub fn of(path: &Path) -> Self {
        let meta = std::fs::metadata(path).ok();
        Seen {
            len: meta.as_ref().map(std::fs::Metadata::len),
            modified: meta.and_then(|m| m.modified().ok()),
        }
    }

    /// Refuses a journal that is not as it was seen.
    pub fn unchanged(&self, path: &Path) -> Result<(), JournalError> {
        let now = Seen::of(path);
        let what = match (self.len, now.len) {
            _ if now == *self => return Ok(()),
            (None, Some(_)) => "appeared".to_owned(),
            (Some(_), None) => "was removed".to_owned(),
            (Some(then), Some(len)) if then != len => {
                format!("changed ({then} bytes then, {len} now)")
            }
            _ => "was written".to_owned(),
        };
        Err(JournalError::Changed {
            path: shown(path),
            what,
        })
    }
}
