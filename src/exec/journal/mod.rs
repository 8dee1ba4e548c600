//! The journal: an append-only record of every stop, so an interrupted run resumes without
//! stopping anything twice.
//!
//! A stop's `intent` is on disk (`fsync`ed) before its request is sent, and written only when
//! the request is about to leave (see [`super::intents`]); the writer commits the intents of
//! every worker waiting at once in one `fsync`. An intent means "may have been sent", and a
//! resumed run reads the job's status before doing anything for it. `accepted` (when the job is
//! waited for) and the `result` follow without waiting for the disk: they reach the file in
//! order, a `kill -9` does not lose what was written, and losing them to a power cut costs only
//! status reads. An escalation's force stop has an intent of its own (`escalating`, on disk
//! before it is sent) and an `escalated` line when it was accepted, so a resumed run never sends
//! a second one. All writes go through one writer thread that commits them in groups. A torn
//! last line (a crash mid-write) is ignored on reading; any other line that cannot be read is
//! an error naming it. The journal's folder is synced when the file is created, so the file
//! itself survives a power cut.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use std::sync::mpsc;

use tokio::sync::oneshot;

mod bind;
mod entry;
mod lock;
mod read;

pub use bind::check as check_binding;
pub use entry::{Binding, Closing, Entry, Finished, Header, PlannedStop, Said, planned};
pub use lock::{Holder, Lock, Seen, holder, lock_file};
pub use read::{Earlier, Escalation, age, each, read, retarget, retry_failed, step};

/// What can go wrong with a journal; each names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The file cannot be read.
    #[error("cannot read the journal `{path}`: {reason}")]
    Read {
        /// The journal's path.
        path: String,
        /// Why it could not be read.
        reason: String,
    },
    /// A line that is not the torn last one cannot be read.
    #[error(
        "the journal `{path}` has an unreadable line {line}: {reason}; it was not written by stopbook, or was damaged"
    )]
    Unreadable {
        /// The journal's path.
        path: String,
        /// The unreadable line, from 1.
        line: usize,
        /// Why it could not be read.
        reason: String,
    },
    /// The journal is of another plan.
    #[error(
        "the journal `{path}` (line {line}) belongs to plan {found}, not {expected}: the runbook changed since"
    )]
    OtherPlan {
        /// The journal's path.
        path: String,
        /// The line of the run header naming the other plan, from 1.
        line: usize,
        /// The plan the journal belongs to.
        found: String,
        /// The plan being run.
        expected: String,
    },
    /// The file or its folder cannot be created, opened or synced.
    #[error("cannot open the journal `{path}`: {reason}")]
    Open {
        /// The journal's path.
        path: String,
        /// Why it could not be opened.
        reason: String,
    },
    /// A write or an fsync failed; what was handed over after it may be lost.
    #[error("cannot write the journal `{path}`: {reason}")]
    Write {
        /// The journal's path.
        path: String,
        /// Why it could not be written.
        reason: String,
    },
    /// Another run holds the journal.
    #[error(
        "the journal `{path}` is in use by another run ({holder}): wait for it to end (two runs on one journal would stop the same jobs); nothing was sent"
    )]
    InUse {
        /// The journal's path, as given.
        path: String,
        /// Who holds it, as far as it can be told.
        holder: String,
    },
    /// The journal appeared or changed after the run read it.
    #[error(
        "the journal `{path}` {what} since this run read it: another process wrote it, and this run no longer knows what it says; nothing was sent\n  = run again: the journal is read anew"
    )]
    Changed {
        /// The journal's path, as given.
        path: String,
        /// What changed.
        what: String,
    },
    /// The writer thread is gone.
    #[error("the journal writer stopped")]
    WriterStopped,
}

pub(crate) fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// How long the writer lets entries that nobody waits for gather before writing them.
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

/// What the writer thread is asked to do.
enum Job {
    /// Append, without waiting for the disk.
    Append(Entry),
    /// Append (possibly nothing), then `fsync` before answering.
    Durable(Vec<Entry>, oneshot::Sender<Result<(), JournalError>>),
    /// From now on, send each line written here too, as it is written.
    Mirror(tokio::sync::mpsc::UnboundedSender<crate::exec::Event>),
}

