//! The conformance fixtures file: an endpoint (a runbook `target`) and disposable tasks the suite
//! may stop. Read with the runbook's decoder, so its problems come as `FILE:LINE:COLUMN`.
//!
//! ```yaml
//! target: { endpoint: http://127.0.0.1:8080, project_id: 054b…, auth: { token_env: DRS_AUTH_TOKEN } }
//! running: [ids of healthy jobs the suite may stop]          # 3 needed
//! abnormal: [ids of failed jobs the suite may stop]          # optional; 3 for the force rules
//! missing: [well-formed ids that do not exist]               # optional; one is made up otherwise
//! wait: { timeout: 5m, poll: 5s }                            # optional
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::conform::{ABNORMAL_NEEDED, Jobs, RUNNING_NEEDED, Wait};
use crate::diag::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::drs::JobId;
use crate::runbook::decode::{Cx, MapReader, Spanned};
use crate::runbook::model::RemoteTarget;
use crate::runbook::raw::{RawTarget, RawWait};
use crate::runbook::{read_limited, target, yaml};

/// A fixtures file, read and checked.
pub struct Fixtures {
    /// The endpoint to check, and how to authenticate there.
    pub target: RemoteTarget,
    /// The disposable tasks, a missing ID made up when none is given.
    pub jobs: Jobs,
    /// How long an accepted stop may take to end, and how often to look.
    pub wait: Wait,
}

/// Reads the fixtures file at `path`, every problem in it reported at once.
pub fn load(path: &Path) -> Result<Fixtures, Diagnostics> {
    let shown = path.display().to_string();
    let text = read_limited(path, &shown)?;
    let file = Arc::new(SourceFile::new(shown, text));
    let node = yaml::parse(&file)?;
    let mut cx = Cx::new(Arc::clone(&file));
    let base_dir = path.parent().unwrap_or(Path::new(""));
    let Some(mut map) = MapReader::open(&node, "the fixtures", &mut cx) else {
        return Err(cx.diagnostics.into_result(()).unwrap_err());
    };
    let target: Option<RawTarget> = map.required("target", &mut cx);
    let running: Option<Spanned<Vec<Spanned<JobId>>>> = map.required("running", &mut cx);
    let abnormal: Option<Spanned<Vec<Spanned<JobId>>>> = map.optional("abnormal", &mut cx);
    let missing: Option<Spanned<Vec<Spanned<JobId>>>> = map.optional("missing", &mut cx);
    let wait: Option<Spanned<RawWait>> = map.optional("wait", &mut cx);
    map.finish(&mut cx);
    let target = target.and_then(|t| target::resolve_target(&t, base_dir, &mut cx));

    let mut seen: HashMap<JobId, Span> = HashMap::new();
    let mut ids = |list: &Option<Spanned<Vec<Spanned<JobId>>>>, cx: &mut Cx| -> Vec<JobId> {
        let Some(list) = list else { return Vec::new() };
        for id in &list.value {
            if let Some(first) = seen.insert(id.value, id.span) {
                let d = Diagnostic::at(
                    cx.place(id.span),
                    format!("job `{}` is listed twice", id.value),
                )
                .related(cx.place(first), "first listed here");
                cx.report(d);
            }
        }
        list.value.iter().map(|s| s.value).collect()
    };
    let jobs = Jobs {
        running: ids(&running, &mut cx),
        abnormal: ids(&abnormal, &mut cx),
        missing: ids(&missing, &mut cx),
    };
    if let Some(running) = &running
        && jobs.running.len() < RUNNING_NEEDED
    {
        cx.error::<()>(
            running.span,
            format!(
                "the suite stops {RUNNING_NEEDED} healthy tasks; `running` lists {}",
                jobs.running.len()
            ),
        );
    }
    if let Some(abnormal) = &abnormal
        && (1..ABNORMAL_NEEDED).contains(&jobs.abnormal.len())
    {
        cx.error::<()>(abnormal.span, format!("the force rules stop {ABNORMAL_NEEDED} abnormal tasks; `abnormal` lists {} (leave it out to skip them)", jobs.abnormal.len()));
    }
    let wait = match wait.map(|w| w.value) {
        Some(RawWait::Until(until)) => Wait {
            timeout: until
                .timeout
                .map_or(DEFAULT_WAIT.timeout, |t| t.value.get()),
            poll: until.poll.map_or(DEFAULT_WAIT.poll, |p| p.value.get()),
        },
        _ => DEFAULT_WAIT,
    };
    match (target, cx.diagnostics.is_empty()) {
        (Some(target), true) => Ok(Fixtures {
            target,
            jobs: with_missing(jobs),
            wait,
        }),
        _ => Err(cx.diagnostics.into_result(()).err().unwrap_or_default()),
    }
}

/// How long an accepted stop may take to end on a real endpoint, unless the fixtures say.
pub const DEFAULT_WAIT: Wait = Wait {
    timeout: std::time::Duration::from_secs(300),
    poll: std::time::Duration::from_secs(5),
};

/// Makes up a well-formed task ID when none is given for a task that does not exist.
pub fn with_missing(mut jobs: Jobs) -> Jobs {
    if jobs.missing.is_empty() {
        let mut rng = fastrand::Rng::new();
        let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let id: String = [8, 4, 4, 4, 12]
            .iter()
            .map(|n| {
                (0..*n)
                    .map(|_| alphabet[rng.usize(..alphabet.len())] as char)
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("-");
        jobs.missing.push(id.parse().expect("a well-formed job ID"));
    }
    jobs
}
