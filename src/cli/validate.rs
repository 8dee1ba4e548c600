//! `stopbook validate`: checks each runbook and reports every problem of every file, so an
//! editor or a CI job catches mistakes before a plan is made or a stop is sent.

use super::Exit;
use super::args::ValidateArgs;
use crate::runbook;

pub fn run(args: &ValidateArgs) -> Exit {
    let mut exit = Exit::Success;
    for path in &args.runbooks {
        match runbook::load(path) {
            Ok(rb) => {
                let forced = rb.stops().filter(|(_, s)| s.settings.force).count();
                out!(
                    "ok: {}: {} phase{}, {} stop{} ({forced} forced)",
                    path.display(),
                    rb.phases.len(),
                    if rb.phases.len() == 1 { "" } else { "s" },
                    rb.stop_count(),
                    if rb.stop_count() == 1 { "" } else { "s" },
                );
            }
            Err(diagnostics) => {
                say!("{diagnostics}");
                exit = Exit::Invalid;
            }
        }
    }
    exit
}
