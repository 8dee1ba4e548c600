//! A faithful, stateful mock of the DRS v5 stop API: a real HTTP server on a TCP port.
//!
//! It exists so that a run, the tests and the conformance suite always have an endpoint: `run`
//! uses it when a runbook names no target, `--profile` makes it fail the ways real networks and
//! gateways do, and `--defect` breaks one documented rule so each conformance check is shown to
//! catch it.
//!
//! ```text
//! accept ─▶ [TLS] ─▶ connection (hyper, cuttable IO) ─▶ record ─▶ faults before ─▶ routes (axum)
//!                                                                  ─▶ faults after ─▶ answer
//! ```
//!
//! What the vendor documents it does as documented; where the vendor is silent it follows the
//! simulator model of drs-api-notes.md §3 and says so (docs/mock.md). It shares no response
//! parsing with the client: both are judged by the conformance rules instead.

mod auth;
mod cut;
pub mod defects;
mod errors;
pub(crate) mod faults;
mod gate;
mod incoming;
pub mod jobs;
mod listing;
mod recorder;
mod routes;
mod server;
pub(crate) mod tls;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use defects::Defect;

use crate::secret::Secret;
pub use faults::{Faults, UnknownProfile};
pub use jobs::JobSpec;
pub use server::MockServer;
pub use tls::TlsIdentity;

/// Everything a mock is started with.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The tasks the mock serves.
    pub jobs: Vec<JobSpec>,
    /// Require this `X-Auth-Token` (tokens issued by the mock's IAM endpoint are accepted too).
    /// Without it and without `aksk`, any non-empty token is accepted.
    pub token: Option<Secret>,
    /// Accept requests signed with this access key and secret key.
    pub aksk: Option<(String, Secret)>,
    /// The IAM user name and password the token endpoint accepts (any, when absent).
    pub iam_user: Option<(String, Secret)>,
    /// The faults injected, from the start (`--profile`; changed later through `/__mock/faults`).
    pub faults: Faults,
    /// Seeds the fault generator, so a run with one client at a time replays exactly.
    pub seed: u64,
    /// How long an accepted graceful stop takes to end (a force stop: a quarter of it).
    pub stop_delay: Duration,
    /// The one documented rule to break (`--defect`), if any.
    pub defect: Option<Defect>,
    /// Most requests kept for `/__mock/requests`; older ones are dropped and counted.
    pub log_limit: usize,
    /// Serve HTTPS with this certificate and key (`--tls-cert`, `--tls-key`), else HTTP.
    pub tls: Option<TlsIdentity>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            jobs: Vec::new(),
            token: None,
            aksk: None,
            iam_user: None,
            faults: Faults::default(),
            seed: 0,
            stop_delay: Duration::from_secs(2),
            defect: None,
            log_limit: 100_000,
            tls: None,
        }
    }
}

/// Starts a mock on `addr` (port 0 picks a free one) on the current tokio runtime.
pub async fn start(addr: SocketAddr, config: MockConfig) -> std::io::Result<MockServer> {
    server::start(addr, config).await
}

/// Starts a mock on a free loopback port: the embedded default of `run` and `conform`.
pub async fn start_embedded(config: MockConfig) -> std::io::Result<MockServer> {
    start(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
}

/// State shared by every connection.
pub(crate) struct Shared {
    config: MockConfig,
    /// Whether any fault is configured; when not, requests skip the injector and its lock.
    faulty: std::sync::atomic::AtomicBool,
    /// Set by `/__mock/revoke`: every credential is refused from then on (401).
    revoked: std::sync::atomic::AtomicBool,
    jobs: Mutex<jobs::Jobs>,
    injector: Mutex<faults::Injector>,
    log: Mutex<recorder::Recorder>,
    auth: Mutex<auth::AuthState>,
    started: Instant,
}

impl Shared {
    fn new(mut config: MockConfig) -> Arc<Self> {
        let specs = std::mem::take(&mut config.jobs);
        Arc::new(Shared {
            jobs: Mutex::new(jobs::Jobs::new(specs)),
            injector: Mutex::new(faults::Injector::new(config.faults.clone(), config.seed)),
            log: Mutex::new(recorder::Recorder::new(config.log_limit)),
            auth: Mutex::new(auth::AuthState::default()),
            started: Instant::now(),
            faulty: (config.faults != Faults::default()).into(),
            revoked: false.into(),
            config,
        })
    }

    fn defect(&self, defect: Defect) -> bool {
        self.config.defect == Some(defect)
    }

    fn faulty(&self) -> bool {
        self.faulty.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The faults in force now (`/__mock/faults` may change them while the mock runs).
    fn faults(&self) -> Faults {
        if self.faulty() {
            lock(&self.injector).faults().clone()
        } else {
            Faults::default()
        }
    }
}

/// Locks a mutex even if a panicking thread poisoned it: the data is still consistent, as every
/// critical section here is a single update.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
