//! Intents: a stop may be sent only once its intent is on disk, and its intent goes to disk
//! only when it is about to be sent.
//!
//! An intent means "this request may have left", so a resumed run reads the job's status
//! before doing anything for it. Written just before the send, it is true of nearly every stop
//! it names: a `kill -9` leaves intents only for the requests that were in flight (or about to
//! be), and the stops behind them are sent afresh and judged on their own answers. The cost of
//! an `fsync` per send is shared: the journal's writer commits the intents of every worker
//! waiting at that moment together, so a run at concurrency N pays about one `fsync` per N
//! sends.

use super::history::At;
use super::journal::Entry;
use super::{Context, RunOutcome};
use crate::runbook::model::Stop;

/// Puts the intents of `stops` (seq, stop; going out in batch-stop call `batch`, in batch mode)
/// on disk, in one write; false (the run halted, with
/// the reason) when the journal could not take them, and nothing may be sent.
pub async fn declare(ctx: &Context, stops: &[(usize, &Stop)], batch: Option<usize>) -> bool {
    let at = Some(At::now());
    let entries = stops
        .iter()
        .map(|(seq, stop)| Entry::Intent {
            seq: *seq,
            job: stop.job,
            force: stop.settings.force,
            batch,
            at,
        })
        .collect();
    write_or_halt(ctx, entries).await
}

/// Puts `entries` (intents, resends, escalations) on disk before what they announce is sent;
/// false (the run halted) when the journal could not take them.
pub async fn write_or_halt(ctx: &Context, entries: Vec<Entry>) -> bool {
    let Some(journal) = &ctx.journal else {
        return true;
    };
    match journal.write(entries).await {
        Ok(()) => true,
        Err(e) => {
            ctx.halt(format!("{e}: nothing more is sent"), RunOutcome::Aborted);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::journal::Journal;

    #[tokio::test]
    async fn a_journal_that_cannot_be_written_refuses_the_send() {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let header = super::super::journal::Header::of_plan("sha256:x", "t");
        let refused = Journal::open(std::path::Path::new("/dev/full"), header).await;
        assert!(
            refused.is_err(),
            "the run header could not have been written"
        );
    }
}
