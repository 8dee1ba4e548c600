//! From a target to a connection, in one place for `run` and `conform`: the embedded mock
//! started on a free loopback port (with the jobs the command wants), or a remote endpoint
//! with its credentials, `--ca-cert` read, and the client built.

use super::Refusal;
use std::path::Path;
use std::time::Duration;

use crate::api::client::{Client, Credentials};
use crate::input;
use crate::mock::{self, JobSpec, MockConfig, MockServer};
use crate::secret::Secret;

use super::target::Remote;

/// The project the embedded mock is addressed with (any 32-hex ID would do).
pub const EMBEDDED_PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";

/// Where a command sends its requests.
pub enum Target {
    /// An embedded mock serving these jobs, ending an accepted stop after `stop_delay`, making
    /// `faults`.
    Embedded {
        jobs: Vec<JobSpec>,
        stop_delay: Duration,
        faults: mock::Faults,
    },
    Remote(Remote),
}

/// A client, and the embedded mock it talks to, if any.
pub struct Connection {
    pub client: Client,
    pub server: Option<MockServer>,
    /// The base URL, for messages and reports.
    pub url: String,
}

impl Connection {
    /// `the embedded mock at URL`, or `URL (project P)`.
    pub fn describe(&self, project_id: Option<&str>) -> String {
        match (&self.server, project_id) {
            (Some(_), _) => format!("the embedded mock at {}", self.url),
            (None, Some(project)) => format!("{} (project {project})", self.url),
            (None, None) => self.url.clone(),
        }
    }

    /// Stops the embedded mock, if there is one, after the requests in flight.
    pub async fn close(self) {
        if let Some(server) = self.server {
            server.shutdown().await;
        }
    }
}

/// Connects to `target` keeping up to `pool` connections; nothing is sent yet.
pub async fn connect(
    target: Target,
    ca_cert: Option<&Path>,
    pool: usize,
) -> Result<Connection, Refusal> {
    let roots = match ca_cert {
        Some(path) => Some(
            input::read_bytes(path, input::CA_CERT)
                .map_err(|e| format!("error: cannot read --ca-cert `{}`: {e}", path.display()))?,
        ),
        None => None,
    };
    match target {
        Target::Embedded {
            jobs,
            stop_delay,
            faults,
        } => {
            let token = Secret::new(format!("embedded-{}", fastrand::u64(..)));
            let config = MockConfig {
                jobs,
                token: Some(token.clone()),
                stop_delay,
                faults,
                ..MockConfig::default()
            };
            let server = mock::start_embedded(config)
                .await
                .map_err(|e| format!("error: cannot start the embedded mock: {e}"))?;
            let url = server.url();
            let credentials = Credentials::Token(token);
            let client = Client::new(&url, EMBEDDED_PROJECT, credentials, None, pool, None)
                .map_err(|e| format!("error: {e}"))?;
            Ok(Connection {
                client,
                server: Some(server),
                url,
            })
        }
        Target::Remote(remote) => {
            let client = Client::new(
                &remote.base,
                &remote.project_id,
                remote.credentials,
                remote.language,
                pool,
                roots.as_deref(),
            )
            .map_err(|e| format!("error: {e}"))?;
            Ok(Connection {
                client,
                server: None,
                url: remote.base,
            })
        }
    }
}

/// Resolves at the first SIGINT or SIGTERM (Ctrl-C elsewhere).
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
