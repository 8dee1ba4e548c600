//! The suite's observations: a fixed set of real requests, each kept with its description, and
//! the statuses the tasks reached after them.
//!
//! A task's ending is taken only from a read after its stop is seen to act. A task that was
//! already in a terminal status (an abnormal fixture in `RELEASE_RESOURCE_FAILED`) shows that
//! status to a read that lags the stop: read at once, it would pass for the stop's ending. So a
//! terminal status equal to the one before the stop counts only once a read has shown another.

use std::time::{Duration, Instant};

use super::{ABNORMAL_NEEDED, Ended, Ending, Jobs, Observations, Seen, Wait, calls};
use crate::api::client::{Client, Probe};
use crate::drs::JobId;
use crate::drs::status;

/// One probe of the stop call: which job, which body, which headers.
struct Shot {
    job: JobId,
    body: &'static str,
    content_type: Option<&'static str>,
    language: Option<&'static str>,
    authenticate: bool,
}

impl Shot {
    /// A well-formed stop of `job` with `body`.
    fn stop(job: JobId, body: &'static str) -> Self {
        Shot {
            job,
            body,
            content_type: Some("application/json"),
            language: None,
            authenticate: true,
        }
    }

    /// Sends it and keeps the request's description beside the answer.
    async fn send(self, client: &Client) -> Seen {
        let path = client.project_path(&format!("/jobs/{}/stop", self.job));
        let probe = Probe {
            method: http::Method::POST,
            path: &path,
            query: None,
            body: self.body.as_bytes(),
            content_type: self.content_type,
            language: self.language,
            authenticate: self.authenticate,
            timeout: Duration::from_secs(30),
        };
        let mut request = format!("POST {path} {}", self.body);
        if let Some(ct) = self.content_type {
            request.push_str(&format!(" (Content-Type: {ct})"));
        }
        if let Some(l) = self.language {
            request.push_str(&format!(" (X-Language: {l})"));
        }
        if !self.authenticate {
            request.push_str(" (no credentials)");
        }
        Seen::send(client, &probe, request).await
    }
}

const GRACEFUL: &str = r#"{"is_force_stop": false}"#;

pub(super) async fn observe(
    client: &Client,
    jobs: &Jobs,
    wait: Wait,
    before: Vec<Seen>,
) -> Observations {
    let (running, missing) = (&jobs.running, jobs.missing[0]);
    let status_before = |job: &JobId| status_in(&before, job);
    let (accepted_before, abnormal_before) = (
        status_before(&running[0]),
        jobs.abnormal.iter().map(status_before).collect::<Vec<_>>(),
    );
    // ListJobs first, while every fixture job is still in the state the pre-check read.
    let calls = calls::observe(client, jobs, &before).await;
    let accepted = Shot::stop(running[0], GRACEFUL).send(client).await;
    let missing_seen = Shot::stop(missing, GRACEFUL).send(client).await;
    let no_token = Shot {
        authenticate: false,
        ..Shot::stop(missing, GRACEFUL)
    }
    .send(client)
    .await;
    let in_language = |language| Shot {
        language: Some(language),
        ..Shot::stop(missing, GRACEFUL)
    };
    let english = in_language("en-us").send(client).await;
    let chinese = in_language("zh-cn").send(client).await;
    let wrong_type = Shot {
        content_type: Some("text/plain"),
        ..Shot::stop(running[1], GRACEFUL)
    }
    .send(client)
    .await;
    let wrong_type_after = current_status(client, &running[1]).await;
    let string_force = Shot::stop(running[2], r#"{"is_force_stop": "true"}"#)
        .send(client)
        .await;
    let string_force_after = current_status(client, &running[2]).await;
    let force = match jobs.abnormal.len() >= ABNORMAL_NEEDED {
        true => Some(observe_force(client, &jobs.abnormal, &abnormal_before, wait).await),
        false => None,
    };
    let accepted_final = match accepted.accepted() {
        true => ending(client, &running[0], accepted_before.as_deref(), wait).await,
        false => Ending::Unread,
    };
    Observations {
        before,
        accepted,
        accepted_final,
        missing: missing_seen,
        no_token,
        english,
        chinese,
        wrong_type,
        wrong_type_after,
        string_force,
        string_force_after,
        force,
        calls,
    }
}

/// The status the pre-check read of `job` showed.
fn status_in(before: &[Seen], job: &JobId) -> Option<String> {
    before.iter().find_map(|s| {
        let read = s.body()?.get("job")?;
        let status = read.get("status")?.as_str()?;
        (read.get("id")?.as_str()? == job.as_str()).then(|| status.to_owned())
    })
}

/// Abnormal tasks stopped with `is_force_stop` left out, false and true, and how each ended;
/// `before` holds the status each had before its stop.
async fn observe_force(
    client: &Client,
    abnormal: &[JobId],
    before: &[Option<String>],
    wait: Wait,
) -> [Ended; 3] {
    let omitted = Shot::stop(abnormal[0], "{}").send(client).await;
    let graceful = Shot::stop(abnormal[1], GRACEFUL).send(client).await;
    let forced = Shot::stop(abnormal[2], r#"{"is_force_stop": true}"#)
        .send(client)
        .await;
    // Only an accepted stop has an ending to wait for: a refusal's task status says nothing.
    let follow = |s: &Seen, i: usize| {
        let accepted = s.accepted();
        let (job, before) = (&abnormal[i], before.get(i).cloned().flatten());
        async move {
            match accepted {
                true => ending(client, job, before.as_deref(), wait).await,
                false => Ending::Unread,
            }
        }
    };
    let ends = tokio::join!(
        follow(&omitted, 0),
        follow(&graceful, 1),
        follow(&forced, 2),
    );
    [(omitted, ends.0), (graceful, ends.1), (forced, ends.2)]
}

async fn current_status(client: &Client, job: &JobId) -> Option<String> {
    let answer = client.detail(job, Duration::from_secs(30)).await.ok()?;
    answer
        .body?
        .get("job")?
        .get("status")?
        .as_str()
        .map(str::to_owned)
}

/// What a task's stop came to: a terminal status read after the stop was seen to act (a read
/// showing a status other than `before`, the one the task had before it), or what the reads
/// showed when `wait.timeout` ran out.
async fn ending(client: &Client, job: &JobId, before: Option<&str>, wait: Wait) -> Ending {
    let deadline = Instant::now() + wait.timeout;
    let (mut last, mut acted) = (None, false);
    loop {
        if let Some(s) = current_status(client, job).await {
            acted |= Some(s.as_str()) != before;
            if status::is_terminal(&s) && acted {
                return Ending::Ended(s);
            }
            last = Some(s);
        }
        if Instant::now() >= deadline {
            return match last {
                None => Ending::Unread,
                Some(s) if !acted && status::is_terminal(&s) => Ending::NotSeenToAct(s),
                Some(s) => Ending::Unfinished(s),
            };
        }
        tokio::time::sleep(wait.poll).await;
    }
}
