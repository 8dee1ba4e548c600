//! `stopbook mock`: serves the mock API until SIGINT or SIGTERM, so a runbook, a client or a CI
//! job can be tried against a DRS endpoint without a cloud account.

use super::Refusal;
use std::io::Write;

use super::Exit;
use super::args::MockArgs;
use crate::mock::{self, Faults, MockConfig};

pub fn run(args: &MockArgs) -> Exit {
    let config = match config(args) {
        Ok(config) => config,
        Err(Refusal { exit, message }) => {
            say!("error: {message}");
            return exit;
        }
    };
    if config.jobs.is_empty() {
        say!("note: no tasks to serve; give --jobs FILE or --generate N");
    }
    let runtime = match super::runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    runtime.block_on(async {
        let server = match mock::start(args.listen, config).await {
            Ok(server) => server,
            Err(e) => {
                say!("error: cannot listen on {}: {e}", args.listen);
                return Exit::Invalid;
            }
        };
        out!("listening on {}", server.url());
        let _ = std::io::stdout().flush();
        super::connect::wait_for_signal().await;
        say!("stopping: finishing requests in flight");
        server.shutdown().await;
        Exit::Success
    })
}

fn config(args: &MockArgs) -> Result<MockConfig, Refusal> {
    let mut jobs = match &args.jobs {
        Some(path) => mock::jobs::load(path).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    jobs.extend(mock::jobs::generate(args.generate as usize, args.seed));
    let mut faults: Faults = args
        .profile
        .parse()
        .map_err(|e: mock::UnknownProfile| e.to_string())?;
    let ms = |d: crate::runbook::values::Duration| d.get();
    if let Some(d) = args.latency {
        faults.latency = ms(d);
    }
    if let Some(d) = args.latency_jitter {
        faults.latency_jitter = ms(d);
    }
    if let Some(p) = args.error_rate {
        faults.error_rate = p;
        if faults.burst == 0 {
            faults.burst = 1;
        }
    }
    if let Some(n) = args.burst {
        faults.burst = n;
    }
    if let Some(n) = args.throttle {
        faults.throttle = Some(n).filter(|n| *n > 0);
    }
    if let Some(p) = args.reset_before {
        faults.reset_before = p;
    }
    if let Some(p) = args.reset_after {
        faults.reset_after = p;
    }
    if let Some(p) = args.close_after {
        faults.close_after = p;
    }
    if let Some(p) = args.error_after {
        faults.error_after = p;
    }
    if let Some(d) = args.status_lag {
        faults.status_lag = ms(d);
    }
    if let Some(p) = args.truncate {
        faults.truncate = p;
    }
    if let Some(p) = args.malformed {
        faults.malformed = p;
    }
    if let Some(d) = args.slow_body {
        faults.slow_body = Some(ms(d)).filter(|d| !d.is_zero());
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(mock::TlsIdentity::load(cert, key).map_err(|e| e.to_string())?)
        }
        _ => None,
    };
    Ok(MockConfig {
        jobs,
        token: args.token.clone(),
        aksk: args.ak.clone().zip(args.sk.clone()),
        iam_user: args.iam_user.clone().zip(args.iam_password.clone()),
        faults,
        seed: args.seed,
        stop_delay: args.stop_delay.get(),
        defect: args
            .defect
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: crate::drs::Invalid| e.to_string())?,
        log_limit: MockConfig::default().log_limit,
        tls,
    })
}
