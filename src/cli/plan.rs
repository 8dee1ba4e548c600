//! `stopbook plan`: the resolved plan of one runbook, as Markdown or JSON: what a reviewer
//! approves before anything is sent.

use std::io::Write;

use super::Exit;
use super::args::{PlanArgs, PlanFormat};
use crate::output;
use crate::plan::Plan;
use crate::runbook;

pub fn run(args: &PlanArgs) -> Exit {
    let runbook = match runbook::load(&args.runbook) {
        Ok(rb) => rb,
        Err(diagnostics) => {
            say!("{diagnostics}");
            return Exit::Invalid;
        }
    };
    let plan = Plan::new(runbook);
    let format = args.format.unwrap_or(match &args.out {
        Some(path) if path.extension().is_some_and(|e| e == "json") => PlanFormat::Json,
        _ => PlanFormat::Md,
    });
    let written = match &args.out {
        Some(path) => output::write_atomic(path, |out| render(&plan, format, out)).map(|()| {
            say!("wrote {} ({})", path.display(), plan.plan_id);
        }),
        None => output::write_stdout(|out| render(&plan, format, out)),
    };
    match written {
        Ok(()) => Exit::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
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

fn render<W: Write>(plan: &Plan, format: PlanFormat, out: W) -> std::io::Result<()> {
    match format {
        PlanFormat::Json => plan.write_json(out),
        PlanFormat::Md => plan.write_markdown(out),
    }
}
