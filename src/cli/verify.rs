//! `stopbook verify --plan P --report R [--journal J]`: reads the files, asks
//! `report::verify` whether they belong together, and prints the verdict: exit 0, or 1 listing
//! every difference (2 when a file cannot be read as what it should be).

use super::Exit;
use super::args::VerifyArgs;
use crate::plan::document as plan_document;
use crate::report::verify::{self, read_report};

/// Runs `stopbook verify` and returns its exit code.
pub fn run(args: &VerifyArgs) -> Exit {
    let inputs = plan_document::read_json(&args.plan)
        .map_err(|e| e.to_string())
        .and_then(|plan| Ok((plan, read_report(&args.report).map_err(|e| e.to_string())?)));
    let (plan, report) = match inputs {
        Ok(inputs) => inputs,
        Err(message) => {
            say!("error: {message}");
            return Exit::Invalid;
        }
    };
    let verdict = verify::verify(&plan, &report, args.journal.as_deref());
    for note in &verdict.notes {
        say!("{note}");
    }
    if verdict.differences.is_empty() {
        say!(
            "ok: {} to plan {}: {} results, one for every planned stop",
            if args.journal.is_some() {
                "the report and the journal belong"
            } else {
                "the report belongs"
            },
            plan.plan_id,
            report.results.len()
        );
        return Exit::Success;
    }
    out!("{} difference(s):", verdict.differences.len());
    for d in &verdict.differences {
        out!("  - {d}");
    }
    Exit::Failed
}
