//! ListJobs (and the tag filter, paged the same way) read page by page, in one home: the query
//! of a page, what a page's answer holds, and the walk over the pages (the first gives the
//! total, the others are then read at once, a few at a time). A `select` (`live::select`) and a
//! run's board of statuses (`exec::board`) both list through here; each keeps its own judgement
//! of the items (a select refuses an item it cannot read, the board skips it).

use std::future::Future;

use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use crate::api::client::{Answer, query_string};

/// A ListJobs query: its filters, and how many jobs a page asks for.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    filters: Vec<(&'a str, &'a str)>,
    limit: usize,
}

impl<'a> Query<'a> {
    /// Jobs of `job_type` (ListJobs requires one), `limit` to a page.
    pub fn new(job_type: &'a str, limit: usize) -> Self {
        Query {
            filters: vec![("job_type", job_type)],
            limit: limit.max(1),
        }
    }

    /// Only jobs whose `key` is `value`, as the server applies it.
    pub fn filter(mut self, key: &'a str, value: &'a str) -> Self {
        self.filters.push((key, value));
        self
    }

    /// The query string of the page at `offset`.
    pub fn page(&self, offset: usize) -> String {
        let (offset, limit) = (offset.to_string(), self.limit.to_string());
        let mut pairs = self.filters.clone();
        pairs.push(("limit", &limit));
        pairs.push(("offset", &offset));
        query_string(&pairs)
    }
}

/// What a page's answer holds: the total the server says match, and the page's items.
#[derive(Debug)]
pub struct Listed<'a> {
    /// `total_count`.
    pub total: usize,
    /// The items of its list (`jobs` for ListJobs).
    pub items: &'a [Value],
}

/// Why a 200 is not a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unlisted {
    /// The body is not JSON.
    #[error("the answer is not JSON")]
    NotJson,
    /// No `total_count`.
    #[error("the answer has no `total_count`")]
    NoTotal,
    /// No list of items under the name it should have.
    #[error("the answer has no `{0}` list")]
    NoList(&'static str),
}

/// The page a 200 `answer` holds, its items in the list named `list`.
pub fn listed<'a>(answer: &'a Answer, list: &'static str) -> Result<Listed<'a>, Unlisted> {
    let body = answer.body.as_ref().ok_or(Unlisted::NotJson)?;
    let total = body
        .get("total_count")
        .and_then(Value::as_u64)
        .ok_or(Unlisted::NoTotal)?;
    let items = body
        .get(list)
        .and_then(Value::as_array)
        .ok_or(Unlisted::NoList(list))?;
    Ok(Listed {
        total: usize::try_from(total).unwrap_or(usize::MAX),
        items,
    })
}

/// One page read: the total it says, and what its reader took of its items.
#[derive(Debug)]
pub struct Page<T> {
    /// `total_count` as this page said it.
    pub total: usize,
    /// What the reader took.
    pub items: T,
}

/// Why a walk over the pages stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Walk<E> {
    /// A page could not be read.
    Read(E),
    /// The first page says more match than the walk may read (this many).
    TooMany(usize),
}

/// Every page of a listing, in order: the first (at offset 0) gives the total; the others,
/// `limit` apart, are then read at once, at most `concurrency` in flight. Nothing is read past
/// the first page when it says more than `most` match, and no page starts after one failed.
pub async fn walk<T, E, F, Fut>(
    limit: usize,
    concurrency: usize,
    most: usize,
    read: F,
) -> Result<Vec<Page<T>>, Walk<E>>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
{
    let first = read(0).await.map_err(Walk::Read)?;
    let total = first.total;
    if total > most {
        return Err(Walk::TooMany(total));
    }
    let limit = limit.max(1);
    let offsets: Vec<usize> = (1..total.div_ceil(limit)).map(|n| n * limit).collect();
    let mut rest: Vec<(usize, Page<T>)> = futures_util::stream::iter(offsets)
        .map(|offset| {
            let page = read(offset);
            async move { page.await.map(|p| (offset, p)) }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await
        .map_err(Walk::Read)?;
    rest.sort_by_key(|(offset, _)| *offset);
    Ok(std::iter::once(first)
        .chain(rest.into_iter().map(|(_, p)| p))
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_page_query_names_its_filters_limit_and_offset() {
        let query = Query::new("sync", 500).filter("name", "a b");
        assert_eq!(
            query.page(1000),
            "job_type=sync&name=a%20b&limit=500&offset=1000"
        );
    }

    #[test]
    fn a_page_answer_holds_its_total_and_items() {
        let answer = |body| Answer {
            http: 200,
            body,
            retry_after: None,
            request_id: None,
        };
        let page = answer(Some(json!({"total_count": 3, "jobs": [{"id": "a"}]})));
        let listed = listed(&page, "jobs").unwrap();
        assert_eq!((listed.total, listed.items.len()), (3, 1));
        let no_list = answer(Some(json!({"total_count": 3})));
        assert_eq!(listed_err(&no_list), Unlisted::NoList("jobs"));
        assert_eq!(listed_err(&answer(None)), Unlisted::NotJson);
    }

    fn listed_err(answer: &Answer) -> Unlisted {
        listed(answer, "jobs").unwrap_err()
    }

    #[tokio::test]
    async fn a_walk_reads_each_page_once_in_order_and_stops_past_most() {
        let read = |offset: usize| async move {
            Ok::<_, ()>(Page {
                total: 2_500,
                items: offset,
            })
        };
        let pages = walk(1_000, 4, 10_000, read).await.unwrap();
        let offsets: Vec<usize> = pages.iter().map(|p| p.items).collect();
        assert_eq!(offsets, [0, 1_000, 2_000]);
        assert_eq!(
            walk(1_000, 4, 2_000, read).await.unwrap_err(),
            Walk::TooMany(2_500)
        );
        let empty = |_| async {
            Ok::<_, ()>(Page {
                total: 0,
                items: (),
            })
        };
        assert_eq!(walk(1_000, 4, 10, empty).await.unwrap().len(), 1);
    }

    /// Read one after another, nothing is read past a page that failed.
    #[tokio::test]
    async fn a_walk_stops_at_the_first_page_that_fails() {
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let read = |offset: usize| {
            reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async move {
                match offset {
                    1_000 => Err("a 503"),
                    _ => Ok(Page {
                        total: 5_000,
                        items: (),
                    }),
                }
            }
        };
        let stopped = walk(1_000, 1, 10_000, read).await.unwrap_err();
        assert_eq!(stopped, Walk::Read("a 503"));
        assert_eq!(reads.into_inner(), 2);
    }
}
