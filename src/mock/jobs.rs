//! The mock's tasks and their state over time.
//!
//! A stop records when it was accepted; the status is worked out from the clock whenever it is
//! read, so no timer runs in the background and a status never skips a step.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::drs::JobId;
use crate::drs::status::{self, StopEffect};

/// A task as loaded from `--jobs` or generated.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The task ID, in the API's `8-4-4-4-12` form.
    pub id: String,
    /// The task's name, echoed in a 200 answer.
    pub name: String,
    /// The task's status before any stop, one the API documents.
    pub status: String,
    /// The task type the API shows (default `sync`).
    #[serde(default = "sync")]
    pub job_type: String,
    /// The task's tags (the tag-filter call matches them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The enterprise project; absent, the default project `0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    /// `period` (prepaid) or `on_demand`, as ListJobs shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_mode: Option<String>,
    /// `parent`, `child`, `master` or `slave`, as ListJobs shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_mode_role: Option<String>,
}

impl JobSpec {
    /// The enterprise project ListJobs filters by (`0`, the default, when none is set).
    pub fn enterprise_project(&self) -> &str {
        self.enterprise_project_id.as_deref().unwrap_or("0")
    }
}

fn sync() -> String {
    "sync".to_owned()
}

#[derive(Debug, Clone)]
struct Job {
    spec: JobSpec,
    stop: Option<AcceptedStop>,
}

/// One stop request that reached the model, for the admin endpoint: whether it was a force
/// stop and whether it was taken. Tests count these to prove no job got a stop it did not need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Received {
    /// The request's `is_force_stop`.
    pub force: bool,
    /// The stop was accepted (false: refused, or no such job).
    pub taken: bool,
}

impl Job {
    fn view(&self, status: &str) -> JobView {
        JobView {
            id: self.spec.id.clone(),
            name: self.spec.name.clone(),
            status: status.to_owned(),
            job_type: self.spec.job_type.clone(),
            enterprise_project_id: self.spec.enterprise_project_id.clone(),
            charging_mode: self.spec.charging_mode.clone(),
            job_mode_role: self.spec.job_mode_role.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct AcceptedStop {
    at: Instant,
    takes: Duration,
    last: &'static str,
    /// The `async.ends` defect: the task never gets past RELEASE_RESOURCE_STARTED.
    stuck: bool,
    /// Status lag: until `at + lag`, reads show `before`.
    lag: Duration,
    before: &'static str,
}

impl Job {
    /// The status as it truly is.
    fn status(&self, now: Instant) -> &str {
        match &self.stop {
            None => &self.spec.status,
            Some(s) if !s.stuck && now >= s.at + s.takes => s.last,
            Some(_) => status::STARTED,
        }
    }

    /// The status as reads show it: during a stop's lag, the status from before the stop.
    fn shown_status(&self, now: Instant) -> &str {
        match &self.stop {
            Some(s) if now < s.at + s.lag => s.before,
            _ => self.status(now),
        }
    }
}

/// How a stop request is applied: the model's timing and the faults around it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Applying {
    /// How long an accepted graceful stop takes (a force stop: a quarter of it).
    pub delay: Duration,
    /// The `async.ends` defect.
    pub stuck: bool,
    /// Reads show the old status for this long after the stop.
    pub lag: Duration,
}

/// The outcome of one stop request on one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    /// Accepted: the task is ending.
    Accepted {
        /// The task's name, for the 200 answer.
        name: String,
    },
    /// No task has this ID.
    Unknown,
    /// Refused: the task is already ending or ended.
    AlreadyEnding {
        /// The task's name.
        name: String,
    },
}

/// All tasks, by ID.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: BTreeMap<String, Job>,
    /// Every stop request that reached the model, by job ID, in arrival order.
    received: BTreeMap<String, Vec<Received>>,
}