/// Appends entries through a group-committing writer thread.
#[derive(Clone)]
pub struct Journal {
    sender: mpsc::Sender<Job>,
}

/// Resolves once entries handed to [`Journal::declare`] are on disk.
pub type Durable = oneshot::Receiver<Result<(), JournalError>>;

impl Journal {
    /// Opens `path` for appending (creating it and its folder) and writes the run header.
    pub async fn open(path: &Path, header: Header) -> Result<Self, JournalError> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| JournalError::Open {
            path: shown(path),
            reason: format!("cannot create its folder `{}`: {e}", dir.display()),
        })?;
        let created = !path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| JournalError::Open {
                path: shown(path),
                reason: e.to_string(),
            })?;
        // One run a journal: two runs resuming the same journal at once would each take up
        // the same stops. The lock lasts as long as the writer holds the file.
        if let Err(std::fs::TryLockError::WouldBlock) = file.try_lock() {
            return Err(JournalError::InUse {
                path: shown(path),
                holder: "its process left no name".to_owned(),
            });
        }
        if !created {
            // A line torn by a crash would be followed by the lines appended now, and no
            // longer be the last: cut it off first (its stop's earlier lines say enough).
            trim_torn_tail(path).map_err(|e| JournalError::Open {
                path: shown(path),
                reason: format!("cannot cut off its torn last line: {e}"),
            })?;
        }
        if created {
            // The new file's name lives in the folder: sync it, or a power cut may lose the
            // whole journal however often the file itself was synced.
            sync_folder(dir).map_err(|e| JournalError::Open {
                path: shown(path),
                reason: format!("cannot sync its folder `{}`: {e}", dir.display()),
            })?;
        }
        let (sender, receiver) = mpsc::channel();
        let shown_path = shown(path);
        let path: PathBuf = path.to_owned();
        std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || writer(file, path, receiver))
            .map_err(|e| JournalError::Open {
                path: shown_path,
                reason: format!("cannot start the journal writer: {e}"),
            })?;
        let journal = Journal { sender };
        journal.write(vec![Entry::Run(Box::new(header))]).await?;
        Ok(journal)
    }

    /// Sends every line written from now on to `events` as well ([`crate::exec::Event::Journaled`]),
    /// once it reached the file: the run's event stream.
    pub fn mirror(&self, events: tokio::sync::mpsc::UnboundedSender<crate::exec::Event>) {
        let _ = self.sender.send(Job::Mirror(events));
    }

    /// Appends `entry` without waiting for the disk: for entries whose loss a resume survives
    /// (an intent alone makes the resumed run read the job's status before anything else).
    pub fn record(&self, entry: Entry) {
        let _ = self.sender.send(Job::Append(entry));
    }

    /// Hands `entries` to the writer now; the answer says when they are on disk. Lets the
    /// caller go on while the `fsync` runs.
    pub fn declare(&self, entries: Vec<Entry>) -> Durable {
        let (done, durable) = oneshot::channel();
        if let Err(mpsc::SendError(Job::Durable(_, done))) =
            self.sender.send(Job::Durable(entries, done))
        {
            let _ = done.send(Err(JournalError::WriterStopped));
        }
        durable
    }

    /// Appends `entries` and returns once they, and everything recorded before, are on disk.
    pub async fn write(&self, entries: Vec<Entry>) -> Result<(), JournalError> {
        settled(self.declare(entries)).await
    }

    /// Writes the plan's stops (see [`planned`]), ten lines at a time, and returns once they
    /// are on disk.
    pub async fn write_plan(
        &self,
        plan: &crate::plan::Plan,
        shard: Option<(usize, usize)>,
    ) -> Result<(), JournalError> {
        let mut pending = Vec::with_capacity(10);
        // Handed over in groups, each waited for, so the writer's queue holds at most one.
        for line in planned(plan, shard) {
            pending.push(line);
            if pending.len() == 10 {
                self.write(std::mem::take(&mut pending)).await?;
            }
        }
        self.write(pending).await
    }

    /// Returns once everything recorded so far is on disk.
    pub async fn sync(&self) -> Result<(), JournalError> {
        self.write(Vec::new()).await
    }
}

