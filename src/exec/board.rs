//! Status reads for many jobs at once (jobs waited for, and jobs whose stop's outcome is being
//! settled): pages of ListJobs instead of one detail read per job, when that costs fewer calls.
//!
//! A run that waits for 2,000 jobs polling each every 10 s makes 200 detail reads a second; one
//! ListJobs page holds 500 jobs' statuses. So while more jobs wait than a round of listing takes
//! pages, a waiting job's status comes from the board: the first waiter to find the board older
//! than its own last read pages through ListJobs (for each job type that holds jobs, 500 to a
//! page, within the run's shared limits), and every waiter queued behind it takes its status
//! from that listing. A job no listing shows, a round whose listing failed, and a run with few
//! jobs waiting read the job's detail as before. Listings lag like any read: the wait's rules for
//! late statuses apply unchanged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::Context;
use super::settle::{read_status, take_notice};
use crate::drs::JobId;
use crate::live::detail::Read;
use crate::live::listing::{self, Page, Query};
use crate::runbook::model::Stop;

/// ListJobs' job types (`job_type` is required), and the jobs a page asks for.
const JOB_TYPES: [&str; 3] = ["migration", "sync", "cloudDataGuard"];
const PAGE: usize = 500;
/// A safety bound on the pages of one job type in one round (5,000,000 jobs).
const MOST_PAGES: usize = 10_000;

/// The run's board of statuses from ListJobs.
#[derive(Default)]
pub struct Board {
    /// Jobs whose status is being read again and again right now (waited for, or settling).
    waiting: AtomicUsize,
    /// The pages a round of listing takes, once known (before: one per job type).
    pages: AtomicUsize,
    listing: Mutex<Listing>,
}

#[derive(Default)]
struct Listing {
    /// When the last complete listing began; `None` before one.
    started: Option<Instant>,
    statuses: HashMap<JobId, String>,
    /// The job types that held jobs in the last listing (all of them before one).
    types: Option<Vec<&'static str>>,
}

/// A job's place among the waiting, given back when its wait ends.
pub struct Waiting<'a>(&'a Board);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Board {
    /// Counts a job as waiting until the value is dropped.
    pub fn wait(&self) -> Waiting<'_> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(self)
    }

    /// Whether a round of listing costs fewer calls than a detail read per waiting job.
    fn worth_listing(&self) -> bool {
        let pages = match self.pages.load(Ordering::Relaxed) {
            0 => JOB_TYPES.len(),
            n => n,
        };
        self.waiting.load(Ordering::Relaxed) > pages
    }

    /// The job's status, read no earlier than `not_before`: from a listing when that is cheaper
    /// (one listed after `not_before`, made now if need be), else from its detail.
    pub async fn read(&self, ctx: &Context, stop: &Stop, not_before: Instant) -> Read {
        if !self.worth_listing() {
            return read_status(ctx, stop).await;
        }
        let found = {
            let mut listing = self.listing.lock().await;
            if listing.started.is_none_or(|at| at < not_before) {
                self.refresh(ctx, stop, &mut listing).await;
            }
            let fresh = listing.started.is_some_and(|at| at >= not_before);
            fresh
                .then(|| listing.statuses.get(&stop.job).cloned())
                .flatten()
        };
        match found {
            Some(status) => Read::Status(status),
            None => read_status(ctx, stop).await,
        }
    }

    /// One round of listing; on any failure the board keeps its older listing.
    async fn refresh(&self, ctx: &Context, stop: &Stop, listing: &mut Listing) {
        let started = Instant::now();
        let types = listing.types.clone().unwrap_or(JOB_TYPES.to_vec());
        let mut statuses = HashMap::new();
        let mut holding = Vec::new();
        let mut pages = 0;
        for job_type in types {
            match list_type(ctx, stop, job_type, &mut statuses).await {
                Some(0) => {}
                Some(n) => {
                    holding.push(job_type);
                    pages += n;
                }
                None => return,
            }
        }
        self.pages.store(pages.max(1), Ordering::Relaxed);
        *listing = Listing {
            started: Some(started),
            statuses,
            types: Some(holding),
        };
    }
}

/// Pages through ListJobs for one job type, one page after another, adding what it shows; the
/// pages it took, or `None` when a page failed. One after another, because a page that fails
/// ends the round: with 5xx on a tenth of all reads, rounds of 400 pages read 50 at a time
/// wasted dozens of pages each (benches/run.rs (d): 33 s before, past 12 minutes).
async fn list_type(
    ctx: &Context,
    stop: &Stop,
    job_type: &str,
    statuses: &mut HashMap<JobId, String>,
) -> Option<usize> {
    let query = Query::new(job_type, PAGE);
    let page = |offset: usize| {
        let query = query.page(offset);
        async move {
            let turn = ctx.permit().await.ok_or(())?;
            let answer = ctx
                .client
                .list_jobs(&query, stop.settings.request_timeout.get())
                .await;
            drop(turn);
            let answer = answer.map_err(drop)?;
            if answer.http != 200 {
                take_notice(ctx, stop, &answer);
                return Err(());
            }
            let page = listing::listed(&answer, "jobs").map_err(drop)?;
            Ok(Page {
                total: page.total,
                items: page.items.iter().filter_map(job_status).collect::<Vec<_>>(),
            })
        }
    };
    let pages = listing::walk(PAGE, 1, MOST_PAGES * PAGE, page).await.ok()?;
    let total = pages[0].total;
    let count = pages.len();
    statuses.extend(pages.into_iter().flat_map(|p| p.items));
    Some(if total == 0 { 0 } else { count })
}

/// A listed job's ID and status; `None` for an item without both (it is read in detail).
fn job_status(job: &Value) -> Option<(JobId, String)> {
    let id = job.get("id")?.as_str()?.parse::<JobId>().ok()?;
    let status = job.get("status")?.as_str()?;
    Some((id, status.to_owned()))
}
