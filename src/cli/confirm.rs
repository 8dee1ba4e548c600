//! Before a run against a real endpoint: a note for every value given on the command line that
//! differs from the reviewed plan's, and, on a terminal, what is about to happen and a question.
//! `--yes` skips the question; off a terminal (CI, a pipe) nothing is asked.

use std::io::{BufRead, IsTerminal};

use super::args::RunArgs;
use super::connect::Target;
use super::run_config::RunConfig;
use crate::exec;
use crate::runbook::model::{Host, Target as RunbookTarget};

/// The notes for command-line values that override the plan's: the reviewed target, limits.
pub fn override_notes(args: &RunArgs, config: &RunConfig) -> Vec<String> {
    let reviewed = match &args.plan {
        Some(file) => format!("the approved plan `{}`", file.display()),
        None => "the plan".to_owned(),
    };
    let runbook = &config.plan.runbook;
    let mut notes = Vec::new();
    if let (Some(url), RunbookTarget::Remote(remote)) = (&args.endpoint, &runbook.target) {
        let planned = match &remote.host {
            Host::Endpoint(e) => e.to_string(),
            Host::Region(r) => r.drs_endpoint().to_string(),
        };
        if let Target::Remote(effective) = &config.target
            && effective.base != planned
        {
            notes.push(format!(
                "note: --endpoint {url} overrides {reviewed}'s target {planned}: the stops go to {}, not to the reviewed endpoint",
                effective.base
            ));
        }
    }
    let limits = &runbook.limits;
    if let Some(n) = args.concurrency.filter(|n| *n != limits.concurrency) {
        notes.push(format!(
            "note: --concurrency {n} overrides {reviewed}'s concurrency {}",
            limits.concurrency
        ));
    }
    if let Some(rate) = args.rate.filter(|r| Some(*r) != limits.rate) {
        let planned = limits
            .rate
            .map_or_else(|| "(no ceiling)".to_owned(), |r| r.to_string());
        notes.push(format!(
            "note: --rate {rate} overrides {reviewed}'s rate {planned}"
        ));
    }
    notes
}

/// What a run against a real endpoint is about to do, in the lines the question follows.
pub fn summary(args: &RunArgs, config: &RunConfig) -> Option<String> {
    let Target::Remote(remote) = &config.target else {
        return None;
    };
    let plan = &config.plan;
    let selected = plan
        .runbook
        .stops()
        .enumerate()
        .filter(|(i, _)| exec::in_shard(i + 1, args.shard));
    let (mut stops, mut forced) = (0, 0);
    for (_, (_, stop)) in selected {
        stops += 1;
        forced += usize::from(stop.settings.force);
    }
    let rate = config
        .rate
        .map_or_else(|| "no rate ceiling".to_owned(), |r| format!("rate {r}"));
    Some(format!(
        "about to stop DRS tasks\n  endpoint: {}\n  project:  {}\n  stops:    {} in {}, {forced} forced (is_force_stop: true)\n  limits:   concurrency {}, {rate}\n  plan_id:  {}",
        remote.base,
        remote.project_id,
        stops,
        super::validate::counted(plan.runbook.phases.len(), "phase"),
        config.concurrency,
        plan.plan_id,
    ))
}

/// Whether to go on: yes off a terminal or with `--yes`; else the answer to the question.
pub fn confirmed(args: &RunArgs, config: &RunConfig) -> bool {
    let Some(summary) = summary(args, config) else {
        return true;
    };
    if args.yes || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return true;
    }
    say!("{summary}");
    say_part!("proceed? [y/N] ");
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}