/// A task as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    /// The task ID.
    pub id: String,
    /// The task's name.
    pub name: String,
    /// The status a read shows.
    pub status: String,
    /// The task type.
    pub job_type: String,
    /// The enterprise project, when the fleet names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    /// `period` (prepaid) or `on_demand`, when the fleet says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charging_mode: Option<String>,
    /// The task's role in a dual-active or multi-task setup, when the fleet says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_mode_role: Option<String>,
}

impl Jobs {
    /// The mock's tasks, none stopped yet.
    pub fn new(specs: Vec<JobSpec>) -> Self {
        let jobs = specs
            .into_iter()
            .map(|spec| (spec.id.clone(), Job { spec, stop: None }))
            .collect();
        Jobs {
            jobs,
            received: BTreeMap::new(),
        }
    }

    /// Every stop request that reached the model (not those a fault turned away before it),
    /// by job ID, in arrival order; unknown job IDs included.
    pub fn received(&self) -> &BTreeMap<String, Vec<Received>> {
        &self.received
    }

    /// A task as the API's reads show it (status lag included).
    pub fn view(&self, id: &str, now: Instant) -> Option<JobView> {
        self.jobs.get(id).map(|job| job.view(job.shown_status(now)))
    }

    /// Adds `spec`, or replaces the task with its ID (forgetting any stop of it).
    pub fn put(&mut self, spec: JobSpec) {
        self.jobs.insert(spec.id.clone(), Job { spec, stop: None });
    }

    /// Every task's spec, in ID order.
    pub fn specs(&self) -> impl Iterator<Item = &JobSpec> {
        self.jobs.values().map(|job| &job.spec)
    }

    /// Every task as the API's reads show it.
    pub fn all(&self, now: Instant) -> Vec<JobView> {
        self.jobs
            .values()
            .map(|job| job.view(job.shown_status(now)))
            .collect()
    }

    /// One page of the tasks `keep` accepts (given each task's spec and the status reads
    /// show), in ID order, and how many it accepts in all. Only the page is copied, so a
    /// ListJobs page of a 100,000-task fleet costs one pass and 1,000 copies.
    pub fn page(
        &self,
        now: Instant,
        offset: usize,
        limit: usize,
        keep: impl Fn(&JobSpec, &str) -> bool,
    ) -> (usize, Vec<JobView>) {
        let mut total = 0;
        let mut page = Vec::new();
        for job in self.jobs.values() {
            let status = job.shown_status(now);
            if !keep(&job.spec, status) {
                continue;
            }
            if total >= offset && page.len() < limit {
                page.push(job.view(status));
            }
            total += 1;
        }
        (total, page)
    }

    /// Every task as it truly is, for the admin endpoint: tests judge by this.
    pub fn truth(&self, now: Instant) -> Vec<JobView> {
        self.jobs
            .values()
            .map(|job| job.view(job.status(now)))
            .collect()
    }

    /// Applies a stop, following the simulator model.
    pub fn stop(&mut self, id: &str, force: bool, how: Applying, now: Instant) -> StopOutcome {
        let outcome = self.apply(id, force, how, now);
        let taken = matches!(outcome, StopOutcome::Accepted { .. });
        let log = self.received.entry(id.to_owned()).or_default();
        // Bounded: a client that loops on one job cannot grow the log without end.
        if log.len() < 1000 {
            log.push(Received { force, taken });
        }
        outcome
    }

    fn apply(&mut self, id: &str, force: bool, how: Applying, now: Instant) -> StopOutcome {
        let Some(job) = self.jobs.get_mut(id) else {
            return StopOutcome::Unknown;
        };
        let name = job.spec.name.clone();
        let current = job.status(now);
        match status::stop_effect(current, force) {
            StopEffect::Refused => StopOutcome::AlreadyEnding { name },
            StopEffect::Ends { last, quick } => {
                let takes = if quick { how.delay / 4 } else { how.delay };
                let before = status::canonical(current).unwrap_or(status::STARTED);
                job.stop = Some(AcceptedStop {
                    at: now,
                    takes,
                    last,
                    stuck: how.stuck,
                    lag: how.lag,
                    before,
                });
                StopOutcome::Accepted { name }
            }
        }
    }
}

