//! `stopbook plan`: the resolved plan of one runbook, as Markdown or JSON: what a reviewer
//! approves before anything is sent. A runbook with `select`s is resolved against its target
//! first; `--live` adds the pre-flight (every planned job's status read, a verdict per stop).

use std::io::Write;

use super::Exit;
use super::Refusal;
use super::args::{PlanArgs, PlanFormat};
use super::live;
use crate::live::preflight::{self, Check};
use crate::output;
use crate::plan::Plan;
use crate::runbook::{self, Runbook};

pub fn run(args: &PlanArgs) -> Exit {
    let runbook = match runbook::load(&args.runbook) {
        Ok(rb) => rb,
        Err(diagnostics) => {
            say!("{diagnostics}");
            return Exit::Invalid;
        }
    };
    let runtime = match super::runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    // A wrong --endpoint is refused even where the plan needs no read.
    if let Some(url) = &args.endpoint
        && let Err(message) = endpoint_usable(&runbook, url)
    {
        say!("{message}");
        return Exit::Invalid;
    }
    let ca = args.ca_cert.as_deref();
    let planned = match args.live {
        false => runtime
            .block_on(live::resolved_plan(runbook, args.endpoint.as_deref(), ca))
            .map(|p| (p, None)),
        true => runtime.block_on(with_preflight(runbook, args)),
    };
    let (plan, checks) = match planned {
        Ok(planned) => planned,
        Err(Refusal { exit, message }) => {
            say!("{message}");
            return exit;
        }
    };
    let format = args.format.unwrap_or(match &args.out {
        Some(path) if path.extension().is_some_and(|e| e == "json") => PlanFormat::Json,
        _ => PlanFormat::Md,
    });
    let checks = checks.as_deref();
    let written = match &args.out {
        Some(path) => {
            output::write_atomic(path, |out| render(&plan, checks, format, out)).map(|()| {
                say!("wrote {} ({})", path.display(), plan.plan_id);
            })
        }
        None => output::write_stdout(|out| render(&plan, checks, format, out)),
    };
    match written {
        Ok(()) => verdict(checks),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => verdict(checks),
        Err(e) => {
            let target = args
                .out
                .as_ref()
                .map_or("standard output".to_owned(), |p| p.display().to_string());
            say!("error: cannot write the plan to {target}: {e}");
            Exit::Invalid
        }
    }
}

/// Exit 0, or with a pre-flight, 1 when any stop is predicted to fail its expectation (and a
/// line saying how many).
fn verdict(checks: Option<&[Check]>) -> Exit {
    let Some(checks) = checks else {
        return Exit::Success;
    };
    let t = preflight::totals(checks);
    let counts: Vec<String> = t
        .by_verdict
        .iter()
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    say!(
        "pre-flight: {} stops read ({}); {} predicted to fail their expectation; {} with a warning",
        checks.len(),
        counts.join(", "),
        t.fail,
        t.warned
    );
    match t.fail {
        0 => Exit::Success,
        _ => Exit::Failed,
    }
}

/// The plan (selects resolved) and every stop's pre-flight, over one connection.
async fn with_preflight(
    mut runbook: Runbook,
    args: &PlanArgs,
) -> Result<(Plan, Option<Vec<Check>>), Refusal> {
    let endpoint = args.endpoint.as_deref();
    let connection = live::connect_for_reads(&runbook, endpoint, args.ca_cert.as_deref()).await?;
    let result = async {
        live::resolve(&mut runbook, &connection).await?;
        let plan = Plan::new(runbook);
        let checks = preflight::check(&plan.runbook, &connection.client)
            .await
            .map_err(|e| live::unreadable(&e))?;
        Ok((plan, Some(checks)))
    }
    .await;
    connection.close().await;
    result
}

/// Whether `--endpoint URL` can stand for the runbook's target: a remote target, a DRS URL.
fn endpoint_usable(runbook: &Runbook, url: &str) -> Result<(), String> {
    use crate::runbook::model::Target;
    if !matches!(runbook.target, Target::Remote(_)) {
        return Err(
            "error: --endpoint needs a `target` in the runbook, for its project_id and auth"
                .to_owned(),
        );
    }
    url.parse::<crate::drs::Endpoint>()
        .map(drop)
        .map_err(|e| format!("error: --endpoint: {e}"))
}

fn render<W: Write>(
    plan: &Plan,
    checks: Option<&[Check]>,
    format: PlanFormat,
    mut out: W,
) -> std::io::Result<()> {
    match (format, checks) {
        (PlanFormat::Json, None) => plan.write_json(out),
        (PlanFormat::Json, Some(checks)) => {
            let mut doc = plan.to_json_value();
            doc["live"] = serde_json::json!({
                "totals": preflight::totals(checks),
                "stops": checks,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            out.write_all(b"\n")
        }
        (PlanFormat::Md, checks) => {
            plan.write_markdown(&mut out)?;
            match checks {
                Some(checks) => preflight::write_markdown(&mut out, checks),
                None => Ok(()),
            }
        }
    }
}