/// Cuts the file after its last newline when it ends in a line torn by a crash; a whole entry
/// that lacks only its newline (the reader takes it) is ended with one instead.
fn trim_torn_tail(path: &Path) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut end = len;
    let mut chunk = vec![0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let piece = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(piece)?;
        if end == len && piece.last() == Some(&b'\n') {
            return Ok(());
        }
        if let Some(at) = piece.iter().rposition(|b| *b == b'\n') {
            end = start + at as u64 + 1;
            break;
        }
        end = start;
    }
    if end < len {
        // A whole entry that only lacks its newline was read as a line: keep it, ended.
        let mut tail = vec![0u8; (len - end) as usize];
        file.seek(SeekFrom::Start(end))?;
        file.read_exact(&mut tail)?;
        if serde_json::from_slice::<Entry>(&tail).is_ok() {
            use std::io::Write as _;
            file.seek(SeekFrom::End(0))?;
            file.write_all(b"\n")?;
        } else {
            file.set_len(end)?;
        }
        file.sync_data()?;
    }
    Ok(())
}

#[cfg(unix)]
fn sync_folder(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_folder(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// What a [`Durable`] came to.
pub async fn settled(durable: Durable) -> Result<(), JournalError> {
    durable.await.map_err(|_| JournalError::WriterStopped)?
}

/// Takes what else is waiting; while nobody waits for the disk, lets entries gather for up to
/// [`LINGER`] (one wake-up per linger, not per entry), but an entry someone waits for ends the
/// lingering at once: an intent holds back its send.
fn gather(receiver: &mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    let awaited = |batch: &Vec<Job>| batch.iter().any(|j| matches!(j, Job::Durable(..)));
    let until = std::time::Instant::now() + LINGER;
    loop {
        while let Ok(more) = receiver.try_recv() {
            batch.push(more);
        }
        let left = until.saturating_duration_since(std::time::Instant::now());
        if awaited(batch) || left.is_zero() {
            return;
        }
        match receiver.recv_timeout(left) {
            Ok(job) => batch.push(job),
            Err(_) => return,
        }
    }
}

fn writer(file: File, path: PathBuf, receiver: mpsc::Receiver<Job>) {
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    let mut line = Vec::with_capacity(512);
    let mut batch = Vec::new();
    let mut failed: Option<JournalError> = None;
    let mut mirror = None;
    let mut mirrored: Vec<std::sync::Arc<str>> = Vec::new();
    while let Ok(first) = receiver.recv() {
        batch.push(first);
        gather(&receiver, &mut batch);
        let mut result = Ok(());
        let mut awaited = false;
        for job in &batch {
            let entries = match job {
                Job::Append(entry) => std::slice::from_ref(entry),
                Job::Durable(entries, _) => {
                    awaited = true;
                    entries.as_slice()
                }
                Job::Mirror(to) => {
                    mirror = Some(to.clone());
                    continue;
                }
            };
            for entry in entries {
                line.clear();
                let written = serde_json::to_writer(&mut line, entry)
                    .map_err(|e| e.to_string())
                    .and_then(|()| {
                        line.push(b'\n');
                        out.write_all(&line).map_err(|e| e.to_string())
                    });
                if mirror.is_some() && written.is_ok() {
                    let text = String::from_utf8_lossy(&line[..line.len() - 1]);
                    mirrored.push(std::sync::Arc::from(text.as_ref()));
                }
                result = result.and(written);
            }
        }
        // Every line reaches the file at once, so a crash of this process loses none; only
        // what someone waits for is also forced to the disk.
        result = result.and(out.flush().map_err(|e| e.to_string()));
        if let Some(to) = &mirror {
            for text in mirrored.drain(..) {
                let _ = to.send(crate::exec::Event::Journaled(text));
            }
        }
        if awaited {
            result = result.and(out.get_ref().sync_data().map_err(|e| e.to_string()));
        }
        // A failure sticks: whoever waits next learns that something was lost.
        if let Err(e) = result {
            failed.get_or_insert_with(|| JournalError::Write {
                path: shown(&path),
                reason: e,
            });
        }
        let result = failed.clone().map_or(Ok(()), Err);
        for job in batch.drain(..) {
            if let Job::Durable(_, done) = job {
                let _ = done.send(result.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests;
