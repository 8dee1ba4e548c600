//! A window stays where it was opened: a resume goes to the same project and shard always, and
//! to the same endpoint unless `--retarget` moves it there.

use std::path::{Path, PathBuf};

use super::Binding;

/// What `retargeted_from` says when the journal named no endpoint to move from.
pub const UNNAMED_ENDPOINT: &str = "an endpoint the journal does not name";

/// Why a resume cannot go on with this journal; nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The journal is of another project.
    #[error(
        "the journal `{}` is of project {window}, and this run would stop jobs of project {now}: a window stays in its project; nothing was sent",
        path.display()
    )]
    OtherProject {
        /// The journal.
        path: PathBuf,
        /// The journal's project.
        window: String,
        /// This run's.
        now: String,
    },
    /// The journal is of another shard (or of the whole plan).
    #[error(
        "the journal `{}` is of {}, and this run is of {}: each shard keeps its own journal; nothing was sent\n  = resume with the --shard the journal was written with, or give that shard's journal",
        path.display(),
        shard_name(window),
        shard_name(now)
    )]
    OtherShard {
        /// The journal.
        path: PathBuf,
        /// The journal's shard.
        window: Option<String>,
        /// This run's.
        now: Option<String>,
    },
    /// The journal was written against another endpoint, and `--retarget` was not given.
    #[error(
        "the journal `{}` was written against {window}, and this run would send to {now}; nothing was sent\n  = resume at {window}, or add --retarget to go on at {now}: every stop in doubt is read there first",
        path.display()
    )]
    OtherEndpoint {
        /// The journal.
        path: PathBuf,
        /// The journal's endpoint.
        window: String,
        /// This run's.
        now: String,
    },
    /// The journal names no endpoint, and `--retarget` was not given.
    #[error(
        "the journal `{}` names no endpoint, so this run cannot tell it was written against {now}; nothing was sent\n  = add --retarget to go on at {now}: every stop in doubt is read there first",
        path.display()
    )]
    Unnamed {
        /// The journal.
        path: PathBuf,
        /// This run's endpoint.
        now: String,
    },
}

fn shard_name(shard: &Option<String>) -> String {
    match shard {
        Some(s) => format!("shard {s}"),
        None => "the whole plan".to_owned(),
    }
}

/// Checks that the journal at `path`, whose headers bind `window`, may be resumed by a run
/// bound to `now`; with `retarget`, the endpoint the window moves from comes back.
pub fn check(
    path: &Path,
    window: Option<&Binding>,
    now: &Binding,
    retarget: bool,
) -> Result<Option<String>, BindError> {
    let path = path.to_owned();
    // A journal whose headers name no target cannot show it is this run's: it moves here only
    // as a retarget, every stop in doubt read here first.
    let Some(window) = window else {
        return match retarget {
            true => Ok(Some(UNNAMED_ENDPOINT.to_owned())),
            false => Err(BindError::Unnamed {
                path,
                now: now.endpoint.clone(),
            }),
        };
    };
    if window.project_id != now.project_id {
        return Err(BindError::OtherProject {
            path,
            window: window.project_id.clone(),
            now: now.project_id.clone(),
        });
    }
    if window.shard != now.shard {
        return Err(BindError::OtherShard {
            path,
            window: window.shard.clone(),
            now: now.shard.clone(),
        });
    }
    match (window.endpoint == now.endpoint, retarget) {
        (true, _) => Ok(None),
        (false, true) => Ok(Some(window.endpoint.clone())),
        (false, false) => Err(BindError::OtherEndpoint {
            path,
            window: window.endpoint.clone(),
            now: now.endpoint.clone(),
        }),
    }
}
