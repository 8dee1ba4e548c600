//! Observations of the calls stopbook relies on beyond the stop page (drs-api-notes.md §2, §2a):
//! the detail call without `type`, ListJobs (without `job_type`, paged, filtered) and a
//! batch-stop of one healthy task and one that does not exist.

use std::time::Duration;

use super::{Jobs, Seen};
use crate::api::client::{Client, Probe};

/// The statuses the status filter asks for: every abnormal one, comma-joined (drs-api-notes §2a).
pub(super) const ABNORMAL_FILTER: &str =
    "FULL_TRANSFER_FAILED,INCRE_TRANSFER_FAILED,RELEASE_RESOURCE_FAILED";

/// What the detail, ListJobs and batch-stop calls answered.
pub(super) struct CallsSeen {
    /// The detail of a healthy task without `type=detail`.
    pub detail_untyped: Seen,
    /// ListJobs without `job_type`.
    pub list_untyped: Seen,
    /// ListJobs (of that type) pages of one at offsets 0 and 1, and one page of up to 1000.
    pub pages: [Seen; 3],
    /// ListJobs (of the first healthy task's type, as its detail shows it, else `sync`) filtered
    /// by every abnormal status.
    pub by_status: Seen,
    /// ListJobs filtered by `name` (the first healthy task's ID), and that ID.
    pub by_name: (Seen, String),
    /// A batch-stop of the fourth healthy task and the missing one; those two IDs.
    pub batch: Option<(Seen, [String; 2])>,
    /// The tag filter for a tag no task carries, and a page of one of the untagged tasks.
    pub tagged: [Seen; 2],
}

impl CallsSeen {
    pub(super) fn every(&self) -> Vec<&Seen> {
        let mut all = vec![&self.detail_untyped, &self.list_untyped];
        all.extend(self.pages.iter());
        all.extend([&self.by_status, &self.by_name.0]);
        all.extend(self.tagged.iter());
        all.extend(self.batch.as_ref().map(|(s, _)| s));
        all
    }
}

async fn get(client: &Client, rest: &str, query: Option<&str>) -> Seen {
    let path = client.project_path(rest);
    let probe = Probe {
        method: http::Method::GET,
        path: &path,
        query,
        body: b"",
        content_type: None,
        language: None,
        authenticate: true,
        timeout: Duration::from_secs(30),
    };
    let request = match query {
        Some(q) => format!("GET {path}?{q}"),
        None => format!("GET {path}"),
    };
    Seen::send(client, &probe, request).await
}

pub(super) async fn observe(client: &Client, jobs: &Jobs, before: &[Seen]) -> CallsSeen {
    let first = jobs.running[0];
    let detail_untyped = get(client, &format!("/jobs/{first}"), None).await;
    let list_untyped = get(client, "/jobs", None).await;
    let job_type = before
        .first()
        .and_then(|s| {
            s.body()?
                .get("job")?
                .get("job_type")?
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "sync".to_owned());
    let list = |query: String| async move { get(client, "/jobs", Some(&query)).await };
    let pages = [
        list(format!("job_type={job_type}&offset=0&limit=1")).await,
        list(format!("job_type={job_type}&offset=1&limit=1")).await,
        list(format!("job_type={job_type}&offset=0&limit=1000")).await,
    ];
    let by_status = list(format!(
        "job_type={job_type}&status={ABNORMAL_FILTER}&limit=1000"
    ))
    .await;
    let by_name = (
        list(format!("job_type={job_type}&name={first}&limit=1000")).await,
        first.to_string(),
    );
    let batch = match (jobs.running.get(3), jobs.missing.first()) {
        (Some(healthy), Some(missing)) => {
            Some(batch_stop(client, healthy.as_str(), missing.as_str()).await)
        }
        _ => None,
    };
    let tagged = [
        tag_filter(client, &job_type, 1000, ABSENT_TAG).await,
        tag_filter(client, &job_type, 1, r#"{"without_any_tag": true}"#).await,
    ];
    CallsSeen {
        detail_untyped,
        list_untyped,
        pages,
        by_status,
        by_name,
        batch,
        tagged,
    }
}

/// A tag filter no task of a fixture carries.
pub(super) const ABSENT_TAG: &str = r#"{"without_any_tag": false, "tags": [{"key": "stopbook-conformance", "values": ["absent-7f3a"]}]}"#;

/// `POST …/{job_type}/resource-instances/filter?limit=LIMIT&offset=0` with `body`.
async fn tag_filter(client: &Client, job_type: &str, limit: usize, body: &str) -> Seen {
    let path = client.project_path(&format!("/{job_type}/resource-instances/filter"));
    let query = format!("limit={limit}&offset=0");
    let probe = Probe {
        method: http::Method::POST,
        path: &path,
        query: Some(&query),
        body: body.as_bytes(),
        content_type: Some("application/json"),
        language: None,
        authenticate: true,
        timeout: Duration::from_secs(30),
    };
    Seen::send(client, &probe, format!("POST {path}?{query} {body}")).await
}

async fn batch_stop(client: &Client, healthy: &str, missing: &str) -> (Seen, [String; 2]) {
    let path = client.project_path("/jobs/batch-stop");
    let body = format!(
        r#"{{"jobs": [{{"job_id": "{healthy}", "is_force_stop": false}}, {{"job_id": "{missing}", "is_force_stop": false}}]}}"#
    );
    let probe = Probe {
        method: http::Method::POST,
        path: &path,
        query: None,
        body: body.as_bytes(),
        content_type: Some("application/json"),
        language: None,
        authenticate: true,
        timeout: Duration::from_secs(30),
    };
    let seen = Seen::send(client, &probe, format!("POST {path} {body}")).await;
    (seen, [healthy.to_owned(), missing.to_owned()])
}
