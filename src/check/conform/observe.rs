//! The suite's observations: a fixed set of real requests, each kept with its description, and
//! the statuses the tasks reached after them.

use std::time::{Duration, Instant};

use super::{ABNORMAL_NEEDED, Ended, Jobs, Observations, Seen, Wait, calls};
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
        true => Some(observe_force(client, &jobs.abnormal, wait).await),
        false => None,
    };
    let accepted_final = match accepted.accepted() {
        true => final_status(client, &running[0], wait).await,
        false => None,
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

/// Abnormal tasks stopped with `is_force_stop` left out, false and true, and how each ended.
async fn observe_force(client: &Client, abnormal: &[JobId], wait: Wait) -> [Ended; 3] {
    let omitted = Shot::stop(abnormal[0], "{}").send(client).await;
    let graceful = Shot::stop(abnormal[1], GRACEFUL).send(client).await;
    let forced = Shot::stop(abnormal[2], r#"{"is_force_stop": true}"#)
        .send(client)
        .await;
    // Only an accepted stop has an ending to wait for: a refusal's task status says nothing.
    let ending = |s: &Seen, job| {
        let accepted = s.accepted();
        async move {
            match accepted {
                true => final_status(client, job, wait).await,
                false => None,
            }
        }
    };
    let ends = tokio::join!(
        ending(&omitted, &abnormal[0]),
        ending(&graceful, &abnormal[1]),
        ending(&forced, &abnormal[2]),
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

/// The status a task settles in: a terminal one, or the last seen when `wait.timeout` runs out.
async fn final_status(client: &Client, job: &JobId, wait: Wait) -> Option<String> {
    let deadline = Instant::now() + wait.timeout;
    let mut last = None;
    loop {
        if let Some(s) = current_status(client, job).await {
            if status::is_terminal(&s) {
                return Some(s);
            }
            last = Some(s);
        }
        if Instant::now() >= deadline {
            return last;
        }
        tokio::time::sleep(wait.poll).await;
    }
}