/// Why a fleet file (`--jobs`, `target: { mock: { jobs: FILE } }`) cannot be served; each
/// names the file.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// It cannot be read.
    #[error("cannot read `{path}`: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// It is not a list of jobs, or one of them is wrong.
    #[error("`{path}`: {problem}")]
    Job {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

/// Reads a `--jobs` file: a JSON or YAML list of `{id, name, status}`.
pub fn load(path: &Path) -> Result<Vec<JobSpec>, FleetError> {
    let shown = path.display().to_string();
    let text =
        crate::input::read_text(path, crate::input::FLEET).map_err(|e| FleetError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    let wrong = |problem: String| FleetError::Job {
        path: shown.clone(),
        problem,
    };
    let specs: Vec<JobSpec> = if text.trim_start().starts_with('[') {
        serde_json::from_str(&text).map_err(|e| wrong(e.to_string()))?
    } else {
        serde_saphyr::from_str(&text).map_err(|e| wrong(e.to_string()))?
    };
    let mut seen = std::collections::HashSet::new();
    for spec in &specs {
        spec.id.parse::<JobId>().map_err(|e| wrong(e.to_string()))?;
        if !["migration", "sync", "cloudDataGuard"].contains(&spec.job_type.as_str()) {
            return Err(wrong(format!(
                "job {} has unknown job_type `{}`; the types are migration, sync, cloudDataGuard",
                spec.id, spec.job_type
            )));
        }
        if !status::is_known(&spec.status) {
            return Err(wrong(format!(
                "job {} has unknown status `{}`; the documented statuses are: {}",
                spec.id,
                spec.status,
                known_statuses().join(", ")
            )));
        }
        if !seen.insert(&spec.id) {
            return Err(wrong(format!("job {} is listed twice", spec.id)));
        }
    }
    Ok(specs)
}

/// `count` healthy tasks with IDs drawn from `seed`: the same seed gives the same tasks.
pub fn generate(count: usize, seed: u64) -> Vec<JobSpec> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let alphabet: Vec<char> = "0123456789abcdefghijklmnopqrstuvwxyz".chars().collect();
    let healthy = [
        "INCRE_TRANSFER_STARTED",
        "FULL_TRANSFER_STARTED",
        "INCRE_TRANSFER_STARTED",
        "PAUSING",
    ];
    (0..count)
        .map(|i| {
            let mut id = String::with_capacity(36);
            for (g, len) in [8, 4, 4, 4, 12].into_iter().enumerate() {
                if g > 0 {
                    id.push('-');
                }
                id.extend((0..len).map(|_| alphabet[rng.usize(..alphabet.len())]));
            }
            JobSpec {
                id,
                name: format!("DRS-{}", 1000 + i),
                status: healthy[rng.usize(..healthy.len())].to_owned(),
                job_type: sync(),
                ..Default::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r";

    fn applying(delay: Duration) -> Applying {
        Applying {
            delay,
            ..Applying::default()
        }
    }

    #[test]
    fn reads_lag_behind_a_stop_but_the_truth_does_not() {
        let mut jobs = one("INCRE_TRANSFER_STARTED");
        let t0 = Instant::now();
        let how = Applying {
            delay: Duration::from_secs(8),
            lag: Duration::from_secs(1),
            ..Applying::default()
        };
        jobs.stop(ID, false, how, t0);
        assert_eq!(jobs.view(ID, t0).unwrap().status, "INCRE_TRANSFER_STARTED");
        assert_eq!(jobs.truth(t0)[0].status, "RELEASE_RESOURCE_STARTED");
        let later = t0 + Duration::from_secs(1);
        assert_eq!(
            jobs.view(ID, later).unwrap().status,
            "RELEASE_RESOURCE_STARTED"
        );
        assert!(
            matches!(
                jobs.stop(ID, false, how, t0),
                StopOutcome::AlreadyEnding { .. }
            ),
            "the backend refuses a second stop even while reads lag"
        );
    }

    fn one(status: &str) -> Jobs {
        Jobs::new(vec![JobSpec {
            id: ID.into(),
            name: "DRS-1".into(),
            status: status.into(),
            job_type: sync(),
            ..Default::default()
        }])
    }

    #[test]
    fn a_stop_ends_the_job_after_the_delay_and_a_second_is_refused() {
        let mut jobs = one("INCRE_TRANSFER_STARTED");
        let t0 = Instant::now();
        let delay = Duration::from_secs(8);
        assert_eq!(
            jobs.stop(ID, false, applying(delay), t0),
            StopOutcome::Accepted {
                name: "DRS-1".into()
            }
        );
        assert_eq!(
            jobs.view(ID, t0).unwrap().status,
            "RELEASE_RESOURCE_STARTED"
        );
        assert_eq!(
            jobs.view(ID, t0 + delay).unwrap().status,
            "RELEASE_RESOURCE_COMPLETE"
        );
        assert!(matches!(
            jobs.stop(ID, true, applying(delay), t0),
            StopOutcome::AlreadyEnding { .. }
        ));
    }

    #[test]
    fn force_takes_a_quarter_and_rescues_a_failed_release() {
        let mut jobs = one("INCRE_TRANSFER_FAILED");
        let t0 = Instant::now();
        let delay = Duration::from_secs(8);
        jobs.stop(ID, false, applying(delay), t0);
        assert_eq!(
            jobs.view(ID, t0 + delay).unwrap().status,
            "RELEASE_RESOURCE_FAILED"
        );
        let t1 = t0 + delay;
        assert!(matches!(
            jobs.stop(ID, true, applying(delay), t1),
            StopOutcome::Accepted { .. }
        ));
        assert_eq!(
            jobs.view(ID, t1 + delay / 4).unwrap().status,
            "RELEASE_RESOURCE_COMPLETE"
        );
    }

    #[test]
    fn generation_is_reproducible() {
        let a = generate(5, 7);
        assert_eq!(a.len(), 5);
        assert_eq!(a[0].id, generate(5, 7)[0].id);
        assert_ne!(a[0].id, generate(5, 8)[0].id);
        assert!(a.iter().all(|j| j.id.parse::<JobId>().is_ok()));
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn jobs_files_are_json_or_yaml_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("jobs.yaml");
        std::fs::write(&yaml, "- { id: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r, name: DRS-1, status: INCRE_TRANSFER_FAILED }\n").unwrap();
        assert_eq!(load(&yaml).unwrap()[0].status, "INCRE_TRANSFER_FAILED");
        let json = dir.path().join("jobs.json");
        std::fs::write(&json, r#"[{"id": "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r", "name": "DRS-1", "status": "PAUSING", "job_type": "migration"}]"#).unwrap();
        assert_eq!(load(&json).unwrap()[0].job_type, "migration");
        let bad = dir.path().join("bad.yaml");
        std::fs::write(
            &bad,
            "- { id: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r, name: DRS-1, status: RUNNING }\n",
        )
        .unwrap();
        assert!(
            load(&bad)
                .unwrap_err()
                .to_string()
                .contains("unknown status")
        );
        std::fs::write(&bad, "- { id: nope, name: DRS-1, status: PAUSING }\n").unwrap();
        assert!(
            load(&bad)
                .unwrap_err()
                .to_string()
                .contains("invalid job ID")
        );
    }
}

/// Every status the API documents, in the order of its table: what `--jobs` accepts.
pub fn known_statuses() -> Vec<&'static str> {
    [status::RUNNING, status::ABNORMAL, status::ENDING_OR_ENDED].concat()
}
