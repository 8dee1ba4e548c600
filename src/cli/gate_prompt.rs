//! The question a gate asks on a terminal: `proceed to phase bulk? [y/N]`. `y` lets the gate
//! pass; anything else drains the run (it ends paused before the phase, and `--resume` asks
//! again). One reader of standard input at a time, on a thread of its own, so the run's
//! runtime never blocks on a person; `stopbook ctl go` works all the same.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::exec::history::At;
use crate::exec::journal::{Entry, Journal};
use crate::exec::steer::Steer;

/// The prompt of a run on a terminal.
pub struct Prompt {
    steer: Arc<Steer>,
    journal: Option<Journal>,
    reading: Arc<AtomicBool>,
    who: String,
}

impl Prompt {
    /// A prompt when standard input and standard error are terminals; `None` elsewhere.
    pub fn on_terminal(steer: Arc<Steer>, journal: Option<Journal>) -> Option<Self> {
        let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        terminal.then(|| Prompt {
            steer,
            journal,
            reading: Arc::default(),
            who: format!("the terminal prompt ({})", super::ctl::who()),
        })
    }

    /// Asks whether to go on to `phase`, and acts on the answer when it comes.
    pub fn ask(&self, phase: &str) {
        say_part!("proceed to phase {phase}? [y/N] (or `stopbook ctl go` from another shell) ");
        if self.reading.swap(true, Ordering::SeqCst) {
            return; // the reader started for an earlier gate takes this answer
        }
        let steer = Arc::clone(&self.steer);
        let journal = self.journal.clone();
        let reading = Arc::clone(&self.reading);
        let who = self.who.clone();
        let spawned = std::thread::Builder::new()
            .name("gate-prompt".into())
            .spawn(move || {
                let mut answer = String::new();
                let read = std::io::stdin().lock().read_line(&mut answer);
                reading.store(false, Ordering::SeqCst);
                let yes = matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES");
                if read.is_ok() && yes {
                    steer.go(&who);
                } else if steer.state().gate.is_some() && steer.drain(&who) {
                    if let Some(journal) = journal {
                        journal.record(Entry::Control {
                            action: "drain".into(),
                            by: who,
                            at: At::now(),
                        });
                    }
                    say!("not confirmed: draining; the run ends paused before the phase, and `--resume` asks again");
                }
            });
        if spawned.is_err() {
            self.reading.store(false, Ordering::SeqCst);
        }
    }
}
