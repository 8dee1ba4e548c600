//! `stopbook verify --plan P --report R [--journal J]`: reads the files, asks
//! `report::verify` whether they belong together, and prints the verdict: exit 0, or 1 listing
//! every difference (2 when a file cannot be read as what it should be).

use super::Exit;
use super::args::VerifyArgs;
use crate::plan::document as plan_document;
use crate::report::verify::{self, read_report};

/// At most this many differences are listed, then how many more there are.
const SHOWN: usize = 50;

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
    let verdict = verify::verify(&plan, &report, &args.journal);
    for note in &verdict.notes {
        say!("{note}");
    }
    if verdict.differences.is_empty() {
        say!(
            "ok: {} to plan {}: {} results, one for every planned stop",
            if !args.journal.is_empty() {
                "the report and the journal belong"
            } else {
                "the report belongs"
            },
            plan.plan_id,
            report.results.len()
        );
        return Exit::Success;
    }
    let count = verdict.differences.len();
    out!("{count} difference{}:", if count == 1 { "" } else { "s" });
    for d in verdict.differences.iter().take(SHOWN) {
        out!("  - {d}");
    }
    if count > SHOWN {
        out!("  … and {} more", count - SHOWN);
    }
    Exit::Failed
}
